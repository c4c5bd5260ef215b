#!/usr/bin/env python3
"""Checks openapi.yaml against the routes the app registers.

Usage: check_openapi.py OPENAPI_YAML ROUTES_FILE

ROUTES_FILE holds the output of `runway routes`: one `METHOD /path` a line, with path
parameters written `{name}` as in OpenAPI. The check

  * validates the document as OpenAPI (openapi_spec_validator.validate), and
  * compares the (METHOD, path) pairs of the document's `paths` with ROUTES_FILE,
    printing every operation that is in one but not the other.

Exits 1 on any problem, 0 when the document is valid and describes exactly the routes.
Needs PyYAML and openapi-spec-validator.
"""

import sys

import yaml
from openapi_spec_validator import validate

HTTP_METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")


def spec_operations(document):
    """(METHOD, path) for every operation under `paths`."""
    operations = set()
    for path, item in (document.get("paths") or {}).items():
        if not isinstance(item, dict):
            continue
        for method in HTTP_METHODS:
            if method in item:
                operations.add((method.upper(), path))
    return operations


def registered_routes(text):
    """(METHOD, path) for every `METHOD /path` line; blank lines are skipped."""
    routes = set()
    problems = []
    for number, line in enumerate(text.splitlines(), start=1):
        line = line.strip()
        if not line:
            continue
        parts = line.split()
        if len(parts) != 2 or not parts[1].startswith("/"):
            problems.append(f"routes file line {number}: expected 'METHOD /path', got {line!r}")
            continue
        routes.add((parts[0].upper(), parts[1]))
    return routes, problems


def describe(error):
    """A one-paragraph account of a validation error (str() of a schema error dumps the schema)."""
    message = getattr(error, "message", None) or str(error)
    path = getattr(error, "absolute_path", None) or getattr(error, "path", None)
    if path:
        message = "at /" + "/".join(str(part) for part in path) + ": " + message
    # Some messages quote the whole document; the start says what is wrong.
    return message if len(message) <= 400 else message[:400] + " …"


def main(argv):
    if len(argv) != 3:
        print(f"usage: {argv[0]} OPENAPI_YAML ROUTES_FILE", file=sys.stderr)
        return 2
    spec_path, routes_path = argv[1], argv[2]
    problems = []

    try:
        with open(spec_path, encoding="utf-8") as file:
            document = yaml.safe_load(file)
    except (OSError, yaml.YAMLError) as error:
        print(f"{spec_path}: cannot read: {error}", file=sys.stderr)
        return 1
    if not isinstance(document, dict):
        print(f"{spec_path}: not a YAML mapping", file=sys.stderr)
        return 1

    try:
        validate(document)
    except Exception as error:  # the validator raises several exception types
        problems.append(f"{spec_path}: invalid OpenAPI: {describe(error)}")

    version = str(document.get("openapi", ""))
    if version != "3.0.3":
        problems.append(f"{spec_path}: openapi is {version!r}, expected '3.0.3'")

    try:
        with open(routes_path, encoding="utf-8") as file:
            routes, route_problems = registered_routes(file.read())
    except OSError as error:
        print(f"{routes_path}: cannot read: {error}", file=sys.stderr)
        return 1
    problems += route_problems
    if not routes:
        problems.append(f"{routes_path}: no routes listed")

    operations = spec_operations(document)
    for method, path in sorted(routes - operations, key=lambda r: (r[1], r[0])):
        problems.append(f"registered but not in {spec_path}: {method} {path}")
    for method, path in sorted(operations - routes, key=lambda r: (r[1], r[0])):
        problems.append(f"in {spec_path} but not registered: {method} {path}")

    if problems:
        for problem in problems:
            print(problem, file=sys.stderr)
        return 1
    print(f"{spec_path}: valid, {len(operations)} operations match the registered routes")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))

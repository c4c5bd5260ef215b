#!/usr/bin/env python3
"""The folders of Sources/App and which uses which; fails when a folder uses one above it.

A folder uses another when one of its files names a type, function or global declared there, a
member that only an extension or type of that folder declares (`.meansDatabaseUnreachable`), or
extends a type declared there. Comments and the text of string literals are left out (a string's
interpolations are code). An approximation, by name: it does not resolve overloads or types.

Usage: scripts/lib/layers.py [--edges]   (--edges: print every edge with the names behind it)
"""
import re
import sys
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
APP = ROOT / "Sources" / "App"

# The intended order, lowest first: a folder may use only the folders before it. README.md's
# layout section says the same.
ORDER = ["JSON", "Auth", "Configuration", "Database", "Storage", "Cost", "Usage", "Telemetry", "HTTP", "CLI"]

# Edges against the order that are known and left for now, with why. Configuration holds the one
# configuration tree, which still names two layers' settings types where they are used; the
# configuration rework (issue 17, first point) gathers every setting into Configuration/.
KNOWN: dict = {}
# Members so common in the libraries App uses that a use says nothing about where it comes from.
COMMON_MEMBERS = {"description", "handle", "run", "init", "value", "count", "response", "hash", "id", "status",
                  "logger", "source", "configuration", "metrics"}


def code_only(text):
    """The text with comments and string literal contents blanked (interpolations kept)."""
    out = []
    i, n = 0, len(text)
    # Each open string: (hashes, multiline, paren depth of its interpolations)
    stack = []
    depth = 0  # paren depth inside the innermost interpolation
    while i < n:
        c = text[i]
        if stack and stack[-1][2] is None:  # inside a string literal's text
            hashes, multi, _ = stack[-1]
            close = '"""' if multi else '"'
            if text.startswith(close + "#" * hashes, i):
                stack.pop()
                i += len(close) + hashes
                out.append('""')
                continue
            if text.startswith("\\" + "#" * hashes + "(", i):
                stack[-1] = (hashes, multi, depth)
                depth = 0
                i += 2 + hashes
                out.append(" ")
                continue
            if text.startswith("\\" + "#" * hashes, i) and hashes == 0:
                i += 2
                continue
            out.append("\n" if c == "\n" else "")
            i += 1
            continue
        if text.startswith("//", i):
            j = text.find("\n", i)
            i = n if j < 0 else j
            continue
        if text.startswith("/*", i):
            j = text.find("*/", i)
            i = n if j < 0 else j + 2
            continue
        m = re.match(r'(#*)("""|")', text[i:i + 8])
        if m:
            stack.append((len(m.group(1)), m.group(2) == '"""', None))
            i += m.end()
            continue
        if stack and c == "(":
            depth += 1
        elif stack and c == ")":
            if depth == 0:  # end of an interpolation
                hashes, multi, saved = stack[-1]
                stack[-1] = (hashes, multi, None)
                depth = saved
                i += 1
                continue
            depth -= 1
        out.append(c)
        i += 1
    return "".join(out)


def declarations(code):
    """What the code declares: top-level names; members of extensions, by extended type
    (`extension Error { var meansDatabaseUnreachable … }`); members of type bodies, at any depth;
    the types it extends."""
    top, extension_members, type_members, extended = set(), set(), set(), set()
    scopes = []  # per open brace: "type", ("extension", extended type) or None (a function, closure…)
    pending = None
    pattern = (r"[{}]|\b(extension|struct|class|enum|protocol|actor)\s+([A-Za-z_][\w.]*)"
               r"|\b((?:private|fileprivate)\s+)?(?:(?:static|final|override|mutating|nonisolated|public|package|internal"
               r"|lazy|weak|unowned|indirect|@\w+)\s+)*(func|var|let|typealias|case)\s+`?([A-Za-z_]\w*)")
    for m in re.finditer(pattern, code):
        token = m.group(0)
        if token == "{":
            scopes.append(pending)
            pending = None
        elif token == "}":
            if scopes:
                scopes.pop()
        elif m.group(1):
            keyword, name = m.group(1), m.group(2)
            if keyword == "extension":
                extended.add(name.split(".")[0])
            elif not scopes:
                top.add(name)
            elif scopes[-1] is not None:
                type_members.add(name)
            pending = ("extension", name.split(".")[0]) if keyword == "extension" else "type"
        else:
            private, keyword, name = m.group(3), m.group(4), m.group(5)
            pending = None
            if not scopes:
                if keyword != "case":
                    top.add(name)
            elif isinstance(scopes[-1], tuple) and not private:
                extension_members.add((scopes[-1][1], name))
            elif scopes[-1] is not None:
                type_members.add(name)
    return top, extension_members, type_members, extended


def main():
    files = {}
    for path in sorted(APP.rglob("*.swift")):
        folder = path.relative_to(APP).parts[0]
        files[path] = (folder, code_only(path.read_text()))
    top_by_name, member_by_name, type_members = defaultdict(set), defaultdict(set), set()
    extends = defaultdict(set)
    for path, (folder, code) in files.items():
        top, members, in_types, extended = declarations(code)
        for name in top:
            top_by_name[name].add(folder)
        for extended_type, name in members:
            member_by_name[name].add((folder, extended_type))
        type_members |= in_types
        extends[folder] |= extended
    # A member counts only when it extends a type App does not declare (Error, String, ByteBuffer…):
    # one of App's own types is reached through its name, and a member's name alone (`.seconds`,
    # `.load`) is too often also a library's.
    member_by_name = {name: {folder for folder, extended_type in owners if extended_type not in top_by_name}
                      for name, owners in member_by_name.items()}
    edges = defaultdict(set)  # (from, to) -> names
    for path, (folder, code) in files.items():
        for m in re.finditer(r"(\.?)\b([A-Za-z_]\w*)", code):
            dot, name = m.group(1), m.group(2)
            # `HTTPField.Name` is not App's `Name`: after a dot, only members count.
            owners = top_by_name.get(name, set()) if not dot else set()
            if (not owners and dot and name not in COMMON_MEMBERS and name not in type_members
                    and len(member_by_name.get(name, ())) == 1):
                owners = member_by_name[name]
            if len(owners) == 1:
                (owner,) = owners
                if owner != folder:
                    edges[(folder, owner)].add(name)
    for folder, names in extends.items():
        for name in names:
            owners = top_by_name.get(name, set())
            if len(owners) == 1 and folder not in owners:
                edges[(folder, next(iter(owners)))].add("extension " + name)

    folders = sorted({f for f, _ in files.values()})
    unknown = [f for f in folders if f not in ORDER]
    rank = {f: i for i, f in enumerate(ORDER)}
    against = sorted((a, b) for a, b in edges if a in rank and b in rank and rank[a] < rank[b])
    reverse = [edge for edge in against if edge not in KNOWN]
    if "--edges" in sys.argv:
        for (a, b) in sorted(edges, key=lambda e: (rank.get(e[0], 99), rank.get(e[1], 99))):
            mark = "  REVERSE" if (a, b) in reverse else f"  KNOWN: {KNOWN[(a, b)]}" if (a, b) in against else ""
            print(f"{a:>13} -> {b:<13} {', '.join(sorted(edges[(a, b)]))}{mark}")
    if unknown:
        print(f"layers: Sources/App/{', '.join(unknown)} is in no layer: add it to ORDER in scripts/lib/layers.py "
              "and to the README's layout", file=sys.stderr)
    for a, b in reverse:
        print(f"layers: Sources/App/{a} uses Sources/App/{b}, which comes after it in the order "
              f"({' → '.join(ORDER)}): {', '.join(sorted(edges[(a, b)]))}. Move what is shared down, "
              "or the user up (README.md, Layout)", file=sys.stderr)
    return 1 if unknown or reverse else 0


if __name__ == "__main__":
    sys.exit(main())

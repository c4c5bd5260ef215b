"""The SBOM of the Runway image, in CycloneDX 1.6 JSON and SPDX 2.3 JSON.

    sbom.py generate --deps DEPS.json --binary UNSTRIPPED --out DIR [--version V]
    sbom.py validate DIR
    sbom.py compare-syft DIR SYFT.cdx.json

Components: every Swift package of the resolved graph (`swift package show-dependencies --format
json`: identity, version, URL, dependency edges), and every system library statically linked into
the binary: glibc, libstdc++, libgcc, zlib, libsnappy (the Debian packages whose static archives the
link used, with their dpkg versions) and the Swift runtime, Foundation, FoundationEssentials, ICU and
Dispatch (shipped with the toolchain, at its version). A library is listed only if the unstripped
binary holds one of its symbols, so the list cannot claim what was not linked.
"""

import argparse
import datetime
import json
import re
import subprocess
import sys
import uuid
from pathlib import Path

CDX_NAME = "runway.cdx.json"
SPDX_NAME = "runway.spdx.json"

# (component name, how to find the static archive or the toolchain, symbol regex in `nm` output)
DEBIAN_LIBRARIES = [
    ("glibc", "libc.a", r" [Tt] __libc_start_main$"),
    ("libstdc++", "libstdc++.a", r" [TtWw] _ZNSt"),
    ("libgcc", "libgcc_eh.a", r" [Tt] _Unwind_Resume$"),
    ("zlib", "libz.a", r" [Tt] deflateInit2_$"),
    ("snappy", "libsnappy.a", r" [Tt] snappy_compress$"),
]
TOOLCHAIN_LIBRARIES = [
    ("swift-stdlib", "https://github.com/swiftlang/swift", r" [Tt] swift_retain$"),
    ("swift-corelibs-foundation", "https://github.com/swiftlang/swift-corelibs-foundation", r" \$s10Foundation"),
    ("swift-foundation", "https://github.com/swiftlang/swift-foundation", r" \$s20FoundationEssentials"),
    ("swift-foundation-icu", "https://github.com/swiftlang/swift-foundation-icu", r" [Tt] (swift_)?ucol_open$"),
    ("swift-corelibs-libdispatch", "https://github.com/swiftlang/swift-corelibs-libdispatch", r" [Tt] dispatch_async$"),
]


def run(*command):
    return subprocess.run(command, check=True, capture_output=True, text=True).stdout


def swift_packages(deps_json):
    """{identity: (version, url)} and the dependency edges, from show-dependencies' tree."""
    root = json.loads(Path(deps_json).read_text())
    packages, edges = {}, {}

    def walk(node, key):
        edges.setdefault(key, set())
        for child in node["dependencies"]:
            packages[child["identity"]] = (child["version"], child["url"])
            edges[key].add(child["identity"])
            walk(child, child["identity"])

    walk(root, None)
    return packages, edges


def swift_purl(version, url):
    # The form syft's swift-package-manager cataloger uses: pkg:swift/github.com/vapor/postgres-nio/postgres-nio@1.33.2
    path = re.sub(r"^https?://", "", url).removesuffix(".git")
    return f"pkg:swift/{path}/{path.rsplit('/', 1)[-1]}@{version}"


def debian_library(archive):
    path = run("cc", f"-print-file-name={archive}").strip()
    if not Path(path).is_file():
        sys.exit(f"sbom: the static archive {archive} is not installed (cc -print-file-name gave {path})")
    package = run("dpkg-query", "-S", str(Path(path).resolve())).split(":")[0].strip()
    version, arch, source = run("dpkg-query", "-W", "-f=${Version}\t${Architecture}\t${source:Package}", package).split("\t")
    return package, version, arch, source, path


def linked(symbols, pattern):
    return re.search(pattern, symbols, re.MULTILINE) is not None


def generate(args):
    from cyclonedx.model import ExternalReference, ExternalReferenceType, Property, XsUri
    from cyclonedx.model.bom import Bom
    from cyclonedx.model.component import Component, ComponentScope, ComponentType
    from cyclonedx.output.json import JsonV1Dot6
    from packageurl import PackageURL
    from spdx_tools.spdx.model import (
        Actor, ActorType, CreationInfo, Document, ExternalPackageRef, ExternalPackageRefCategory,
        Package, Relationship, RelationshipType, SpdxNoAssertion,
    )
    from spdx_tools.spdx.writer.write_anything import write_file

    symbols = run("nm", "--defined-only", args.binary)
    if not symbols.strip():
        sys.exit(f"sbom: {args.binary} has no symbol table; give the unstripped binary")
    toolchain = re.search(r"Swift version (\S+)", run("swift", "--version")).group(1)
    packages, edges = swift_packages(args.deps)

    # (name, version, purl, url, kind, properties)
    entries = []
    for identity, (version, url) in sorted(packages.items()):
        entries.append((identity, version, swift_purl(version, url), url, "swift", {}))
    for name, archive, pattern in DEBIAN_LIBRARIES:
        package, version, arch, source, path = debian_library(archive)
        if not linked(symbols, pattern):
            sys.exit(f"sbom: no symbol of {name} ({pattern.strip()}) in {args.binary}: is it still linked?")
        epoch, _, upstream = version.rpartition(":")  # purl-spec: a Debian epoch is a qualifier
        purl = f"pkg:deb/debian/{package}@{upstream}?arch={arch}&distro=debian-12" + (f"&epoch={epoch}" if epoch else "")
        entries.append((name, version, purl, None, "system", {"runway:static-archive": path, "runway:debian-package": package, "runway:debian-source": source}))
    for name, url, pattern in TOOLCHAIN_LIBRARIES:
        if not linked(symbols, pattern):
            sys.exit(f"sbom: no symbol of {name} ({pattern.strip()}) in {args.binary}: is it still linked?")
        purl = f"pkg:generic/{name}@{toolchain}?vcs_url={url}"
        entries.append((name, toolchain, purl, url, "toolchain", {"runway:linked-from": f"Swift {toolchain} toolchain (--static-swift-stdlib)"}))

    created = datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)

    # CycloneDX 1.6
    bom = Bom()
    root = Component(type=ComponentType.APPLICATION, name="runway", version=args.version, bom_ref="runway")
    bom.metadata.component = root
    bom.metadata.timestamp = created
    refs = {}
    for name, version, purl, url, kind, properties in entries:
        component = Component(
            type=ComponentType.LIBRARY, name=name, version=version, purl=PackageURL.from_string(purl),
            bom_ref=purl, scope=ComponentScope.REQUIRED,
            properties=[Property(name="runway:kind", value=kind)] + [Property(name=k, value=v) for k, v in properties.items()],
            external_references=[ExternalReference(type=ExternalReferenceType.VCS, url=XsUri(url))] if url else [],
        )
        bom.components.add(component)
        refs[name] = component
    bom.register_dependency(root, [refs[n] for n in sorted(edges[None])] + [refs[e[0]] for e in entries if e[4] != "swift"])
    for identity, children in edges.items():
        if identity is not None:
            bom.register_dependency(refs[identity], [refs[c] for c in sorted(children)])
    (out / CDX_NAME).write_text(JsonV1Dot6(bom).output_as_string(indent=2) + "\n")

    # SPDX 2.3
    def spdx_id(name):
        return "SPDXRef-" + re.sub(r"[^A-Za-z0-9.-]", "-", name)

    spdx_packages = [Package(spdx_id="SPDXRef-runway", name="runway", version=args.version,
                             download_location=SpdxNoAssertion(), files_analyzed=False, primary_package_purpose=None)]
    relationships = [Relationship("SPDXRef-DOCUMENT", RelationshipType.DESCRIBES, "SPDXRef-runway")]
    for name, version, purl, url, kind, properties in entries:
        spdx_packages.append(Package(
            spdx_id=spdx_id(name), name=name, version=version,
            download_location=url if url else SpdxNoAssertion(), files_analyzed=False,
            license_concluded=SpdxNoAssertion(), license_declared=SpdxNoAssertion(), copyright_text=SpdxNoAssertion(),
            comment=f"{kind}" + "".join(f"; {k}={v}" for k, v in properties.items()),
            external_references=[ExternalPackageRef(ExternalPackageRefCategory.PACKAGE_MANAGER, "purl", purl)],
        ))
        if kind != "swift":
            relationships.append(Relationship("SPDXRef-runway", RelationshipType.STATIC_LINK, spdx_id(name)))
    for identity, children in edges.items():
        parent = "SPDXRef-runway" if identity is None else spdx_id(identity)
        relationships += [Relationship(parent, RelationshipType.DEPENDS_ON, spdx_id(c)) for c in sorted(children)]
    document = Document(
        creation_info=CreationInfo(
            spdx_version="SPDX-2.3", spdx_id="SPDXRef-DOCUMENT", name=f"runway-{args.version}", data_license="CC0-1.0",
            document_namespace=f"https://runway.invalid/spdx/runway-{args.version}-{uuid.uuid4()}",
            creators=[Actor(ActorType.TOOL, "runway-deploy-sbom")], created=created.replace(tzinfo=None),
        ),
        packages=spdx_packages, relationships=relationships,
    )
    write_file(document, str(out / SPDX_NAME), validate=True)
    swift = sum(1 for e in entries if e[4] == "swift")
    print(f"sbom: {swift} Swift packages, {len(entries) - swift} system libraries -> {out}/{CDX_NAME}, {out}/{SPDX_NAME}", file=sys.stderr)


def validate(args):
    from cyclonedx.schema import SchemaVersion
    from cyclonedx.validation.json import JsonStrictValidator
    from spdx_tools.spdx.parser.parse_anything import parse_file
    from spdx_tools.spdx.validation.document_validator import validate_full_spdx_document

    out = Path(args.dir)
    error = JsonStrictValidator(SchemaVersion.V1_6).validate_str((out / CDX_NAME).read_text())
    if error is not None:
        sys.exit(f"sbom: {out / CDX_NAME} is not valid CycloneDX 1.6: {error}")
    messages = validate_full_spdx_document(parse_file(str(out / SPDX_NAME)), "SPDX-2.3")
    if messages:
        sys.exit(f"sbom: {out / SPDX_NAME} is not valid SPDX 2.3: " + "; ".join(m.validation_message for m in messages))
    components = json.loads((out / CDX_NAME).read_text())["components"]
    print(f"sbom: {CDX_NAME} valid CycloneDX 1.6 ({len(components)} components), {SPDX_NAME} valid SPDX 2.3", file=sys.stderr)


def compare_syft(args):
    """Every Swift package syft finds (from Package.resolved) is in our SBOM with the same version."""
    ours = {c["purl"] for c in json.loads((Path(args.dir) / CDX_NAME).read_text())["components"]}
    # syft keeps the ".git" of the URL in the purl's namespace; ours follows the purl spec without it.
    theirs = {c["purl"].replace(".git/", "/") for c in json.loads(Path(args.syft).read_text()).get("components", []) if c.get("purl", "").startswith("pkg:swift/")}
    if not theirs:
        sys.exit(f"sbom: syft found no Swift packages in {args.syft}")
    missing = sorted(theirs - ours)
    if missing:
        sys.exit("sbom: syft found Swift packages that our SBOM lacks: " + ", ".join(missing))
    print(f"sbom: all {len(theirs)} Swift packages syft found are in the SBOM with the same versions", file=sys.stderr)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    g = sub.add_parser("generate")
    g.add_argument("--deps", required=True)
    g.add_argument("--binary", required=True)
    g.add_argument("--out", required=True)
    g.add_argument("--version", default="dev")
    v = sub.add_parser("validate")
    v.add_argument("dir")
    c = sub.add_parser("compare-syft")
    c.add_argument("dir")
    c.add_argument("syft")
    args = parser.parse_args()
    {"generate": generate, "validate": validate, "compare-syft": compare_syft}[args.command](args)


if __name__ == "__main__":
    main()

# Shared by the deploy/ scripts (sourced after scripts/lib/common.sh).
# shellcheck shell=bash

# Everything the deploy scripts generate lives here (ignored by git): image build contexts, the
# SBOM, the database passwords, the containers.conf, the tools' venv.
DEPLOY_STATE=${DEPLOY_STATE:-$PWD/.build-deploy}
RUNWAY_IMAGE=localhost/runway
POSTGRES_IMAGE=localhost/runway-postgres
POSTGRES_VERSION=15

# Podman, with runc as its runtime: crun fails on this kernel's hybrid cgroups ("cgroups in hybrid
# mode not supported"), and the default ulimits cannot be set in a rootless user namespace. The
# setting goes into a containers.conf of ours, named by CONTAINERS_CONF, not into /etc.
ensure_podman() {
    ensure_packages podman runc uidmap slirp4netns catatonit ca-certificates
    mkdir -p "$DEPLOY_STATE"
    write_containers_conf "$DEPLOY_STATE/containers.conf"
    export CONTAINERS_CONF="$DEPLOY_STATE/containers.conf"
}

# write_containers_conf FILE [ENGINE_LINE...]: ENGINE_LINEs are added to its [engine] section.
write_containers_conf() {
    local file=$1
    shift
    {
        cat <<'CONF'
# Written by deploy/ scripts: runc (crun cannot run on hybrid cgroups), no default ulimits.
[containers]
default_ulimits = []
[engine]
runtime = "runc"
CONF
        [ "$#" -eq 0 ] || printf '%s\n' "$@"
    } >"$file"
}

# The architecture names: uname/Swift (x86_64, aarch64) -> OCI (amd64, arm64).
oci_arch() {
    case "$1" in
        x86_64 | amd64) echo amd64 ;;
        aarch64 | arm64) echo arm64 ;;
        *) log "unsupported architecture $1: use x86_64 or aarch64"; exit 64 ;;
    esac
}
swift_arch() {
    case "$1" in
        x86_64 | amd64) echo x86_64 ;;
        aarch64 | arm64) echo aarch64 ;;
        *) log "unsupported architecture $1: use x86_64 or aarch64"; exit 64 ;;
    esac
}

# qemu-user-static and its binfmt_misc registration for aarch64, by hand: there is no systemd here
# to run systemd-binfmt, and Debian's binfmt-support service is not running either.
ensure_arm64_emulation() {
    ensure_packages qemu-user-static
    if [ ! -e /proc/sys/fs/binfmt_misc/register ]; then
        mount -t binfmt_misc binfmt_misc /proc/sys/fs/binfmt_misc
    fi
    if [ ! -e /proc/sys/fs/binfmt_misc/qemu-aarch64 ]; then
        log "registering qemu-aarch64-static with binfmt_misc"
        grep -v '^#' /usr/lib/binfmt.d/qemu-aarch64.conf >/proc/sys/fs/binfmt_misc/register
    fi
    grep -q '^enabled' /proc/sys/fs/binfmt_misc/qemu-aarch64 ||
        { log "binfmt_misc has qemu-aarch64 but it is disabled"; exit 1; }
}

# The deploy tools' Python (syft, cyclonedx-python-lib, spdx-tools), in a venv of their own.
deploy_venv() {
    ensure_venv "$DEPLOY_STATE/venv" deploy/requirements-deploy.txt
    DEPLOY_VENV="$DEPLOY_STATE/venv"
}

# make_sbom UNSTRIPPED_BINARY OUT_DIR: CycloneDX 1.6 + SPDX 2.3 of the binary, then check_sbom.
make_sbom() {
    deploy_venv
    log "SBOM: Swift package graph (swift package show-dependencies) and the linked system libraries"
    swift package --scratch-path .build-static show-dependencies --format json >"$DEPLOY_STATE/dependencies.json"
    "$DEPLOY_VENV/bin/python" deploy/sbom.py generate --deps "$DEPLOY_STATE/dependencies.json" \
        --binary "$1" --out "$2" --version "$(git describe --always --dirty 2>/dev/null || echo dev)"
    check_sbom "$2"
}

# check_sbom DIR: schema validation of both files (cyclonedx-python-lib's JsonStrictValidator,
# spdx-tools' validator and pyspdxtools), and syft's own reading of Package.resolved must find
# nothing the SBOM lacks.
check_sbom() {
    deploy_venv
    "$DEPLOY_VENV/bin/python" deploy/sbom.py validate "$1"
    "$DEPLOY_VENV/bin/pyspdxtools" -i "$1/runway.spdx.json" ||
        { log "pyspdxtools rejects $1/runway.spdx.json"; return 1; }
    SYFT_CHECK_FOR_APP_UPDATE=false "$DEPLOY_VENV/bin/syft" scan file:Package.resolved -q \
        -o "cyclonedx-json=$DEPLOY_STATE/syft-package-resolved.cdx.json"
    "$DEPLOY_VENV/bin/python" deploy/sbom.py compare-syft "$1" "$DEPLOY_STATE/syft-package-resolved.cdx.json"
}

# The unprivileged user that runs the pod rootless (deploy/rootless-setup prepares it).
DEPLOY_USER=${RUNWAY_DEPLOY_USER:-runway}

# Runs a command as DEPLOY_USER with a clean environment: its own XDG_RUNTIME_DIR (there is no
# systemd-logind to make one) and its own ~/.config/containers, never root's CONTAINERS_CONF.
as_deploy_user() {
    local uid home
    uid=$(id -u "$DEPLOY_USER")
    home=$(getent passwd "$DEPLOY_USER" | cut -d: -f6)
    (cd / && runuser -u "$DEPLOY_USER" -- env -i PATH=/usr/local/bin:/usr/bin:/bin HOME="$home" \
        USER="$DEPLOY_USER" LOGNAME="$DEPLOY_USER" XDG_RUNTIME_DIR="/run/user/$uid" "$@")
}

# build_image_replacing TAG INPUTS_HASH podman-build-arguments...: builds TAG labelled
# runway.inputs=INPUTS_HASH (the callers skip the build when the label matches), then removes the
# image TAG pointed to before if nothing else uses it: only that one, never a prune of the store.
build_image_replacing() {
    local tag=$1 inputs=$2 previous
    shift 2
    previous=$(podman image inspect --format '{{.Id}}' "$tag" 2>/dev/null || true)
    podman build --quiet --layers=false --label "runway.inputs=$inputs" -t "$tag" "$@" >/dev/null
    if [ -n "$previous" ] && [ "$previous" != "$(podman image inspect --format '{{.Id}}' "$tag")" ]; then
        podman rmi "$previous" >/dev/null 2>&1 || true
    fi
}

# The sha256 of files' contents and of extra strings, for build_image_once.
inputs_hash() { # files... -- strings...
    {
        while [ "$#" -gt 0 ] && [ "$1" != -- ]; do sha256sum "$1"; shift; done
        [ "$#" -eq 0 ] || shift
        printf '%s\n' "$@"
    } | sha256sum | cut -c1-16
}

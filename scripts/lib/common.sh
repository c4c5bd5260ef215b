# Shared by the scripts: install what is missing, find PostgreSQL, run as its user.
# shellcheck shell=bash

log() { printf '==> %s\n' "$*" >&2; }

# Installs the Debian packages that are not installed yet (apt-get update first, once).
ensure_packages() {
    local missing=() package
    for package in "$@"; do
        dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q 'install ok installed' || missing+=("$package")
    done
    ((${#missing[@]})) || return 0
    local sudo=()
    if [ "$(id -u)" -ne 0 ]; then
        command -v sudo >/dev/null || { log "need root (or sudo) to install: ${missing[*]}"; exit 1; }
        sudo=(sudo)
    fi
    log "installing ${missing[*]}"
    "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -qq
    "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

# The newest /usr/lib/postgresql/*/bin.
postgres_bin() {
    local dir
    dir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
    [ -n "$dir" ] || { log "no PostgreSQL server binaries under /usr/lib/postgresql"; exit 1; }
    printf '%s\n' "$dir"
}

# Runs a command as the unprivileged postgres user when we are root (PostgreSQL refuses root).
as_postgres() {
    if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

# Starts a throwaway cluster in a new temporary folder: Unix socket only, no TCP port, fsync off.
# Sets PG_TEST_DIR; the caller stops it with stop_throwaway_postgres.
start_throwaway_postgres() {
    local bin
    bin=$(postgres_bin)
    PG_TEST_DIR=$(mktemp -d /tmp/runway-test-pg.XXXXXX)
    mkdir -p "$PG_TEST_DIR/data" "$PG_TEST_DIR/socket"
    [ "$(id -u)" -ne 0 ] || chown -R postgres:postgres "$PG_TEST_DIR"
    chmod 0755 "$PG_TEST_DIR"
    chmod 0700 "$PG_TEST_DIR/data" "$PG_TEST_DIR/socket"
    as_postgres "$bin/initdb" -D "$PG_TEST_DIR/data" -U postgres --auth=trust -E UTF8 --locale=C --no-instructions >/dev/null
    as_postgres "$bin/pg_ctl" -D "$PG_TEST_DIR/data" -l "$PG_TEST_DIR/postgres.log" -w -t 60 \
        -o "-c listen_addresses= -c unix_socket_directories=$PG_TEST_DIR/socket -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=300" \
        start >/dev/null
    export RUNWAY_TEST_PG_SOCKET_DIR="$PG_TEST_DIR/socket" RUNWAY_TEST_PG_SUPERUSER=postgres
    log "throwaway PostgreSQL on $RUNWAY_TEST_PG_SOCKET_DIR"
}

stop_throwaway_postgres() {
    [ -n "${PG_TEST_DIR:-}" ] || return 0
    as_postgres "$(postgres_bin)/pg_ctl" -D "$PG_TEST_DIR/data" -m immediate -w stop >/dev/null 2>&1 || true
    rm -rf "$PG_TEST_DIR"
}

# A Python virtual environment with pinned tools (Debian's python3 and venv), recreated when its
# requirements file changes: by default .venv with the test tools.
#   ensure_venv [VENV_DIR] [REQUIREMENTS_FILE]
ensure_venv() {
    ensure_packages python3 python3-venv
    local venv=${1:-.venv} requirements=${2:-scripts/requirements-test.txt}
    if [ ! -x "$venv/bin/python" ] || ! cmp -s "$requirements" "$venv/requirements.txt"; then
        log "creating the Python virtual environment $venv from $requirements"
        rm -rf "$venv"
        /usr/bin/python3 -m venv "$venv"
        "$venv/bin/pip" install --quiet --disable-pip-version-check -r "$requirements"
        cp "$requirements" "$venv/requirements.txt"
    fi
}

# Reads `wrk --latency` output; prints "requests/s P50 P99 non-2xx" with latencies in milliseconds.
wrk_summary() {
    awk '
        function ms(v) { if (v ~ /us$/) return v / 1000; if (v ~ /ms$/) return v + 0; if (v ~ /s$/) return v * 1000; return v }
        /^Requests\/sec:/ { rps = $2 }
        $1 == "50%" { p50 = ms($2) }
        $1 == "99%" { p99 = ms($2) }
        /Non-2xx/ { non = $NF }
        END { printf "%s %.2f %.2f %d\n", rps, p50, p99, non + 0 }
    '
}

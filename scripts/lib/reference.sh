# The Rust reference service (../shared/peers/rust-ref, beside the project: see its README.md)
# for `scripts/bench-load --reference`: its build, and a throwaway PostgreSQL cluster of its own
# with the settings Runway's embedded cluster gets. Sourced after scripts/lib/common.sh, from the
# project root.
# shellcheck shell=bash

# Where the reference is, relative to the project root (the repository is cloned next to shared/).
REFERENCE_SOURCE=../shared/peers/rust-ref
# Its build folder: outside ../shared (read-only in CI), in the project root so it is kept across
# runs (ignored by git through .gitignore's `.build-*/`).
REFERENCE_TARGET_DIR=$PWD/.build-rust-ref
# The Debian crates it builds from, offline, through its own .cargo/config.toml.
REFERENCE_CRATES=(librust-hyper-dev librust-tokio-dev librust-tokio-postgres-dev librust-serde-json-dev
    librust-serde-dev librust-sha2-dev)

# Builds the reference (release, offline, with its Cargo.lock); sets REFERENCE_BIN and
# REFERENCE_CARGO (the cargo that built it).
build_reference() {
    local cargo
    if [ ! -f "$REFERENCE_SOURCE/Cargo.toml" ] || [ ! -f "$REFERENCE_SOURCE/schema.sql" ] || [ ! -f "$REFERENCE_SOURCE/seed.sql" ]; then
        log "the Rust reference service is missing: expected its Cargo.toml, schema.sql and seed.sql in"
        log "$REFERENCE_SOURCE (that is, $(cd .. && pwd)/shared/peers/rust-ref, beside the project's clone)"
        exit 1
    fi
    cargo=$(command -v cargo || true)
    # rustup puts cargo in ~/.cargo/bin, which a non-login shell's PATH may lack.
    [ -n "$cargo" ] || [ ! -x "${HOME:-/root}/.cargo/bin/cargo" ] || cargo=${HOME:-/root}/.cargo/bin/cargo
    if [ -z "$cargo" ]; then
        log "cargo is not installed (not on PATH, nor in ~/.cargo/bin): it is needed to build $REFERENCE_SOURCE"
        exit 1
    fi
    ensure_packages "${REFERENCE_CRATES[@]}"
    log "building the Rust reference service (release, offline) into $REFERENCE_TARGET_DIR"
    # From its own folder, so that cargo reads its .cargo/config.toml (Debian's crates, offline).
    (cd "$REFERENCE_SOURCE" && CARGO_TARGET_DIR=$REFERENCE_TARGET_DIR "$cargo" build --release --locked --quiet) >&2 ||
        { log "the Rust reference service did not build (see above)"; exit 1; }
    # shellcheck disable=SC2034 # for scripts/bench-load's footer
    REFERENCE_CARGO=$cargo
    REFERENCE_BIN=$REFERENCE_TARGET_DIR/release/rust-ref
    [ -x "$REFERENCE_BIN" ] || { log "cargo built no $REFERENCE_BIN"; exit 1; }
}

# A free TCP port on 127.0.0.1 (the kernel's pick; free when asked, so bind it soon after).
free_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

# Creates and starts a PostgreSQL cluster in DIR (DIR/data, DIR/socket, DIR/postgres.log) with the
# settings Runway's embedded cluster gets (Sources/App/Database/EmbeddedPostgres.swift): initdb
# --locale=C -E UTF8 --auth=trust, Unix socket only (listen_addresses empty, socket mode 0700),
# max_connections 100, shared_buffers 128MB, and PostgreSQL's defaults for the rest: fsync,
# synchronous_commit and full_page_writes on. Then creates the database refdb and loads the
# reference's schema.sql and seed.sql (tenant 00000000-0000-0000-0000-000000000001, key
# load-test-key, collection bench, document doc-1). Its libpq connection string for the service is
# "host=DIR/socket port=5432 user=ref_app dbname=refdb". Stop it with stop_reference_cluster DIR.
start_reference_cluster() { # dir
    local dir=$1 bin
    bin=$(postgres_bin)
    mkdir -p "$dir/data" "$dir/socket"
    : > "$dir/postgres.log"
    [ "$(id -u)" -ne 0 ] || chown -R postgres:postgres "$dir"
    chmod 0755 "$dir"
    chmod 0700 "$dir/data" "$dir/socket"
    as_postgres "$bin/initdb" -D "$dir/data" -U postgres --auth=trust --encoding=UTF8 --locale=C --no-instructions >/dev/null
    cat >> "$dir/data/postgresql.conf" <<CONF

# Written by scripts/bench-load --reference: as Runway's embedded cluster.
listen_addresses = ''
unix_socket_directories = '$dir/socket'
unix_socket_permissions = 0700
max_connections = 100
shared_buffers = 128MB
CONF
    as_postgres "$bin/pg_ctl" start -D "$dir/data" -l "$dir/postgres.log" -w -t 60 >/dev/null ||
        { log "the reference's PostgreSQL did not start:"; tail -n 20 "$dir/postgres.log" >&2; exit 1; }
    local psql=("$bin/psql" -X -q -h "$dir/socket" -U postgres -v ON_ERROR_STOP=1)
    as_postgres "${psql[@]}" -d postgres -c 'CREATE DATABASE refdb' >/dev/null
    # On standard input, so that the postgres user need not be able to read the files.
    as_postgres "${psql[@]}" -d refdb < "$REFERENCE_SOURCE/schema.sql" >/dev/null
    as_postgres "${psql[@]}" -d refdb < "$REFERENCE_SOURCE/seed.sql" >/dev/null
}

stop_reference_cluster() { # dir
    [ -f "$1/data/postmaster.pid" ] || return 0
    as_postgres "$(postgres_bin)/pg_ctl" stop -D "$1/data" -m fast -w -t 60 >/dev/null 2>&1 || true
}

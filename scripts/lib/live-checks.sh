#!/usr/bin/env bash
# Checks a built `runway` binary from outside, on its own embedded database in a temporary
# data folder: OpenAPI document and routes, schemathesis, CLI beside the server, graceful stop.
# Usage: scripts/lib/live-checks.sh PATH_TO_RUNWAY  (run from the repository root, venv ready)
set -euo pipefail
source scripts/lib/common.sh
runway=$(realpath "$1")
LIVE_DIR=$(mktemp -d /tmp/runway-live.XXXXXX)
chmod 0755 "$LIVE_DIR"
data="$LIVE_DIR/data"
server_pid=""
finish() {
    local status=$?
    [ -z "$server_pid" ] || kill -9 "$server_pid" 2>/dev/null || true
    # A killed server leaves the embedded cluster running: stop it.
    [ ! -d "$data/postgres" ] || as_postgres "$(postgres_bin)/pg_ctl" -D "$data/postgres" -m immediate stop >/dev/null 2>&1 || true
    rm -rf "$LIVE_DIR"
    exit "$status"
}
trap finish EXIT

log "openapi.yaml against the registered routes"
"$runway" routes > "$LIVE_DIR/routes.txt"
.venv/bin/python scripts/check_openapi.py openapi.yaml "$LIVE_DIR/routes.txt"

log "runway serve on an embedded database in $data"
: > "$LIVE_DIR/serve.out" # exists before the server starts writing, so polling it cannot fail
"$runway" serve --data-dir "$data" --port 0 --admin-port 0 --log-level warning > "$LIVE_DIR/serve.out" 2>&1 &
server_pid=$!
port="" admin_port=""
for _ in $(seq 1 600); do
    port=$(sed -n 's|^Runway is serving the tenant API on http://127.0.0.1:\([0-9]*\)$|\1|p' "$LIVE_DIR/serve.out")
    admin_port=$(sed -n 's|^Admin API on http://127.0.0.1:\([0-9]*\)/admin/v1.*|\1|p' "$LIVE_DIR/serve.out")
    [ -z "$port" ] || [ -z "$admin_port" ] || break
    kill -0 "$server_pid" 2>/dev/null || { cat "$LIVE_DIR/serve.out"; log "runway serve exited"; exit 1; }
    sleep 0.1 # polling a child process's start-up, not synchronising a test
done
[ -n "$port" ] && [ -n "$admin_port" ] || { cat "$LIVE_DIR/serve.out"; log "runway serve did not start"; exit 1; }
log "serving on $port, admin on $admin_port"

log "CLI beside the running server"
created=$("$runway" tenant create --name schemathesis --plan enterprise --json --data-dir "$data" 2>/dev/null)
key=$(.venv/bin/python -c 'import json,sys; print(json.load(sys.stdin)["api_key"])' <<<"$created")
"$runway" tenant list --json --data-dir "$data" 2>/dev/null | .venv/bin/python -c '
import json, sys
tenants = json.load(sys.stdin)["tenants"]
assert [t["name"] for t in tenants] == ["schemathesis"], tenants
'
admin_token=$(cat "$data/admin-token")

common=(--checks not_a_server_error,status_code_conformance,content_type_conformance,response_headers_conformance,response_schema_conformance
    --max-examples "${SCHEMATHESIS_EXAMPLES:-30}" --seed 1 --request-timeout 10 --generation-deterministic --no-color)
log "schemathesis: tenant API"
.venv/bin/schemathesis run openapi.yaml --url "http://127.0.0.1:$port" -H "Authorization: Bearer $key" \
    --exclude-path-regex '^/(admin/|metrics$)' "${common[@]}"
log "schemathesis: admin API"
.venv/bin/schemathesis run openapi.yaml --url "http://127.0.0.1:$admin_port" -H "Authorization: Bearer $admin_token" \
    --include-path-regex '^/(admin/|metrics$)' "${common[@]}"

log "the service is still healthy, and /metrics counted what schemathesis sent"
.venv/bin/python - "$port" "$admin_port" <<'PY'
import sys, urllib.request
with urllib.request.urlopen(f"http://127.0.0.1:{sys.argv[1]}/readyz", timeout=5) as r:
    assert r.status == 200, r.status
with urllib.request.urlopen(f"http://127.0.0.1:{sys.argv[2]}/metrics", timeout=5) as r:
    text = r.read().decode()
requests = sum(float(line.rsplit(" ", 1)[1]) for line in text.splitlines() if line.startswith("runway_http_requests_total{"))
assert requests > 100, f"only {requests} requests counted"
assert 'route="/v1/collections/{collection}/documents/{id}"' in text, "no route template in /metrics"
assert any(line.startswith("process_resident_memory_bytes ") for line in text.splitlines()), "no process metrics"
print(f"/metrics: {requests:.0f} requests counted")
PY

log "SIGTERM: graceful shutdown, embedded PostgreSQL stopped"
kill -TERM "$server_pid"
status=0
wait "$server_pid" || status=$?
server_pid=""
[ "$status" -eq 0 ] || { cat "$LIVE_DIR/serve.out"; log "runway serve exited with $status after SIGTERM"; exit 1; }
if as_postgres "$(postgres_bin)/pg_ctl" -D "$data/postgres" status >/dev/null 2>&1; then
    log "the embedded PostgreSQL is still running after shutdown"; exit 1
fi
log "cost ledger: written through the shutdown, read back by runway cost report"
"$runway" cost report --format json --data-dir "$data" 2>/dev/null | .venv/bin/python -c '
import json, sys
report = json.load(sys.stdin)
lines = {(l["kind"], l.get("tenant_name")): l for l in report["lines"]}
tenant = lines[("tenant", "schemathesis")]
assert tenant["requests"] > 0 and tenant["app_cpu_ns"] > 0 and tenant["cost_micros"] >= 0, tenant
assert ("overhead", None) in lines and ("idle", None) in lines, lines
assert report["db_metered"] and tenant["db_cpu_ns"] > 0, report
'
"$runway" cost report --format csv --data-dir "$data" 2>/dev/null | grep -q '^total,'
log "live checks passed"

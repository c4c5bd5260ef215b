#!/usr/bin/env bash
# Checks the Grafana dashboards (dashboards/) and the observability stack's configs
# (deploy/observability/) against the real thing, in about a minute:
#   1. every dashboard parses, panel ids are unique, every data source is provisioned, the
#      provisioning and the pod hold together, LogQL parses (structurally: Loki is not installable
#      here), Tempo links are TraceQL on the server span's attributes; promtool accepts prometheus.yml;
#   2. a live Runway (embedded PostgreSQL, temporary folder, ports 0) pushes logs and spans to a
#      local sink that rejects or refuses some pushes (so drops and retries are counted), under a
#      light load with some 4xx;
#   3. Debian's prometheus, with deploy/observability/prometheus.yml scraping it every second
#      (OpenMetrics, exemplar storage on), evaluates every PromQL expression of service.json: each
#      must return data; its exemplars of the latency histogram name traces the sink received;
#   4. every SQL query of tenant-cost.json runs on that Runway's migrated schema as a role in
#      runway_finance (SET ROLE: the embedded cluster admits only peer logins) and returns the
#      declared columns.
# Usage: scripts/lib/dashboard-checks.sh PATH_TO_RUNWAY  (from the repository root; needs the
# test venv, postgresql and prometheus: scripts/test installs them)
set -euo pipefail
source scripts/lib/common.sh
runway=$(realpath "$1")
python=${RUNWAY_TEST_PYTHON:-.venv/bin/python}
checks=scripts/lib/dashboard_checks.py
started=$SECONDS

work=$(mktemp -d /tmp/runway-dash.XXXXXX)
chmod 0755 "$work"
data="$work/data"
server_pid="" sink_pid="" prometheus_pid="" load_pid=""
finish() {
    local status=$?
    for pid in "$load_pid" "$prometheus_pid" "$sink_pid"; do
        [ -z "$pid" ] || kill "$pid" 2>/dev/null || true
    done
    [ -z "$server_pid" ] || kill -9 "$server_pid" 2>/dev/null || true
    # A killed server leaves the embedded cluster running: stop it.
    [ ! -d "$data/postgres" ] || as_postgres "$(postgres_bin)/pg_ctl" -D "$data/postgres" -m immediate stop >/dev/null 2>&1 || true
    for pid in "$load_pid" "$prometheus_pid" "$sink_pid" "$server_pid"; do
        [ -z "$pid" ] || wait "$pid" 2>/dev/null || true
    done
    rm -rf "$work"
    exit "$status"
}
trap finish EXIT

# Waits until FILE has a line matching the sed expression, printing the captured group; fails if
# PID exits first. Polls a child process's start-up, not a test's synchronisation.
await_output() {
    local file=$1 expression=$2 pid=$3 what=$4 value=""
    for _ in $(seq 1 600); do
        value=$(sed -n "$expression" "$file" 2>/dev/null | head -n 1)
        [ -z "$value" ] || { printf '%s\n' "$value"; return 0; }
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
    done
    cat "$file" >&2
    log "$what did not start"
    return 1
}

log "dashboards and provisioning"
"$python" "$checks" static
promtool check config deploy/observability/prometheus.yml >/dev/null

log "a local Loki/OTLP sink that rejects every 7th push and refuses every 5th (retryable)"
"$python" scripts/lib/telemetry_sink.py "$work/sink.port" "$work/sink.stats" --reject-every 7 --unavailable-every 5 \
    --trace-ids "$work/trace-ids" &
sink_pid=$!
sink_port=$(await_output "$work/sink.port" 's|^\([0-9][0-9]*\)$|\1|p' "$sink_pid" "the sink")

log "runway serve on an embedded database in $data, telemetry to the sink"
: > "$work/serve.out"
LOKI_URL="http://127.0.0.1:$sink_port" TEMPO_URL="http://127.0.0.1:$sink_port" RUNWAY_INSTANCE=dashboard-check \
    RUNWAY_LOG_FLUSH_MS=200 OTEL_BSP_SCHEDULE_DELAY=200 RUNWAY_COST_FLUSH_SECONDS=1 \
    "$runway" serve --data-dir "$data" --port 0 --admin-port 0 > "$work/serve.out" 2>&1 &
server_pid=$!
port=$(await_output "$work/serve.out" 's|^Runway is serving the tenant API on http://127.0.0.1:\([0-9]*\)$|\1|p' "$server_pid" "runway serve")
admin_port=$(await_output "$work/serve.out" 's|^Admin API on http://127.0.0.1:\([0-9]*\)/admin/v1.*|\1|p' "$server_pid" "runway serve")
created=$("$runway" tenant create --name dashboards --plan pro --json --data-dir "$data" 2>/dev/null)
key=$("$python" -c 'import json,sys; print(json.load(sys.stdin)["api_key"])' <<<"$created")

log "Prometheus (deploy/observability/prometheus.yml, every 1 s) scraping the admin port $admin_port"
prometheus_port=$("$python" "$checks" free-port)
"$python" - deploy/observability/prometheus.yml "$work/prometheus.yml" "127.0.0.1:$admin_port" <<'PY'
import sys, yaml
config = yaml.safe_load(open(sys.argv[1]))
config["global"]["scrape_interval"] = config["global"]["evaluation_interval"] = "1s"
(job,) = [j for j in config["scrape_configs"] if j["job_name"] == "runway"]
job["static_configs"] = [{"targets": [sys.argv[3]]}]
yaml.safe_dump(config, open(sys.argv[2], "w"))
PY
prometheus --config.file="$work/prometheus.yml" --storage.tsdb.path="$work/prometheus" --enable-feature=exemplar-storage \
    --web.listen-address="127.0.0.1:$prometheus_port" --log.level=warn > "$work/prometheus.out" 2>&1 &
prometheus_pid=$!

log "load: requests through urllib (some 404, 401 and 400) until the checks are done"
"$python" "$checks" load "$port" "$key" "$work/load.count" &
load_pid=$!

await_prometheus() {
    for _ in $(seq 1 300); do
        (exec 3<>"/dev/tcp/127.0.0.1/$prometheus_port") 2>/dev/null && return 0
        kill -0 "$prometheus_pid" 2>/dev/null || break
        sleep 0.1 # polling a child process's start-up
    done
    cat "$work/prometheus.out" >&2
    log "prometheus did not start on 127.0.0.1:$prometheus_port"
    return 1
}
await_prometheus
"$python" "$checks" promql "http://127.0.0.1:$prometheus_port" 300
"$python" "$checks" exemplars "http://127.0.0.1:$prometheus_port" "$work/trace-ids" 60

log "finance SQL as a role in runway_finance (SET ROLE), on the live Runway's migrated schema"
as_postgres psql -X -q -v ON_ERROR_STOP=1 -h "$data/run" -U postgres -d runway \
    -c "CREATE ROLE dashboard_check LOGIN IN ROLE runway_finance" >/dev/null
"$python" "$checks" sql "$data/run" dashboard_check

log "the ledger bills the exporters' batches and its own flushes to overhead items of their own"
for item in telemetry flushes; do
    item_ns=$(as_postgres psql -X -q -At -h "$data/run" -U postgres -d runway -c \
        "SELECT coalesce(sum(cpu_ns), 0) FROM cost_ledger WHERE kind = 'overhead' AND item = '$item'")
    if [ "${item_ns:-0}" -le 0 ]; then
        log "no CPU on the ledger's $item item, with logs and spans exported under load"
        exit 1
    fi
    log "$item item: $((item_ns / 1000000)) ms of CPU"
done

kill "$load_pid"
wait "$load_pid"
load_pid=""
kill "$sink_pid"
wait "$sink_pid"
sink_pid=""
log "load: $(cat "$work/load.count") requests; sink: $(cat "$work/sink.stats")"
log "dashboard checks passed in $((SECONDS - started)) s"

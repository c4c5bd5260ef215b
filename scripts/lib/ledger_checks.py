"""The cost ledger through a crash and a database outage, on the real binary and its embedded
PostgreSQL (issue 5):

1. `runway serve` under load is killed with SIGKILL once it has written some buckets;
2. a second `runway serve` on the same data folder takes load while its PostgreSQL is stopped
   for several flush intervals and started again, then stops gracefully (SIGTERM);
3. the ledger must show each boot's intervals once, back to back, no interval of one boot
   overlapping another's; the crashed boot's unflushed tail as a gap before the second boot; the
   second boot's rows covering its whole life, the outage included (they waited in the buffer);
   every request the second boot served counted exactly once; nothing dropped (its /metrics).

Usage: python scripts/lib/ledger_checks.py PATH_TO_RUNWAY  (as root or the cluster's user; run
from the repository root; scripts/test runs it).
"""

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request

FLUSH_SECONDS = 1
runway = os.path.realpath(sys.argv[1])
work = tempfile.mkdtemp(prefix="runway-ledger.")
os.chmod(work, 0o755)
data = os.path.join(work, "data")
cluster = os.path.join(data, "postgres")
servers = []


def log(message):
    print(f"==> {message}", file=sys.stderr, flush=True)


def postgres_bin():
    versions = sorted(os.listdir("/usr/lib/postgresql"), key=lambda v: [int(p) for p in v.split(".")])
    return f"/usr/lib/postgresql/{versions[-1]}/bin"


def as_postgres(*command):
    prefix = ["runuser", "-u", "postgres", "--"] if os.getuid() == 0 else []
    return subprocess.run(prefix + list(command), capture_output=True, text=True)


def sql(query):
    result = as_postgres(f"{postgres_bin()}/psql", "-h", os.path.join(data, "run"), "-U", "postgres", "-d", "runway", "-XAtc", query)
    assert result.returncode == 0, result.stderr
    return [line.split("|") for line in result.stdout.splitlines() if line]


def start_server():
    out = open(os.path.join(work, f"serve-{len(servers)}.out"), "w+")
    environment = dict(os.environ, RUNWAY_COST_FLUSH_SECONDS=str(FLUSH_SECONDS), RUNWAY_DB_TIMEOUT_MS="1000")
    process = subprocess.Popen(
        [runway, "serve", "--data-dir", data, "--port", "0", "--admin-port", "0", "--log-level", "warning"],
        stdout=out, stderr=subprocess.STDOUT, env=environment,
    )
    servers.append(process)
    port = admin = None
    for _ in range(600):  # polling a child's start-up
        out.seek(0)
        text = out.read()
        port = port or next(iter(re.findall(r"tenant API on http://127\.0\.0\.1:(\d+)$", text, re.M)), None)
        admin = admin or next(iter(re.findall(r"Admin API on http://127\.0\.0\.1:(\d+)/admin/v1", text)), None)
        if port and admin:
            return process, int(port), int(admin)
        assert process.poll() is None, f"runway serve exited:\n{text}"
        time.sleep(0.1)
    raise AssertionError(f"runway serve did not start:\n{text}")


def request(method, url, key=None, body=None):
    headers = {"Content-Type": "application/json"}
    if key:
        headers["Authorization"] = f"Bearer {key}"
    data_bytes = json.dumps(body).encode() if body is not None else None
    try:
        with urllib.request.urlopen(urllib.request.Request(url, data=data_bytes, headers=headers, method=method), timeout=15) as r:
            return r.status, r.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


def load(port, key, count, start):
    """PUTs `count` documents; returns how many succeeded and how many got a 503 (database down)."""
    ok = failed = 0
    for index in range(start, start + count):
        status, _ = request("PUT", f"http://127.0.0.1:{port}/v1/collections/ledger/documents/doc-{index % 50}", key, {"n": index})
        if 200 <= status < 300:
            ok += 1
        elif status == 503:
            failed += 1
        else:
            raise AssertionError(f"PUT answered {status}")
    return ok, failed


def boots():
    """Boot ids in the order they started."""
    return [row[0] for row in sql("SELECT boot FROM cost_ledger GROUP BY boot ORDER BY min(start_ns)")]


def intervals(boot):
    """(start_ns, end_ns) of the boot's intervals: every interval has one idle row."""
    return [(int(a), int(b)) for a, b in sql(f"SELECT start_ns, end_ns FROM cost_ledger WHERE boot = '{boot}' AND kind = 'idle' ORDER BY start_ns")]


def tenant_requests(boot):
    rows = sql(f"SELECT coalesce(sum(requests), 0) FROM cost_ledger WHERE boot = '{boot}' AND kind = 'tenant'")
    return int(rows[0][0])


def finish():
    for process in servers:
        if process.poll() is None:
            process.kill()
            process.wait()
    as_postgres(f"{postgres_bin()}/pg_ctl", "-D", cluster, "-m", "immediate", "stop")
    shutil.rmtree(work, ignore_errors=True)


def main():
    log("ledger: runway serve under load, then SIGKILL")
    first, port, _ = start_server()
    created = subprocess.run([runway, "tenant", "create", "--name", "ledger", "--plan", "enterprise", "--json", "--data-dir", data],
                             capture_output=True, text=True, check=True)
    key = json.loads(created.stdout)["api_key"]
    status, _ = request("POST", f"http://127.0.0.1:{port}/v1/collections", key, {"name": "ledger"})
    assert status == 201, status
    served_first = 0
    for _ in range(600):  # load until some tenant buckets of this boot are in the ledger
        served_first += load(port, key, 20, served_first)[0]
        if sql("SELECT 1 FROM cost_ledger WHERE kind = 'tenant' LIMIT 1"):
            break
    else:
        raise AssertionError("no tenant bucket written while under load")
    served_first += load(port, key, 20, served_first)[0]
    first.send_signal(signal.SIGKILL)
    first.wait()
    log(f"killed after {served_first} requests")

    log("ledger: a second boot; its PostgreSQL stopped for a while under load, then started again")
    second, port, admin = start_server()
    served_second, _ = load(port, key, 40, 0)
    stopped = as_postgres(f"{postgres_bin()}/pg_ctl", "-D", cluster, "-m", "fast", "-w", "stop")
    assert stopped.returncode == 0, stopped.stderr
    outage_start = time.monotonic()
    failed_during_outage = 0
    while time.monotonic() - outage_start < 5 * FLUSH_SECONDS:  # several flush intervals while down
        ok, failed = load(port, key, 5, 1000)
        served_second += ok
        failed_during_outage += failed
    status, _ = request("GET", f"http://127.0.0.1:{port}/healthz")
    assert status == 200, f"/healthz answered {status} while the database was down"
    started = as_postgres(f"{postgres_bin()}/pg_ctl", "-D", cluster, "-l", os.path.join(cluster, "restart.log"), "-w", "-t", "60", "start")
    assert started.returncode == 0, started.stderr
    for _ in range(300):  # the pool reconnects
        status, _ = request("GET", f"http://127.0.0.1:{port}/readyz")
        if status == 200:
            break
        time.sleep(0.1)
    else:
        raise AssertionError("/readyz did not recover after the database came back")
    ok, _ = load(port, key, 40, 2000)
    served_second += ok
    with urllib.request.urlopen(f"http://127.0.0.1:{admin}/metrics", timeout=5) as r:
        metrics = r.read().decode()
    dropped = [line for line in metrics.splitlines() if line.startswith('runway_telemetry_dropped_total{') and 'pipeline="ledger"' in line and not line.endswith(" 0")]
    assert not dropped, f"ledger rows dropped: {dropped}"
    second.send_signal(signal.SIGTERM)
    assert second.wait(timeout=60) == 0, "the second boot did not stop cleanly"
    log(f"second boot served {served_second} requests; {failed_during_outage} answered 503 while the database was down")

    as_postgres(f"{postgres_bin()}/pg_ctl", "-D", cluster, "-l", os.path.join(cluster, "restart.log"), "-w", "start")
    order = boots()
    assert len(order) == 2, f"expected two boots in the ledger, found {order}"
    killed, graceful = intervals(order[0]), intervals(order[1])
    for name, spans in (("crashed", killed), ("second", graceful)):
        assert spans, f"the {name} boot wrote nothing"
        gaps = [(a, b) for (_, a), (b, _) in zip(spans, spans[1:]) if a != b]
        assert not gaps, f"the {name} boot's intervals are not back to back: {gaps[:3]}"
    assert killed[-1][1] <= graceful[0][0], "the boots' intervals overlap"
    duplicates = sql("SELECT count(*) - count(DISTINCT (instance, boot, start_ns, kind, tenant_id, item)) FROM cost_ledger")
    assert duplicates == [["0"]], duplicates
    assert tenant_requests(order[0]) <= served_first, (tenant_requests(order[0]), served_first)
    counted = tenant_requests(order[1])
    assert counted == served_second + failed_during_outage or counted == served_second, (counted, served_second, failed_during_outage)
    outage_rows = sql(f"SELECT count(*) FROM cost_ledger WHERE boot = '{order[1]}' AND kind = 'idle'")
    lost_ms = (graceful[0][0] - killed[-1][1]) / 1e6
    log(f"ledger: crashed boot {len(killed)} intervals ({tenant_requests(order[0])} of {served_first} requests flushed, "
        f"a {lost_ms:.0f} ms gap before the second boot, which includes its start-up); second boot "
        f"{outage_rows[0][0]} intervals back to back through the outage, {counted} requests counted")


try:
    main()
    log("ledger checks passed")
finally:
    finish()

"""deploy/test's checks that the pod's telemetry flows: logs to Loki, spans to Tempo, /metrics to
Prometheus, along the topology of deploy/pod.yaml and deploy/observability (docs/sre.md, "Where
the telemetry goes").

    flow_checks.py topology POD_YAML PROMETHEUS_YML OUT_YML ADMIN_TARGET
        Checks that the pod file and prometheus.yml describe the same path (LOKI_URL and TEMPO_URL
        on slirp4netns's 10.0.2.2, the admin listener on 0.0.0.0 in the pod and published on the
        host's 127.0.0.1 only, prometheus.yml scraping that published port) and prints
        "LOKI_PORT OTLP_PORT". Writes OUT_YML: prometheus.yml scraping every second, its target
        ADMIN_TARGET (the port the test publishes the admin listener on).
    flow_checks.py logs LINES_JSONL ROUTE TRACE_ID MIN SECONDS
        Waits at most SECONDS until LINES_JSONL (the Loki stand-in's decoded lines) holds at least
        MIN access lines of ROUTE from the pod's Runway (labels service_name="runway", env="prod"),
        one of them carrying TRACE_ID; prints what it found.
    flow_checks.py spans TRACE_IDS SINK_URL TRACE_ID SECONDS
        Waits at most SECONDS until the OTLP stand-in received the trace TRACE_ID; prints its counts.
    flow_checks.py prometheus URL ROUTE MIN LINES SPANS SECONDS
        Waits at most SECONDS until Prometheus's query API shows the scrapes of Runway succeeding
        (up{job="runway"} == 1), at least MIN requests of ROUTE, and, as Runway counts them, at
        least LINES log lines and SPANS spans sent (what the stand-ins had received before) with
        none dropped; prints each query and its value.
"""

import json
import re
import sys
import time
import urllib.parse
import urllib.request

import yaml


def fail(message):
    print(f"flow_checks: {message}", file=sys.stderr)
    sys.exit(1)


def topology(pod_yaml, prometheus_yml, out_yml, admin_target):
    pod = yaml.safe_load(open(pod_yaml))
    (runway,) = [c for c in pod["spec"]["containers"] if c["name"] == "runway"]
    env = {e["name"]: e.get("value") for e in runway["env"]}
    ports = {p["name"]: p for p in runway["ports"]}
    urls = {}
    for name in ("LOKI_URL", "TEMPO_URL"):
        match = re.fullmatch(r"http://10\.0\.2\.2:(\d+)", env.get(name) or "")
        if not match:
            fail(f"{pod_yaml}: {name} is {env.get(name)!r}, not http://10.0.2.2:PORT (the host's loopback through slirp4netns)")
        urls[name] = int(match.group(1))
    if env.get("RUNWAY_ADMIN_HOST") != "0.0.0.0":
        fail(f"{pod_yaml}: RUNWAY_ADMIN_HOST is {env.get('RUNWAY_ADMIN_HOST')!r}: a published port reaches the pod's own address, not its loopback")
    admin = ports.get("admin") or fail(f"{pod_yaml}: the runway container publishes no port named admin")
    if str(admin["containerPort"]) != env.get("RUNWAY_ADMIN_PORT") or admin.get("hostIP") != "127.0.0.1":
        fail(f"{pod_yaml}: the admin port {admin} is not RUNWAY_ADMIN_PORT published on hostIP 127.0.0.1")
    http = ports["http"]
    if set(ports) != {"http", "admin"} or str(http["containerPort"]) != env.get("RUNWAY_PORT"):
        fail(f"{pod_yaml}: the runway container publishes {sorted(ports)}, expected http (RUNWAY_PORT) and admin")
    others = [c["name"] for c in pod["spec"]["containers"] if c["name"] != "runway" and c.get("ports")]
    if others:
        fail(f"{pod_yaml}: containers other than runway publish ports: {others}")

    config = yaml.safe_load(open(prometheus_yml))
    (job,) = [j for j in config["scrape_configs"] if j["job_name"] == "runway"]
    documented = f"127.0.0.1:{admin['hostPort']}"
    if job["static_configs"] != [{"targets": [documented]}] or job.get("metrics_path") != "/metrics":
        fail(f"{prometheus_yml}: job runway scrapes {job['static_configs']}, not the pod's published admin port {documented}/metrics")
    config["global"]["scrape_interval"] = config["global"]["evaluation_interval"] = "1s"
    job["static_configs"] = [{"targets": [admin_target]}]
    with open(out_yml, "w") as out:
        yaml.safe_dump(config, out)
    print(urls["LOKI_URL"], urls["TEMPO_URL"])


def access_lines(path, route):
    """The decoded access lines of ROUTE from the pod's Runway: (count, trace ids, statuses)."""
    count, trace_ids, statuses = 0, set(), {}
    try:
        lines = open(path).read().splitlines()
    except FileNotFoundError:
        lines = []
    for text in lines:
        entry = json.loads(text)
        labels, metadata = entry["labels"], entry["metadata"]
        if entry["line"] != "request" or metadata.get("route") != route:
            continue
        if 'service_name="runway"' not in labels or 'env="prod"' not in labels:
            continue
        count += 1
        trace_ids.add(metadata.get("trace_id"))
        statuses[metadata.get("status")] = statuses.get(metadata.get("status"), 0) + 1
    return count, trace_ids, statuses, len(lines)


def logs(path, route, trace_id, minimum, seconds):
    deadline = time.monotonic() + seconds
    while True:
        count, trace_ids, statuses, total = access_lines(path, route)
        if count >= minimum and trace_id in trace_ids:
            print(f"{total} log lines decoded from Loki pushes; {count} access lines of {route} "
                  f"(status {', '.join(f'{k}: {v}' for k, v in sorted(statuses.items()))}), labelled "
                  f"service_name=runway env=prod, one with trace_id {trace_id}")
            return
        if time.monotonic() > deadline:
            fail(f"after {seconds} s the Loki stand-in has {total} lines, {count} access lines of {route} "
                 f"(expected at least {minimum}), trace {trace_id} {'among' if trace_id in trace_ids else 'not among'} them")
        time.sleep(0.5)


def spans(trace_ids_path, sink_url, trace_id, seconds):
    deadline = time.monotonic() + seconds
    while True:
        try:
            received = set(open(trace_ids_path).read().split())
        except FileNotFoundError:
            received = set()
        if trace_id in received:
            stats = urllib.request.urlopen(f"{sink_url}/stats", timeout=5).read().decode().strip()
            print(f"trace {trace_id} received among {len(received)} traces; OTLP stand-in: {stats}")
            return
        if time.monotonic() > deadline:
            fail(f"after {seconds} s the OTLP stand-in has {len(received)} traces, not {trace_id}")
        time.sleep(0.5)


def prometheus(url, route, minimum, lines, spans, seconds):
    # A scrape can predate the last push the stand-ins received: the sent counts catch up.
    queries = {
        'up{job="runway"}': lambda v: v == 1,
        f'sum(runway_http_requests_total{{job="runway",route="{route}"}})': lambda v: v >= minimum,
        'runway_telemetry_sent_total{job="runway",pipeline="logs"}': lambda v: v >= max(lines, 1),
        'runway_telemetry_sent_total{job="runway",pipeline="spans"}': lambda v: v >= max(spans, 1),
        'sum(runway_telemetry_dropped_total{job="runway",pipeline=~"logs|spans"}) or vector(0)': lambda v: v == 0,
    }
    deadline = time.monotonic() + seconds
    while True:
        values = {}
        for query in queries:
            try:
                answer = json.load(urllib.request.urlopen(
                    f"{url}/api/v1/query?" + urllib.parse.urlencode({"query": query}), timeout=5))
                result = answer["data"]["result"]
                values[query] = float(result[0]["value"][1]) if len(result) == 1 else None
            except OSError as error:
                values[query] = f"error: {error}"
        if all(isinstance(v, float) and check(v) for (q, check), v in zip(queries.items(), values.values())):
            for query, value in values.items():
                print(f"  {query} = {value:g}")
            return
        if time.monotonic() > deadline:
            fail(f"after {seconds} s Prometheus at {url} answers: " + "; ".join(f"{q} = {v}" for q, v in values.items()))
        time.sleep(1)


def main():
    command, args = sys.argv[1], sys.argv[2:]
    if command == "topology":
        topology(*args)
    elif command == "logs":
        logs(args[0], args[1], args[2], int(args[3]), float(args[4]))
    elif command == "spans":
        spans(args[0], args[1], args[2], float(args[3]))
    elif command == "prometheus":
        prometheus(args[0], args[1], int(args[2]), int(args[3]), int(args[4]), float(args[5]))
    else:
        fail(f"unknown command {command}")


if __name__ == "__main__":
    main()

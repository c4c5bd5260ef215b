"""Checks of the Grafana dashboards (dashboards/*.json) and their provisioning (deploy/observability/).

Usage (scripts/lib/dashboard-checks.sh runs these in order):
  dashboard_checks.py static
      every dashboard parses, has unique panel ids (rows' panels included) and titles, uses only
      provisioned data sources (uid and type) and defined variables; the provisioning files and the
      pod's mounts hold together; Tempo data links are valid TraceQL on attributes the server span
      has; every LogQL expression parses (a structural parser: Loki itself is not installable here).
  dashboard_checks.py load PORT API_KEY COUNT_FILE
      requests against a live Runway until SIGTERM (some 404 and 401 among them); writes the count.
  dashboard_checks.py free-port
      prints a free TCP port on 127.0.0.1 (for programs that cannot listen on port 0 and say so).
  dashboard_checks.py promql PROMETHEUS_URL MIN_REQUESTS
      waits until Prometheus has scraped enough, then every PromQL expression of service.json, with
      its variables substituted, must evaluate to a non-empty result with a number in it.
  dashboard_checks.py exemplars PROMETHEUS_URL TRACE_IDS_FILE TIMEOUT_SECONDS
      Prometheus holds trace_id exemplars of the latency histogram, each the trace id of spans the
      collector stand-in received (its --trace-ids file).
  dashboard_checks.py sql SOCKET_DIR ROLE
      every SQL query of tenant-cost.json (panels and variables), with Grafana's macros and the
      variables substituted, runs as ROLE (a runway_finance member) and returns the declared columns.
"""

import csv
import io
import json
import math
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from datetime import datetime, timezone
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]
DASHBOARDS = ROOT / "dashboards"
OBSERVABILITY = ROOT / "deploy" / "observability"
PROVISIONING = OBSERVABILITY / "grafana" / "provisioning"
SERVER_SPAN_SOURCE = ROOT / "Sources" / "App" / "HTTP" / "RequestTelemetryMiddleware.swift"

# Grafana's built-in variables the dashboards may use.
BUILTIN_VARIABLES = {"__rate_interval", "__interval", "__range", "__auto", "__from", "__to", "__all", "__field", "__value",
                     "__data", "__timeFilter", "__timeFrom", "__timeTo", "__timeGroup", "__timeGroupAlias", "__trace", "__tags"}
# A Grafana variable reference: $name, ${name}, ${name:format} or ${name.path}. `${1}` (a regex group
# in label_replace) is not one.
VARIABLE = re.compile(r"\$(?:\{([A-Za-z_]\w*)[^}]*\}|([A-Za-z_]\w*))")

# Columns each SQL target of tenant-cost.json must return, by panel title (or variable name).
EXPECTED_COLUMNS = {
    "Month to date": ["month_to_date_usd"],
    "Projected month end": ["projected_month_end_usd"],
    "Projected margin": ["projected_margin_usd"],
    "Idle share": ["idle_share"],
    "Month to date by tenant": ["tenant", "kind", "plan", "requests", "cost_usd", "projected_month_end_usd", "plan_price_usd",
                                "projected_margin_usd", "cost_per_1k_requests_usd"],
    "Cost per day: tenants, overhead, idle": ["time", "metric", "cost_usd"],
    "Cost per 1,000 requests": ["time", "metric", "cost_per_1k_requests_usd"],
    "Instance cost per hour: tenants, unauthenticated, overhead, idle": ["time", "tenants_usd", "unauthenticated_usd", "overhead_usd", "idle_usd"],
    "Unmetered time per hour": ["time", "metric", "gap_seconds"],
    "Top tenants": ["tenant", "cost_usd"],
    "Margin against plan price (this month, projected)": ["tenant", "plan_price_usd", "projected_cost_usd", "projected_margin_usd"],
    "Per month: cost, plan price, margin": ["month", "tenant", "kind", "plan", "requests", "cost_usd", "cost_per_1k_requests_usd",
                                            "plan_price_usd", "margin_usd"],
    "Daily cost ledger (export: panel menu → Inspect → Data → Download CSV)": [
        "day", "kind", "tenant_id", "tenant_name", "plan", "requests", "app_cpu_ns", "db_cpu_ns", "cpu_ns", "cost_micros",
        "cost_per_1k_requests_micros"],
    "Price versions": ["price_version", "instance_type", "vcpus", "first_used", "last_used", "instances", "cost_usd"],
    "Overhead by item": ["time", "metric", "cost_usd"],
    "$tenant": ["__text", "__value"],
    "$instance_type": ["instance_type"],
    "$instance": ["instance"],
}

failures = []


def fail(message):
    failures.append(message)
    print(f"  FAIL {message}", file=sys.stderr)


def finish(summary):
    if failures:
        print(f"==> dashboard checks: {len(failures)} failure(s)", file=sys.stderr)
        sys.exit(1)
    print(f"==> {summary}", file=sys.stderr)


def substitute(text, values, render=str):
    """Replaces every Grafana variable in `text` by render(values[name]); unknown ones are an error."""

    def value(match):
        name = match.group(1) or match.group(2)
        if name not in values:
            raise ValueError(f"no value for ${name} (a variable or macro this check does not know)")
        return render(values[name])

    return VARIABLE.sub(value, text)


def load_dashboards():
    return {path.name: json.loads(path.read_text()) for path in sorted(DASHBOARDS.glob("*.json"))}


def all_panels(dashboard):
    """Every panel, rows' nested panels included."""
    for panel in dashboard.get("panels", []):
        yield panel
        yield from panel.get("panels", [])


def targets(dashboard):
    for panel in all_panels(dashboard):
        for target in panel.get("targets", []):
            yield panel, target


def variables(dashboard):
    return {v["name"]: v for v in dashboard.get("templating", {}).get("list", [])}


def datasource_refs(node, where):
    """Every {"type", "uid"} under a "datasource" key, with where it was found."""
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "datasource" and isinstance(value, dict):
                yield where, value
            else:
                yield from datasource_refs(value, where)
    elif isinstance(node, list):
        for item in node:
            yield from datasource_refs(item, where)


def provisioned_datasources():
    sources = {}
    for path in sorted((PROVISIONING / "datasources").glob("*.yaml")):
        for source in yaml.safe_load(path.read_text()).get("datasources", []):
            if source["uid"] in sources:
                fail(f"{path.name}: data source uid {source['uid']} provisioned twice")
            sources[source["uid"]] = source
    return sources


def check_provisioning(sources):
    uids = set(sources)
    loki = sources.get("loki", {}).get("jsonData", {})
    tempo = sources.get("tempo", {}).get("jsonData", {})
    prometheus = sources.get("prometheus", {}).get("jsonData", {})
    links = [("Loki derived field", f.get("datasourceUid")) for f in loki.get("derivedFields", [])]
    links += [("Prometheus exemplar", d.get("datasourceUid")) for d in prometheus.get("exemplarTraceIdDestinations", [])]
    if not any(d.get("name") == "trace_id" for d in prometheus.get("exemplarTraceIdDestinations", [])):
        fail("provisioning: Prometheus has no exemplar destination for the trace_id exemplar label")
    links += [("Tempo traces-to-logs", tempo.get("tracesToLogsV2", {}).get("datasourceUid")),
              ("Tempo Loki search", tempo.get("lokiSearch", {}).get("datasourceUid"))]
    for what, uid in links:
        if uid not in uids:
            fail(f"provisioning: {what} points at data source {uid!r}, which is not provisioned")
    if not any(f.get("matcherType") == "label" and f.get("matcherRegex") == "trace_id" for f in loki.get("derivedFields", [])):
        fail("provisioning: Loki has no derived field on the trace_id structured metadata")
    query = tempo.get("tracesToLogsV2", {}).get("query", "")
    if "trace_id=" not in query or "$${__trace.traceId}" not in query:
        fail("provisioning: Tempo's traces-to-logs query must filter the trace_id metadata by $${__trace.traceId}")
    if tempo.get("serviceMap"):
        fail("provisioning: Tempo's service graph must stay off (no serviceMap)")
    for uid, source in sources.items():
        for key, value in [("url", source.get("url", ""))] + list(source.get("jsonData", {}).items()):
            # Provisioning files expand ${VAR} from the environment: Grafana's own variables need $$.
            if isinstance(value, str) and re.search(r"(?<!\$)\$\{__", value):
                fail(f"provisioning: {uid}.{key} has an unescaped Grafana variable (write $${{…}})")

    pod = yaml.safe_load((OBSERVABILITY / "observability-pod.yaml").read_text())
    (prometheus_container,) = [c for c in pod["spec"]["containers"] if c["name"] == "prometheus"]
    if "--enable-feature=exemplar-storage" not in prometheus_container.get("args", []):
        fail("observability-pod.yaml: Prometheus runs without --enable-feature=exemplar-storage (no exemplars)")
    volumes = {v["name"]: v for v in pod["spec"]["volumes"]}
    for volume in volumes.values():
        host_path = volume.get("hostPath", {}).get("path")
        if host_path:
            local = ROOT / os.path.relpath(host_path, "/srv/runway")
            if not local.exists():
                fail(f"observability-pod.yaml: volume {volume['name']} mounts {host_path}, but {local} does not exist")
    mounts = {m["mountPath"]: m["name"] for c in pod["spec"]["containers"] for m in c.get("volumeMounts", [])}
    for path in sorted((PROVISIONING / "dashboards").glob("*.yaml")):
        for provider in yaml.safe_load(path.read_text()).get("providers", []):
            folder = provider["options"]["path"]
            if volumes.get(mounts.get(folder), {}).get("hostPath", {}).get("path") != "/srv/runway/dashboards":
                fail(f"{path.name}: provider {provider['name']} reads {folder}, which the pod does not mount from dashboards/")


def check_dashboard(name, dashboard, sources):
    if not isinstance(dashboard.get("schemaVersion"), int) or dashboard["schemaVersion"] < 36:
        fail(f"{name}: schemaVersion {dashboard.get('schemaVersion')} (Grafana 10/11 dashboards are 36 or newer)")
    ids, titles = [], []
    for panel in all_panels(dashboard):
        ids.append(panel.get("id"))
        titles.append(panel.get("title"))
        if "gridPos" not in panel:
            fail(f"{name}: panel {panel.get('title')!r} has no gridPos")
    duplicated = sorted({i for i in ids if ids.count(i) > 1 or i is None}, key=str)
    if duplicated:
        fail(f"{name}: panel ids not unique: {duplicated}")
    if len(titles) != len(set(titles)):
        fail(f"{name}: panel titles not unique")
    for where, ref in datasource_refs(dashboard, name):
        source = sources.get(ref.get("uid"))
        if source is None:
            fail(f"{where}: data source uid {ref.get('uid')!r} is not provisioned")
        elif source["type"] != ref.get("type"):
            fail(f"{where}: data source {ref['uid']} has type {ref.get('type')!r}, provisioned as {source['type']!r}")
    for panel in all_panels(dashboard):
        if panel.get("type") not in ("timeseries", "heatmap"):
            continue
        for target in panel.get("targets", []):
            if "runway_http_request_duration_seconds_bucket" in target.get("expr", "") and not target.get("exemplar"):
                fail(f"{name}: {panel['title']!r} plots the latency histogram without its exemplars (\"exemplar\": true)")
    defined = set(variables(dashboard)) | BUILTIN_VARIABLES
    texts = [t.get(k, "") for _, t in targets(dashboard) for k in ("expr", "rawSql", "query")]
    texts += [v.get("definition", "") for v in variables(dashboard).values()]
    texts += [p.get("title", "") for p in all_panels(dashboard)]
    for text in texts:
        for match in VARIABLE.finditer(text if isinstance(text, str) else ""):
            used = match.group(1) or match.group(2)
            if used not in defined:
                fail(f"{name}: ${used} is not a variable of the dashboard (in {text[:80]!r})")


def server_span_attributes():
    return set(re.findall(r'attributes\["([\w.]+)"\]', SERVER_SPAN_SOURCE.read_text()))


def check_tempo_links(name, dashboard):
    """Every data link into Explore is a Tempo TraceQL query on attributes the server span has."""
    attributes = server_span_attributes()
    count = 0
    for panel in all_panels(dashboard):
        config = panel.get("fieldConfig", {})
        links = list(config.get("defaults", {}).get("links", []))
        for override in config.get("overrides", []):
            for prop in override.get("properties", []):
                if prop.get("id") == "links":
                    links += prop["value"]
        for link in links:
            url = link["url"]
            if not url.startswith("/explore?"):
                continue
            count += 1
            query = urllib.parse.parse_qs(url.split("?", 1)[1])
            panes = json.loads(query["panes"][0])
            for pane in panes.values():
                if pane["datasource"] != "tempo":
                    fail(f"{name}: link {link['title']!r} opens {pane['datasource']}, not Tempo")
                for q in pane["queries"]:
                    traceql = q["query"]
                    if q.get("queryType") != "traceql" or traceql.count("{") != traceql.count("}"):
                        fail(f"{name}: link {link['title']!r}: not a TraceQL query: {traceql}")
                    for attribute in re.findall(r"\bspan\.([\w.]+)", traceql):
                        if attribute not in attributes:
                            fail(f"{name}: link {link['title']!r} uses span.{attribute}, which the server span does not set")
                    if 'resource.service.name = "runway"' not in traceql or "kind = server" not in traceql:
                        fail(f"{name}: link {link['title']!r} must select Runway's server spans: {traceql}")
    return count


# --- LogQL: a structural parser for the subset the dashboards use ------------------------------

STREAM_LABELS = {"service_name", "env", "level", "instance"}  # docs/operators.md, Logs
LOGQL_TOKEN = re.compile(r"""\s*(?:(?P<string>"(?:[^"\\]|\\.)*"|`[^`]*`)|(?P<duration>\[[^\]]+\])|(?P<number>\d+(?:\.\d+)?)
                             |(?P<op>\|=|\|~|!=|!~|=~|==|>=|<=|=|>|<|\||\{|\}|\(|\)|,)|(?P<name>[A-Za-z_]\w*))""", re.X)
RANGE_FUNCTIONS = {"count_over_time", "rate", "bytes_over_time", "bytes_rate"}
AGGREGATIONS = {"sum", "count", "min", "max", "avg", "topk"}
PARSERS = {"json", "logfmt"}


def logql_tokens(text):
    tokens, position = [], 0
    while position < len(text.rstrip()):
        match = LOGQL_TOKEN.match(text, position)
        if not match or match.end() == position:
            raise ValueError(f"cannot read {text[position:position + 20]!r}")
        kind = match.lastgroup
        tokens.append((kind, match.group(kind)))
        position = match.end()
    return tokens


class LogQL:
    """Parses `{selector} pipeline…` and `agg by (…) (range_fn(log query [range]))`."""

    def __init__(self, text):
        self.tokens = logql_tokens(text)
        self.at = 0
        self.metadata = set()

    def peek(self, offset=0):
        index = self.at + offset
        return self.tokens[index] if index < len(self.tokens) else (None, None)

    def take(self, kind=None, value=None):
        token = self.peek()
        if token[0] is None or (kind and token[0] != kind) or (value and token[1] != value):
            raise ValueError(f"expected {value or kind}, found {token[1]!r} (token {self.at})")
        self.at += 1
        return token[1]

    def parse(self):
        if self.peek()[0] == "name":
            self.metric()
        else:
            self.log_query()
        if self.peek()[0] is not None:
            raise ValueError(f"unexpected {self.peek()[1]!r} after the query")

    def metric(self):
        name = self.take("name")
        if name in AGGREGATIONS:
            if self.peek()[1] in ("by", "without"):
                self.take()
                self.take("op", "(")
                while self.peek()[1] != ")":
                    self.take("name")
                    if self.peek()[1] == ",":
                        self.take()
                self.take("op", ")")
            self.take("op", "(")
            self.metric()
            self.take("op", ")")
        elif name in RANGE_FUNCTIONS:
            self.take("op", "(")
            self.log_query()
            self.take("duration")
            self.take("op", ")")
        else:
            raise ValueError(f"unknown function {name}")

    def log_query(self):
        self.take("op", "{")
        while True:
            label = self.take("name")
            if label not in STREAM_LABELS:
                raise ValueError(f"{label} is not a stream label (stream labels: {sorted(STREAM_LABELS)}); filter structured metadata in the pipeline")
            if self.take("op") not in ("=", "!=", "=~", "!~"):
                raise ValueError(f"bad matcher on {label}")
            self.take("string")
            if self.peek()[1] != ",":
                break
            self.take()
        self.take("op", "}")
        while self.peek()[1] in ("|", "|=", "|~", "!=", "!~"):
            operator = self.take()
            if operator != "|":
                self.take("string")
                continue
            name = self.take("name")
            if name in PARSERS:
                continue
            comparison = self.take("op")
            if comparison not in ("=", "!=", "=~", "!~", "==", ">", ">=", "<", "<="):
                raise ValueError(f"bad label filter on {name}")
            kind = self.take()
            if comparison in ("=~", "!~") and not self.tokens[self.at - 1][1].startswith(('"', "`")):
                raise ValueError(f"regex filter on {name} needs a string")
            if comparison in (">", ">=", "<", "<=") and self.tokens[self.at - 1][0] != "number":
                raise ValueError(f"numeric filter on {name} needs a number, not {kind}")
            self.metadata.add(name)


def substitute_logql(text, dashboard):
    """Grafana's values for a fresh dashboard: textboxes' defaults, "All" for the others."""
    values = {"__auto": "1m", "__interval": "1m", "__range": "1h"}
    for name, variable in variables(dashboard).items():
        values[name] = variable["query"] if variable["type"] == "textbox" else variable.get("allValue", ".*")
    return substitute(text, values)


def check_logql(name, dashboard):
    count = 0
    for panel, target in targets(dashboard):
        if target.get("datasource", {}).get("type") != "loki":
            continue
        count += 1
        expr = target["expr"]
        try:
            expr = substitute_logql(expr, dashboard)
            query = LogQL(expr)
            query.parse()
        except ValueError as error:
            fail(f"{name}: panel {panel['title']!r}: LogQL does not parse ({error}): {expr}")
            continue
        if not {"tenant", "trace_id"} <= query.metadata:
            fail(f"{name}: panel {panel['title']!r} does not filter by tenant and trace_id: {expr}")
    return count


def static():
    sources = provisioned_datasources()
    check_provisioning(sources)
    dashboards = load_dashboards()
    expected = {"tenant-cost.json", "service.json", "logs-traces.json"}
    if set(dashboards) != expected:
        fail(f"dashboards/ holds {sorted(dashboards)}, expected {sorted(expected)}")
    uids = [d.get("uid") for d in dashboards.values()]
    if len(uids) != len(set(uids)):
        fail("dashboard uids are not unique")
    panels = links = logql = 0
    for name, dashboard in dashboards.items():
        check_dashboard(name, dashboard, sources)
        panels += sum(1 for _ in all_panels(dashboard))
        links += check_tempo_links(name, dashboard)
        logql += check_logql(name, dashboard)
    if not links:
        fail("no data link opens Tempo from a slow route")
    finish(f"{len(dashboards)} dashboards, {panels} panels, {len(sources)} data sources, {links} Tempo links, {logql} LogQL queries: consistent")


# --- load ------------------------------------------------------------------------------------

def load(port, key, count_file):
    base = f"http://127.0.0.1:{port}"
    stop = []
    signal.signal(signal.SIGTERM, lambda *_: stop.append(True))

    def call(method, path, body=None, auth=True):
        request = urllib.request.Request(base + path, method=method, data=json.dumps(body).encode() if body is not None else None)
        if auth:
            request.add_header("Authorization", f"Bearer {key}")
        if body is not None:
            request.add_header("Content-Type", "application/json")
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                response.read()
        except urllib.error.HTTPError as error:
            error.read()
        except OSError:
            pass  # the server went away (the checks are over, or it crashed: the checks say so)

    count = 0
    call("POST", "/v1/collections", {"name": "orders"})
    while not stop:
        n = count // 8
        call("PUT", f"/v1/collections/orders/documents/o{n % 50}", {"n": n, "item": "widget", "tags": ["a", "b"]})
        call("GET", f"/v1/collections/orders/documents/o{n % 50}")
        call("GET", "/v1/collections/orders/documents?limit=10")
        call("GET", "/v1/collections/orders/search?q=widget")
        call("GET", "/v1/collections/orders/documents/missing")  # 404
        call("GET", "/v1/collections", auth=False)  # 401
        call("GET", "/v1/usage")
        call("POST", "/v1/collections", {"name": ""})  # 4xx: invalid name
        count += 8
        time.sleep(0.02)  # pacing, so the load leaves room on 2 shared cores
    Path(count_file).write_text(f"{count}\n")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        print(s.getsockname()[1])


# --- PromQL against a real Prometheus --------------------------------------------------------

# Series that exist only once something happened which this check does not provoke; their
# expressions must still return data (they fall back to 0).
EVENT_ONLY_METRICS = {"runway_http_request_errors_total"}  # from the first 5xx answer
PROMQL_VALUES = {"__rate_interval": "10s", "__interval": "2s", "__range": "1m"}


def substitute_promql(text, dashboard):
    values = dict(PROMQL_VALUES)
    for name, variable in variables(dashboard).items():
        values[name] = variable.get("allValue", ".*") if variable["type"] == "query" else variable["query"]
    return substitute(text, values)


def prometheus(url, path, **params):
    with urllib.request.urlopen(f"{url}{path}?{urllib.parse.urlencode(params)}", timeout=10) as response:
        return json.load(response)


def evaluate(url, expr):
    """None when the expression returned a number, else what went wrong."""
    try:
        answer = prometheus(url, "/api/v1/query", query=expr)
    except urllib.error.HTTPError as error:
        return f"HTTP {error.code}: {error.read().decode(errors='replace')[:300]}"
    except OSError as error:
        return f"Prometheus did not answer: {error}"
    if answer.get("status") != "success":
        return f"status {answer.get('status')}: {answer.get('error')}"
    result = answer["data"]["result"]
    if not result:
        return "empty result"
    values = [float(r["value"][1]) for r in result] if answer["data"]["resultType"] == "vector" else [float(result[1])]
    if all(math.isnan(v) for v in values):
        return f"only NaN in {len(values)} series"
    return None


def promql(url, min_requests):
    started = time.monotonic()
    dashboard = json.loads((DASHBOARDS / "service.json").read_text())
    exprs = []
    for panel, target in targets(dashboard):
        try:
            exprs.append((panel["title"], target["refId"], substitute_promql(target["expr"], dashboard)))
        except ValueError as error:
            fail(f"service.json: {panel['title']!r} {target['refId']}: {error}")
    # Polling Prometheus until it has scraped the load (a child's start-up), not a fixed wait.
    ready = f'sum(runway_http_requests_total) >= {min_requests} and on() min(count_over_time(up{{job="runway"}}[1m])) >= 5'
    deadline = time.monotonic() + 90
    while evaluate(url, ready) is not None:
        if time.monotonic() > deadline:
            fail(f"Prometheus did not scrape {min_requests} requests and 5 samples within 90 s")
            finish("")
        time.sleep(0.25)
    # Drops and retries need the sink's injected faults to have happened: retry failing
    # expressions for a bounded time before reporting them.
    deadline = time.monotonic() + 30
    while True:
        problems = [(title, ref, expr, evaluate(url, expr)) for title, ref, expr in exprs]
        problems = [p for p in problems if p[3]]
        if not problems or time.monotonic() > deadline:
            break
        time.sleep(0.5)
    for title, ref, expr, problem in problems:
        fail(f"service.json: {title!r} {ref}: {problem}: {expr}")
    names = set(prometheus(url, "/api/v1/label/__name__/values")["data"])
    used = {m for _, _, expr in exprs for m in re.findall(r"\b((?:runway|process)_\w+)", expr)}
    documented = set(re.findall(r"`((?:runway|process)_\w+)", (ROOT / "docs" / "operators.md").read_text()))
    for metric in sorted(used):
        if re.sub(r"_(bucket|count|sum)$", "", metric) not in documented:
            fail(f"service.json: metric {metric} is not in docs/operators.md's Metrics table")
        if metric not in names and metric not in EVENT_ONLY_METRICS:
            fail(f"service.json: metric {metric} is not exported by Runway (Prometheus has no such series)")
    for variable in variables(dashboard).values():
        if variable["type"] == "query":
            match = re.fullmatch(r"label_values\((\w+), (\w+)\)", variable["definition"])
            values = prometheus(url, f"/api/v1/label/{match.group(2)}/values", **{"match[]": match.group(1)})["data"]
            if not values:
                fail(f"service.json: variable ${variable['name']} has no values")
    finish(f"PromQL: {len(exprs)} expressions of service.json evaluated by Prometheus, each with data "
           f"({len(used)} metric names, all documented) in {time.monotonic() - started:.1f} s")


# --- SQL against the migrated schema ---------------------------------------------------------

def exemplars(url, trace_ids_file, timeout):
    """Prometheus, with exemplar storage and scraping OpenMetrics, holds trace_id exemplars of the
    latency histogram, and each names a trace whose spans the collector stand-in received."""
    started = time.monotonic()
    while True:
        now = time.time()
        answer = prometheus(url, "/api/v1/query_exemplars", query="runway_http_request_duration_seconds_bucket",
                            start=now - 600, end=now)
        ids = {e["labels"].get("trace_id") for series in answer.get("data", []) for e in series.get("exemplars", [])}
        ids.discard(None)
        received = set(open(trace_ids_file).read().split()) if os.path.exists(trace_ids_file) else set()
        missing = ids - received
        if ids and not missing:
            finish(f"exemplars: {len(ids)} trace ids on the latency histogram, every one among the {len(received)} "
                   f"traces the collector stand-in received, in {time.monotonic() - started:.1f} s")
            return
        if time.monotonic() - started > timeout:
            fail(f"exemplars: {len(ids)} trace ids from Prometheus, {len(missing)} not received by the collector "
                 f"(for example {sorted(missing)[:3]})" if ids else "exemplars: Prometheus holds none for the latency histogram")
            finish("")
            return
        time.sleep(1)  # polling Prometheus's scrapes and the exporter's batches


def psql(socket_dir, role, sql):
    """Runs `sql` as `role` over the embedded cluster's socket: (columns, rows) or raises.

    The embedded cluster lets only its own OS user in (peer authentication, as `postgres` or
    `runway`), so the check logs in as `postgres` and takes `role` with SET ROLE: privileges and
    row-level security are then `role`'s, as for a login of its own."""
    command = ["psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", "--csv", "-h", socket_dir, "-U", "postgres", "-d", "runway",
               "-c", f'SET ROLE "{role}"', "-c", sql]
    if os.getuid() == 0:  # the socket's folder belongs to the cluster's user
        command = ["runuser", "-u", "postgres", "--"] + command
    done = subprocess.run(command, capture_output=True, text=True, timeout=30)
    if done.returncode != 0:
        raise RuntimeError(done.stderr.strip())
    rows = list(csv.reader(io.StringIO(done.stdout)))
    return rows[0], rows[1:]


def grafana_sql(sql, values, time_from, time_to):
    """Grafana's PostgreSQL macros and variable interpolation (multi-value: quoted, comma-separated)."""
    sql = re.sub(r"\$__timeFilter\(([^)]+)\)", lambda m: f"{m.group(1)} BETWEEN '{time_from}' AND '{time_to}'", sql)
    sql = sql.replace("$__timeFrom()", f"'{time_from}'").replace("$__timeTo()", f"'{time_to}'")
    return substitute(sql, values, lambda selected: ",".join("'" + v.replace("'", "''") + "'" for v in selected))


def sql(socket_dir, role):
    started = time.monotonic()
    dashboard = json.loads((DASHBOARDS / "tenant-cost.json").read_text())
    now = datetime.now(timezone.utc)
    time_from = now.replace(day=1, hour=0, minute=0, second=0, microsecond=0).strftime("%Y-%m-%dT%H:%M:%SZ")  # now/M
    time_to = now.strftime("%Y-%m-%dT%H:%M:%SZ")
    queries = [(f"${name}", v["query"]) for name, v in variables(dashboard).items() if v["type"] == "query"]
    queries += [(panel["title"], target["rawSql"]) for panel, target in targets(dashboard) if "rawSql" in target]
    declared = set(EXPECTED_COLUMNS)
    values = {}
    checked = 0
    # Variables first (their values feed the panels), then the panels with every value selected,
    # then with none selected (an empty multi-value variable must not break the SQL).
    for selection in ("all", "none"):
        for title, raw in queries:
            if selection == "none" and title.startswith("$"):
                continue
            declared.discard(title)
            substituted = raw
            try:
                substituted = grafana_sql(raw, values if selection == "all" else {k: [] for k in values}, time_from, time_to)
                columns, rows = psql(socket_dir, role, substituted)
            except (RuntimeError, ValueError) as error:
                fail(f"tenant-cost.json: {title!r} ({selection} selected) as {role}: {error}\n{substituted}")
                continue
            checked += 1
            if columns != EXPECTED_COLUMNS.get(title):
                fail(f"tenant-cost.json: {title!r} returns {columns}, expected {EXPECTED_COLUMNS.get(title)}")
            if selection == "all" and not rows:
                fail(f"tenant-cost.json: {title!r} returned no rows from a ledger with a tenant's traffic in it")
            if title.startswith("$"):
                values[title[1:]] = [row[columns.index("__value")] if "__value" in columns else row[0] for row in rows]
    for title in sorted(declared):
        fail(f"dashboard_checks.py declares columns for {title!r}, which tenant-cost.json does not have")
    finish(f"SQL: {checked} runs of {len(queries)} queries of tenant-cost.json as {role} (runway_finance) "
           f"on the migrated schema, with the declared columns, in {time.monotonic() - started:.1f} s")


if __name__ == "__main__":
    command, arguments = sys.argv[1], sys.argv[2:]
    if command == "static":
        static()
    elif command == "load":
        load(*arguments)
    elif command == "free-port":
        free_port()
    elif command == "promql":
        promql(arguments[0], int(arguments[1]))
    elif command == "sql":
        sql(*arguments)
    elif command == "exemplars":
        exemplars(arguments[0], arguments[1], float(arguments[2]))
    else:
        sys.exit(__doc__)

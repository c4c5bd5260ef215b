"""Hostile load against a release `runway serve` on its embedded PostgreSQL (scripts/bench-hostile).

Four scenarios, each on a service of its own (a fresh data folder, its own embedded cluster):

  slowloris  wrk GET baseline, then the same wrk run beside 2,000 connections sending a request
             head a byte a second (the `attacker` subcommand: one process, selectors)
  pages      ~300 near-limit documents, 16 clients paging through them with limit=1000, twice
  database   a mixed GET/PUT load while the cluster is frozen (SIGSTOP) for 10 s, then restarted
  stdout     stdout into a pipe nobody reads, then closed, against stdout to a file

Prints one Markdown table (scenario, figure, goal, met?) and the details of each scenario on
standard output; progress goes to standard error. Standard library only. Every wait is bounded;
every process started here is stopped on exit, and its pid is written to WORK/pids so the shell
entry point can stop what is left if this process itself is killed.

Usage (normally through scripts/bench-hostile):
  python3 scripts/lib/hostile.py run --work DIR --bin RUNWAY [slowloris|pages|database|stdout ...]
  python3 scripts/lib/hostile.py attacker --port P --path PATH --key KEY --connections N ...
"""

import argparse
import base64
import bisect
import errno
import heapq
import http.client
import itertools
import json
import os
import random
import re
import resource
import secrets
import selectors
import signal
import socket
import subprocess
import sys
import threading
import time
import traceback
import urllib.parse

from proctree import children, stat_fields

SCENARIOS = ("slowloris", "pages", "database", "stdout")
MIB = 1024 * 1024


def log(message):
    print(f"==> {message}", file=sys.stderr, flush=True)


def env_int(name, default):
    value = os.environ.get(name, "")
    return int(value) if value.strip() else default


def mib(kib):
    return "n/a" if kib is None else f"{kib / 1024:.1f} MiB"


def yes(flag):
    return "yes" if flag else "**no**"


# ---------------------------------------------------------------------------------------------
# Processes: /proc, PostgreSQL, the services


def proc_status(pid, field):
    """A field of /proc/PID/status in KiB (VmRSS, VmHWM), or None when the process is gone."""
    try:
        with open(f"/proc/{pid}/status") as status:
            for line in status:
                if line.startswith(field + ":"):
                    return int(line.split()[1])
    except (OSError, ValueError):
        return None
    return None


def alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # A zombie is not alive.
    fields = stat_fields(pid)
    return fields is not None and fields[0] != "Z"


def mem_available_kib():
    with open("/proc/meminfo") as meminfo:
        for line in meminfo:
            if line.startswith("MemAvailable:"):
                return int(line.split()[1])
    return None


def postgres_bin():
    if os.environ.get("RUNWAY_POSTGRES_BIN"):
        return os.environ["RUNWAY_POSTGRES_BIN"]
    versions = sorted(os.listdir("/usr/lib/postgresql"), key=lambda v: [int(p) for p in v.split(".") if p.isdigit()])
    return f"/usr/lib/postgresql/{versions[-1]}/bin"


def as_postgres(command):
    """COMMAND run as the cluster's OS user: `postgres` when we are root (as runway does)."""
    return (["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []) + command


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def http_request(port, method, path, body=None, headers=None, timeout=30.0):
    """One request on a connection of its own: (status, headers with lower-case names, body)."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        connection.request(method, path, body=body, headers=headers or {})
        response = connection.getresponse()
        data = response.read()
        return response.status, {k.lower(): v for k, v in response.getheaders()}, data
    finally:
        connection.close()


class Context:
    def __init__(self, work, runway):
        self.work = work
        self.runway = runway
        self.services = []
        self.helpers = []  # Popen of helper processes (the attacker)
        self.header_timeout_ms = env_int("HOSTILE_HEADER_TIMEOUT_MS", 5000)
        self.db_timeout_ms = env_int("HOSTILE_DB_TIMEOUT_MS", 2000)
        self.seconds = env_int("HOSTILE_SECONDS", 15)

    def record_pid(self, pid, what):
        with open(os.path.join(self.work, "pids"), "a") as pids:
            pids.write(f"{pid} {what}\n")

    def cleanup(self):
        for helper in self.helpers:
            if helper.poll() is None:
                helper.kill()
                try:
                    helper.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    pass
        for service in self.services:
            try:
                service.stop()
            except Exception as error:  # keep stopping the others
                log(f"stopping {service.name}: {error}")


class Service:
    """A `runway serve` on 127.0.0.1 with its own data folder (embedded PostgreSQL)."""

    def __init__(self, ctx, name, data_name=None, log_level="warning", stdout="file", extra_env=None):
        self.ctx = ctx
        self.name = name
        self.dir = os.path.join(ctx.work, data_name or name)
        os.makedirs(self.dir, exist_ok=True)
        os.chmod(self.dir, 0o755)
        self.data = os.path.join(self.dir, "data")
        self.cluster = os.path.join(self.data, "postgres")
        self.log_level = log_level
        self.stdout_mode = stdout
        self.extra_env = extra_env or {}
        self.proc = None
        self.port = self.admin_port = None
        self.admin_token = "hostile-admin-" + secrets.token_hex(12)
        self.key = None
        self.frozen = []
        self.files = []

    @property
    def pid(self):
        return self.proc.pid

    def start(self, timeout=180.0):
        self.port, self.admin_port = free_port(), free_port()
        while self.admin_port == self.port:
            self.admin_port = free_port()
        environment = dict(os.environ)
        environment.update(
            RUNWAY_HOST="127.0.0.1",
            RUNWAY_ADMIN_HOST="127.0.0.1",
            RUNWAY_PORT=str(self.port),
            RUNWAY_ADMIN_PORT=str(self.admin_port),
            RUNWAY_DATA_DIR=self.data,
            RUNWAY_ADMIN_TOKEN=self.admin_token,
            RUNWAY_LOG_LEVEL=self.log_level,
            RUNWAY_SHUTDOWN_TIMEOUT="5",
        )
        for name in ("LOKI_URL", "TEMPO_URL", "DATABASE_URL", "RUNWAY_MIGRATION_DATABASE_URL"):
            environment.pop(name, None)
        environment.update(self.extra_env)
        stderr = open(os.path.join(self.dir, f"{self.name}.err"), "ab")
        self.files.append(stderr)
        if self.stdout_mode == "pipe":
            stdout = subprocess.PIPE
        elif self.stdout_mode == "devnull":
            stdout = subprocess.DEVNULL
        else:
            stdout = open(os.path.join(self.dir, f"{self.name}.out"), "ab")
            self.files.append(stdout)
        self.proc = subprocess.Popen([self.ctx.runway, "serve"], stdin=subprocess.DEVNULL, stdout=stdout, stderr=stderr, env=environment)
        self.ctx.services.append(self)
        self.ctx.record_pid(self.proc.pid, f"runway {self.name}")
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:  # polling /readyz until the service and its database answer
            if self.proc.poll() is not None:
                raise RuntimeError(f"runway {self.name} exited with {self.proc.returncode}; see {self.dir}/{self.name}.err")
            try:
                status, _, _ = http_request(self.port, "GET", "/readyz", timeout=2)
                if status == 200:
                    break
            except OSError:
                pass
            time.sleep(0.2)
        else:
            raise RuntimeError(f"runway {self.name} was not ready within {timeout:.0f} s")
        log(f"runway {self.name} (pid {self.pid}) ready on 127.0.0.1:{self.port}, admin {self.admin_port}")
        return self

    def admin(self, method, path, body=None):
        status, _, data = http_request(
            self.admin_port,
            method,
            path,
            body=json.dumps(body).encode() if body is not None else None,
            headers={"Authorization": f"Bearer {self.admin_token}", "Content-Type": "application/json"},
        )
        return status, data

    def create_tenant(self):
        """A plan far above what this machine can do (no 429), a tenant on it, its key."""
        status, data = self.admin("PUT", "/admin/v1/plans/hostile", {"monthly_price_micros": 0, "requests_per_second": 100000000, "burst": 100000000})
        if status // 100 != 2:
            raise RuntimeError(f"PUT plan: {status} {data[:200]!r}")
        status, data = self.admin("POST", "/admin/v1/tenants", {"name": "hostile", "plan": "hostile"})
        if status // 100 != 2:
            raise RuntimeError(f"POST tenant: {status} {data[:200]!r}")
        self.key = json.loads(data)["api_key"]
        return self.key

    def auth(self, extra=None):
        headers = {"Authorization": f"Bearer {self.key}"}
        headers.update(extra or {})
        return headers

    def api(self, method, path, body=None, timeout=60.0):
        headers = self.auth({"Content-Type": "application/json"} if body is not None else None)
        return http_request(self.port, method, path, body=body, headers=headers, timeout=timeout)

    def create_collection(self, name):
        status, _, data = self.api("POST", "/v1/collections", json.dumps({"name": name}).encode())
        if status // 100 != 2:
            raise RuntimeError(f"POST collection {name}: {status} {data[:200]!r}")

    def put_document(self, collection, doc_id, body):
        status, _, data = self.api("PUT", f"/v1/collections/{collection}/documents/{doc_id}", body)
        if status // 100 != 2:
            raise RuntimeError(f"PUT {collection}/{doc_id}: {status} {data[:200]!r}")

    def metrics(self):
        status, _, data = http_request(self.admin_port, "GET", "/metrics", headers={"Authorization": f"Bearer {self.admin_token}"}, timeout=10)
        if status != 200:
            raise RuntimeError(f"/metrics answered {status}")
        return data.decode()

    def rss(self):
        return proc_status(self.pid, "VmRSS")

    def hwm(self):
        return proc_status(self.pid, "VmHWM")

    def reset_hwm(self):
        """Resets VmHWM to the current RSS (writing 5 to /proc/PID/clear_refs)."""
        try:
            with open(f"/proc/{self.pid}/clear_refs", "w") as clear:
                clear.write("5")
            return True
        except OSError:
            return False

    def postmaster(self):
        try:
            with open(os.path.join(self.cluster, "postmaster.pid")) as pidfile:
                return int(pidfile.readline().strip())
        except (OSError, ValueError):
            return None

    def freeze(self):
        """SIGSTOP to the postmaster, then to each of its children (listed first, so none is missed)."""
        postmaster = self.postmaster()
        if postmaster is None:
            raise RuntimeError("no postmaster.pid")
        backends = children(postmaster)
        os.kill(postmaster, signal.SIGSTOP)
        self.frozen = [postmaster]
        for pid in backends + [p for p in children(postmaster) if p not in backends]:
            try:
                os.kill(pid, signal.SIGSTOP)
                self.frozen.append(pid)
            except ProcessLookupError:
                pass
        return len(self.frozen) - 1

    def thaw(self):
        for pid in reversed(self.frozen):
            try:
                os.kill(pid, signal.SIGCONT)
            except ProcessLookupError:
                pass
        self.frozen = []

    def stop(self):
        self.thaw()
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=40)
            except subprocess.TimeoutExpired:
                log(f"runway {self.name} did not stop within 40 s of SIGTERM: SIGKILL")
                self.proc.kill()
                self.proc.wait(timeout=10)
        self.stop_cluster()
        if self.proc is not None and self.proc.stdout is not None:
            try:
                self.proc.stdout.close()
            except OSError:
                pass
        for handle in self.files:
            handle.close()
        self.files = []

    def stop_cluster(self):
        """Stops the embedded cluster if runway left it running (killed, or it failed to stop it)."""
        postmaster = self.postmaster()
        if postmaster is None or not alive(postmaster):
            return
        # runway stops its cluster itself on SIGTERM; give it a moment before stepping in.
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline and alive(postmaster):
            time.sleep(0.1)
        if not alive(postmaster):
            return
        log(f"stopping the cluster of {self.name} left running (postmaster {postmaster})")
        for pid in [postmaster] + children(postmaster):
            try:
                os.kill(pid, signal.SIGCONT)
            except ProcessLookupError:
                pass
        try:
            subprocess.run(
                as_postgres([f"{postgres_bin()}/pg_ctl", "stop", "-D", self.cluster, "-m", "immediate", "-w", "-t", "30"]),
                stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=40,
            )
        except subprocess.TimeoutExpired:
            pass
        if alive(postmaster):
            for pid in [postmaster] + children(postmaster):
                try:
                    os.kill(pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass


class Sampler(threading.Thread):
    """Samples a process's VmRSS every INTERVAL seconds; over CAP_KIB (or with less than 1 GiB of
    memory left on the machine) it kills the process so a hostile run cannot take the machine down."""

    def __init__(self, service, interval=1.0, cap_kib=None):
        super().__init__(daemon=True)
        self.service = service
        self.interval = interval
        self.cap_kib = cap_kib
        self.samples = []  # (monotonic time, VmRSS KiB)
        self.killed = None
        self.halt = threading.Event()

    def run(self):
        while not self.halt.is_set():
            rss = self.service.rss()
            if rss is not None:
                self.samples.append((time.monotonic(), rss))
                if self.cap_kib is not None and self.killed is None:
                    available = mem_available_kib()
                    if rss > self.cap_kib or (available is not None and available < 1024 * 1024):
                        self.killed = f"runway killed by this script at VmRSS {mib(rss)} (cap {mib(self.cap_kib)}, MemAvailable {mib(available)})"
                        log(self.killed)
                        self.service.proc.kill()
            self.halt.wait(self.interval)

    def stop(self):
        self.halt.set()
        self.join(timeout=5)

    def max_between(self, start, end):
        values = [rss for t, rss in self.samples if start <= t <= end]
        return max(values) if values else None


def tally(items):
    counts = {}
    for item in items:
        counts[item] = counts.get(item, 0) + 1
    return counts


def run_wrk(port, key, path, seconds, connections=64, threads=2):
    """One wrk run; a dict of its figures (requests/s, requests, P50/P99 ms, socket errors, non-2xx)."""
    command = ["wrk", f"-t{threads}", f"-c{connections}", f"-d{seconds}s", "--latency"]
    if key:
        command += ["-H", f"Authorization: Bearer {key}"]
    command.append(f"http://127.0.0.1:{port}{path}")
    try:
        out = subprocess.run(command, stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=seconds + 60).stdout
    except subprocess.TimeoutExpired:
        return {"rps": 0.0, "requests": 0, "p50": None, "p99": None, "socket_errors": {}, "errors": 0, "non2xx": 0, "raw": "wrk timed out"}

    def ms(value):
        number = float(re.match(r"[\d.]+", value).group(0))
        if value.endswith("us"):
            return number / 1000
        if value.endswith("ms"):
            return number
        if value.endswith("m"):
            return number * 60000
        if value.endswith("s"):
            return number * 1000
        return number

    result = {"rps": 0.0, "requests": 0, "p50": None, "p99": None, "socket_errors": {}, "non2xx": 0, "raw": out}
    for line in out.splitlines():
        fields = line.split()
        if line.startswith("Requests/sec:"):
            result["rps"] = float(fields[1])
        elif "requests in" in line:
            result["requests"] = int(fields[0])
        elif fields[:1] == ["50%"]:
            result["p50"] = ms(fields[1])
        elif fields[:1] == ["99%"]:
            result["p99"] = ms(fields[1])
        elif line.strip().startswith("Socket errors:"):
            result["socket_errors"] = {k: int(v) for k, v in re.findall(r"(\w+) (\d+)", line.split(":", 1)[1])}
        elif line.startswith("Non-2xx"):
            result["non2xx"] = int(fields[-1])
    result["errors"] = sum(result["socket_errors"].values())
    return result


def wrk_line(result):
    p50 = "n/a" if result["p50"] is None else f"{result['p50']:.2f} ms"
    p99 = "n/a" if result["p99"] is None else f"{result['p99']:.2f} ms"
    errors = ", ".join(f"{k} {v}" for k, v in result["socket_errors"].items()) or "none"
    return f"{result['rps']:.0f} requests/s ({result['requests']} requests), P50 {p50}, P99 {p99}, non-2xx {result['non2xx']}, socket errors: {errors}"


class Report:
    def __init__(self):
        self.rows = []  # (scenario, figure, goal, met: True/False/None)
        self.details = []  # (scenario, [lines])

    def row(self, scenario, figure, goal, met):
        self.rows.append((scenario, figure, goal, met))

    def detail(self, scenario, lines):
        self.details.append((scenario, lines))

    def print(self, ctx):
        print("| scenario | figure | goal | met? |")
        print("|---|---|---|---|")
        for scenario, figure, goal, met in self.rows:
            print(f"| {scenario} | {figure} | {goal} | {'—' if met is None else yes(met)} |")
        print()
        for scenario, lines in self.details:
            print(f"**{scenario}**")
            print()
            for line in lines:
                print(f"- {line}")
            print()
        load = open("/proc/loadavg").read().split()[:3]
        print(
            f"(release runway {ctx.runway}, on its embedded PostgreSQL, a fresh data folder per scenario; "
            f"RUNWAY_HEADER_TIMEOUT_MS={ctx.header_timeout_ms} for slow headers, RUNWAY_DB_TIMEOUT_MS={ctx.db_timeout_ms} for the database scenario, "
            f"the others at their defaults; "
            f"HOSTILE_SECONDS={ctx.seconds}; {os.cpu_count()} cores shared by the load generators, runway and PostgreSQL; "
            f"load average {' '.join(load)} at the end)"
        )


# ---------------------------------------------------------------------------------------------
# 1. Slow headers


SMALL_DOC = json.dumps({"title": "A typical document", "status": "open", "owner": "team-7", "tags": ["alpha", "beta"], "count": 42,
                        "body": "Runway stores JSON documents and searches them with PostgreSQL."}).encode()


def scenario_slowloris(ctx, report):
    name = "1. slow headers"
    seconds = ctx.seconds
    slow = env_int("HOSTILE_SLOW_CONNECTIONS", 2000)
    ramp = 2.0
    service = Service(ctx, "slowloris", extra_env={"RUNWAY_HEADER_TIMEOUT_MS": str(ctx.header_timeout_ms)}).start()
    service.create_tenant()
    service.create_collection("hostile")
    service.put_document("hostile", "doc-1", SMALL_DOC)
    path = "/v1/collections/hostile/documents/doc-1"
    limits = open(f"/proc/{service.pid}/limits").read()
    nofile = re.search(r"Max open files\s+(\S+)\s+(\S+)", limits)

    log(f"slowloris: baseline wrk GET, {seconds} s")
    baseline = run_wrk(service.port, service.key, path, seconds)
    log(f"baseline: {wrk_line(baseline)}")

    sampler = Sampler(service, interval=1.0)
    sampler.start()
    rss_start = service.rss()
    attack_start = time.monotonic()
    ready_file = os.path.join(ctx.work, "attacker.ready")
    out_file = os.path.join(ctx.work, "attacker.json")
    attacker = subprocess.Popen(
        [sys.executable, os.path.abspath(__file__), "attacker", "--port", str(service.port), "--path", path, "--key", service.key,
         "--connections", str(slow), "--ramp", str(ramp), "--seconds", str(seconds + ramp + 120), "--ready", ready_file, "--out", out_file],
        stdin=subprocess.DEVNULL,
    )
    ctx.helpers.append(attacker)
    ctx.record_pid(attacker.pid, "attacker")
    deadline = time.monotonic() + ramp + 30
    while not os.path.exists(ready_file) and time.monotonic() < deadline and attacker.poll() is None:
        time.sleep(0.1)  # waiting for the attacker's connections
    ready = open(ready_file).read().strip() if os.path.exists(ready_file) else "attacker not ready"
    log(f"slowloris: attacker: {ready}; wrk GET, {seconds} s")
    attacked = run_wrk(service.port, service.key, path, seconds)
    attack_end = time.monotonic()
    rss_end = service.rss()
    log(f"with slow connections: {wrk_line(attacked)}")
    if attacker.poll() is None:
        attacker.send_signal(signal.SIGTERM)
    try:
        attacker.wait(timeout=30)
    except subprocess.TimeoutExpired:
        attacker.kill()
        attacker.wait(timeout=10)
    sampler.stop()
    stats = json.load(open(out_file)) if os.path.exists(out_file) else {}
    rss_max = sampler.max_between(attack_start, attack_end)
    alive_after = service.proc.poll() is None
    service.stop()

    ratio = attacked["rps"] / baseline["rps"] if baseline["rps"] else 0.0
    closed = stats.get("closed_by_server", 0)
    longest = stats.get("longest_open_s")
    bound = ctx.header_timeout_ms / 1000 + 2
    report.row(name, f"legitimate GET requests/s with {slow:,} slow connections / without: **{ratio:.2f}** "
               f"({attacked['rps']:.0f} / {baseline['rps']:.0f})", "≥ 0.80", ratio >= 0.80)
    report.row(name, f"slow connections closed by the server: **{closed:,}** (of {stats.get('connections_opened', 0):,} opened); "
               f"longest open: **{longest if longest is None else f'{longest:.1f} s'}**",
               f"closed, none open longer than RUNWAY_HEADER_TIMEOUT_MS ({ctx.header_timeout_ms} ms) + 2 s",
               closed > 0 and longest is not None and longest <= bound)
    report.row(name, f"wrk errors with slow connections: socket errors {attacked['errors']}, non-2xx {attacked['non2xx']}", "0", attacked["errors"] == 0 and attacked["non2xx"] == 0)
    flat = None not in (rss_start, rss_max, rss_end) and rss_max <= rss_start + 32 * 1024 and rss_end <= rss_start + 32 * 1024
    report.row(name, f"runway VmRSS start / max / end of attack: {mib(rss_start)} / **{mib(rss_max)}** / {mib(rss_end)}",
               "flat: max and end ≤ start + 32 MiB", flat)
    first_close = "never" if stats.get("first_close_s") is None else f"{stats['first_close_s']:.1f} s"
    details = [
        f"baseline (wrk -t2 -c64 -d{seconds}s GET of a {len(SMALL_DOC)}-byte document): {wrk_line(baseline)}",
        f"with {slow:,} slow connections: {wrk_line(attacked)}",
        f"attacker: each connection sends a {stats.get('head_bytes', '?')}-byte GET request head one byte a second and reconnects when closed; "
        f"{stats.get('connections_opened', 0):,} connections opened ({stats.get('connect_failures', 0)} connect failures), at most "
        f"{stats.get('max_open', 0):,} open at once, {stats.get('open_at_end', 0):,} still open at the end; "
        f"closed by the server: {stats.get('eof', 0):,} EOF, {stats.get('rst', 0):,} RST ({stats.get('send_errors', 0):,} of them seen on send); "
        f"first close {first_close} after the attack began; "
        f"lifetime of closed ones min / median / max: {stats['closed_lifetimes_s'] + ' s' if stats.get('closed_lifetimes_s') else 'none closed'}; "
        f"server answers to incomplete heads: {stats.get('answers', {}) or 'none'}; heads completed: {stats.get('heads_completed', 0)}",
        f"attacker at start: {ready}",
        f"runway VmRSS sampled every second over the attack: {' '.join(str(round(rss / 1024)) for t, rss in sampler.samples if attack_start <= t <= attack_end)} MiB",
        f"runway's open-file limit: {nofile.group(1) if nofile else '?'} (soft), {nofile.group(2) if nofile else '?'} (hard); "
        f"alive after the attack: {yes(alive_after)}",
    ]
    report.detail(name, details)


def attacker_main(args):
    """2,000 connections, each sending a request head one byte a second; reconnects when closed."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = args.connections + 256
    if soft < want:
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(want, hard) if hard != resource.RLIM_INFINITY else want, hard))
    head = (
        f"GET {args.path} HTTP/1.1\r\nHost: 127.0.0.1:{args.port}\r\nUser-Agent: hostile-slowloris/1\r\n"
        f"Accept: application/json\r\nAuthorization: Bearer {args.key}\r\n\r\n"
    ).encode()
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    parent = os.getppid()
    selector = selectors.DefaultSelector()
    start = time.monotonic()
    deadline = start + args.seconds
    stats = {"head_bytes": len(head), "connections_opened": 0, "connect_failures": 0, "eof": 0, "rst": 0, "send_errors": 0,
             "closed_by_server": 0, "heads_completed": 0, "answers": {}, "max_open": 0}
    lifetimes = []
    first_close = None
    heap = []  # (time, tie, action, slot, generation)
    tie = itertools.count()
    slots = [None] * args.connections
    generation = [0] * args.connections
    open_count = 0

    class Conn:
        __slots__ = ("sock", "slot", "generation", "established", "sent", "state")

    def schedule(when, action, slot):
        heapq.heappush(heap, (when, next(tie), action, slot, generation[slot]))

    def connect(slot, now):
        nonlocal open_count
        generation[slot] += 1
        conn = Conn()
        conn.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        conn.sock.setblocking(False)
        conn.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        conn.slot, conn.generation, conn.established, conn.sent, conn.state = slot, generation[slot], None, 0, "connecting"
        error = conn.sock.connect_ex(("127.0.0.1", args.port))
        if error not in (0, errno.EINPROGRESS, errno.EAGAIN):
            conn.sock.close()
            stats["connect_failures"] += 1
            schedule(now + 0.5, "connect", slot)
            return
        slots[slot] = conn
        selector.register(conn.sock, selectors.EVENT_WRITE, conn)
        schedule(now + 10, "connect-timeout", slot)

    def drop(conn, now, how):
        """The connection ended: by the server (eof, rst) or by us (connect failed, done)."""
        nonlocal open_count, first_close
        try:
            selector.unregister(conn.sock)
        except (KeyError, ValueError):
            pass
        conn.sock.close()
        if conn.established is not None:
            open_count -= 1
            if how in ("eof", "rst"):
                stats[how] += 1
                if conn.state == "open":
                    stats["closed_by_server"] += 1
                    lifetimes.append(now - conn.established)
                    if first_close is None:
                        first_close = now - start
        slots[conn.slot] = None
        generation[conn.slot] += 1
        schedule(now + (0.5 if how == "connect-failed" else 0.05), "connect", conn.slot)

    for slot in range(args.connections):
        schedule(start + slot * args.ramp / args.connections, "connect", slot)
    ready_written = False
    while not stop.is_set():
        now = time.monotonic()
        if now >= deadline or os.getppid() != parent:
            break
        if not ready_written and now >= start + args.ramp + 1:
            with open(args.ready + ".tmp", "w") as ready:
                ready.write(f"{open_count} slow connections open {now - start:.1f} s after the attack began, {stats['connect_failures']} connect failures\n")
            os.rename(args.ready + ".tmp", args.ready)
            ready_written = True
        timeout = 0.1 if not heap else min(0.1, max(0.0, heap[0][0] - now))
        events = selector.select(timeout) if selector.get_map() else (time.sleep(timeout) or [])
        now = time.monotonic()
        for key, mask in events:
            conn = key.data
            if conn.state == "connecting":
                error = conn.sock.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
                if error:
                    stats["connect_failures"] += 1
                    drop(conn, now, "connect-failed")
                    continue
                conn.state, conn.established = "open", now
                stats["connections_opened"] += 1
                open_count += 1
                stats["max_open"] = max(stats["max_open"], open_count)
                selector.modify(conn.sock, selectors.EVENT_READ, conn)
                # The first byte at once, then one a second.
                schedule(now, "send", conn.slot)
                continue
            try:
                data = conn.sock.recv(65536)
            except BlockingIOError:
                continue
            except OSError:
                drop(conn, now, "rst")
                continue
            if not data:
                drop(conn, now, "eof")
                continue
            match = re.match(rb"HTTP/1\.[01] (\d{3})", data)
            if match:
                code = match.group(1).decode() + (" (after a complete head)" if conn.state == "complete" else "")
                stats["answers"][code] = stats["answers"].get(code, 0) + 1
        while heap and heap[0][0] <= now:
            _, _, action, slot, gen = heapq.heappop(heap)
            conn = slots[slot]
            if action == "connect":
                if conn is None:
                    connect(slot, now)
                continue
            if conn is None or gen != generation[slot]:
                continue  # a stale event for a connection already replaced
            if action == "connect-timeout":
                if conn.state == "connecting":
                    stats["connect_failures"] += 1
                    drop(conn, now, "connect-failed")
                continue
            if action == "done":
                drop(conn, now, "done")
                continue
            if action == "send" and conn.state == "open":
                try:
                    conn.sock.send(head[conn.sent:conn.sent + 1])
                except BlockingIOError:
                    schedule(now + 1.0, "send", slot)
                    continue
                except OSError:
                    stats["send_errors"] += 1
                    drop(conn, now, "rst")
                    continue
                conn.sent += 1
                if conn.sent == len(head):
                    stats["heads_completed"] += 1
                    conn.state = "complete"
                    schedule(now + 2.0, "done", slot)  # read the answer, then start over
                else:
                    schedule(now + 1.0, "send", slot)
    now = time.monotonic()
    still_open = [now - conn.established for conn in slots if conn is not None and conn.established is not None]
    every = lifetimes + still_open
    stats["open_at_end"] = len(still_open)
    stats["longest_open_s"] = round(max(every), 2) if every else None
    stats["first_close_s"] = None if first_close is None else round(first_close, 2)
    if lifetimes:
        ordered = sorted(lifetimes)
        stats["closed_lifetimes_s"] = f"{ordered[0]:.1f} / {ordered[len(ordered) // 2]:.1f} / {ordered[-1]:.1f}"
    stats["duration_s"] = round(now - start, 2)
    for conn in slots:
        if conn is not None:
            conn.sock.close()
    with open(args.out + ".tmp", "w") as out:
        json.dump(stats, out)
    os.rename(args.out + ".tmp", args.out)


# ---------------------------------------------------------------------------------------------
# 2. Large pages


PAGE_MARKER = b"hostile-page-doc"
CURSOR = re.compile(rb'"next_cursor"\s*:\s*(null|"(?:[^"\\]|\\.)*")')


def text_blob(size):
    """2 * SIZE bytes of text: words drawn from a vocabulary of 500 (PostgreSQL indexes the documents
    for full-text search, and a tsvector holds at most 1 MiB: 500 distinct words keep it far below)."""
    rng = random.Random(20261202)
    vocabulary = ["".join(rng.choices("abcdefghijklmnopqrstuvwxyz", k=rng.randint(3, 10))) for _ in range(500)]
    words = []
    length = 0
    while length < 2 * size:
        chunk = rng.choices(vocabulary, k=10000)
        words.extend(chunk)
        length += sum(len(word) + 1 for word in chunk)
    return " ".join(words)


def big_document(number, size, blob):
    """A JSON object of exactly SIZE bytes: a marker, its number and a long string of words."""
    prefix = json.dumps({"marker": PAGE_MARKER.decode(), "n": number})[:-1] + ', "pad": "'
    suffix = '"}'
    room = size - len(prefix) - len(suffix)
    offset = (number * 7919) % len(blob)
    pad = (blob[offset:] + blob[:offset])[:room]
    return (prefix + pad + suffix).encode()


def fetch_page(connection, path, headers):
    """Streams one page: (status, bytes, documents (marker count), next cursor or None, short body on error)."""
    connection.request("GET", path, headers=headers)
    response = connection.getresponse()
    head = b""
    tail = b""
    carry = b""
    size = documents = 0
    while True:
        chunk = response.read(1 << 20)
        if not chunk:
            break
        size += len(chunk)
        if len(head) < 8192:
            head += chunk[: 8192 - len(head)]
        window = carry + chunk
        documents += window.count(PAGE_MARKER)
        carry = window[-(len(PAGE_MARKER) - 1):]
        tail = (tail + chunk)[-8192:]
    cursor = None
    match = CURSOR.search(tail) or CURSOR.search(head)
    if match and match.group(1) != b"null":
        cursor = json.loads(match.group(1))
    if response.status == 200 and not match:
        raise RuntimeError(f"a page without next_cursor (head {head[:120]!r})")
    return response.status, size, documents, cursor, head[:300]


def scenario_pages(ctx, report):
    name = "2. large pages"
    count = env_int("HOSTILE_PAGE_DOCS", 300)
    size = env_int("HOSTILE_PAGE_DOC_BYTES", 1000000)
    clients = env_int("HOSTILE_PAGE_CLIENTS", 16)
    passes = 2
    limit = 1000
    cap_kib = env_int("HOSTILE_RSS_CAP_MIB", 4096) * 1024
    service = Service(ctx, "pages").start()
    service.create_tenant()
    service.create_collection("big")
    blob = text_blob(size)
    sampler = Sampler(service, interval=0.25, cap_kib=cap_kib)
    sampler.start()

    log(f"pages: storing {count} documents of {size:,} bytes (4 writers)")
    put_statuses = {}
    numbers = iter(range(1, count + 1))
    lock = threading.Lock()
    upload_start = time.monotonic()

    def uploader():
        connection = None
        while sampler.killed is None:
            with lock:
                number = next(numbers, None)
            if number is None:
                break
            body = big_document(number, size, blob)
            try:
                connection = connection or http.client.HTTPConnection("127.0.0.1", service.port, timeout=120)
                connection.request("PUT", f"/v1/collections/big/documents/doc-p-{number:04d}", body=body,
                                   headers=service.auth({"Content-Type": "application/json"}))
                response = connection.getresponse()
                response.read()
                status = str(response.status)
            except (OSError, http.client.HTTPException) as error:
                status = type(error).__name__
                connection.close()
                connection = None
            with lock:
                put_statuses[status] = put_statuses.get(status, 0) + 1
        if connection:
            connection.close()

    writers = [threading.Thread(target=uploader, daemon=True) for _ in range(4)]
    for writer in writers:
        writer.start()
    for writer in writers:
        writer.join(timeout=900)
    upload_seconds = time.monotonic() - upload_start
    hwm_upload = service.hwm()
    log(f"pages: stored in {upload_seconds:.1f} s: {put_statuses}; VmHWM {mib(hwm_upload)}")
    # A valid document of the same size whose string is random base64 letters (many distinct
    # tokens for the full-text index): it must be stored or refused with a 4xx, never a 5xx.
    probe_body = ('{"pad": "' + base64.b64encode(os.urandom(size)).decode()[: size - 11] + '"}').encode()
    try:
        service.create_collection("probe")
        probe_status, _, probe_answer = service.api("PUT", "/v1/collections/probe/documents/random-letters", probe_body, timeout=120)
    except (OSError, http.client.HTTPException) as failure:
        probe_status, probe_answer = None, str(failure).encode()
    # One page alone first: what a single client gets, and what it costs.
    service.reset_hwm()
    solo_start = time.monotonic()
    connection = http.client.HTTPConnection("127.0.0.1", service.port, timeout=300)
    try:
        solo = fetch_page(connection, f"/v1/collections/big/documents?limit={limit}", service.auth())[:3]
    except (OSError, http.client.HTTPException, RuntimeError, ValueError) as failure:
        solo = (f"{type(failure).__name__}: {failure}", 0, 0)
    finally:
        connection.close()
    solo_seconds = time.monotonic() - solo_start
    solo_hwm = service.hwm()
    log(f"pages: one page alone: status {solo[0]}, {solo[1]:,} bytes, {solo[2]} documents in {solo_seconds:.1f} s; VmHWM {mib(solo_hwm)}")
    reset = service.reset_hwm()
    paging_start = time.monotonic()
    rss_at_paging = service.rss()

    results = []  # per pass: (client, pass, pages, documents, complete, error)
    pages = []  # (status, bytes, documents, seconds)
    errors = []
    deadline = time.monotonic() + env_int("HOSTILE_PAGE_DEADLINE_SECONDS", 600)

    def reader(client):
        connection = None
        for number in range(passes):
            cursor = None
            seen = fetched = 0
            complete = False
            problem = None
            while time.monotonic() < deadline and sampler.killed is None:
                path = f"/v1/collections/big/documents?limit={limit}" + (f"&cursor={urllib.parse.quote(cursor, safe='')}" if cursor else "")
                begun = time.monotonic()
                try:
                    connection = connection or http.client.HTTPConnection("127.0.0.1", service.port, timeout=300)
                    status, nbytes, documents, cursor, head = fetch_page(connection, path, service.auth())
                except (OSError, http.client.HTTPException, RuntimeError, ValueError) as error:
                    problem = f"{type(error).__name__}: {error}"
                    if connection:
                        connection.close()
                    connection = None
                    break
                pages.append((status, nbytes, documents, time.monotonic() - begun))
                fetched += 1
                if status != 200:
                    slug = re.search(rb'"type"\s*:\s*"urn:runway:problem:([a-z-]+)"', head)
                    problem = f"status {status} " + (slug.group(1).decode() if slug else repr(head[:80]))
                    break
                seen += documents
                if cursor is None:
                    complete = True
                    break
            if problem is None and not complete:
                problem = "stopped (deadline or runway killed)"
            results.append((client, number, fetched, seen, complete, problem))
            if problem:
                errors.append(problem)
        if connection:
            connection.close()

    log(f"pages: {clients} clients paging with limit={limit}, {passes} passes each")
    threads = [threading.Thread(target=reader, args=(client,), daemon=True) for client in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=max(1.0, deadline - time.monotonic() + 330))
    paging_seconds = time.monotonic() - paging_start
    sampler.stop()
    hwm = service.hwm()
    alive_after = service.proc.poll() is None
    rss_max = sampler.max_between(paging_start, time.monotonic()) or service.rss()
    killed = sampler.killed
    service.stop()

    fivexx = sum(1 for status, *_ in pages if status >= 500) + sum(v for k, v in put_statuses.items() if k.isdigit() and int(k) >= 500)
    other = sorted({status for status, *_ in pages if status != 200})
    largest = max(pages, key=lambda page: page[1]) if pages else (0, 0, 0, 0)
    most_docs = max((page[2] for page in pages), default=0)
    complete_passes = sum(1 for result in results if result[4] and result[3] == count)
    peak = hwm
    peak_ok = killed is None and peak is not None and peak <= 256 * 1024 and (rss_max or 0) <= 256 * 1024
    report.row(name, f"runway peak RSS while {clients} clients page (VmHWM) **{mib(peak)}**, max sampled VmRSS {mib(rss_max)}"
               + (f"; {killed}" if killed else ""), "≤ 256 MiB", peak_ok)
    other_errors = [e for e in errors if not e.startswith("status 5")]
    report.row(name, f"5xx answers: **{fivexx}**; other errors: {len(other_errors)}", "0", fivexx == 0 and not other_errors)
    report.row(name, f"pages requested {len(pages):,} ({sum(1 for page in pages if page[0] == 200):,} answered 200); largest page **{largest[1]:,} bytes** ({largest[2]} documents); "
               f"passes complete {complete_passes} of {clients * passes}", "every pass sees every document", complete_passes == clients * passes)
    stored = sum(v for k, v in put_statuses.items() if k.isdigit() and 200 <= int(k) < 300)
    report.row(name, f"documents of {size:,} bytes stored: **{stored} of {count}** (PUT answers {put_statuses})", "all", stored == count)
    probe_ok = probe_status is not None and probe_status < 500
    report.row(name, f"PUT of a valid {len(probe_body):,}-byte document of random base64 letters: **{probe_status}**"
               + ("" if probe_ok else f" ({probe_answer[:120].decode(errors='replace')})"), "stored, or a 4xx: never 5xx", probe_ok)
    page_seconds = sorted(page[3] for page in pages)
    details = [
        f"{count} documents of {size:,} bytes (JSON objects with a long string field) PUT by 4 writers in {upload_seconds:.1f} s: {put_statuses}; "
        f"runway VmHWM after storing them: {mib(hwm_upload)} (then reset {'' if reset else 'failed, '}to VmRSS {mib(rss_at_paging)} before paging)",
        f"first, one client alone, the first page (limit={limit}): status {solo[0]}, {solo[1]:,} bytes, {solo[2]} documents, "
        f"{solo_seconds:.1f} s; runway VmHWM over it {mib(solo_hwm)}",
        f"{clients} clients, each through the whole collection {passes} times with limit={limit}, following next_cursor: "
        f"{len(pages):,} pages in {paging_seconds:.1f} s; page time median {page_seconds[len(page_seconds) // 2] if page_seconds else 0:.2f} s, "
        f"max {page_seconds[-1] if page_seconds else 0:.2f} s; most documents in a page: {most_docs}; non-200 statuses: {other or 'none'}",
        "passes: " + ", ".join(f"{n} × {f} pages, {d} documents{'' if done else ' (incomplete)'}"
                               for (f, d, done), n in sorted(tally(((f, d, done) for _, _, f, d, done, _ in results)).items())),
        f"errors: {tally(errors) or 'none'}",
        f"runway alive after paging: {yes(alive_after)}; VmRSS sampled every 0.25 s (cap {mib(cap_kib)}: past it, or under 1 GiB available, the script kills runway)",
    ]
    report.detail(name, details)


# ---------------------------------------------------------------------------------------------
# 3. Database frozen, then restarted


def scenario_database(ctx, report):
    name = "3. database frozen, restarted"
    freeze_seconds = env_int("HOSTILE_FREEZE_SECONDS", 10)
    phase_seconds = env_int("HOSTILE_PHASE_SECONDS", 10)
    warm_seconds = 3
    timeout_ms = ctx.db_timeout_ms
    client_timeout = timeout_ms / 1000 + 15
    pause = env_int("HOSTILE_DB_PAUSE_MS", 5) / 1000
    service = Service(ctx, "database", log_level="info", extra_env={"RUNWAY_DB_TIMEOUT_MS": str(timeout_ms)}).start()
    service.create_tenant()
    service.create_collection("db")
    service.put_document("db", "doc-r", SMALL_DOC)

    records = []  # (kind, n, body, start, end, status, retry_after, error)
    sequence = itertools.count(1)
    halt = threading.Event()

    def worker(kind, index):
        connection = None
        while not halt.is_set():
            if kind == "read":
                number, body, method, path = None, None, "GET", "/v1/collections/db/documents/doc-r"
                headers = service.auth()
            else:
                number = next(sequence)
                body = json.dumps({"seq": number, "writer": index, "note": f"hostile write {number}"}).encode()
                method, path = "PUT", f"/v1/collections/db/documents/doc-w-{number}"
                headers = service.auth({"Content-Type": "application/json"})
            begun = time.monotonic()
            status = retry_after = error = None
            try:
                if connection is None:
                    connection = http.client.HTTPConnection("127.0.0.1", service.port, timeout=client_timeout)
                connection.request(method, path, body=body, headers=headers)
                response = connection.getresponse()
                response.read()
                status, retry_after = response.status, response.getheader("Retry-After")
                if response.will_close:
                    connection.close()
                    connection = None
            except (OSError, http.client.HTTPException) as failure:
                error = f"{type(failure).__name__}: {failure}"
                if connection:
                    connection.close()
                connection = None
            records.append((kind, number, body, begun, time.monotonic(), status, retry_after, error))
            if pause:
                time.sleep(pause)
        if connection:
            connection.close()

    threads = [threading.Thread(target=worker, args=("read" if i % 2 == 0 else "write", i), daemon=True) for i in range(16)]
    log(f"database: 16 clients (8 GET, 8 PUT); freeze {freeze_seconds} s after {warm_seconds} s, then {phase_seconds} s, restart, {phase_seconds} s")
    t0 = time.monotonic()
    for thread in threads:
        thread.start()
    marks = {}
    restart_output = ""
    try:
        time.sleep(warm_seconds)
        marks["freeze"] = time.monotonic()
        frozen = service.freeze()
        log(f"database: postmaster {service.frozen[0]} and {frozen} children stopped (SIGSTOP)")
        time.sleep(freeze_seconds)
        service.thaw()
        marks["thaw"] = time.monotonic()
        log("database: SIGCONT")
        time.sleep(phase_seconds)
        log("database: pg_ctl restart -m fast")
        marks["restart"] = time.monotonic()
        command = as_postgres([f"{postgres_bin()}/pg_ctl", "restart", "-D", service.cluster, "-m", "fast", "-w", "-t", "60",
                               "-l", os.path.join(service.data, "postgres.log")])
        try:
            done = subprocess.run(command, stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=90)
            restart_output = f"exit {done.returncode}: {(done.stdout + done.stderr).strip().splitlines()[-1:] or ''}"
        except subprocess.TimeoutExpired:
            restart_output = "pg_ctl restart timed out after 90 s"
        marks["restarted"] = time.monotonic()
        log(f"database: restarted in {marks['restarted'] - marks['restart']:.1f} s ({restart_output})")
        time.sleep(phase_seconds)
    finally:
        service.thaw()
        halt.set()
        for thread in threads:
            thread.join(timeout=client_timeout + 5)
    t_end = time.monotonic()
    stuck = sum(1 for thread in threads if thread.is_alive())

    # Every write read back: the whole collection, page by page (retrying a 503 for up to 30 s).
    stored = {}
    cursor = None
    listing_error = None
    give_up = time.monotonic() + 60
    while time.monotonic() < give_up:
        path = "/v1/collections/db/documents?limit=1000" + (f"&cursor={urllib.parse.quote(cursor, safe='')}" if cursor else "")
        try:
            status, _, data = service.api("GET", path, timeout=60)
        except (OSError, http.client.HTTPException) as failure:
            status, data = None, str(failure).encode()
        if status != 200:
            listing_error = f"listing answered {status}: {data[:200]!r}"
            time.sleep(0.5)
            continue
        page = json.loads(data)
        for entry in page["documents"]:
            stored[entry["id"]] = entry["data"]
        cursor = page.get("next_cursor")
        listing_error = None
        if not cursor:
            break
    else:
        listing_error = listing_error or "listing did not finish within 60 s"
    alive_after = service.proc.poll() is None
    service.stop()

    def phase(record):
        begun, ended = record[3], record[4]
        if begun <= marks["thaw"] and ended >= marks["freeze"]:
            return "frozen"
        if "restarted" in marks and begun <= marks["restarted"] and ended >= marks["restart"]:
            return "restart"
        if begun < marks["freeze"]:
            return "before"
        if begun < marks.get("restart", float("inf")):
            return "after SIGCONT"
        return "after restart"

    phases = ["before", "frozen", "after SIGCONT", "restart", "after restart"]
    by_phase = {p: {"count": 0, "statuses": {}, "errors": 0, "max_ms": 0.0, "503_without_retry_after": 0} for p in phases}
    for record in records:
        entry = by_phase[phase(record)]
        entry["count"] += 1
        status = record[5]
        label = str(status) if status is not None else "no answer"
        entry["statuses"][label] = entry["statuses"].get(label, 0) + 1
        if status is None:
            entry["errors"] += 1
        else:
            entry["max_ms"] = max(entry["max_ms"], (record[4] - record[3]) * 1000)
        if status == 503 and not record[6]:
            entry["503_without_retry_after"] += 1
    answered = [r for r in records if r[5] is not None]
    slowest = max(answered, key=lambda r: r[4] - r[3]) if answered else None
    longest_ms = (slowest[4] - slowest[3]) * 1000 if slowest else 0.0
    no_answer = [r for r in records if r[5] is None]
    outage_statuses = {}
    for p in ("frozen", "restart"):
        for label, n in by_phase[p]["statuses"].items():
            outage_statuses[label] = outage_statuses.get(label, 0) + n
    outage_ok = all(label.isdigit() and (label.startswith("2") or label == "503") for label in outage_statuses)
    all_503 = sum(1 for r in records if r[5] == 503)
    retry_after_missing = sum(1 for r in records if r[5] == 503 and not r[6])
    other_5xx = {}
    for r in records:
        if r[5] is not None and r[5] >= 500 and r[5] != 503:
            other_5xx[r[5]] = other_5xx.get(r[5], 0) + 1

    writes = [r for r in records if r[0] == "write"]
    committed_5xx = []
    lost_2xx = []
    unanswered_stored = 0
    verified = listing_error is None
    for kind, number, body, begun, ended, status, _, error in writes:
        doc = stored.get(f"doc-w-{number}")
        matches = doc is not None and doc == json.loads(body)
        if status is not None and 200 <= status < 300 and not matches:
            lost_2xx.append((number, status, "missing" if doc is None else "different"))
        elif status is not None and status >= 500 and matches:
            committed_5xx.append((number, status, begun, ended))
        elif status is None and matches:
            unanswered_stored += 1
    status_counts = {}
    for r in writes:
        label = str(r[5]) if r[5] is not None else "no answer"
        status_counts[label] = status_counts.get(label, 0) + 1

    starts = sorted((r[3], r[5]) for r in records)
    start_times = [begun for begun, _ in starts]
    # bad[i]: how many of the first i requests (by start) were not answered 2xx.
    bad = [0]
    for _, status in starts:
        bad.append(bad[-1] + (0 if status is not None and 200 <= status < 300 else 1))

    def recovery(mark):
        """Seconds from MARK to the first 2xx answer, and to the start (not before that answer) of 1 s in which
        every request begun was answered 2xx."""
        if mark is None:
            return None, None
        first = min((r[4] for r in records if r[5] is not None and 200 <= r[5] < 300 and r[4] >= mark), default=None)
        if first is None:
            return None, None
        # Full service begins no earlier than the first 2xx answer.
        candidates = [first] + start_times[bisect.bisect_right(start_times, first):]
        full = None
        for candidate in candidates:
            if candidate + 1.0 > t_end - 0.5:
                break
            low, high = bisect.bisect_left(start_times, candidate), bisect.bisect_left(start_times, candidate + 1.0)
            if high > low and bad[high] - bad[low] == 0:
                full = candidate - mark
                break
        return first - mark, full

    first_thaw, full_thaw = recovery(marks.get("thaw"))
    first_restart, full_restart = recovery(marks.get("restarted"))

    def seconds(value):
        return "never" if value is None else f"{value:.2f} s"

    bound = timeout_ms + 1000
    report.row(name, f"longest answer of any request: **{longest_ms:.0f} ms**"
               + (f" ({slowest[0]} {slowest[5]}, {phase(slowest)})" if slowest else "")
               + (f"; {len(no_answer)} never answered (below)" if no_answer else ""),
               f"≤ RUNWAY_DB_TIMEOUT_MS + 1 s = {bound} ms", longest_ms <= bound and not no_answer)
    report.row(name, f"statuses while frozen or restarting: {', '.join(f'{k}: {v}' for k, v in sorted(outage_statuses.items())) or 'none'}",
               "only 2xx and 503", outage_ok)
    report.row(name, f"503 answers without Retry-After: **{retry_after_missing}** of {all_503}", "0", retry_after_missing == 0)
    report.row(name, f"requests with no answer (connection error, timeout after {client_timeout:.0f} s): **{len(no_answer)}**", "0", not no_answer)
    report.row(name, f"writes answered 5xx whose content is stored: **{len(committed_5xx)}**" + ("" if verified else f" (not verified: {listing_error})"),
               "0", verified and not committed_5xx)
    report.row(name, f"writes answered 2xx whose content is missing: **{len(lost_2xx)}**" + ("" if verified else " (not verified)"),
               "0", verified and not lost_2xx)
    report.row(name, f"after SIGCONT: first 2xx {seconds(first_thaw)}, full service (1 s of only 2xx) **{seconds(full_thaw)}**",
               "≤ 2 s", full_thaw is not None and full_thaw <= 2.0)
    report.row(name, f"after the restart completed: first 2xx {seconds(first_restart)}, full service **{seconds(full_restart)}**",
               "≤ 2 s", full_restart is not None and full_restart <= 2.0)
    if other_5xx:
        report.row(name, f"5xx other than 503: **{other_5xx}**", "none", False)
    details = [
        f"16 clients on keep-alive connections (8 GET of one document, 8 PUT of a new document doc-w-<n> each, n unique), "
        f"{pause * 1000:.0f} ms between requests; RUNWAY_DB_TIMEOUT_MS={timeout_ms}; {len(records):,} requests over {t_end - t0:.1f} s",
        f"timeline: SIGSTOP to the postmaster and its children at {marks['freeze'] - t0:.1f} s, SIGCONT at {marks['thaw'] - t0:.1f} s; "
        f"pg_ctl restart -m fast at {marks.get('restart', t0) - t0:.1f} s, done at {marks.get('restarted', t0) - t0:.1f} s "
        f"({marks.get('restarted', 0) - marks.get('restart', 0):.1f} s; {restart_output}); load stopped at {t_end - t0:.1f} s",
    ]
    for p in phases:
        entry = by_phase[p]
        details.append(f"{p}: {entry['count']:,} requests, statuses {dict(sorted(entry['statuses'].items()))}, longest answer {entry['max_ms']:.0f} ms, "
                       f"503 without Retry-After {entry['503_without_retry_after']}")
    for p in ("frozen", "restart"):
        times = {}
        for record in records:
            if record[5] is not None and phase(record) == p:
                times.setdefault(record[5], []).append((record[4] - record[3]) * 1000)
        if times:
            details.append(f"answer times while {p}, by status (n: min / median / max ms): " + "; ".join(
                f"{status} ({len(v)}: {min(v):.0f} / {sorted(v)[len(v) // 2]:.0f} / {max(v):.0f})" for status, v in sorted(times.items())))
    slowest_five = sorted(answered, key=lambda r: r[3] - r[4])[:5]
    details.append("slowest answers: " + ", ".join(
        f"{r[0]} {r[5]} begun at {r[3] - t0:.2f} s took {(r[4] - r[3]) * 1000:.0f} ms" for r in slowest_five))
    details.append(f"writes: {len(writes):,}, answered {dict(sorted(status_counts.items()))}; read back by listing the collection: {len(stored):,} documents stored"
                   + (f" ({listing_error})" if listing_error else ""))
    details.append(f"writes with no answer that were nevertheless stored: {unanswered_stored}")
    if committed_5xx:
        details.append("5xx but stored (first ones): " + ", ".join(
            f"doc-w-{n} {status} begun at {begun - t0:.2f} s, answered after {(ended - begun) * 1000:.0f} ms" for n, status, begun, ended in committed_5xx[:10]))
    if lost_2xx:
        details.append(f"2xx but missing (first ones): {lost_2xx[:10]}")
    if no_answer:
        kinds = {}
        for r in no_answer:
            kinds[r[7].split(":")[0]] = kinds.get(r[7].split(":")[0], 0) + 1
        details.append(f"no answer: {kinds}; " + ", ".join(
            f"{r[0]} begun at {r[3] - t0:.2f} s ({phase(r)}): {r[7]} after {(r[4] - r[3]):.1f} s" for r in no_answer[:5]))
    details.append(f"runway alive after: {yes(alive_after)}; client threads still stuck at the end: {stuck}")
    report.detail(name, details)


# ---------------------------------------------------------------------------------------------
# 4. Stdout stalled, then closed


def stdout_counts(service):
    counts = {}
    for line in service.metrics().splitlines():
        match = re.match(r'^runway_log_stdout_lines_total\{([^}]*)\}\s+(\S+)', line)
        if match:
            labels = dict(re.findall(r'(\w+)="([^"]*)"', match.group(1)))
            counts[labels.get("outcome", match.group(1))] = int(float(match.group(2)))
        match = re.match(r"^runway_log_stdout_buffered\s+(\S+)", line)
        if match:
            counts["buffered"] = int(float(match.group(1)))
    return counts


def scenario_stdout(ctx, report):
    name = "4. stdout stalled, closed"
    seconds = ctx.seconds
    closed_seconds = max(5, seconds // 3)
    path = "/v1/collections/hostile/documents/doc-1"

    log(f"stdout: runway with stdout to a file, wrk GET {seconds} s")
    to_file = Service(ctx, "stdout-file", data_name="stdout", log_level="info", stdout="file").start()
    to_file.create_tenant()
    to_file.create_collection("hostile")
    to_file.put_document("hostile", "doc-1", SMALL_DOC)
    key = to_file.key
    filed = run_wrk(to_file.port, key, path, seconds)
    file_counts = stdout_counts(to_file)
    log(f"stdout to a file: {wrk_line(filed)}; {file_counts}")
    to_file.stop()

    log(f"stdout: the same data folder, stdout into a pipe nobody reads, wrk GET {seconds} s")
    piped = Service(ctx, "stdout-pipe", data_name="stdout", log_level="info", stdout="pipe")
    piped.admin_token = to_file.admin_token
    piped.start()
    piped.key = key
    stalled = run_wrk(piped.port, key, path, seconds)
    stalled_counts = stdout_counts(piped)
    log(f"stdout stalled: {wrk_line(stalled)}; {stalled_counts}")
    piped.proc.stdout.close()  # the read end: runway's writes now fail with EPIPE
    log(f"stdout: read end closed, wrk GET {closed_seconds} s")
    closed = run_wrk(piped.port, key, path, closed_seconds)
    alive_after = piped.proc.poll() is None
    serving = False
    closed_counts = {}
    if alive_after:
        try:
            status, _, _ = piped.api("GET", path, timeout=10)
            serving = status == 200
            closed_counts = stdout_counts(piped)
        except (OSError, http.client.HTTPException, RuntimeError) as failure:
            log(f"stdout: after closing: {failure}")
    log(f"stdout closed: {wrk_line(closed)}; alive {alive_after}, serving {serving}; {closed_counts}")
    exit_status = piped.proc.poll()
    piped.stop()

    stalled_ratio = stalled["rps"] / filed["rps"] if filed["rps"] else 0.0
    closed_ratio = closed["rps"] / filed["rps"] if filed["rps"] else 0.0
    served = stalled["requests"] + closed["requests"]
    accounted = sum(closed_counts.get(k, 0) for k in ("written", "dropped_full", "dropped_closed", "buffered"))
    report.row(name, f"GET requests/s, stdout a pipe nobody reads / stdout a file: **{stalled_ratio:.2f}** ({stalled['rps']:.0f} / {filed['rps']:.0f})",
               "≥ 0.80", stalled_ratio >= 0.80 and stalled["errors"] == 0)
    report.row(name, f"read end closed: alive {yes(alive_after)}, serving {yes(serving)}, requests/s / file: **{closed_ratio:.2f}** ({closed['rps']:.0f})",
               "alive, serving, ≥ 0.80", alive_after and serving and closed_ratio >= 0.80 and closed["errors"] == 0)
    dropped_full = stalled_counts.get("dropped_full", 0)
    dropped_closed = closed_counts.get("dropped_closed", 0)
    report.row(name, f"lines dropped while stalled (dropped_full): **{dropped_full:,}**; after closing (dropped_closed): **{dropped_closed:,}**; "
               f"lines accounted (written + dropped + buffered) {accounted:,} for {served:,} requests",
               "lost lines counted: both > 0, accounted ≥ requests", dropped_full > 0 and dropped_closed > 0 and accounted >= served)
    details = [
        f"stdout to a file: {wrk_line(filed)}; runway_log_stdout_lines_total {file_counts}",
        f"stdout a pipe nobody reads ({seconds} s): {wrk_line(stalled)}; runway_log_stdout_lines_total {stalled_counts}",
        f"read end closed ({closed_seconds} s): {wrk_line(closed)}; runway_log_stdout_lines_total {closed_counts}",
        f"runway after the close: alive {yes(alive_after)}" + ("" if exit_status is None else f" (exit status {exit_status}: {'killed by signal ' + str(-exit_status) if exit_status < 0 else 'exited'})")
        + f", a GET answered 200 {yes(serving)}",
        "both runs --log-level info (one JSON access line per request); the two runways one after the other on one data folder",
    ]
    report.detail(name, details)


# ---------------------------------------------------------------------------------------------


def run_main(args):
    ctx = Context(args.work, os.path.abspath(args.bin))
    report = Report()
    chosen = args.scenarios or list(SCENARIOS)
    for scenario in chosen:
        if scenario not in SCENARIOS:
            log(f"unknown scenario {scenario}: {' '.join(SCENARIOS)}")
            return 64

    def terminate(signum, _frame):
        raise KeyboardInterrupt(f"signal {signum}")

    signal.signal(signal.SIGTERM, terminate)
    signal.signal(signal.SIGHUP, terminate)
    functions = {"slowloris": scenario_slowloris, "pages": scenario_pages, "database": scenario_database, "stdout": scenario_stdout}
    interrupted = False
    scenario = None
    try:
        for scenario in chosen:
            log(f"scenario {scenario}")
            try:
                functions[scenario](ctx, report)
            except Exception as error:  # report it, go on with the next scenario
                traceback.print_exc()
                report.row(scenario, f"the scenario failed: {type(error).__name__}: {error}", "completes", False)
            finally:
                ctx.cleanup()
                ctx.services, ctx.helpers = [], []
    except KeyboardInterrupt as stop:
        log(f"interrupted ({stop}); stopping what was started")
        interrupted = True
        if scenario:
            report.row(scenario, f"interrupted ({stop}) before the end", "completes", False)
    finally:
        ctx.cleanup()
    report.print(ctx)
    sys.stdout.flush()
    return 130 if interrupted else 0


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = parser.add_subparsers(dest="command", required=True)
    run = commands.add_parser("run")
    run.add_argument("--work", required=True)
    run.add_argument("--bin", required=True)
    run.add_argument("scenarios", nargs="*")
    attacker = commands.add_parser("attacker")
    attacker.add_argument("--port", type=int, required=True)
    attacker.add_argument("--path", required=True)
    attacker.add_argument("--key", required=True)
    attacker.add_argument("--connections", type=int, default=2000)
    attacker.add_argument("--ramp", type=float, default=2.0)
    attacker.add_argument("--seconds", type=float, required=True)
    attacker.add_argument("--ready", required=True)
    attacker.add_argument("--out", required=True)
    args = parser.parse_args()
    if args.command == "attacker":
        attacker_main(args)
        return 0
    return run_main(args)


if __name__ == "__main__":
    sys.exit(main())

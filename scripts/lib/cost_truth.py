#!/usr/bin/env python3
"""Cost truth: does the ledger bill each tenant the CPU its requests caused?

Starts `runway serve` (a release build, on its embedded PostgreSQL, access log and cost meter on,
ledger flushed every second), creates tenants on one plan, and runs two workloads with known truth:

1. Alone in turn (sequential requests, one connection): a heavy tenant PUTs 200-word documents,
   then searches them; a light tenant GETs one small document. The truth for each tenant is the CPU
   that Runway and its PostgreSQL used in its windows (from /proc: the postmaster is not Runway's
   child), less the idle background rate measured before.
2. Concurrently, with different mixes at fixed rates: the truth is from runs of each tenant's mix
   alone at the same rate (other tenants, so the ledger keeps the phases apart), one before and one
   after the run at once, averaged per request.

Then it reads the ledger (the admin API's CSV export) and prints, per tenant, its share of the
tenants' CPU in truth and on the ledger, the error in percentage points, and the part of all the
CPU caused (truth) that the ledger credited to tenants. Each tenant is used in one phase only, so
its ledger total is that phase's. For each tenant it also prints how much of its ledger was measured
on its requests (its access lines' app_cpu_ns and db_cpu_ns); the rest is its share of the CPU no
request's job ran.
"""

import argparse
import csv
import http.client
import io
import json
import os
import random
import signal
import subprocess
import sys
import threading
import time
import urllib.request

from proctree import children, cpu_ticks, stat_fields

TICKS = os.sysconf("SC_CLK_TCK")
WORDS = (
    "runway ledger tenant invoice latency trace span batch flush cluster backend vacuum checkpoint "
    "metric exemplar quantile histogram bucket scrape shard replica snapshot cursor index plan query "
    "commit rollback socket thread kernel cache buffer memory budget margin price dollar cost"
).split()


def cpu_seconds(runway_pid, postmaster):
    """CPU used so far by Runway, and by its whole PostgreSQL cluster (live and reaped backends)."""
    fields = stat_fields(runway_pid)
    app = cpu_ticks(fields)
    fields = stat_fields(postmaster)
    database = sum(int(v) for v in fields[11:15])
    for child in children(postmaster):
        fields = stat_fields(child)
        if fields:
            database += cpu_ticks(fields)
    return app / TICKS, database / TICKS


class Client:
    """One keep-alive connection, as a tenant's client would hold."""

    def __init__(self, port, key):
        self.port, self.key = port, key
        self.connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)

    def send(self, method, path, body=None):
        headers = {"Authorization": f"Bearer {self.key}"}
        if body is not None:
            headers["Content-Type"] = "application/json"
        for attempt in range(2):
            try:
                self.connection.request(method, path, body=body, headers=headers)
                response = self.connection.getresponse()
                response.read()
                return response.status
            except (http.client.HTTPException, OSError):
                self.connection.close()
                self.connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
                if attempt:
                    raise


def document(rng, words=200):
    return json.dumps({"title": "bench", "body": " ".join(rng.choice(WORDS) for _ in range(words))})


class Mix:
    """What a tenant sends: `heavy` PUTs 200-word documents and searches them in turn (or only
    one of the two); `light` GETs one small document."""

    def __init__(self, kind, client, seed):
        self.kind, self.client, self.rng, self.count = kind, client, random.Random(seed), 0

    def step(self):
        self.count += 1
        base = "/v1/collections/bench"
        if self.kind == "light":
            status = self.client.send("GET", f"{base}/documents/doc-1")
        elif self.kind == "put" or (self.kind == "heavy" and self.count % 2):
            status = self.client.send("PUT", f"{base}/documents/doc-{self.rng.randrange(500)}", document(self.rng))
        else:
            status = self.client.send("GET", f"{base}/search?q={self.rng.choice(WORDS)}&limit=20")
        if status >= 300:
            raise SystemExit(f"{self.kind}: HTTP {status}")


def run(mix, seconds, rate=None):
    """Sends `mix` for `seconds`: back to back, or at `rate` requests per second."""
    start = time.monotonic()
    sent = 0
    while True:
        now = time.monotonic()
        if now - start >= seconds:
            return sent
        if rate:
            due = start + sent / rate
            if due > now:
                time.sleep(due - now)  # pacing the client to its rate, not synchronising a test
                continue
        mix.step()
        sent += 1


class Service:
    def __init__(self, runway, work):
        self.work = work
        env = dict(os.environ, RUNWAY_COST_FLUSH_SECONDS="1", RUNWAY_INSTANCE=f"truth-{os.getpid()}")
        self.out = open(f"{work}/serve.out", "w+")
        self.process = subprocess.Popen(
            [runway, "serve", "--data-dir", f"{work}/data", "--port", "0", "--admin-port", "0", "--log-level", "info"],
            stdout=self.out,
            stderr=subprocess.STDOUT,
            env=env,
        )
        deadline = time.monotonic() + 120
        self.port = self.admin = None
        while time.monotonic() < deadline and not (self.port and self.admin):
            time.sleep(0.1)  # waiting for the server to print its ports
            self.out.seek(0)
            for line in self.out.read().splitlines():
                if line.startswith("Runway is serving the tenant API on http://127.0.0.1:"):
                    self.port = int(line.rsplit(":", 1)[1])
                if line.startswith("Admin API on http://127.0.0.1:"):
                    self.admin = int(line.split(":")[2].split("/")[0])
            if self.process.poll() is not None:
                break
        if not (self.port and self.admin):
            self.out.seek(0)
            raise SystemExit("runway serve did not start:\n" + self.out.read())
        with open(f"{work}/data/admin-token") as f:
            self.token = f.read().strip()
        with open(f"{work}/data/postgres/postmaster.pid") as f:
            self.postmaster = int(f.readline())

    def admin_call(self, method, path, body=None):
        request = urllib.request.Request(
            f"http://127.0.0.1:{self.admin}{path}",
            method=method,
            data=json.dumps(body).encode() if body is not None else None,
            headers={"Authorization": f"Bearer {self.token}", "Content-Type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.read().decode()

    def create_unlimited_plan(self):
        """The plan `truth`: free, with a rate limit far above what this machine can do."""
        self.admin_call(
            "PUT", "/admin/v1/plans/truth", {"monthly_price_micros": 0, "requests_per_second": 100000000, "burst": 100000000}
        )

    def tenant(self, name, plan):
        """A tenant with a collection `bench` holding doc-1; returns its key."""
        created = json.loads(self.admin_call("POST", "/admin/v1/tenants", {"name": name, "plan": plan}))
        client = Client(self.port, created["api_key"])
        client.send("POST", "/v1/collections", json.dumps({"name": "bench"}))
        client.send("PUT", "/v1/collections/bench/documents/doc-1", json.dumps({"title": "small", "n": 1}))
        return created["tenant"]["id"], client

    def cpu(self):
        return cpu_seconds(self.process.pid, self.postmaster)

    def stop(self):
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            self.process.kill()


def measure(service, seconds, *loads):
    """Runs each (mix, rate) load on a thread of its own for `seconds`; returns the CPU used."""
    (app, database) = service.cpu()
    threads = [threading.Thread(target=lambda mix, rate: run(mix, seconds, rate), args=load) for load in loads]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    (app_after, database_after) = service.cpu()
    names = " + ".join(mix.kind for mix, _ in loads) or "idle"
    print(f"  {names}: app {app_after - app:.2f} s, database {database_after - database:.2f} s", file=sys.stderr)
    return app_after - app + database_after - database


def metered_requests(work):
    """The access lines of a tenant's requests in `runway serve`'s output, with their metered CPU."""
    with open(f"{work}/serve.out") as out:
        for text in out:
            try:
                line = json.loads(text)
            except ValueError:
                continue
            if line.get("msg") == "request" and "tenant" in line and "app_cpu_ns" in line:
                yield line


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runway", required=True)
    parser.add_argument("--work", required=True)
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--heavy-rate", type=float, default=60, help="heavy mix requests/s in workload 2")
    parser.add_argument("--light-rate", type=float, default=400, help="light mix requests/s in workload 2")
    parser.add_argument("--json", help="also write the figures here")
    args = parser.parse_args()
    seconds = args.seconds

    service = Service(args.runway, args.work)
    try:
        service.create_unlimited_plan()
        tenants = {name: service.tenant(f"truth-{name}-{os.getpid()}", "truth") for name in
                   ("heavy-alone", "light-alone", "heavy-before", "light-before", "heavy-both", "light-both",
                    "heavy-after", "light-after")}
        # Documents for the searches, outside any measured window.
        warm = Mix("put", tenants["heavy-alone"][1], 1)
        for _ in range(200):
            warm.step()
        time.sleep(3)  # quiet: the cost meter learns the background rate from quiet seconds
        idle_seconds = 10
        background = measure(service, idle_seconds) / idle_seconds
        print(f"idle background: {background * 1000:.1f} ms of CPU per second", file=sys.stderr)

        truth = {}
        # Workload 1: alone in turn, back to back on one connection.
        put = measure(service, seconds, (Mix("put", tenants["heavy-alone"][1], 2), None))
        search = measure(service, seconds, (Mix("search", tenants["heavy-alone"][1], 3), None))
        get = measure(service, seconds, (Mix("light", tenants["light-alone"][1], 4), None))
        truth["heavy-alone"] = put + search - 2 * seconds * background
        truth["light-alone"] = get - seconds * background
        # Workload 2: each mix alone at its rate (the truth), both at once (the ledger's test), then
        # each mix alone again in the reverse order: the truth is the mean of the two alone runs
        # around the one at once, so the machine's drift over a run's minutes (a mix alone has
        # moved by half between runs ten minutes apart) falls on both sides of it. Each run sends
        # the same request sequence (seed) to a tenant of its own, created empty: a heavy run's
        # searches and updates cost more on a tenant that earlier runs filled. Truth per request
        # alone, times the requests sent at once: a client that fell behind its rate is not
        # counted against the ledger.
        seeds = {"heavy": 5, "light": 6}
        rates = {"heavy": args.heavy_rate, "light": args.light_rate}

        def mix(name):
            return Mix(name.split("-")[0], tenants[name][1], seeds[name.split("-")[0]])

        alone = {}

        def run_alone(kind, phase):
            sent = mix(f"{kind}-{phase}")
            truth[f"{kind}-mix"] = truth.get(f"{kind}-mix", 0) + measure(service, seconds, (sent, rates[kind])) - seconds * background
            alone[kind] = alone.get(kind, 0) + sent.count

        for kind in ("heavy", "light"):
            run_alone(kind, "before")
        both = {kind: mix(f"{kind}-both") for kind in ("heavy", "light")}
        together_cpu = measure(service, seconds, *((both[kind], rates[kind]) for kind in both))
        for kind in ("light", "heavy"):
            run_alone(kind, "after")
        for kind in ("heavy", "light"):
            together = both[kind].count
            truth[f"{kind}-both"] = truth[f"{kind}-mix"] * together / alone[kind]
            print(f"{kind} mix: {alone[kind]} requests alone (two runs), {together} at once in {seconds:.0f} s", file=sys.stderr)
        time.sleep(4)  # the ledger closes an interval every second and writes it within one more
        report = service.admin_call("GET", "/admin/v1/cost/export?from=2000-01-01&to=2100-01-01")
    finally:
        service.stop()

    # What was measured on each tenant's requests (its access lines' app_cpu_ns and db_cpu_ns, up to
    # the line): the rest of its ledger is its share of what no request's job ran.
    measured = {}
    for line in metered_requests(args.work):
        app, database = measured.get(line["tenant"].lower(), (0, 0))
        measured[line["tenant"].lower()] = (app + int(line["app_cpu_ns"]), database + int(line["db_cpu_ns"]))
    ledger = {}
    overhead = {}
    for row in csv.DictReader(io.StringIO(report)):
        if row["kind"] == "tenant":
            ledger[row["tenant_id"].lower()] = int(row["cpu_ns"]) / 1e9
            app, database = (value / 1e9 for value in measured.get(row["tenant_id"].lower(), (0, 0)))
            print(f"  ledger {row['tenant_name']}: app {int(row['app_cpu_ns']) / 1e9:.2f} s ({app:.2f} measured on "
                  f"its requests), database {int(row['db_cpu_ns']) / 1e9:.2f} s ({database:.2f} measured)", file=sys.stderr)
        elif row["kind"] in ("overhead", "unauthenticated"):
            overhead[row["item"] or row["kind"]] = int(row["cpu_ns"]) / 1e9
    billed = {name: ledger.get(tenant_id.lower(), 0.0) for name, (tenant_id, _) in tenants.items()}

    def shares(values):
        total = sum(values.values())
        return {k: 100 * v / total for k, v in values.items()}

    # Serving two tenants at once costs less than serving each alone (a busy server wakes up less
    # often per request), so the standalone figures overstate the total. Each tenant's Shapley
    # value — the mean of what it costs alone and what it adds to the other — splits exactly what
    # the concurrent run used.
    together = together_cpu - seconds * background
    shapley = {
        "heavy-both": (truth["heavy-both"] + together - truth["light-both"]) / 2,
        "light-both": (truth["light-both"] + together - truth["heavy-both"]) / 2,
    }
    figures = {
        "background_cpu_per_second": background,
        "concurrent_cpu_s": together,
        "standalone_sum_cpu_s": truth["heavy-both"] + truth["light-both"],
        "workloads": [],
    }
    rows = []
    for label, names, truths in (
        ("alone in turn", ("heavy-alone", "light-alone"), {n: truth[n] for n in ("heavy-alone", "light-alone")}),
        ("at once, alone", ("heavy-both", "light-both"), {n: truth[n] for n in ("heavy-both", "light-both")}),
        ("at once, Shapley", ("heavy-both", "light-both"), shapley),
    ):
        truth_shares = shares(truths)
        ledger_shares = shares({n: billed[n] for n in names})
        caused = sum(truths.values()) if label == "alone in turn" else together
        credited = 100 * sum(billed[n] for n in names) / caused
        workload = {"workload": label, "credited_percent": credited, "tenants": []}
        for name in names:
            error = ledger_shares[name] - truth_shares[name]
            workload["tenants"].append(
                {"tenant": name, "truth_cpu_s": truths[name], "ledger_cpu_s": billed[name],
                 "truth_share": truth_shares[name], "ledger_share": ledger_shares[name], "error_points": error}
            )
            rows.append(f"{label:<17} {name:<12} {truths[name]:9.3f} {billed[name]:10.3f} "
                        f"{truth_shares[name]:7.2f} % {ledger_shares[name]:7.2f} % {error:+7.2f}")
        rows.append(f"{label:<17} credited to tenants: {credited:.1f} % of the CPU their requests caused")
        figures["workloads"].append(workload)
    figures["overhead_cpu_s"] = overhead
    ratio = truth["heavy-alone"] / truth["light-alone"], billed["heavy-alone"] / billed["light-alone"]
    print(f"{'workload':<17} {'tenant':<12} {'truth s':>9} {'ledger s':>10} {'truth':>9} {'ledger':>9} {'error pp':>8}")
    print("\n".join(rows))
    print(f"heavy / light (alone in turn): truth {ratio[0]:.2f}, ledger {ratio[1]:.2f}")
    print(f"at once: {together:.3f} s of CPU, against {figures['standalone_sum_cpu_s']:.3f} s for the two mixes alone "
          f"({100 * (figures['standalone_sum_cpu_s'] / together - 1):+.0f} %)")
    print("overhead and unauthenticated rows (CPU s, whole run): " + ", ".join(f"{k} {v:.3f}" for k, v in sorted(overhead.items())))
    if args.json:
        with open(args.json, "w") as f:
            json.dump(figures, f, indent=2)


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""Where a `runway serve`'s CPU goes, thread by thread, around one window.

Starts `runway serve` as scripts/lib/cost_truth.py does (a release build on its embedded
PostgreSQL, access log and cost meter on), gives one tenant 200 documents, optionally runs a
warm-up load, then reads every thread's CPU from /proc before and after a measured window and
prints the difference by thread name, with the database cluster's CPU. A window's load is
`idle` (nothing sent: what the server spends on its own, for instance on timers the warm-up left
behind) or a mix of cost_truth.py (`light`, `put`, `search`, `heavy`), back to back or at a rate.
"""

import argparse
import os
import sys
import time

import cost_truth
from proctree import cpu_ticks, stat_fields


def thread_cpu(pid):
    """CPU seconds used so far by each thread name of process PID (threads of one name summed)."""
    used = {}
    for tid in os.listdir(f"/proc/{pid}/task"):
        fields = stat_fields(f"{pid}/task/{tid}")
        try:
            with open(f"/proc/{pid}/task/{tid}/comm") as f:
                name = f.read().strip()
        except OSError:
            continue
        if fields:
            used[name] = used.get(name, 0) + cpu_ticks(fields) / cost_truth.TICKS
    return used


def load(client, spec, seed):
    """Runs SPEC (`kind:seconds[:rate]`); returns the requests sent."""
    kind, seconds, *rate = spec.split(":")
    if kind == "idle":
        time.sleep(float(seconds))  # the window itself: nothing is sent
        return 0
    return cost_truth.run(cost_truth.Mix(kind, client, seed), float(seconds), float(rate[0]) if rate else None)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runway", required=True)
    parser.add_argument("--work", required=True)
    parser.add_argument("--before", help="a load run before the window, as kind:seconds[:rate]")
    parser.add_argument("window", help="the measured load, kind:seconds[:rate] (kind: idle, light, put, search, heavy)")
    args = parser.parse_args()

    service = cost_truth.Service(args.runway, args.work)
    try:
        service.admin_call(
            "PUT", "/admin/v1/plans/threads", {"monthly_price_micros": 0, "requests_per_second": 100000000, "burst": 100000000}
        )
        _, client = service.tenant(f"threads-{os.getpid()}", "threads")
        warm = cost_truth.Mix("put", client, 1)
        for _ in range(200):
            warm.step()
        if args.before:
            print(f"before: {args.before}, {load(client, args.before, 2)} requests", file=sys.stderr)
        threads, (_, database) = thread_cpu(service.process.pid), service.cpu()
        start = time.monotonic()
        requests = load(client, args.window, 3)
        elapsed = time.monotonic() - start
        after, (_, database_after) = thread_cpu(service.process.pid), service.cpu()
    finally:
        service.stop()

    used = {name: seconds - threads.get(name, 0) for name, seconds in after.items()}
    total = sum(used.values())
    print(f"window {args.window}: {requests} requests in {elapsed:.1f} s; runway {total:.2f} s of CPU "
          f"({1000 * total / elapsed:.1f} ms a second), its PostgreSQL {database_after - database:.2f} s")
    for name, seconds in sorted(used.items(), key=lambda item: -item[1]):
        if seconds > 0:
            per = f", {1e6 * seconds / requests:.0f} µs a request" if requests else ""
            print(f"  {name:<20} {seconds:6.2f} s ({1000 * seconds / elapsed:.1f} ms a second{per})")


if __name__ == "__main__":
    main()

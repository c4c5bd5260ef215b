"""Does a request cost the same CPU whether the server is idle or busy? The heavy mix of the cost
truth benchmark (cost_truth.py) at its rate alone, the same at its rate beside the light mix (another
tenant), and back to back alone, each on a fresh tenant of one `runway serve`: each window's CPU from
/proc (Runway and its PostgreSQL, as cost_truth.py measures it), and each route's mean app and
database CPU per request from the access lines (what the meter measured on that request).

On a machine where a request to an idle server costs more than the same request to a busy one,
no meter of CPU can bill a tenant at once what its requests cost alone: this shows by how much."""
import argparse
import os
import sys
import time

from cost_truth import Mix, Service, measure, metered_requests


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runway", required=True)
    parser.add_argument("--work", required=True)
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--heavy-rate", type=float, default=60)
    parser.add_argument("--light-rate", type=float, default=400)
    args = parser.parse_args()

    service = Service(args.runway, args.work)
    try:
        service.create_unlimited_plan()
        names = ("heavy-at-rate", "heavy-beside-light", "light", "heavy-back-to-back")
        tenants = {name: service.tenant(f"warmth-{name}-{os.getpid()}", "truth") for name in names}
        time.sleep(2)
        windows = (
            ("heavy-at-rate", ((Mix("heavy", tenants["heavy-at-rate"][1], 5), args.heavy_rate),)),
            ("heavy-beside-light", ((Mix("heavy", tenants["heavy-beside-light"][1], 5), args.heavy_rate),
                                    (Mix("light", tenants["light"][1], 6), args.light_rate))),
            ("heavy-back-to-back", ((Mix("heavy", tenants["heavy-back-to-back"][1], 5), None),)),
        )
        for label, loads in windows:
            print(f"{label}:", file=sys.stderr)
            cpu = measure(service, args.seconds, *loads)
            sent = sum(mix.count for mix, _ in loads)
            print(f"  {sent} requests, {1e6 * cpu / sent:.0f} us of CPU each (all tenants in the window)", file=sys.stderr)
    finally:
        service.stop()

    ids = {tenant_id.lower(): name for name, (tenant_id, _) in tenants.items()}
    routes = {}
    for line in metered_requests(args.work):
        name = ids.get(line["tenant"].lower())
        if name:
            key = (name, line["method"], line["route"])
            count, app, database = routes.get(key, (0, 0, 0))
            routes[key] = (count + 1, app + int(line["app_cpu_ns"]), database + int(line["db_cpu_ns"]))
    print(f"{'tenant':<19} {'request':<52} {'count':>6} {'app us':>8} {'db us':>8}")
    for (name, method, route), (count, app, database) in sorted(routes.items(), key=lambda item: (item[0][1:], item[0][0])):
        if count < 100:
            continue  # the set-up requests
        print(f"{name:<19} {method + ' ' + route:<52} {count:6} {app / count / 1000:8.1f} {database / count / 1000:8.1f}")


if __name__ == "__main__":
    main()

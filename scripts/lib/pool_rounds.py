"""Pools several `scripts/bench-load` runs: the median, over every round of every run, of that
round's side-by-side ratio of one server to another (requests/s, P99, CPU per request).

Usage: python3 scripts/lib/pool_rounds.py BASE OTHER run1.md run2.md ...
       (each file is a bench-load run's standard output; BASE and OTHER are server names,
       such as `unmetered metered` or `off on`)
"""

import re
import statistics
import sys

ROUND = re.compile(r"(get|put) round (\d+) ([\w+-]+): ([\d.]+), ([\d.]+), ([\d.]+)")


def main() -> None:
    if len(sys.argv) < 4:
        sys.exit(__doc__)
    base, other, paths = sys.argv[1], sys.argv[2], sys.argv[3:]
    rounds: dict[tuple[str, int, str], dict[str, tuple[float, float, float]]] = {}
    for run, path in enumerate(paths):
        with open(path, encoding="utf-8") as text:
            for line in text:
                for match in ROUND.finditer(line):
                    request, number, name, rps, p99, cpu = match.groups()
                    rounds.setdefault((request, run, number), {})[name] = (float(rps), float(p99), float(cpu))
    for request in ("get", "put"):
        ratios: list[list[float]] = [[], [], []]
        for (kind, _, _), servers in rounds.items():
            if kind != request or base not in servers or other not in servers:
                continue
            for field in range(3):
                ratios[field].append((servers[other][field] / servers[base][field] - 1) * 100)
        if not ratios[0]:
            sys.exit(f"no rounds with both {base} and {other} for {request}")
        medians = tuple(statistics.median(values) for values in ratios)
        print(
            f"{request.upper()} {other} vs {base}, {len(ratios[0])} rounds of {len(paths)} runs: "
            "requests/s %+.1f %%, P99 %+.1f %%, CPU per request %+.1f %%" % medians
        )


if __name__ == "__main__":
    main()

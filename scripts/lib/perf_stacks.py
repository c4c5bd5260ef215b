"""Sums `perf record --call-graph dwarf` stacks by Swift function, for the profiles quoted in
docs/PERFORMANCE.md. Symbols are demangled with `swift demangle`.

Usage:
  perf script -i perf.data -F tid,ip,sym,dso > stacks.txt
  python3 scripts/lib/perf_stacks.py stacks.txt outer REGEX    share of samples by the outermost
                                                                frame matching REGEX
  python3 scripts/lib/perf_stacks.py stacks.txt children REGEX [DEPTH]
                                                                share by what the outermost match
                                                                calls, DEPTH frames down (default 1)
  python3 scripts/lib/perf_stacks.py stacks.txt leaves REGEX    share by leaf frame, of the stacks
                                                                with a frame matching REGEX

Shares are of all samples in the file (every thread of the recorded process).
"""

import collections
import re
import subprocess
import sys

FRAME = re.compile(r"\s+[0-9a-f]+ (.*?) \((.*)\)\s*$")


def read_stacks(path: str) -> list[list[str]]:
    """Each sample's frames, leaf first, demangled."""
    stacks: list[list[str]] = []
    current: list[str] | None = None
    with open(path, encoding="utf-8", errors="replace") as text:
        for line in text:
            if not line.strip():
                if current:
                    stacks.append(current)
                current = None
            elif not line.startswith("\t"):
                current = []  # a sample's header line (its thread id)
            elif current is not None and (match := FRAME.match(line)):
                current.append(match.group(1))
    if current:
        stacks.append(current)
    symbols = sorted({frame for stack in stacks for frame in stack})
    demangled = subprocess.run(
        ["swift", "demangle", "--simplified", "--compact"], input="\n".join(symbols), capture_output=True, text=True, check=True
    ).stdout.split("\n")
    names = dict(zip(symbols, demangled))
    return [[names[frame] for frame in stack] for stack in stacks]


def outermost(stack: list[str], pattern: re.Pattern[str]) -> int | None:
    """The index of the frame nearest the root that matches, if any."""
    matches = [index for index, frame in enumerate(stack) if pattern.search(frame)]
    return matches[-1] if matches else None


def main() -> None:
    if len(sys.argv) < 4 or sys.argv[2] not in ("outer", "children", "leaves"):
        sys.exit(__doc__)
    stacks = read_stacks(sys.argv[1])
    mode, pattern = sys.argv[2], re.compile(sys.argv[3])
    depth = int(sys.argv[4]) if len(sys.argv) > 4 else 1
    counts: collections.Counter[str] = collections.Counter()
    matched = 0
    for stack in stacks:
        index = outermost(stack, pattern)
        if index is None:
            continue
        matched += 1
        if mode == "outer":
            counts[stack[index]] += 1
        elif mode == "children":
            counts[" <- ".join(reversed(stack[max(0, index - depth) : index])) or "(self)"] += 1
        else:
            counts[stack[0]] += 1
    total = len(stacks)
    print(f"{total} samples; {matched / total * 100:.2f} % with a frame matching {sys.argv[3]}")
    for name, count in counts.most_common(25):
        print(f"{count / total * 100:6.2f} %  {name[:200]}")


if __name__ == "__main__":
    main()

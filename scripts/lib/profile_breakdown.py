#!/usr/bin/env python3
"""Where a request's CPU goes, from `perf script -F comm,ip,sym,dso` on standard input.

Each sample is given to one part: a PostgreSQL backend's to PostgreSQL; a sample whose leaf is in
the kernel to the kernel (socket reads and writes, epoll, context switches); any other to the first
frame, from the leaf up, of a module this table knows, so retain/release, malloc and the Swift
runtime's metadata look-ups count for the code that called them. Prints a Markdown table of the
shares and, given the CPU per request in microseconds, each part's microseconds.

The Rust reference service's frames (demangled by perf: `tokio::runtime::…`) are given to its
crates the same way. It is built without frame pointers, so above the leaf its stacks are often
cut short: malloc, memcpy and libc there count as "with no frame above" more often than Runway's.

Usage: perf script -F comm,ip,sym,dso | python3 scripts/lib/profile_breakdown.py [CPU_US_PER_REQUEST]
"""

import collections
import re
import sys

# Mangled-name prefixes (Swift modules) and the part each belongs to, most specific first.
PARTS = [
    (("$s3App", "$s6Crypto"), "Runway: handlers, auth, middleware, JSON"),
    (
        (
            "$s9Telemetry", "$s8LokiPush", "$s11TempoExport", "$s18TelemetryBootstrap", "$s7Tracing",
            "$s7Logging", "$s7Metrics", "$s10Prometheus", "$s15Instrumentation", "$s15AsyncHTTPClient",
        ),
        "telemetry: access line, spans, metrics, exporters",
    ),
    (("$s9CostMeter",), "cost meter"),
    (("$s11PostgresNIO", "$s21_ConnectionPoolModule"), "PostgresNIO: driver and pool"),
    (("$s15HummingbirdCore", "$s11Hummingbird"), "Hummingbird: server, router, responses"),
    (
        ("$s7NIOCore", "$s8NIOPosix", "$s8NIOHTTP1", "$s12NIOHTTPTypes", "$s9HTTPTypes", "c_nio"),
        "SwiftNIO: channels, pipelines, HTTP/1 codec",
    ),
]
# The reference's crates (a demangled Rust path's first segment), by part.
RUST_PARTS = [
    (("rust_ref", "serde_json", "serde", "sha2"), "rust-ref: handlers, auth, JSON"),
    (("tokio_postgres", "postgres_protocol", "postgres_types"), "tokio-postgres: driver and pool"),
    (("hyper", "httparse", "http", "want"), "hyper: server, HTTP/1 codec"),
    (("tokio", "mio", "futures_util", "futures_core", "futures_channel", "parking_lot"), "tokio: runtime, I/O driver"),
]
RUST_CRATE = re.compile(r"^[<&\s]*(?:mut |dyn |impl )?([a-z_][a-z0-9_]*)::")
FRAME = re.compile(r"\s*[0-9a-f]+\s+(.*?)\s+\((.*)\)\s*$")


def samples(lines):
    comm, stack = None, None
    for line in lines:
        if not line.strip():
            if stack is not None:
                yield comm, stack
            comm, stack = None, None
        elif not line[0].isspace():
            comm, stack = line.split()[0], []
        elif stack is not None:
            match = FRAME.match(line)
            if match:
                stack.append((match.group(1), match.group(2)))
    if stack is not None:
        yield comm, stack


def part(comm, stack):
    if comm == "postgres":
        return "PostgreSQL backends"
    if stack and "kernel" in stack[0][1]:
        return "kernel: sockets, epoll, scheduling"
    for symbol, dso in stack:
        for prefixes, name in PARTS:
            if symbol.startswith(prefixes):
                return name
        crate = RUST_CRATE.match(symbol)
        if crate:
            for crates, name in RUST_PARTS:
                if crate.group(1) in crates:
                    return name
        if "Foundation" in dso:
            return "Foundation"
        if "swift_Concurrency" in dso:
            return "Swift concurrency runtime: jobs, executors"
    return "retain/release, malloc and libc with no Swift frame above"


def main():
    cpu = float(sys.argv[1]) if len(sys.argv) > 1 else None
    counts = collections.Counter(part(comm, stack) for comm, stack in samples(sys.stdin))
    total = sum(counts.values())
    if not total:
        sys.exit("no samples on standard input")
    print("| where | share |" + (" µs per request |" if cpu else ""))
    print("|---|---|" + ("---|" if cpu else ""))
    for name, count in counts.most_common():
        print(f"| {name} | {100 * count / total:.1f} % |" + (f" {cpu * count / total:.0f} |" if cpu else ""))
    print(f"({total} samples)")


if __name__ == "__main__":
    main()

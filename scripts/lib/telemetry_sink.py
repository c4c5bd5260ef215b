"""A stand-in Loki and OTLP/HTTP collector for tests and load tests: answers every push at once
and counts what it received.

Usage: python3 scripts/lib/telemetry_sink.py PORT_FILE STATS_FILE [--port N] [--reject-every N]
                                               [--unavailable-every N] [--trace-ids FILE] [--log-lines FILE]
Listens on 127.0.0.1 (on --port, else a free port; written to PORT_FILE) until SIGTERM, then writes
"pushes=N bytes=N trace_requests=N spans=N non_push=N rejected=N unavailable=N lines=N" to STATS_FILE.

- `POST /loki/api/v1/push` (protobuf): 204, counted as a push. With --log-lines, each body is
  decoded (cramjam's raw snappy, then proto/python's logproto.PushRequest: both must be
  installed) and every entry is counted in `lines` and appended to FILE as a JSON object
  {"labels", "line", "metadata"}.
- `POST /v1/traces` (protobuf): 200 with an empty ExportTraceServiceResponse. Each body is
  decoded with opentelemetry-proto (the official generated types), when it is installed, and
  its spans are counted; gzip bodies are inflated first.
- `GET /stats`: 200, the counters so far, in STATS_FILE's format (for a test that polls).
- anything else: 204, counted as non_push.

--reject-every N answers every Nth POST with 400 (a final rejection: the batch is dropped and
counted), --unavailable-every N every Nth with 503 (retryable), so a client's drop and retry
accounting has something to count.
"""

import argparse
import gzip
import json
import os
import signal
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

try:
    from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
except ImportError:  # counting requests and bytes only
    ExportTraceServiceRequest = None

lock = threading.Lock()
stats = {"pushes": 0, "bytes": 0, "trace_requests": 0, "spans": 0, "non_push": 0, "rejected": 0, "unavailable": 0, "lines": 0}
posts = 0
faults = {"reject_every": 0, "unavailable_every": 0}


def answer_for(post_number):
    """The injected fault for the Nth POST: (400, "rejected"), (503, "unavailable") or None."""
    if faults["reject_every"] and post_number % faults["reject_every"] == 0:
        return 400, "rejected"
    if faults["unavailable_every"] and post_number % faults["unavailable_every"] == 0:
        return 503, "unavailable"
    return None


trace_ids_file = None
log_lines_file = None
decode_push = None  # set by --log-lines: Loki push body -> [(labels, line, metadata)]


def push_decoder():
    """cramjam's raw snappy (Loki's util.RawSnappy) and the generated logproto.PushRequest."""
    sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "proto", "python"))
    import cramjam
    import push_pb2

    def decode(body):
        request = push_pb2.PushRequest.FromString(bytes(cramjam.snappy.decompress_raw(body)))
        return [
            (stream.labels, entry.line, {pair.name: pair.value for pair in entry.structuredMetadata})
            for stream in request.streams
            for entry in stream.entries
        ]

    return decode


def trace_ids(request):
    return {span.trace_id.hex() for resource in request.resource_spans for scope in resource.scope_spans for span in scope.spans}


def count_spans(body):
    request = ExportTraceServiceRequest()
    request.ParseFromString(body)
    return sum(len(scope.spans) for resource in request.resource_spans for scope in resource.scope_spans)


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as Loki and Tempo

    def handle(self):
        try:
            super().handle()
        except (ConnectionResetError, BrokenPipeError):
            pass  # the client went away (it is stopped at the end of a run)

    def do_GET(self):
        with lock:
            text = (" ".join(f"{k}={v}" for k, v in stats.items()) + "\n").encode() if self.path == "/stats" else b""
            if not text:
                stats["non_push"] += 1
        self.send_response(200 if text else 404)
        self.send_header("Content-Length", str(len(text)))
        self.send_header("Content-Type", "text/plain")
        self.end_headers()
        self.wfile.write(text)

    def do_POST(self):
        global posts
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length)
        protobuf = self.headers.get("Content-Type") == "application/x-protobuf"
        traces = self.path == "/v1/traces" and protobuf
        logs = self.path == "/loki/api/v1/push" and protobuf
        spans = 0
        entries = decode_push(body) if logs and decode_push else []
        if traces and ExportTraceServiceRequest:
            raw = gzip.decompress(body) if self.headers.get("Content-Encoding") == "gzip" else body
            spans = count_spans(raw)
            if trace_ids_file:
                request = ExportTraceServiceRequest()
                request.ParseFromString(raw)
                with lock, open(trace_ids_file, "a") as f:
                    f.write("".join(f"{trace_id}\n" for trace_id in trace_ids(request)))
        with lock:
            posts += 1
            fault = answer_for(posts)
            if fault:
                stats[fault[1]] += 1
            elif traces:
                stats["trace_requests"] += 1
                stats["bytes"] += length
                stats["spans"] += spans
            elif logs:
                stats["pushes"] += 1
                stats["bytes"] += length
                stats["lines"] += len(entries)
                if log_lines_file:
                    with open(log_lines_file, "a") as f:
                        f.write("".join(json.dumps({"labels": labels, "line": line, "metadata": metadata}) + "\n"
                                        for labels, line, metadata in entries))
            else:
                stats["non_push"] += 1
        text = b"injected fault\n" if fault else b""
        self.send_response(fault[0] if fault else 200 if traces else 204)
        self.send_header("Content-Length", str(len(text)))
        if text:
            self.send_header("Content-Type", "text/plain")
        elif traces:
            self.send_header("Content-Type", "application/x-protobuf")
        self.end_headers()
        self.wfile.write(text)

    def log_message(self, format, *args):
        pass


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("port_file")
    parser.add_argument("stats_file")
    parser.add_argument("--reject-every", type=int, default=0)
    parser.add_argument("--unavailable-every", type=int, default=0)
    parser.add_argument("--trace-ids", help="append the trace id of every span received to this file")
    parser.add_argument("--log-lines", help="decode Loki pushes: count their lines, append each to this file as JSON")
    parser.add_argument("--port", type=int, default=0, help="listen on this port of 127.0.0.1 (default: a free one)")
    args = parser.parse_args()
    global trace_ids_file, log_lines_file, decode_push
    trace_ids_file = args.trace_ids
    if args.log_lines:
        log_lines_file, decode_push = args.log_lines, push_decoder()
    faults.update(reject_every=args.reject_every, unavailable_every=args.unavailable_every)
    server = ThreadingHTTPServer(("127.0.0.1", args.port), Handler)
    server.daemon_threads = True

    def stop(signum, frame):
        threading.Thread(target=server.shutdown).start()

    signal.signal(signal.SIGTERM, stop)
    with open(args.port_file + ".tmp", "w") as f:
        f.write(str(server.server_address[1]))
    os.replace(args.port_file + ".tmp", args.port_file)
    server.serve_forever()
    with lock, open(args.stats_file, "w") as f:
        f.write(" ".join(f"{k}={v}" for k, v in stats.items()) + "\n")


if __name__ == "__main__":
    main()

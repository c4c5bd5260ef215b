"""A stand-in Loki for load tests: answers every push with 204 and counts what it received.

Usage: python3 scripts/lib/loki_sink.py PORT_FILE STATS_FILE
Listens on 127.0.0.1 (a free port, written to PORT_FILE) until SIGTERM, then writes
"pushes=N bytes=N non_push=N" to STATS_FILE.
"""

import os
import signal
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

lock = threading.Lock()
stats = {"pushes": 0, "bytes": 0, "non_push": 0}


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as Loki

    def do_POST(self):
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length)
        with lock:
            if self.path == "/loki/api/v1/push" and self.headers.get("Content-Type") == "application/x-protobuf":
                stats["pushes"] += 1
                stats["bytes"] += len(body)
            else:
                stats["non_push"] += 1
        self.send_response(204)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, format, *args):
        pass


def main():
    port_file, stats_file = sys.argv[1], sys.argv[2]
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True

    def stop(signum, frame):
        threading.Thread(target=server.shutdown).start()

    signal.signal(signal.SIGTERM, stop)
    with open(port_file + ".tmp", "w") as f:
        f.write(str(server.server_address[1]))
    os.replace(port_file + ".tmp", port_file)
    server.serve_forever()
    with lock, open(stats_file, "w") as f:
        f.write(" ".join(f"{k}={v}" for k, v in stats.items()) + "\n")


if __name__ == "__main__":
    main()

"""Decodes a Loki push body with independent implementations: cramjam's snappy (raw block
format, as Loki's util.RawSnappy) and protobuf's generated `logproto.PushRequest` (proto/python).
Prints the request as JSON for the Swift conformance tests.

Usage: loki_push_decode.py BODY_FILE
"""
import json
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "proto", "python"))

import cramjam  # noqa: E402
import push_pb2  # noqa: E402


def main() -> None:
    with open(sys.argv[1], "rb") as f:
        compressed = f.read()
    raw = bytes(cramjam.snappy.decompress_raw(compressed))
    request = push_pb2.PushRequest.FromString(raw)
    # Re-encoding must give the same bytes: no unknown fields, canonical field order.
    assert request.SerializeToString() == raw, "re-encoded bytes differ"
    out = {
        "format": request.format,
        "streams": [
            {
                "labels": stream.labels,
                "hash": stream.hash,
                "entries": [
                    {
                        "seconds": entry.timestamp.seconds,
                        "nanos": entry.timestamp.nanos,
                        "line": entry.line,
                        "metadata": [[pair.name, pair.value] for pair in entry.structuredMetadata],
                        "parsed": len(entry.parsed),
                    }
                    for entry in stream.entries
                ],
            }
            for stream in request.streams
        ],
    }
    json.dump(out, sys.stdout, ensure_ascii=False)


if __name__ == "__main__":
    main()

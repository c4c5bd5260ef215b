#!/usr/bin/env python3
"""Decode an OTLP ExportTraceServiceRequest (protobuf, optionally gzip) with the official
opentelemetry-proto types and print it as JSON for the Swift conformance tests.

Usage: otlp_trace_decode.py FILE [--gzip]

Output shape: {"resource_spans": [{"resource": {...}, "scope_spans": [{"scope": {...}, "spans": [...]}]}]}
ids are lowercase hex, enums are integers, values are {"string"|"bool"|"int"|"double"|"array": ...}.
"""
import gzip
import json
import sys

from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest


def value(any_value):
    kind = any_value.WhichOneof("value")
    if kind == "string_value":
        return {"string": any_value.string_value}
    if kind == "bool_value":
        return {"bool": any_value.bool_value}
    if kind == "int_value":
        return {"int": any_value.int_value}
    if kind == "double_value":
        return {"double": any_value.double_value}
    if kind == "array_value":
        return {"array": [value(v) for v in any_value.array_value.values]}
    return {"other": kind}


def attributes(key_values):
    return [{"key": kv.key, "value": value(kv.value)} for kv in key_values]


def span(s):
    return {
        "trace_id": s.trace_id.hex(),
        "span_id": s.span_id.hex(),
        "parent_span_id": s.parent_span_id.hex(),
        "trace_state": s.trace_state,
        "name": s.name,
        "kind": int(s.kind),
        "start_time_unix_nano": s.start_time_unix_nano,
        "end_time_unix_nano": s.end_time_unix_nano,
        "attributes": attributes(s.attributes),
        "dropped_attributes_count": s.dropped_attributes_count,
        "events": [
            {
                "time_unix_nano": e.time_unix_nano,
                "name": e.name,
                "attributes": attributes(e.attributes),
                "dropped_attributes_count": e.dropped_attributes_count,
            }
            for e in s.events
        ],
        "dropped_events_count": s.dropped_events_count,
        "links": [
            {
                "trace_id": l.trace_id.hex(),
                "span_id": l.span_id.hex(),
                "trace_state": l.trace_state,
                "attributes": attributes(l.attributes),
                "dropped_attributes_count": l.dropped_attributes_count,
                "flags": l.flags,
            }
            for l in s.links
        ],
        "dropped_links_count": s.dropped_links_count,
        "has_status": s.HasField("status"),
        "status": {"code": int(s.status.code), "message": s.status.message},
        "flags": s.flags,
    }


def main():
    path = sys.argv[1]
    with open(path, "rb") as f:
        body = f.read()
    if "--gzip" in sys.argv[2:]:
        body = gzip.decompress(body)
    request = ExportTraceServiceRequest()
    request.ParseFromString(body)
    # Every byte must have been understood: nothing may land in unknown fields.
    if request.SerializeToString() != body:
        print("re-encoding differs from the input (unknown or non-canonical fields)", file=sys.stderr)
        sys.exit(2)
    out = {
        "resource_spans": [
            {
                "resource": {"attributes": attributes(rs.resource.attributes)},
                "scope_spans": [
                    {
                        "scope": {"name": ss.scope.name, "version": ss.scope.version},
                        "spans": [span(s) for s in ss.spans],
                    }
                    for ss in rs.scope_spans
                ],
            }
            for rs in request.resource_spans
        ]
    }
    json.dump(out, sys.stdout)


if __name__ == "__main__":
    main()

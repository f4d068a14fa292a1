"""An OTLP/HTTP trace receiver on loopback, for app/tests/traces.rs: POST
/v1/traces with a protobuf ExportTraceServiceRequest (decoded with the
opentelemetry-proto package), answered 200 with an empty
ExportTraceServiceResponse. Prints `listening <port>`, then one JSON line per
span received: its names and ids (hex), attributes, the resource's
service.name, and the request's headers.

usage: otlp_receiver.py [--count]
--count (bin/bench): print nothing per span; GET /count answers how many spans
were received so far.
"""

import json
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import threading

from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceRequest,
    ExportTraceServiceResponse,
)


def value(v):
    kind = v.WhichOneof("value")
    return getattr(v, kind) if kind else None


COUNT_ONLY = "--count" in sys.argv[1:]
received = 0
lock = threading.Lock()


class Handler(BaseHTTPRequestHandler):
    # Keep-alive, as a collector does: the exporter sends its batches over one
    # connection instead of opening one per batch.
    protocol_version = "HTTP/1.1"

    def do_GET(self):
        body = str(received).encode()
        self.send_response(200 if self.path == "/count" else 404)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_POST(self):
        global received
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        if self.path != "/v1/traces" or self.headers.get("Content-Type") != "application/x-protobuf":
            print(json.dumps({"refused": self.path, "content_type": self.headers.get("Content-Type")}), flush=True)
            self.send_response(404)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        request = ExportTraceServiceRequest()
        request.ParseFromString(body)
        headers = {k.lower(): v for k, v in self.headers.items()}
        with lock:
            received += sum(len(ss.spans) for rs in request.resource_spans for ss in rs.scope_spans)
        for rs in [] if COUNT_ONLY else request.resource_spans:
            resource = {a.key: value(a.value) for a in rs.resource.attributes}
            for ss in rs.scope_spans:
                for s in ss.spans:
                    print(json.dumps({
                        "name": s.name,
                        "kind": s.kind,
                        "trace_id": s.trace_id.hex(),
                        "span_id": s.span_id.hex(),
                        "parent_span_id": s.parent_span_id.hex(),
                        "attributes": {a.key: value(a.value) for a in s.attributes},
                        "service_name": resource.get("service.name"),
                        "resource": resource,
                        "flags": s.flags,
                        "status": {"code": s.status.code, "message": s.status.message},
                        "start": s.start_time_unix_nano,
                        "end": s.end_time_unix_nano,
                        "headers": headers,
                    }), flush=True)
        out = ExportTraceServiceResponse().SerializeToString()
        self.send_response(200)
        self.send_header("Content-Type", "application/x-protobuf")
        self.send_header("Content-Length", str(len(out)))
        self.end_headers()
        self.wfile.write(out)

    def log_message(self, fmt, *args):
        print(fmt % args, file=sys.stderr, flush=True)


server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
print(f"listening {server.server_address[1]}", flush=True)
server.serve_forever()

"""moto on a port the OS picks, optionally behind the behaviour proxy.

Usage: aws_server.py [--rules FILE] [--log FILE] [--latency-ms N]

Starts moto's server in this process on 127.0.0.1:0 (no port race: the socket
is bound before anyone learns its number) and prints one JSON line on stdout:
{"moto": PORT, "proxy": PORT|null}. With --rules, a proxy on another OS-picked
port answers the requests the rules match the way real AWS does and forwards
everything else to moto. The rules file is re-read whenever it changes, so a
test may switch behaviours between commands. Every request through the proxy
is logged to --log as a JSON line {"service", "operation", "injected", "call",
"start", "peer" (the client's port: its connection), "proxied" (it came through an
HTTP proxy: its request line named the whole URL)} (with "clientToken" and "name",
the serviceName or clusterName, for JSON requests), and a line {"call", "end"}
when its answer is ready: the call recorder, whose chains
tests/support/call_chain.py reads.

With --latency-ms N (for bin/bench latency), the proxy holds every request N ms
before answering it, as a real region's round trip does (20-100 ms against moto's
~4 ms on loopback); calls made concurrently wait concurrently.

Exits when stdin closes (the test that started it is gone), or, with
--until-killed (for scripts that start it in the background), on SIGTERM.

A rule (see tests/scenarios/real_aws.json for the catalogue):
  {"name": "...", "service": "ecs", "operation": "CreateCluster",
   "body_contains": "optional substring of the request body",
   "first": N  (answer the first N matching calls) | "every": N (every Nth) | "always": true
     | "while": "other rule" (every matching call while that rule has answers left),
   "respond": {"status": 400, "code": "...", "message": "..."}       an AWS error
            | {"status": 200, "body": {...}}                          a success body (JSON protocols)
            | {"replace": [["from", "to"], ...]}                      moto's answer, rewritten
  }
or a behaviour: {"behaviour": "ecs-lifecycle", "drain_seconds": S}
(tests/support/ecs_lifecycle.py: DRAINING, INACTIVE, the network interfaces that
hold security groups, and DeleteCluster refused while services remain);
{"behaviour": "route53-exact"} (tests/support/route53_exact.py: a DELETE must
match the live record exactly, and a batch fails whole);
{"behaviour": "dynamodb-creating", "creating_seconds": S} (tests/support/
dynamodb_creating.py: a new table is CREATING, and refuses item calls, for S seconds).
{"behaviour": "ecs-capacity"} (tests/support/ecs_capacity.py: a service keeps its
capacity-provider strategy, and a launch type with a strategy is refused).
{"behaviour": "ecs-release"} (tests/support/ecs_release.py: a service keeps its
deployment strategy, controller and advancedConfiguration, and a non-rolling one
without advancedConfiguration is refused).
The entries of CreateService, UpdateService, CreateRule and ModifyRule calls carry
their request body ("body"), for tests that assert on what reached AWS.
{"behaviour": "logs-live-tail", "update_seconds": U, "session_seconds": S}
(tests/support/logs_live_tail.py: StartLiveTail answered as a stream that stays
open, pushes what is ingested after the session started, and times out).
{"behaviour": "throttle", "buckets": [...]} (tests/support/throttle.py: AWS's request rates, token buckets).
A rule with "page_size": N (and no "respond") answers a list or describe call in pages
of N items with tokens of the proxy's own, "empty_pages": true adding an empty page
with a token before each: see tests/support/paging.py, whose PAGED names the calls.
"""

import http.client
import itertools
import json
import os
import sys
import threading
import time
import urllib.parse
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from ecs_lifecycle import EcsLifecycle  # noqa: E402
from route53_exact import Route53Exact  # noqa: E402
from dynamodb_creating import DynamodbCreating  # noqa: E402
from ecs_capacity import EcsCapacity  # noqa: E402
from ecs_release import EcsRelease  # noqa: E402
from logs_live_tail import LogsLiveTail  # noqa: E402
from throttle import Throttle  # noqa: E402

BEHAVIOURS = {
    "ecs-lifecycle": EcsLifecycle,
    "route53-exact": Route53Exact,
    "dynamodb-creating": DynamodbCreating,
    "ecs-capacity": EcsCapacity,
    "ecs-release": EcsRelease,
    "logs-live-tail": LogsLiveTail,
    "throttle": Throttle,
}
import paging

# Query-protocol services and their XML namespaces (the ErrorResponse shape).
QUERY_NAMESPACES = {
    "elasticloadbalancing": "http://elasticloadbalancing.amazonaws.com/doc/2015-12-01/",
    "sts": "https://sts.amazonaws.com/doc/2011-06-15/",
    "iam": "https://iam.amazonaws.com/doc/2010-05-08/",
    "route53": "https://route53.amazonaws.com/doc/2013-04-01/",
}


def start_moto():
    from moto.moto_server.threaded_moto_server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    port = server.get_host_and_port()[1]
    # moto builds some URLs from MOTO_PORT; no request has arrived yet.
    os.environ["MOTO_PORT"] = str(port)
    return port


class Rules:
    def __init__(self, path):
        self.path = path
        self.stamp = None
        self.rules = []
        self.counts = {}
        self.behaviours = {}
        self.lock = threading.Lock()

    def _reload(self):
        if not self.path:
            return
        try:
            stat = os.stat(self.path)
        except FileNotFoundError:
            return
        stamp = (stat.st_mtime_ns, stat.st_size)
        if stamp != self.stamp:
            with open(self.path) as f:
                self.rules = json.load(f)
            self.counts = {}
            self.stamp = stamp
            # A behaviour keeps what it has seen across rule changes.
            kept, self.behaviours = self.behaviours, {}
            for entry in self.rules:
                name = entry.get("behaviour")
                if name in BEHAVIOURS:
                    behaviour = kept.get(name) or BEHAVIOURS[name]()
                    behaviour.configure(entry)
                    self.behaviours[name] = behaviour
            self.rules = [r for r in self.rules if "behaviour" not in r]

    def behaviour(self, name):
        """The stateful behaviour of that name, when the rules file enables it."""
        with self.lock:
            self._reload()
            return self.behaviours.get(name)

    def pick(self, service, operation, body):
        """The rule that answers this call, or None (forward it to moto)."""
        with self.lock:
            self._reload()
            left = {r.get("name"): self.counts.get(i, 0) < r.get("first", 0) for i, r in enumerate(self.rules)}
            for i, rule in enumerate(self.rules):
                if rule.get("service") not in (None, service) or rule["operation"] != operation:
                    continue
                if rule.get("body_contains") and rule["body_contains"] not in body:
                    continue
                n = self.counts.get(i, 0) + 1
                self.counts[i] = n
                if rule.get("always") or ("first" in rule and n <= rule["first"]) or (
                    "every" in rule and n % rule["every"] == 0
                ) or ("while" in rule and left.get(rule["while"])):
                    return rule
            return None


def service_of(headers):
    """The signing name in the SigV4 credential scope: .../<region>/<service>/aws4_request."""
    auth = headers.get("Authorization", "")
    for part in auth.replace(",", " ").split():
        if part.startswith("Credential="):
            scope = part[len("Credential="):].split("/")
            if len(scope) >= 5:
                return scope[3]
    return ""


def operation_of(method, headers, path, body):
    target = headers.get("X-Amz-Target")
    if target:
        return target.rsplit(".", 1)[-1]
    for text in (body, urllib.parse.urlsplit(path).query):
        action = urllib.parse.parse_qs(text).get("Action")
        if action:
            return action[0]
    return f"{method} {urllib.parse.urlsplit(path).path}"


def error_response(service, json_protocol, status, code, message):
    if json_protocol:
        body = json.dumps({"__type": code, "message": message}).encode()
        return status, "application/x-amz-json-1.1", body
    request_id = str(uuid.uuid4())
    if service == "ec2":
        xml = (
            f"<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Response><Errors><Error><Code>{code}</Code>"
            f"<Message>{message}</Message></Error></Errors><RequestID>{request_id}</RequestID></Response>"
        )
    else:
        kind = "Receiver" if status >= 500 else "Sender"
        ns = QUERY_NAMESPACES.get(service, "")
        xml = (
            f"<ErrorResponse xmlns=\"{ns}\"><Error><Type>{kind}</Type><Code>{code}</Code>"
            f"<Message>{message}</Message></Error><RequestId>{request_id}</RequestId></ErrorResponse>"
        )
    return status, "text/xml", xml.encode()


class ProxyServer(ThreadingHTTPServer):
    """A command's first calls open a connection each, a dozen or more at once.
    socketserver listens with a backlog of 5: the connections over it had their SYN
    dropped and retried by the client's kernel after a second (Linux's initial
    retransmission timeout), a stall AWS's endpoints do not have. 128 is werkzeug's
    (moto's server's) backlog."""

    request_queue_size = 128
    daemon_threads = True


def make_handler(moto_port, rules, log_path, latency):
    log_lock = threading.Lock()

    calls = itertools.count(1)

    def log(entry):
        if log_path:
            with log_lock, open(log_path, "a") as f:
                f.write(json.dumps(entry) + "\n")

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        # TCP_NODELAY on every connection, as AWS's endpoints answer: an answer goes
        # out as its headers and then its body, and with Nagle's algorithm on, the
        # body waited for the client's delayed ACK of the headers, about 40 ms on
        # Linux, on some calls (socketserver.StreamRequestHandler's
        # disable_nagle_algorithm, Python library reference).
        disable_nagle_algorithm = True

        def log_message(self, fmt, *args):
            sys.stderr.write("proxy: " + (fmt % args) + "\n")

        def _forward(self, body):
            conn = http.client.HTTPConnection("127.0.0.1", moto_port, timeout=60)
            # http.client sets Content-Length from the body (the paging may have changed it).
            headers = {k: v for k, v in self.headers.items() if k.lower() not in ("connection", "content-length")}
            conn.request(self.command, self.path, body=body, headers=headers)
            resp = conn.getresponse()
            data = resp.read()
            out = [(k, v) for k, v in resp.getheaders() if k.lower() not in ("transfer-encoding", "connection", "content-length")]
            conn.close()
            return resp.status, out, data

        def _fetch(self, method, path):
            """A call of the proxy's own to moto, signed as the request it checks."""
            conn = http.client.HTTPConnection("127.0.0.1", moto_port, timeout=60)
            skip = ("connection", "content-length", "content-type", "transfer-encoding")
            headers = {k: v for k, v in self.headers.items() if k.lower() not in skip}
            conn.request(method, path, headers=headers)
            resp = conn.getresponse()
            data = resp.read()
            conn.close()
            return resp.status, data

        def _send(self, status, headers, data):
            # The call's end is written before its answer, so that whoever reads the
            # log once the answer arrived finds it.
            self._ended()
            self.send_response(status)
            for k, v in headers:
                self.send_header(k, v)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def _ended(self):
            if self._entry is not None:
                log({"call": self._entry["call"], "end": time.time()})
                self._entry = None

        def send_aws_error(self, status, code, message):
            """An error in the JSON protocols' shape (for the behaviours that answer)."""
            status, ctype, data = error_response("", True, status, code, message)
            headers = [("Content-Type", ctype), ("x-amzn-RequestId", str(uuid.uuid4())), ("x-amzn-ErrorType", code)]
            self._send(status, headers, data)

        def _handle(self):
            # The call recorder: each call's entry carries a number and its start; a
            # line {"call": N, "end": T} follows when its answer is ready
            # (tests/support/call_chain.py reads the chains of calls from them).
            self._entry = None
            started = time.time()
            try:
                self._handle_call(started)
            finally:
                self._ended()  # a streamed answer (Live Tail) ends with its session

        def _handle_call(self, started):
            # A client sent through an HTTP proxy (HTTP_PROXY) names the whole URL in
            # its request line (the absolute form, RFC 9112 section 3.2.2): served
            # here as the proxy it was sent to would, and said so in the log.
            proxied = self.path.startswith(("http://", "https://"))
            if proxied:
                target = urllib.parse.urlsplit(self.path)
                self.path = target.path + ("?" + target.query if target.query else "")
            if latency:
                time.sleep(latency)
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            text = body.decode("utf-8", "replace")
            service = service_of(self.headers)
            operation = operation_of(self.command, self.headers, self.path, text)
            rule = rules.pick(service, operation, text)
            entry = {"service": service, "operation": operation, "injected": rule["name"] if rule else None,
                     "call": next(calls), "start": started, "peer": self.client_address[1], "proxied": proxied}
            self._entry = entry
            if operation in ("CreateService", "UpdateService", "CreateRule", "ModifyRule"):
                entry["body"] = text
            if "X-Amz-Target" in self.headers:
                try:
                    request = json.loads(text or "{}")
                    entry["clientToken"] = request.get("clientToken")
                    entry["name"] = request.get("serviceName") or request.get("clusterName")
                except ValueError:
                    pass
            lifecycle = rules.behaviour("ecs-lifecycle")
            refused = lifecycle.before(service, operation, text) if lifecycle and rule is None else None
            exact = rules.behaviour("route53-exact")
            if exact and rule is None and refused is None and service == "route53":
                refused = exact.before(self.command, self.path, text, self._fetch)
            creating = rules.behaviour("dynamodb-creating")
            if creating and rule is None and refused is None:
                refused = creating.before(service, operation, text)
            capacity = rules.behaviour("ecs-capacity")
            if capacity and rule is None and refused is None:
                refused = capacity.before(service, operation, text)
                if refused:
                    entry["injected"] = "ecs-capacity"
            release = rules.behaviour("ecs-release")
            if release and rule is None and refused is None:
                refused = release.before(service, operation, text)
                if refused:
                    entry["injected"] = "ecs-release"
            if refused:
                default = entry.get("injected") if entry.get("injected") in ("ecs-capacity", "ecs-release") else "ecs-lifecycle"
                by = {"route53": "route53-exact", "dynamodb": "dynamodb-creating"}.get(service, default)
                rule = {"name": by, "respond": dict(zip(("status", "code", "message"), refused))}
                entry["injected"] = by
            throttle = rules.behaviour("throttle")
            over = throttle.before(service, operation, text) if throttle and rule is None else None
            if over:
                rule, entry["injected"] = {"name": "throttle", "respond": dict(zip(("status", "code", "message"), over))}, "throttle"
            live = rules.behaviour("logs-live-tail")
            if live and rule is None and refused is None and live.handles(service, operation):
                entry["injected"] = "logs-live-tail"
                log(entry)
                live.serve(self, text)
                return
            log(entry)
            if rule is None:
                status, headers, data = self._forward(body)
                if lifecycle:
                    data = lifecycle.after(service, operation, text, status, data)
                if creating:
                    data = creating.after(service, operation, text, status, data)
                if capacity:
                    data = capacity.after(service, operation, text, status, data)
                if release:
                    data = release.after(service, operation, text, status, data)
                self._send(status, headers, data)
                return
            json_protocol = "X-Amz-Target" in self.headers
            if "page_size" in rule:
                try:
                    self._send(*paging.answer(rule, service, operation, text, self._forward))
                except paging.PagingError as e:
                    status, ctype, data = error_response(service, json_protocol, e.status, e.code, e.message)
                    headers = [("Content-Type", ctype), ("x-amzn-RequestId", str(uuid.uuid4()))]
                    if json_protocol:
                        headers.append(("x-amzn-ErrorType", e.code))
                    self._send(status, headers, data)
                return
            respond = rule["respond"]
            if "replace" in respond:
                status, headers, data = self._forward(body)
                out = data.decode("utf-8")
                for old, new in respond["replace"]:
                    out = out.replace(old, new)
                self._send(status, headers, out.encode())
            elif "body" in respond:
                data = json.dumps(respond["body"]).encode()
                self._send(respond.get("status", 200), [("Content-Type", "application/x-amz-json-1.1")], data)
            else:
                status, ctype, data = error_response(
                    service, json_protocol, respond["status"], respond["code"], respond["message"]
                )
                headers = [("Content-Type", ctype), ("x-amzn-RequestId", str(uuid.uuid4()))]
                if json_protocol:
                    headers.append(("x-amzn-ErrorType", respond["code"]))
                self._send(status, headers, data)

        do_GET = do_POST = do_PUT = do_DELETE = do_HEAD = _handle

    return Handler


def main():
    args = sys.argv[1:]
    rules_path = args[args.index("--rules") + 1] if "--rules" in args else None
    log_path = args[args.index("--log") + 1] if "--log" in args else None
    latency = float(args[args.index("--latency-ms") + 1]) / 1000 if "--latency-ms" in args else 0
    moto_port = start_moto()
    proxy_port = None
    if rules_path or latency:
        handler = make_handler(moto_port, Rules(rules_path), log_path, latency)
        server = ProxyServer(("127.0.0.1", 0), handler)
        proxy_port = server.server_address[1]
        threading.Thread(target=server.serve_forever, daemon=True).start()
    print(json.dumps({"moto": moto_port, "proxy": proxy_port}), flush=True)
    if "--until-killed" in args:
        threading.Event().wait()
    else:
        sys.stdin.read()


if __name__ == "__main__":
    main()

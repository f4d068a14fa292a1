"""A behaviour of the proxy: CloudWatch Logs Live Tail as real AWS serves it.

moto 5.2.5 answers StartLiveTail with every event the streams hold and ends the
stream at once. Real Live Tail keeps the response open and pushes what is
ingested after the session started. Enabled by an entry
{"behaviour": "logs-live-tail", "update_seconds": U, "session_seconds": S}
in the rules file (a change of S applies to the sessions already open); the proxy then answers StartLiveTail itself, reading the
events from moto's backend (this process). What real AWS does, and the sources:
  - "A single LiveTailSessionStart object is sent at the start of the session.
    Every second, a LiveTailSessionUpdate object is sent. [...] If no new log
    events were ingested in the past second, the LiveTailSessionUpdate object
    will contain an empty array." Up to 500 events an update; more are sampled
    down to 500 (`sessionMetadata.sampled`). (API Reference, StartLiveTail)
  - "A SessionTimeoutException object is returned when the session times out,
    after it has been kept open for three hours." (same page; S seconds here)
  - The events of a session are those ingested after it started, of the
    streams whose names start with one of `logStreamNamePrefixes`
    (API Reference, StartLiveTail, LiveTailSessionLogEvent).
  - The stream opens with an `initial-response` event (the output's members
    other than the stream: none here), as the awsJson protocols' event streams
    do (botocore refuses a stream without it; moto sends it too).
  - The stream is the AWS event stream encoding, content type
    application/vnd.amazon.eventstream: each message a prelude (total and
    headers length, CRC32), headers (`:message-type` event or exception,
    `:event-type` or `:exception-type`, `:content-type`), a JSON payload and a
    CRC32 of the whole (Amazon Transcribe developer guide, "Event stream
    encoding"; the smithy event stream specification).
The text of a SessionTimeoutException's message is not documented; the code is
what clients match, and what this sends exactly.
"""

import json
import struct
import threading
import time
import uuid
import zlib


def _header(name, value):
    name_b, value_b = name.encode(), value.encode()
    return struct.pack("!B", len(name_b)) + name_b + struct.pack("!BH", 7, len(value_b)) + value_b


def frame(headers, payload):
    """One event stream message: prelude, prelude CRC, headers, payload, message CRC."""
    head = b"".join(_header(k, v) for k, v in headers)
    total = 12 + len(head) + len(payload) + 4
    prelude = struct.pack("!II", total, len(head))
    prelude += struct.pack("!I", zlib.crc32(prelude) & 0xFFFFFFFF)
    body = prelude + head + payload
    return body + struct.pack("!I", zlib.crc32(body) & 0xFFFFFFFF)


def event(kind, body):
    headers = [(":message-type", "event"), (":event-type", kind), (":content-type", "application/json")]
    return frame(headers, json.dumps(body).encode())


def exception(kind, message):
    headers = [(":message-type", "exception"), (":exception-type", kind), (":content-type", "application/json")]
    return frame(headers, json.dumps({"message": message}).encode())


class LogsLiveTail:
    def __init__(self):
        self.lock = threading.Lock()
        self.update_seconds = 1.0
        self.session_seconds = 3 * 3600.0
        self.sessions = 0

    def configure(self, entry):
        self.update_seconds = float(entry.get("update_seconds", 1.0))
        self.session_seconds = float(entry.get("session_seconds", 3 * 3600.0))

    def handles(self, service, operation):
        return service == "logs" and operation == "StartLiveTail"

    def serve(self, handler, text):
        """Answers one StartLiveTail on the handler's connection, for as long as the
        session lasts or the client stays."""
        from moto.logs.models import logs_backends

        request = json.loads(text or "{}")
        arn = (request.get("logGroupIdentifiers") or [""])[0]
        prefixes = request.get("logStreamNamePrefixes") or []
        parts = arn.split(":")
        if len(parts) < 7:
            return handler.send_aws_error(400, "InvalidParameterException", "logGroupIdentifiers must be ARNs")
        region, account, name = parts[3], parts[4], ":".join(parts[6:])
        group = logs_backends[account][region].groups.get(name)
        if group is None:
            return handler.send_aws_error(400, "ResourceNotFoundException", "The specified log group does not exist.")
        with self.lock:
            self.sessions += 1

        def ours():
            return [s for s in list(group.streams.values()) if not prefixes or any(s.log_stream_name.startswith(p) for p in prefixes)]

        # What exists when the session starts is not sent: only what is ingested after.
        sent = {s.log_stream_name: len(s.events) for s in ours()}
        handler.send_response(200)
        handler.send_header("Content-Type", "application/vnd.amazon.eventstream")
        handler.send_header("Transfer-Encoding", "chunked")
        handler.send_header("x-amzn-RequestId", str(uuid.uuid4()))
        handler.end_headers()

        def chunk(data):
            handler.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))
            handler.wfile.flush()

        start = {
            "requestId": str(uuid.uuid4()),
            "sessionId": str(uuid.uuid4()),
            "logGroupIdentifiers": [arn],
            "logStreamNames": [],
            "logStreamNamePrefixes": prefixes,
            "logEventFilterPattern": "",
        }
        try:
            chunk(frame([(":message-type", "event"), (":event-type", "initial-response")], b""))
            chunk(event("sessionStart", start))
            began = time.monotonic()
            while True:
                # Read each time: a test may shorten the sessions already open.
                ends = began + self.session_seconds
                time.sleep(max(0.0, min(self.update_seconds, ends - time.monotonic())))
                results = []
                for stream in ours():
                    events = list(stream.events)
                    for e in events[sent.get(stream.log_stream_name, 0):]:
                        results.append({
                            "logStreamName": stream.log_stream_name,
                            "logGroupIdentifier": arn,
                            "message": e.message,
                            "timestamp": e.timestamp,
                            "ingestionTime": e.ingestion_time,
                        })
                    sent[stream.log_stream_name] = len(events)
                results.sort(key=lambda r: r["timestamp"])
                update = {"sessionMetadata": {"sampled": len(results) > 500}, "sessionResults": results[:500]}
                chunk(event("sessionUpdate", update))
                if time.monotonic() >= ends:
                    chunk(exception("SessionTimeoutException", "Session timed out"))
                    break
            chunk(b"")
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client closed the session
        handler.close_connection = True

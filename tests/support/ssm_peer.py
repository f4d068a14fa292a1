#!/usr/bin/env python3
"""A Session Manager data-channel peer that behaves as the SSM agent does for
ECS Exec (aws/amazon-ssm-agent: session/datachannel/datachannel.go,
session/shell/shell_unix.go, session/crypto/blockcipher.go), written from the
agent's semantics and the frame layout of session/contracts/agentmessage.go.

It runs the session's command the way the agent does in container mode: split
with shlex, started on a pty with no shell of its own; input is not acked until
the pty exists. Scenario keys (all optional):
  handshake: bool        send a HandshakeRequest (SessionType) first
  kmsKeyId: str          also request KMSEncryption; the data key is decrypted with
                         KMS (moto, via AWS_ENDPOINT_URL) using the encryption context
  withholdAcks: int      ignore the first N input frames (no ack): the pty "does not exist yet"
  banner: [str]          output frames sent before the command's output
  order: [int]           the order the banner frames go out in (indexes; repeats are duplicates)
  badDigest: bool        the first banner frame goes out with a wrong digest first
  pause: bool            pause_publication before the banner, start_publication once it is acked
  closedHeader: 116|112  the channel_closed header length
  dropAfter: str         drop the TCP connection (no close frame) once this text was output
  freezeAfter: str       once this text was output, go silent with the connection open: no
                         frame, no pong (a peer gone behind a NAT or a sleeping laptop)
  stallUpgrade: bool     accept the TCP connection but never answer the WebSocket upgrade
Every event is appended as a JSON line to the events file for the test to read.

usage (standalone, for other clients): ssm_peer.py SCENARIO_FILE URL_FILE"""
import base64
import hashlib
import json
import os
import shlex
import struct
import subprocess
import sys
import threading
import time
import uuid

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import ws_server  # noqa: E402

HL = 116
ACK, INPUT, OUTPUT, CLOSED = "acknowledge", "input_stream_data", "output_stream_data", "channel_closed"
P_OUTPUT, P_SIZE, P_HS_REQ, P_HS_RESP, P_HS_DONE, P_CH_REQ, P_CH_RESP = 1, 3, 5, 6, 7, 8, 9


def encode(mtype, seq, flags, ptype, payload, msg_id=None, header=HL, digest=None):
    mid = (msg_id or uuid.uuid4()).bytes
    out = struct.pack(">I", header) + mtype.encode().ljust(32, b" ")
    out += struct.pack(">IQqQ", 1, int(time.time() * 1000), seq, flags) + mid[8:] + mid[:8]
    out += digest if digest is not None else hashlib.sha256(payload).digest()
    if header == HL:
        out += struct.pack(">I", ptype)
    return out + struct.pack(">I", len(payload)) + payload


def decode(b):
    header = struct.unpack(">I", b[:4])[0]
    mtype = b[4:36].decode().strip(" \0")
    _, _, seq, flags = struct.unpack(">IQqQ", b[36:64])
    mid = uuid.UUID(bytes=b[72:80] + b[64:72])
    ptype = struct.unpack(">I", b[112:116])[0] if header >= 116 else 0
    n = struct.unpack(">I", b[header:header + 4])[0]
    payload = b[header + 4:header + 4 + n]
    return {"type": mtype, "seq": seq, "flags": flags, "id": mid, "ptype": ptype, "payload": payload,
            "digest_ok": hashlib.sha256(payload).digest() == b[80:112]}


class Session:
    def __init__(self, conn, sid, info, events):
        self.conn, self.sid, self.info, self.events = conn, sid, info, events
        self.sc = info.get("scenario", {})
        self.out_seq, self.unacked, self.lock = 0, {}, threading.Condition()
        self.expected, self.buffer, self.seen = 0, {}, {}
        self.withhold = self.sc.get("withholdAcks", 0)
        self.master, self.child, self.enc, self.dec = None, None, None, None
        self.paused, self.replies = False, {}
        self.done = False

    def log(self, **event):
        event["sid"] = self.sid
        with open(self.events, "a") as f:
            f.write(json.dumps(event) + "\n")

    # --- sending, with the agent's resend of unacked frames
    def send_stream(self, ptype, payload, raw=None):
        if self.enc and ptype == P_OUTPUT:
            payload = self.seal(payload)
        with self.lock:
            seq, mid = self.out_seq, uuid.uuid4()
            self.out_seq += 1
            frame = encode(OUTPUT, seq, 0, ptype, payload, mid)
            self.unacked[seq] = [frame, time.monotonic(), mid]
        self.conn.send(ws_server.BINARY, raw(seq, mid, payload) if raw else frame)
        return seq

    def resender(self):
        while not self.done:
            time.sleep(0.2)
            with self.lock:
                due = [(s, f) for s, f in self.unacked.items() if time.monotonic() - f[1] > 0.3]
                for s, f in due:
                    f[1] = time.monotonic()
            for s, f in due:
                self.log(event="peer_resend", seq=s)
                try:
                    self.conn.send(ws_server.BINARY, f[0])
                except OSError:
                    return

    def wait_acked(self):
        with self.lock:
            while self.unacked and not self.done:
                self.lock.wait(0.5)

    def seal(self, data):
        from cryptography.hazmat.primitives.ciphers.aead import AESGCM
        nonce = os.urandom(12)
        return nonce + AESGCM(self.enc).encrypt(nonce, data, None)

    def open(self, data):
        from cryptography.hazmat.primitives.ciphers.aead import AESGCM
        return AESGCM(self.dec).decrypt(data[:12], data[12:], None)

    # --- receiving
    def reader(self):
        try:
            while True:
                op, data = self.conn.recv()
                if op == ws_server.BINARY:
                    self.frame(data)
        except (ws_server.Closed, OSError) as e:
            self.log(event="client_gone", detail=str(e))
        finally:
            self.done = True
            if self.child and self.child.poll() is None:
                self.child.kill()
            with self.lock:
                self.lock.notify_all()

    def frame(self, data):
        m = decode(data)
        if m["type"] == ACK:
            ack = json.loads(m["payload"])
            seq = ack["AcknowledgedMessageSequenceNumber"]
            with self.lock:
                sent = self.unacked.pop(seq, None)
            self.log(event="ack", seq=seq, flags=m["flags"], ackedId=ack["AcknowledgedMessageId"],
                     ackedType=ack["AcknowledgedMessageType"], idOk=sent is None or str(sent[2]) == ack["AcknowledgedMessageId"])
            with self.lock:
                self.lock.notify_all()
            return
        if m["type"] != INPUT:
            return
        seq = m["seq"]
        first = self.seen.setdefault(seq, data)
        if first is not data:
            self.log(event="input_again", seq=seq, identical=first == data)
        self.log(event="input", seq=seq, ptype=m["ptype"], paused=self.paused, digestOk=m["digest_ok"])
        # As the agent's handleStreamDataMessage: the expected frame is processed
        # and then acked, unless its handler is not ready (no ack: the client
        # resends); a later one is acked and buffered; an earlier one re-acked.
        if seq == self.expected:
            if not self.ready(m):
                self.log(event="input_not_acked", seq=seq)
                return
            self.handle(m)
            self.ack(m)
            self.expected += 1
            while self.expected in self.buffer and self.ready(self.buffer[self.expected]):
                self.handle(self.buffer.pop(self.expected))
                self.expected += 1
        elif seq > self.expected:
            self.ack(m)
            self.buffer[seq] = m
        else:
            self.log(event="duplicate_input", seq=seq)
            self.ack(m)

    def ready(self, m):
        if self.withhold > 0:
            self.withhold -= 1
            return False
        return self.master is not None or m["ptype"] in (P_HS_RESP, P_CH_RESP)

    def ack(self, m):
        self.conn.send(ws_server.BINARY, encode(ACK, 0, 3, 0, json.dumps({
            "AcknowledgedMessageType": INPUT, "AcknowledgedMessageId": str(m["id"]),
            "AcknowledgedMessageSequenceNumber": m["seq"], "IsSequentialMessage": True}).encode()))

    def handle(self, m):
        payload = m["payload"]
        if m["ptype"] in (P_HS_RESP, P_CH_RESP):
            with self.lock:
                self.replies[m["ptype"]] = payload
                self.lock.notify_all()
        elif m["ptype"] == P_SIZE:
            size = json.loads(payload)
            self.log(event="size", cols=size["cols"], rows=size["rows"])
            import fcntl
            import termios
            fcntl.ioctl(self.master, termios.TIOCSWINSZ, struct.pack("HHHH", size["rows"], size["cols"], 0, 0))
        elif m["ptype"] == P_OUTPUT:
            if self.dec:
                payload = self.open(payload)
            self.log(event="stdin", data=payload.decode("latin-1"))
            try:
                os.write(self.master, payload)
            except OSError:
                pass

    def reply(self, ptype):
        with self.lock:
            while ptype not in self.replies and not self.done:
                self.lock.wait(0.5)
            return self.replies.get(ptype)

    # --- the session
    def run(self):
        threading.Thread(target=self.reader, daemon=True).start()
        threading.Thread(target=self.resender, daemon=True).start()
        if self.sc.get("handshake") or self.sc.get("kmsKeyId"):
            if not self.handshake():
                return self.conn.close()
        if self.sc.get("pause"):
            self.paused = True
            self.conn.send(ws_server.BINARY, encode("pause_publication", 0, 0, 0, b""))
        self.banner()
        if self.paused:
            self.wait_acked()
            self.paused = False
            self.log(event="start_publication")
            self.conn.send(ws_server.BINARY, encode("start_publication", 0, 0, 0, b""))
        self.shell()

    def handshake(self, session_type="InteractiveCommands", properties=None):
        properties = {"commands": self.info["command"]} if properties is None else properties
        actions = [{"ActionType": "SessionType", "ActionParameters": {
            "SessionType": session_type, "Properties": properties}}]
        if self.sc.get("kmsKeyId"):
            actions.append({"ActionType": "KMSEncryption", "ActionParameters": {"KMSKeyId": self.sc["kmsKeyId"]}})
        agent_version = self.sc.get("agentVersion", "3.3.40.0")
        self.send_stream(P_HS_REQ, json.dumps({"AgentVersion": agent_version, "RequestedClientActions": actions}).encode())
        resp = json.loads(self.reply(P_HS_RESP) or b"null")
        self.log(event="handshake_response", response=resp)
        if not resp:
            return False
        self.client_version = resp.get("ClientVersion", "")
        for action in resp["ProcessedClientActions"]:
            if action["ActionStatus"] != 1:
                return False
            if action["ActionType"] == "KMSEncryption" and not self.kms(action["ActionResult"]["KMSCipherTextKey"]):
                return False
        self.send_stream(P_HS_DONE, json.dumps({"HandshakeTimeToComplete": 1000000,
                                                "CustomerMessage": self.sc.get("customerMessage", "")}).encode())
        return True

    def kms(self, blob):
        import boto3
        client = boto3.client("kms", endpoint_url=os.environ["AWS_ENDPOINT_URL"], region_name="us-east-1")
        key = client.decrypt(CiphertextBlob=base64.b64decode(blob), EncryptionContext={
            "aws:ssm:SessionId": self.sid, "aws:ssm:TargetId": self.info["target"]})["Plaintext"]
        # The agent encrypts with the first half (which the client decrypts with).
        self.enc, self.dec = key[:32], key[32:]
        challenge = os.urandom(64)
        self.send_stream(P_CH_REQ, json.dumps({"Challenge": base64.b64encode(self.seal(challenge)).decode()}).encode())
        answer = json.loads(self.reply(P_CH_RESP) or b"null")
        ok = bool(answer) and self.open(base64.b64decode(answer["Challenge"])) == challenge
        self.log(event="challenge", ok=ok, keyBytes=len(key))
        return ok

    def banner(self):
        texts = [t.encode() for t in self.sc.get("banner", [])]
        if not texts:
            return
        seqs = []
        for _ in texts:
            with self.lock:
                seqs.append(self.out_seq)
                self.out_seq += 1
        frames = {i: (seqs[i], uuid.uuid4()) for i in range(len(texts))}
        for n, i in enumerate(self.sc.get("order", list(range(len(texts))))):
            seq, mid = frames[i]
            payload = self.seal(texts[i]) if self.enc else texts[i]
            good = encode(OUTPUT, seq, 0, P_OUTPUT, payload, mid)
            with self.lock:
                self.unacked[seq] = [good, time.monotonic(), mid]
            if self.sc.get("badDigest") and n == 0:
                self.log(event="bad_digest_sent", seq=seq)
                self.conn.send(ws_server.BINARY, encode(OUTPUT, seq, 0, P_OUTPUT, payload, mid, digest=b"\x01" * 32))
            else:
                self.conn.send(ws_server.BINARY, good)

    def shell(self):
        import pty
        argv = shlex.split(self.info["command"]) or ["sh"]
        self.master, slave = pty.openpty()
        env = dict(os.environ, TERM="xterm-256color")
        self.child = subprocess.Popen(argv, stdin=slave, stdout=slave, stderr=slave, env=env,
                                      start_new_session=True, close_fds=True)
        os.close(slave)
        self.log(event="pty_started", argv=argv)
        output = b""
        while True:
            try:
                chunk = os.read(self.master, 1024)
            except OSError:
                break
            if not chunk:
                break
            output += chunk
            self.send_stream(P_OUTPUT, chunk)
            freeze = self.sc.get("freezeAfter")
            if freeze and freeze.encode() in output:
                self.wait_acked()
                self.conn.frozen = True
                self.log(event="frozen")
                self.child.kill()
                return  # the reader keeps reading (and answers nothing) until the client goes
            drop = self.sc.get("dropAfter")
            if drop and drop.encode() in output:
                self.wait_acked()
                self.log(event="dropped")
                self.done = True
                self.child.kill()
                return self.conn.drop()
        status = self.child.wait()
        self.log(event="exited", status=status, output=output.decode("latin-1"))
        self.wait_acked()
        header = self.sc.get("closedHeader", HL)
        body = json.dumps({"MessageId": str(uuid.uuid4()), "CreatedDate": time.strftime("%Y-%m-%dT%H:%M:%S.000Z"),
                           "DestinationId": self.sid, "SessionId": self.sid, "MessageType": CLOSED,
                           "SchemaVersion": 1, "Output": self.sc.get("closedOutput", "")}).encode()
        self.conn.send(ws_server.BINARY, encode(CLOSED, 0, 0, 0, body, header=header))
        self.log(event="channel_closed", header=header)
        self.done = True
        time.sleep(0.2)  # not synchronisation: lets the client read the frame before the close
        self.conn.close()


class Peer:
    """Serves sessions registered by id; the URL carries the id, as MGS's does."""

    def __init__(self, events):
        self.sessions, self.events = {}, events
        self.port = ws_server.serve(self.accept)

    def register(self, sid, token, command, target, scenario, port=None):
        """port: {"host", "portNumber"} for a port-forwarding session (ssm_port.py)."""
        self.sessions[sid] = {"token": token, "command": command, "target": target, "scenario": scenario,
                              "port": port}
        return f"ws://127.0.0.1:{self.port}/v1/data-channel/{sid}?role=publish_subscribe&cell-number=AAEAAQ"

    def accept(self, conn):
        try:
            if any(s["scenario"].get("stallUpgrade") for s in self.sessions.values()):
                with open(self.events, "a") as f:
                    f.write(json.dumps({"event": "upgrade_withheld"}) + "\n")
                return conn.wait_closed()
            path = conn.accept()
            sid = path.split("?")[0].rsplit("/", 1)[-1]
            info = self.sessions.get(sid)
            op, data = conn.recv()
            opening = json.loads(data)
            ok = (info is not None and op == ws_server.TEXT and opening.get("TokenValue") == info["token"]
                  and str(opening.get("MessageSchemaVersion")) in ("1.0", "1"))
            with open(self.events, "a") as f:
                f.write(json.dumps({"event": "opening", "sid": sid, "text": op == ws_server.TEXT, "ok": ok,
                                    "keys": sorted(opening)}) + "\n")
            if not ok:
                return conn.close()
            if info.get("port"):
                import ssm_port
                ssm_port.PortSession(conn, sid, info, self.events).run()
            else:
                Session(conn, sid, info, self.events).run()
        except (ws_server.Closed, OSError, ValueError) as e:
            with open(self.events, "a") as f:
                f.write(json.dumps({"event": "error", "detail": repr(e)}) + "\n")
            conn.drop()


if __name__ == "__main__":
    scenario_file, url_file = sys.argv[1], sys.argv[2]
    with open(scenario_file) as f:
        sc = json.load(f)
    peer = Peer(scenario_file + ".events.jsonl")
    url = peer.register(sc["sessionId"], sc["token"], sc["command"], sc.get("target", "ecs:c_t_r"), sc)
    with open(url_file + ".tmp", "w") as f:
        f.write(url)
    os.rename(url_file + ".tmp", url_file)
    threading.Event().wait()

"""Port-forwarding sessions of the agent-like peer (ssm_peer.py), as the agent runs
AWS-StartPortForwardingSessionToRemoteHost (aws/amazon-ssm-agent:
session/plugins/port/port.go, port_mux.go, port_basic.go):

- the handshake's SessionType is "Port" with {"type": "LocalPortForwarding",
  "portNumber", "host"}; input is refused (not acked) until the session is set up;
- multiplexed when the client's version is 1.1.70 or later (the agent's rule; an
  agent is only that new when its own version is over 3.0.196.0): the input bytes
  are an smux v1 stream; each SYN dials HOST:PORT (a failed dial sends the
  ConnectToPortError flag and closes the stream); PSH, FIN as smux; the agent's
  bytes go back as PSH frames, cut into Output payloads of 1024 bytes;
- basic otherwise: one TCP connection, dialled at the start; DisconnectToPort
  closes it and the next input dials again;
- the TerminateSession flag ends the session.

Scenario keys: agentVersion (default 3.3.40.0), dropAfterStreams: N (the stream
after the Nth is answered by dropping the WebSocket, no close frame)."""
import socket
import struct
import threading

import ssm_peer
from ssm_peer import P_CH_RESP, P_HS_RESP, P_OUTPUT

P_FLAG = 10
DISCONNECT_TO_PORT, TERMINATE_SESSION, CONNECT_TO_PORT_ERROR = 1, 2, 3
SYN, FIN, PSH, NOP = 0, 1, 2, 3
PAYLOAD = 1024


def dial(dest):
    """HOST:PORT as the agent dials it (Go's net.Dial: TCP_NODELAY on)."""
    sock = socket.create_connection(dest, timeout=5)
    sock.settimeout(None)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return sock


def version(v):
    try:
        return tuple(int(p) for p in v.split("."))
    except ValueError:
        return None


class PortSession(ssm_peer.Session):
    def __init__(self, *args):
        super().__init__(*args)
        self.port_ready, self.mux, self.buf = False, False, b""
        self.streams, self.opened, self.out_lock = {}, 0, threading.Lock()
        self.basic = None
        self.dest = (self.info["port"]["host"], int(self.info["port"]["portNumber"]))

    def ready(self, m):
        if self.withhold > 0:
            self.withhold -= 1
            return False
        return self.port_ready or m["ptype"] in (P_HS_RESP, P_CH_RESP)

    def run(self):
        threading.Thread(target=self.reader, daemon=True).start()
        threading.Thread(target=self.resender, daemon=True).start()
        props = {"type": "LocalPortForwarding", "portNumber": self.info["port"]["portNumber"],
                 "host": self.info["port"]["host"]}
        if not self.handshake("Port", props):
            return self.conn.close()
        agent, client = version(self.sc.get("agentVersion", "3.3.40.0")), version(self.client_version)
        self.mux = agent is not None and agent > (3, 0, 196, 0) and client is not None and client >= (1, 1, 70)
        self.log(event="port_session", mux=self.mux, clientVersion=self.client_version)
        if not self.mux:
            self.dial_basic()
        self.port_ready = True
        with self.lock:
            while not self.done:
                self.lock.wait(0.5)
        for s in list(self.streams.values()):
            s.close()

    # --- input from the client
    def handle(self, m):
        payload = m["payload"]
        if m["ptype"] in (P_HS_RESP, P_CH_RESP):
            return super().handle(m)
        if m["ptype"] == P_FLAG:
            flag = struct.unpack(">I", payload)[0]
            self.log(event="flag", flag=flag)
            if flag == DISCONNECT_TO_PORT and self.basic:
                self.basic.close()
                self.basic = None
            elif flag == TERMINATE_SESSION:
                self.done = True
                with self.lock:
                    self.lock.notify_all()
            return
        if m["ptype"] != P_OUTPUT:
            return
        if self.dec:
            payload = self.open(payload)
        if not self.mux:
            if self.basic is None:
                self.dial_basic()
            if self.basic is not None:
                self.basic.sendall(payload)
            return
        self.buf += payload
        while len(self.buf) >= 8:
            ver, cmd, length, sid = struct.unpack("<BBHI", self.buf[:8])
            if len(self.buf) < 8 + length:
                break
            data, self.buf = self.buf[8:8 + length], self.buf[8 + length:]
            if ver != 1:
                self.log(event="smux_bad_version", version=ver)
            self.smux(cmd, sid, data)

    def smux(self, cmd, sid, data):
        if cmd == SYN:
            self.opened += 1
            self.log(event="stream_open", sid=sid)
            limit = self.sc.get("dropAfterStreams")
            if limit is not None and self.opened > limit:
                self.log(event="dropped")
                self.done = True
                return self.conn.drop()
            try:
                sock = dial(self.dest)
            except OSError as e:
                self.log(event="connect_error", sid=sid, detail=str(e))
                self.send_stream(P_FLAG, struct.pack(">I", CONNECT_TO_PORT_ERROR))
                return self.mux_send(FIN, sid, b"")
            self.streams[sid] = sock
            threading.Thread(target=self.pump, args=(sid, sock), daemon=True).start()
        elif cmd == PSH:
            sock = self.streams.get(sid)
            if sock is not None:
                try:
                    sock.sendall(data)
                except OSError:
                    pass
        elif cmd == FIN:
            self.log(event="stream_fin", sid=sid)
            sock = self.streams.get(sid)
            if sock is not None:
                try:
                    sock.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
        elif cmd == NOP:
            self.log(event="nop")

    # --- output to the client
    def mux_send(self, cmd, sid, data):
        frame = struct.pack("<BBHI", 1, cmd, len(data), sid) + data
        with self.out_lock:
            for i in range(0, len(frame), PAYLOAD):
                self.send_stream(P_OUTPUT, frame[i:i + PAYLOAD])

    def pump(self, sid, sock):
        """The destination's bytes back as PSH frames; its end (or our FIN) closes the stream."""
        while not self.done:
            try:
                data = sock.recv(32768)
            except OSError:
                data = b""
            if not data:
                break
            self.mux_send(PSH, sid, data)
        sock.close()
        self.streams.pop(sid, None)
        if not self.done:
            self.mux_send(FIN, sid, b"")
            self.log(event="stream_closed", sid=sid)

    def dial_basic(self):
        try:
            sock = dial(self.dest)
        except OSError as e:
            self.log(event="connect_error", detail=str(e))
            return
        self.basic = sock
        self.log(event="basic_connected")

        def pump():
            while True:
                try:
                    data = sock.recv(PAYLOAD)
                except OSError:
                    data = b""
                if not data:
                    return
                self.send_stream(P_OUTPUT, data)

        threading.Thread(target=pump, daemon=True).start()


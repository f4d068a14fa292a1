"""A minimal RFC 6455 WebSocket server side on the standard library, for the
data-channel test peer: the HTTP upgrade, unmasking client frames, unmasked
server frames, ping/pong and close. No extensions, no fragmentation on send."""
import base64
import hashlib
import socket
import struct
import threading

GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
TEXT, BINARY, CLOSE, PING, PONG = 1, 2, 8, 9, 10


class Closed(Exception):
    pass


class Conn:
    def __init__(self, sock):
        self.sock = sock
        self.buf = b""
        self.lock = threading.Lock()
        self.path = None
        self.frozen = False  # set: nothing is sent any more, pings included

    def _read(self, n):
        while len(self.buf) < n:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise Closed("peer closed the TCP connection")
            self.buf += chunk
        out, self.buf = self.buf[:n], self.buf[n:]
        return out

    def accept(self):
        """Reads the upgrade request and answers 101; returns the request path."""
        while b"\r\n\r\n" not in self.buf:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise Closed("no upgrade request")
            self.buf += chunk
        head, self.buf = self.buf.split(b"\r\n\r\n", 1)
        lines = head.decode("latin-1").split("\r\n")
        self.path = lines[0].split(" ")[1]
        headers = {k.strip().lower(): v.strip() for k, v in (l.split(":", 1) for l in lines[1:] if ":" in l)}
        key = headers["sec-websocket-key"]
        accept = base64.b64encode(hashlib.sha1((key + GUID).encode()).digest()).decode()
        self.sock.sendall(("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                           f"Sec-WebSocket-Accept: {accept}\r\n\r\n").encode())
        return self.path

    def recv(self):
        """The next data message as (opcode, bytes); answers pings itself."""
        message, first_op = b"", None
        while True:
            b0, b1 = self._read(2)
            fin, op, masked, n = b0 & 0x80, b0 & 0x0F, b1 & 0x80, b1 & 0x7F
            if n == 126:
                n = struct.unpack(">H", self._read(2))[0]
            elif n == 127:
                n = struct.unpack(">Q", self._read(8))[0]
            mask = self._read(4) if masked else b"\0\0\0\0"
            data = bytes(c ^ mask[i % 4] for i, c in enumerate(self._read(n)))
            if op == PING:
                if not self.frozen:
                    self.send(PONG, data)
                continue
            if op == PONG:
                continue
            if op == CLOSE:
                raise Closed("close frame")
            if op != 0:
                first_op = op
            message += data
            if fin:
                return first_op, message

    def send(self, op, data):
        if self.frozen:
            return
        n = len(data)
        if n < 126:
            head = struct.pack(">BB", 0x80 | op, n)
        elif n < 65536:
            head = struct.pack(">BBH", 0x80 | op, 126, n)
        else:
            head = struct.pack(">BBQ", 0x80 | op, 127, n)
        with self.lock:
            self.sock.sendall(head + data)

    def wait_closed(self):
        """Holds the connection open, reading and discarding, until the client ends it."""
        try:
            while self.sock.recv(65536):
                pass
        except OSError:
            pass
        self.drop()

    def close(self):
        try:
            self.send(CLOSE, struct.pack(">H", 1000))
        except OSError:
            pass
        self.drop()

    def drop(self):
        """Ends the TCP connection with no close frame (a network failure)."""
        try:
            self.sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self.sock.close()


def serve(handler):
    """Listens on a free loopback port; each connection runs handler(Conn) in a thread."""
    lsock = socket.socket()
    lsock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    lsock.bind(("127.0.0.1", 0))
    lsock.listen(16)

    def loop():
        while True:
            sock, _ = lsock.accept()
            # As a real endpoint: small frames go out at once, not held for the
            # previous segment's ACK (Nagle), which with delayed ACKs costs 40 ms.
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            threading.Thread(target=handler, args=(Conn(sock),), daemon=True).start()

    threading.Thread(target=loop, daemon=True).start()
    return lsock.getsockname()[1]

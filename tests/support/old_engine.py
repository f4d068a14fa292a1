#!/usr/bin/env python3
"""A Docker Engine from before BuildKit's API, in front of the local one: Docker
18.06 (API 1.38; BuildKit builds through the API came with 18.09, API 1.39, the
Engine API's version history). Plain HTTP on a loopback port the OS picks.

usage: old_engine.py DIR [--socket PATH]

  GET /version (any /v1.NN prefix)  the local engine's answer with ApiVersion
                                    1.38 and Version 18.06.3-ce;
  POST /session                     404 "page not found", as an engine without
                                    the endpoint answers;
  anything else                     passed to the local engine's socket.

Every connection carries one request (the request goes on with
"Connection: close", so the engine closes after its answer and the client opens
a new connection for the next one), so every request is seen. DIR/requests.log
gets each request line. Prints {"port": N} and serves until stdin closes.
"""
import json
import os
import re
import socket
import sys
import threading

from docker_tls import pipe  # the same byte pipe as the TLS front

VERSION = {"ApiVersion": "1.38", "MinAPIVersion": "1.12", "Version": "18.06.3-ce"}


def read_all(sock):
    data = b""
    while True:
        chunk = sock.recv(65536)
        if not chunk:
            return data
        data += chunk


def dechunk(body):
    out = b""
    while body:
        size_line, body = body.split(b"\r\n", 1)
        size = int(size_line.split(b";")[0], 16)
        if size == 0:
            break
        out, body = out + body[:size], body[size + 2:]
    return out


def answer(conn, status, body):
    conn.sendall(
        b"HTTP/1.1 %s\r\nContent-Type: application/json\r\nContent-Length: %d\r\nConnection: close\r\n\r\n"
        % (status, len(body)) + body)
    conn.close()


def handle(conn, socket_path, log):
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = conn.recv(65536)
        if not chunk:
            conn.close()
            return
        data += chunk
    head, rest = data.split(b"\r\n\r\n", 1)
    lines = head.split(b"\r\n")
    request_line = lines[0].decode("latin-1")
    log(request_line)
    path = re.sub(r"^/v1\.\d+", "", request_line.split(" ")[1].split("?")[0])
    if path == "/session":
        answer(conn, b"404 Not Found", b'{"message":"page not found"}\n')
        return
    kept = [lines[0]] + [h for h in lines[1:] if not h.lower().startswith(b"connection:")]
    engine = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    engine.connect(socket_path)
    engine.sendall(b"\r\n".join(kept) + b"\r\nConnection: close\r\n\r\n" + rest)
    if path == "/version":
        response = read_all(engine)
        engine.close()
        rhead, body = response.split(b"\r\n\r\n", 1)
        if b"transfer-encoding: chunked" in rhead.lower():
            body = dechunk(body)
        version = json.loads(body)
        version.update(VERSION)
        answer(conn, b"200 OK", json.dumps(version).encode())
        return
    threading.Thread(target=pipe, args=(engine, conn), daemon=True).start()
    pipe(conn, engine)


def main():
    root = sys.argv[1]
    socket_path = sys.argv[sys.argv.index("--socket") + 1] if "--socket" in sys.argv else "/var/run/docker.sock"
    lock = threading.Lock()

    def log(line):
        with lock, open(os.path.join(root, "requests.log"), "a") as f:
            f.write(line + "\n")

    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.bind(("127.0.0.1", 0))
    listener.listen(64)

    def accept():
        while True:
            conn, _ = listener.accept()
            threading.Thread(target=handle, args=(conn, socket_path, log), daemon=True).start()

    threading.Thread(target=accept, daemon=True).start()
    print(json.dumps({"port": listener.getsockname()[1]}), flush=True)
    sys.stdin.read()


if __name__ == "__main__":
    main()

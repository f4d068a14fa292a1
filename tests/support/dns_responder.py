"""A tiny DNS responder on loopback, standing in for the system resolver.

Usage: dns_responder.py NS1,NS2,...   answers every NS query with these names
       dns_responder.py --silent      receives queries and never answers

Binds UDP 127.0.0.1:0, prints {"port": N} once bound, logs each query on
stderr, and exits when stdin closes.
"""

import json
import socket
import sys
import threading


def encode(name):
    out = b""
    for label in name.strip(".").split("."):
        out += bytes([len(label)]) + label.encode()
    return out + b"\0"


def answer(query, names):
    qid, qd = query[:2], query[12:]
    end = qd.index(b"\0") + 5  # the name, QTYPE, QCLASS
    question = qd[:end]
    header = qid + b"\x81\x80" + b"\x00\x01" + len(names).to_bytes(2, "big") + b"\x00\x00\x00\x00"
    records = b""
    for ns in names:
        rdata = encode(ns)
        records += b"\xc0\x0c" + b"\x00\x02\x00\x01" + (300).to_bytes(4, "big") + len(rdata).to_bytes(2, "big") + rdata
    return header + question + records


def main():
    silent = sys.argv[1] == "--silent"
    names = [] if silent else [n for n in sys.argv[1].split(",") if n]
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind(("127.0.0.1", 0))
    print(json.dumps({"port": sock.getsockname()[1]}), flush=True)

    def serve():
        while True:
            data, peer = sock.recvfrom(4096)
            qname = data[12:].split(b"\0")[0]
            sys.stderr.write("query from %s: %r\n" % (peer, qname))
            sys.stderr.flush()
            if not silent:
                sock.sendto(answer(data, names), peer)

    threading.Thread(target=serve, daemon=True).start()
    sys.stdin.read()


if __name__ == "__main__":
    main()

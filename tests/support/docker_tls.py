#!/usr/bin/env python3
"""A Docker Engine reached over TCP with TLS, as `dockerd --tlsverify` serves it: a
TLS front on a loopback port the OS picks, which asks for a client certificate
signed by its CA, in front of the local engine's Unix socket.

usage: docker_tls.py DIR [--socket PATH]

Writes, as `docker-machine` and the docker docs' "Protect the Docker daemon socket"
lay them out:
  DIR/client/{ca,cert,key}.pem   what DOCKER_CERT_PATH points at;
  DIR/other/{ca,cert,key}.pem    a client of another CA (the engine refuses it);
then prints {"port": N} and serves until stdin closes. DIR/connections.log gets
one line per connection: "ok <first request line>" once TLS was agreed, or
"refused <reason>" when the handshake failed (a plain-HTTP client lands there too).
DIR/accepted.log gets one line per connection as it is accepted, before a byte is
answered: a client that saw an answer (or an alert) has its connection counted
there, and a reader waits until connections.log has as many lines.
"""
import datetime
import ipaddress
import json
import os
import socket
import ssl
import sys
import threading

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID


def _name(cn):
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])


def _key():
    return ec.generate_private_key(ec.SECP256R1())


def _write(path, data):
    with open(path, "wb") as f:
        f.write(data)


def _pem_key(key):
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())


def _cert(subject, key, issuer, issuer_key, *, ca=False, server=False):
    now = datetime.datetime.now(datetime.timezone.utc)
    builder = (
        x509.CertificateBuilder()
        .subject_name(_name(subject))
        .issuer_name(_name(issuer))
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
    )
    if ca:
        builder = builder.add_extension(
            x509.KeyUsage(False, False, False, False, False, True, True, False, False), critical=True)
    elif server:
        builder = builder.add_extension(
            x509.SubjectAlternativeName([x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        ).add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
    else:
        builder = builder.add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.CLIENT_AUTH]), critical=False)
    return builder.sign(issuer_key, hashes.SHA256())


def _pem(cert):
    return cert.public_bytes(serialization.Encoding.PEM)


def make_certs(root):
    """The engine's CA, server and client certificates, and another CA's client."""
    out = {}
    for who in ("client", "other"):
        ca_key = _key()
        ca = _cert(f"{who} test CA", ca_key, f"{who} test CA", ca_key, ca=True)
        folder = os.path.join(root, who)
        os.makedirs(folder, exist_ok=True)
        client_key = _key()
        _write(os.path.join(folder, "ca.pem"), _pem(ca))
        _write(os.path.join(folder, "cert.pem"), _pem(_cert(f"{who} client", client_key, f"{who} test CA", ca_key)))
        _write(os.path.join(folder, "key.pem"), _pem_key(client_key))
        out[who] = (ca, ca_key)
    ca, ca_key = out["client"]
    server_key = _key()
    _write(os.path.join(root, "server-cert.pem"), _pem(_cert("localhost", server_key, "client test CA", ca_key, server=True)))
    _write(os.path.join(root, "server-key.pem"), _pem_key(server_key))


def pipe(src, dst):
    try:
        while True:
            data = src.recv(65536)
            if not data:
                break
            dst.sendall(data)
    except OSError:
        pass
    finally:
        for s in (src, dst):
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass


def serve(root, socket_path):
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(os.path.join(root, "server-cert.pem"), os.path.join(root, "server-key.pem"))
    context.load_verify_locations(os.path.join(root, "client", "ca.pem"))
    context.verify_mode = ssl.CERT_REQUIRED
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.bind(("127.0.0.1", 0))
    listener.listen(64)
    log_lock = threading.Lock()

    def log(line, name="connections.log"):
        with log_lock, open(os.path.join(root, name), "a") as f:
            f.write(line + "\n")

    def handle(raw):
        try:
            conn = context.wrap_socket(raw, server_side=True)
        except (ssl.SSLError, OSError) as e:
            log(f"refused {type(e).__name__}: {e}")
            raw.close()
            return
        try:
            first = conn.recv(65536)
        except OSError as e:
            log(f"ok (closed before a request: {type(e).__name__})")
            conn.close()
            return
        log("ok " + first.split(b"\r\n", 1)[0].decode("latin-1"))
        engine = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        engine.connect(socket_path)
        engine.sendall(first)
        threading.Thread(target=pipe, args=(engine, conn), daemon=True).start()
        pipe(conn, engine)

    def accept():
        while True:
            raw, _ = listener.accept()
            log("accepted", "accepted.log")
            threading.Thread(target=handle, args=(raw,), daemon=True).start()

    threading.Thread(target=accept, daemon=True).start()
    return listener.getsockname()[1]


def main():
    root = sys.argv[1]
    socket_path = sys.argv[sys.argv.index("--socket") + 1] if "--socket" in sys.argv else "/var/run/docker.sock"
    make_certs(root)
    port = serve(root, socket_path)
    print(json.dumps({"port": port}), flush=True)
    sys.stdin.read()


if __name__ == "__main__":
    main()

"""The browser walk against `cruddur local up`: Debian's chromium (through
chromedriver) on the frontend container's page, which calls the backend container
on another port, so every API call is cross-origin and passes only when the
backend's CORS, the frontend's config.js and its Content-Security-Policy all name
the published URLs. Run by tests/local_loop.rs with the test venv's python.

usage: local_walk.py FRONTEND_URL BACKEND_URL OUT_DIR [--gitpod-host HOST]
env: CRUDDUR_CHROMIUM, CRUDDUR_CHROMEDRIVER

With --gitpod-host (e.g. ws-eu1.gitpod.io), the URLs are a Gitpod workspace's
public ones (https://<port>-<id>.<host>): as Gitpod's own proxy does, a TLS proxy
here routes each name to localhost:<port>, and chromium resolves every name under
HOST to that proxy (--host-resolver-rules; its certificate is self-signed, so
--ignore-certificate-errors).

The walk is signed out: in a container the backend checks tokens only against
Cognito's https JWKS under the public CAs it was built with, which moto cannot
serve here; the signed-in walk runs against the processes (walk.py).

Exits 0 when every step passed; otherwise prints the failing step and exits 1.
"""

import datetime
import http.client
import http.server
import json
import os
import re
import shutil
import ssl
import sys
import tempfile
import threading
import traceback

from webdriver import Browser, Network

args = sys.argv[1:]
GITPOD = None
if "--gitpod-host" in args:
    i = args.index("--gitpod-host")
    GITPOD = args[i + 1]
    del args[i : i + 2]
FRONT, API, OUT = args
os.makedirs(OUT, exist_ok=True)
for old in os.listdir(OUT):
    os.remove(os.path.join(OUT, old))
WORK = tempfile.mkdtemp(prefix="cruddur-local-walk-")
HOP = {"connection", "keep-alive", "transfer-encoding", "upgrade", "proxy-connection", "te", "trailer"}


def self_signed(host):
    """A certificate for *.HOST and its key, written as PEM files."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, f"*.{host}")])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (
        x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5)).not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(f"*.{host}")]), critical=False)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = os.path.join(WORK, "proxy.crt"), os.path.join(WORK, "proxy.key")
    with open(cert_path, "wb") as f:
        f.write(cert.public_bytes(serialization.Encoding.PEM))
    with open(key_path, "wb") as f:
        f.write(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))
    return cert_path, key_path


class GitpodProxy(http.server.BaseHTTPRequestHandler):
    """https://<port>-<workspace>.<host>/... -> http://127.0.0.1:<port>/..., Host kept."""

    protocol_version = "HTTP/1.1"
    routed = []  # (method, host, path, status)

    def forward(self):
        host = self.headers.get("Host", "")
        m = re.match(r"^(\d+)-[a-z0-9-]+\." + re.escape(GITPOD) + r"$", host)
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        if not m:
            self.send_error(404, f"no workspace port for {host}")
            return
        upstream = http.client.HTTPConnection("127.0.0.1", int(m.group(1)), timeout=30)
        headers = {k: v for k, v in self.headers.items() if k.lower() not in HOP}
        upstream.request(self.command, self.path, body=body or None, headers=headers)
        res = upstream.getresponse()
        data = res.read()
        self.routed.append((self.command, host, self.path, res.status))
        self.send_response(res.status)
        for k, v in res.getheaders():
            if k.lower() not in HOP and k.lower() != "content-length":
                self.send_header(k, v)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)
        upstream.close()

    do_GET = do_POST = do_PUT = do_DELETE = do_OPTIONS = do_HEAD = forward

    def log_message(self, *_):
        pass


extra = []
proxy = None
if GITPOD:
    proxy = http.server.ThreadingHTTPServer(("127.0.0.1", 0), GitpodProxy)
    tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    tls.load_cert_chain(*self_signed(GITPOD))
    proxy.socket = tls.wrap_socket(proxy.socket, server_side=True)
    threading.Thread(target=proxy.serve_forever, daemon=True).start()
    port = proxy.server_address[1]
    extra = [f"--host-resolver-rules=MAP *.{GITPOD} 127.0.0.1:{port}", "--ignore-certificate-errors"]

browser = Browser(
    os.environ["CRUDDUR_CHROMEDRIVER"], os.environ["CRUDDUR_CHROMIUM"], os.path.join(WORK, "profile"),
    os.path.join(OUT, "chromedriver.log"), extra,
)
net = Network()
step_name = "start"


def step(name):
    global step_name
    step_name = name
    print(f"--- {name}", flush=True)


def shot(name):
    browser.screenshot(os.path.join(OUT, f"{name}.png"))


def settle(expected=()):
    """Every request since the last call succeeded but `expected` [(method, url
    part, status)], and there is no console error (a CORS refusal, a CSP
    violation or a failed script are all SEVERE console entries)."""
    net.requests.clear()
    net.feed(browser.logs("performance"))
    requests = list(net.requests.values())
    failed = [r for r in requests if r["failed"] or (r["status"] or 0) >= 400]
    unexpected = [r for r in failed if not any(e[0] == r["method"] and e[1] in r["url"] and e[2] == r["status"] for e in expected)]
    assert not unexpected, f"failed requests: {json.dumps(unexpected, indent=1)}"
    allowed = [r["url"] for r in failed]
    errors = [e for e in browser.logs("browser") if e["level"] == "SEVERE"]
    stray = [e for e in errors if not (e.get("source") == "network" and any(e["message"].startswith(u) for u in allowed))]
    assert not stray, f"console errors: {json.dumps(stray, indent=1)}"
    return requests


def called(requests, path):
    """The cross-origin API call to `path`, answered 200."""
    hits = [r for r in requests if r["url"] == API + path and r["method"] == "GET"]
    assert hits and hits[0]["status"] == 200, f"no 200 for GET {API + path}: {json.dumps(requests, indent=1)}"


def walk():
    step("1. the home feed, from the backend on another origin")
    browser.get(FRONT + "/")
    browser.wait("the seeded crud", "[...document.querySelectorAll('.activity .message')].some(n => n.textContent === 'I am Andrew Bayko, welcome to Cruddur.')")
    assert browser.js("return window.CRUDDUR_CONFIG.backendUrl") == API, browser.js("return window.CRUDDUR_CONFIG")
    shot("home")
    called(settle(), "/api/activities/home")

    step("2. a user page and a status with its replies")
    browser.click_link("Andrew Brown")
    browser.wait("andrewbrown's profile", "document.querySelector('.profile h2')?.textContent === 'Andrew Brown'")
    called(settle(), "/api/activities/@andrewbrown")
    browser.js(
        """const a = [...document.querySelectorAll('.activity')].find(n => n.querySelector('.message').textContent === arguments[0]);
        [...a.querySelectorAll('a')].find(l => l.textContent.startsWith('replies')).click();""",
        "This was imported as seed data!",
    )
    browser.wait("the seeded reply", "[...document.querySelectorAll('.replies .message')].some(n => n.textContent === 'Welcome back, seed data!')")
    shot("status")
    settle()

    step("3. a signed-in call's shape from the page (JSON, a bearer token): the CORS preflight passes, the backend's 401 is readable")
    out = browser.js_async(
        """const done = arguments[arguments.length - 1];
        fetch(window.CRUDDUR_CONFIG.backendUrl + '/api/activities', {method: 'POST',
          headers: {'Content-Type': 'application/json', 'Authorization': 'Bearer not-a-token'},
          body: JSON.stringify({message: 'signed out', ttl: '1-day'})}).then(r => done([r.status, r.headers.get('content-type')]), e => done(['failed', String(e)]));"""
    )
    assert out[0] == 401, out
    # (A refused preflight makes fetch itself fail, and is a console error.)
    settle([("POST", "/api/activities", 401)])

    step("4. the sign-in page, with the pool's settings from the environment")
    browser.get(FRONT + "/signin")
    browser.wait("the sign-in form", "document.querySelector('form[data-form=signin]')")
    shot("signin")
    settle()


status = 0
try:
    walk()
    if proxy:
        hosts = sorted({h for _, h, _, _ in GitpodProxy.routed})
        assert hosts == sorted({FRONT.split("//")[1], API.split("//")[1]}), hosts
    print("local walk: all steps passed", flush=True)
except Exception:
    status = 1
    print(f"FAILED at step {step_name!r}:\n{traceback.format_exc()}", file=sys.stderr)
    try:
        shot("failure")
        print(f"page text: {browser.js('return document.body.innerText')!r}", file=sys.stderr)
    except Exception as e:
        print(f"(no failure screenshot: {e})", file=sys.stderr)
    if proxy:
        print(f"proxied: {GitpodProxy.routed}", file=sys.stderr)
finally:
    browser.close()
    if proxy:
        proxy.shutdown()
    shutil.rmtree(WORK, ignore_errors=True)
sys.exit(status)

"""The browser walk: Debian's chromium (through chromedriver) against the real
frontend-server and the real backend binary (SQLite), with moto's cognito-idp as
the user pool. Run by frontend/tests/browser.rs with the test venv's python.

usage: walk.py APP_BIN FRONTEND_SERVER_BIN WEB_SOURCE OUT_DIR
env: CRUDDUR_CHROMIUM, CRUDDUR_CHROMEDRIVER, CRUDDUR_MOTO_SERVER

Exits 0 when every step passed; otherwise prints the failing step, the processes'
logs and the screenshots taken so far, and exits 1.
"""

import json
import os
import re
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import threading
import traceback
import urllib.error
import urllib.request
import uuid
from datetime import datetime, timezone

import boto3

from webdriver import Browser, Network

APP, FRONTEND, WEB_SOURCE, OUT = sys.argv[1:5]
os.makedirs(OUT, exist_ok=True)
for old in os.listdir(OUT):
    os.remove(os.path.join(OUT, old))
WORK = tempfile.mkdtemp(prefix="cruddur-browser-")
PROCS = []  # (name, Popen, log path)


def start(name, argv, env, ready):
    """Starts a child with its output in a log file; waits for `ready(line)` to give its port."""
    log_path = os.path.join(OUT, f"{name}.log")
    log = open(log_path, "w")
    proc = subprocess.Popen(argv, env={**os.environ, **env}, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    PROCS.append((name, proc, log_path))
    for line in proc.stdout:
        log.write(line)
        log.flush()
        port = ready(line)
        if port:
            # Keep draining the child's output into its log.
            threading.Thread(target=lambda: [log.write(l) or log.flush() for l in proc.stdout], daemon=True).start()
            return int(port)
    raise SystemExit(f"{name} exited before it was ready:\n{open(log_path).read()}")


def mozlog_port(line):
    try:
        entry = json.loads(line)
    except ValueError:
        return None
    return entry.get("Type") == "app.start" and entry["Fields"]["port"]


moto_port = start(
    "moto",
    [os.environ["CRUDDUR_MOTO_SERVER"], "-H", "127.0.0.1", "-p", "0"],
    {},
    lambda l: (m := re.search(r"Running on http://127\.0\.0\.1:(\d+)", l)) and m.group(1),
)
MOTO = f"http://127.0.0.1:{moto_port}"
idp = boto3.client(
    "cognito-idp", endpoint_url=MOTO, region_name="us-east-1", aws_access_key_id="testing", aws_secret_access_key="testing"
)
pool = idp.create_user_pool(PoolName="cruddur-browser", AutoVerifiedAttributes=["email"])["UserPool"]["Id"]
client = idp.create_user_pool_client(
    UserPoolId=pool, ClientName="web", ExplicitAuthFlows=["ALLOW_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"]
)["UserPoolClient"]["ClientId"]

# The web root: the real pages, and config.js written once both ports are known.
ROOT = os.path.join(WORK, "www")
shutil.copytree(WEB_SOURCE, ROOT)
with open(os.path.join(ROOT, "config.js"), "w") as f:
    f.write("window.CRUDDUR_CONFIG = {};\n")
front_port = start(
    "frontend-server",
    [FRONTEND],
    {"PORT": "0", "WEB_ROOT": ROOT},
    lambda l: (m := re.search(r"serving .* on [0-9.]+:(\d+)", l)) and m.group(1),
)
FRONT = f"http://127.0.0.1:{front_port}"
DATA = os.path.join(WORK, "data")
app_env = {
    "DATA_DIR": DATA,
    "PORT": "0",
    "FRONTEND_URL": FRONT,
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_COGNITO_USER_POOL_ID": pool,
    "AWS_COGNITO_USER_POOL_CLIENT_ID": client,
    "AWS_COGNITO_JWKS_URL": f"{MOTO}/{pool}/.well-known/jwks.json",
}
seed = subprocess.run([APP, "seed"], env={**os.environ, **app_env}, capture_output=True, text=True)
assert seed.returncode == 0, f"app seed failed:\n{seed.stdout}\n{seed.stderr}"
app_port = start("app", [APP, "serve"], app_env, mozlog_port)
API = f"http://127.0.0.1:{app_port}"
with open(os.path.join(ROOT, "config.js"), "w") as f:
    # The same shape Dockerfile.prod writes, with the Cognito endpoint pointed at moto.
    f.write(
        f'window.CRUDDUR_CONFIG = {{"backendUrl": "{API}", "region": "us-east-1", "cognitoRegion": "us-east-1", '
        f'"userPoolId": "{pool}", "clientId": "{client}"}};\n'
        f'window.CRUDDUR_CONFIG.cognitoEndpoint = "{MOTO}/";\n'
    )

# The pages are served under a Content-Security-Policy made from this config.js: the
# walk below runs under it, and any violation is a console error that fails a step.
with urllib.request.urlopen(FRONT + "/") as page:
    csp = page.headers["Content-Security-Policy"] or ""
assert f"connect-src {API} http://127.0.0.1:{moto_port};" in csp, f"CSP: {csp!r}"
assert "script-src 'self';" in csp and "frame-ancestors 'none'" in csp, f"CSP: {csp!r}"

browser = Browser(
    os.environ["CRUDDUR_CHROMEDRIVER"], os.environ["CRUDDUR_CHROMIUM"], os.path.join(WORK, "profile"),
    os.path.join(OUT, "chromedriver.log"),
)
net = Network()
shots = []
step_name = "start"


def shot(name):
    path = os.path.join(OUT, f"{len(shots) + 1:02d}-{name}.png")
    browser.screenshot(path)
    shots.append(path)


def settle(expected=()):
    """Every request since the last call succeeded, except `expected`
    [(method, url part, status)], each of which must have happened; no console
    errors other than those failed requests' own lines."""
    net.requests.clear()
    net.feed(browser.logs("performance"))
    failed = [r for r in net.requests.values() if r["failed"] or (r["status"] or 0) >= 400]
    unmatched = list(expected)
    bad = []
    for r in failed:
        hit = next((e for e in unmatched if e[0] == r["method"] and e[1] in r["url"] and e[2] == r["status"]), None)
        if hit:
            unmatched.remove(hit)
        else:
            bad.append(r)
    assert not bad, f"unexpected failed requests: {json.dumps(bad, indent=1)}"
    assert not unmatched, f"expected failed requests did not happen: {unmatched}"
    errors = [e for e in browser.logs("browser") if e["level"] == "SEVERE"]
    allowed = [r["url"] for r in failed]
    stray = [e for e in errors if not (e.get("source") == "network" and any(e["message"].startswith(u) for u in allowed))]
    assert not stray, f"console errors: {json.dumps(stray, indent=1)}"
    return list(net.requests.values())


def step(name):
    global step_name
    step_name = name
    print(f"--- {name}", flush=True)


def text(selector):
    return browser.js("const n = document.querySelector(arguments[0]); return n && n.textContent;", selector)


def texts(selector):
    return browser.js("return [...document.querySelectorAll(arguments[0])].map(n => n.textContent);", selector)


def wait_path(pattern):
    return browser.wait(f"a URL matching {pattern}", lambda: re.search(pattern, browser.url()))


def api_status(method, path, token):
    req = urllib.request.Request(API + path, method=method, headers={"Authorization": f"Bearer {token}"})
    try:
        with urllib.request.urlopen(req, timeout=10) as res:
            return res.status
    except urllib.error.HTTPError as e:
        return e.code


def walk():
    handle, password, run = "browsertester", "Sup3r-Secret-pw!", uuid.uuid4().hex[:8]

    step("1. sign up and confirm")
    browser.get(FRONT + "/signin")
    browser.wait("the sign-in form", "document.querySelector('form[data-form=signin]')")
    shot("signin")
    settle()
    browser.click_link("Sign up")
    browser.fill("signup", {"name": "Browser Tester", "email": "tester@example.com", "username": handle, "password": password})
    wait_path(r"/confirm\?u=browsertester$")
    browser.wait("the code notice", "document.querySelector('.notice')")
    assert "tester@example.com" in text(".notice"), text(".notice")
    shot("confirm")
    settle()
    # The code goes by email on AWS; moto keeps it, so the test confirms as an admin.
    idp.admin_confirm_sign_up(UserPoolId=pool, Username=handle)
    # The original's post-confirmation Lambda inserts the user into the database;
    # the test plays that Lambda with the same INSERT.
    attrs = {a["Name"]: a["Value"] for a in idp.admin_get_user(UserPoolId=pool, Username=handle)["UserAttributes"]}
    assert attrs["preferred_username"] == handle and attrs["name"] == "Browser Tester", attrs
    db = sqlite3.connect(os.path.join(DATA, "cruddur.db"))
    stamp = datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    db.execute(
        "INSERT INTO users (uuid, display_name, handle, email, cognito_user_id, created_at) VALUES (?, ?, ?, ?, ?, ?)",
        (str(uuid.uuid4()), attrs["name"], handle, attrs["email"], attrs["sub"], stamp),
    )
    db.commit()
    db.close()

    step("2. sign in and post a crud; it is at the top of the home feed")
    browser.click_link("Sign in")
    browser.fill("signin", {"username": handle, "password": "wrong-password"})
    browser.wait("the refusal", "document.querySelector('form[data-form=signin] .error')")
    assert "Incorrect username or password" in text("form[data-form=signin] .error"), text("form[data-form=signin] .error")
    settle([("POST", MOTO, 400)])
    browser.fill("signin", {"username": handle, "password": password})
    browser.wait("the post form on the home feed", "document.querySelector('form[data-form=crud]')")
    assert browser.js("return localStorage.getItem('refresh_token')"), "no refresh token stored"
    browser.fill("crud", {"message": "", "ttl": "7-days"})
    browser.wait("the 422 shown", "document.querySelector('form[data-form=crud] .error')")
    assert "message_blank" in text("form[data-form=crud] .error"), text("form[data-form=crud] .error")
    settle([("POST", "/api/activities", 422)])
    crud = f"Hello from chromium {run}"
    browser.fill("crud", {"message": crud, "ttl": "1-day"})
    browser.wait("the crud at the top", f"document.querySelector('.activity .message')?.textContent === {json.dumps(crud)}")
    shot("home-signed-in")
    settle()

    step("3. reload: still signed in")
    browser.refresh()
    browser.wait("the post form after reload", "document.querySelector('form[data-form=crud]')")
    assert texts(".activity .message")[0] == crud
    assert "Sign out" in texts("#nav a"), texts("#nav a")
    settle()

    step("4. a user page, a reply, a message to a seeded user")
    browser.click_link("Andrew Bayko")
    wait_path(r"/@bayko$")
    browser.wait("bayko's profile", "document.querySelector('.profile h2')?.textContent === 'Andrew Bayko'")
    shot("user-page")
    settle()
    browser.js(
        """const a = [...document.querySelectorAll('.activity')].find(n => n.querySelector('.message').textContent === arguments[0]);
        [...a.querySelectorAll('a')].find(l => l.textContent.startsWith('replies')).click();""",
        "I am Andrew Bayko, welcome to Cruddur.",
    )
    wait_path(r"/@bayko/status/[0-9a-f-]+$")
    browser.wait("the reply form", "document.querySelector('form[data-form=reply]')")
    reply = f"A reply from chromium {run}"
    browser.fill("reply", {"message": reply})
    browser.wait("the reply listed", f"[...document.querySelectorAll('.replies .message')].some(n => n.textContent === {json.dumps(reply)})")
    shot("status")
    settle()
    browser.get(FRONT + "/@bayko")
    browser.click_link("Message")
    wait_path(r"/messages/new/bayko$")
    first, second = f"First message {run}", f"Second message {run}"
    browser.fill("new-message", {"message": first})
    wait_path(r"/messages/[0-9a-f-]{36}$")
    browser.wait("the message in the conversation", f"document.querySelector('.messages .message')?.textContent === {json.dumps(first)}")
    browser.fill("message", {"message": second})
    browser.wait("the second message", "document.querySelectorAll('.messages .message').length === 2")
    assert texts(".messages .message") == [first, second], texts(".messages .message")
    shot("conversation")
    settle()
    browser.click_link("Messages")
    browser.wait("the groups", "document.querySelector('.groups .group')")
    assert any("Andrew Bayko" in g and second in g for g in texts(".groups .group")), texts(".groups .group")
    shot("message-groups")
    browser.click_link("Notifications")
    browser.wait("notifications", "document.querySelector('h2')?.textContent === 'Notifications'")
    shot("notifications")
    browser.click_link("Profile")
    browser.wait("the profile form", "document.querySelector('form[data-form=profile]')")
    assert browser.js("return document.querySelector('form[data-form=profile]').elements.display_name.value") == "Browser Tester"
    browser.fill("profile", {"display_name": "Browser Tester Two", "bio": "Testing Cruddur in chromium."})
    wait_path(r"/@browsertester$")
    browser.wait("the new bio", "document.querySelector('.profile .bio')?.textContent === 'Testing Cruddur in chromium.'")
    assert text(".profile h2") == "Browser Tester Two"
    shot("profile")
    settle()

    step("5. an expired access token is refreshed before the next call")
    forged = browser.js(
        """const [h, p, s] = localStorage.getItem('access_token').split('.');
        const c = JSON.parse(atob(p.replace(/-/g, '+').replace(/_/g, '/')));
        c.exp = Math.floor(Date.now() / 1000) - 60;
        const t = h + '.' + btoa(JSON.stringify(c)).replace(/\\+/g, '-').replace(/\\//g, '_').replace(/=+$/, '') + '.' + s;
        localStorage.setItem('access_token', t); return t;"""
    )
    # The backend refuses the expired token itself, so a 200 below means a refresh.
    assert api_status("GET", "/api/activities/notifications", forged) == 401
    browser.click_link("Notifications")
    browser.wait("notifications", "document.querySelector('h2')?.textContent === 'Notifications'")
    requests = settle()
    refreshes = [r for r in requests if r["url"].startswith(MOTO) and "REFRESH_TOKEN_AUTH" in (r["post"] or "")]
    assert len(refreshes) == 1 and refreshes[0]["status"] == 200, json.dumps(requests, indent=1)
    fresh = browser.js("return localStorage.getItem('access_token')")
    call = [r for r in requests if r["url"] == API + "/api/activities/notifications" and r["method"] == "GET"]
    assert call and call[0]["status"] == 200, json.dumps(requests, indent=1)
    assert call[0]["headers"].get("Authorization") == f"Bearer {fresh}" and fresh != forged

    step("5b. a refresh token the pool refuses sends the user to sign-in with a message")
    browser.js("localStorage.setItem('access_token', arguments[0]); localStorage.setItem('refresh_token', 'no-such-refresh-token');", forged)
    browser.click_link("Messages")
    wait_path(r"/signin$")
    browser.wait("the expiry notice", "document.querySelector('.notice')")
    assert "session has expired" in text(".notice"), text(".notice")
    settle([("POST", MOTO, 400)])
    browser.fill("signin", {"username": handle, "password": password})
    browser.wait("the post form", "document.querySelector('form[data-form=crud]')")
    settle()

    step("6. sign out; posting is refused")
    refresh = browser.js("return localStorage.getItem('refresh_token')")
    browser.click_link("Sign out")
    wait_path(r"/signin$")
    browser.wait("the signed-out notice", "document.querySelector('.notice')?.textContent === 'Signed out.'")
    shot("signed-out")
    assert browser.js("return ['access_token', 'id_token', 'refresh_token'].map(k => localStorage.getItem(k))") == [None] * 3
    browser.click_link("Home")
    browser.wait("the home feed", "document.querySelector('.activity')")
    assert not browser.js("return document.querySelector('form[data-form=crud]')"), "a post form while signed out"
    out = browser.js_async(
        """const done = arguments[arguments.length - 1];
        fetch(window.CRUDDUR_CONFIG.backendUrl + '/api/activities', {method: 'POST', headers: {'Content-Type': 'application/json'},
          body: JSON.stringify({message: 'signed out', ttl: '1-day'})}).then(r => r.json().then(b => done([r.status, b])));"""
    )
    assert out[0] == 401, out
    settle([("POST", "/api/activities", 401)])
    # GlobalSignOut revoked the refresh token at the pool.
    try:
        idp.initiate_auth(ClientId=client, AuthFlow="REFRESH_TOKEN_AUTH", AuthParameters={"REFRESH_TOKEN": refresh})
        raise AssertionError("the refresh token still works after sign out")
    except idp.exceptions.NotAuthorizedException:
        pass


status = 0
try:
    walk()
    print(f"browser walk: all steps passed; screenshots in {OUT}")
except Exception:
    status = 1
    print(f"FAILED at step {step_name!r}:\n{traceback.format_exc()}", file=sys.stderr)
    try:
        shot("failure")
        print(f"page text: {browser.js('return document.body.innerText')!r}", file=sys.stderr)
    except Exception as e:
        print(f"(no failure screenshot: {e})", file=sys.stderr)
    for name, _, path in PROCS:
        print(f"--- {name} log ({path}):\n{open(path).read()[-4000:]}", file=sys.stderr)
    print("screenshots:\n" + "\n".join(shots), file=sys.stderr)
finally:
    browser.close()
    for _, proc, _ in PROCS:
        proc.terminate()
        proc.wait(timeout=10)
    shutil.rmtree(WORK, ignore_errors=True)
sys.exit(status)

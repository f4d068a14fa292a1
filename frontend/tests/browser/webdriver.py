"""A small W3C WebDriver client over plain HTTP (urllib) for Debian's chromedriver,
with the browser's console log and the network events of chromedriver's
performance log. No packages beyond the standard library."""

import base64
import json
import subprocess
import sys
import time
import urllib.error
import urllib.request


# True on Chromium's error page for a load abandoned because the network changed.
NETWORK_CHANGED = "return !!document.body && document.body.innerText.includes('ERR_NETWORK_CHANGED');"


class WebDriverError(Exception):
    pass


class Browser:
    def __init__(self, chromedriver, chromium, profile_dir, log_path, extra_args=()):
        self.log = open(log_path, "w")
        self.proc = subprocess.Popen(
            [chromedriver, "--port=0"], stdout=subprocess.PIPE, stderr=self.log, text=True
        )
        port = None
        for line in self.proc.stdout:
            if "started successfully on port" in line:
                port = int(line.rsplit("port", 1)[1].strip().rstrip("."))
                break
        if port is None:
            raise WebDriverError(f"chromedriver did not start (see {log_path})")
        self.base = f"http://127.0.0.1:{port}"
        caps = {
            "browserName": "chrome",
            "goog:chromeOptions": {
                "binary": chromium,
                "args": [
                    "--headless=new",
                    "--no-sandbox",
                    "--disable-gpu",
                    "--disable-dev-shm-usage",
                    "--window-size=1000,900",
                    f"--user-data-dir={profile_dir}",
                    "--no-first-run",
                    "--disable-background-networking",
                    *extra_args,
                ],
            },
            "goog:loggingPrefs": {"browser": "ALL", "performance": "ALL"},
        }
        out = self._call("POST", "/session", {"capabilities": {"alwaysMatch": caps}})
        self.session = out["sessionId"]

    def _call(self, method, path, body=None):
        data = json.dumps(body).encode() if body is not None else None
        req = urllib.request.Request(self.base + path, data=data, method=method)
        req.add_header("Content-Type", "application/json")
        try:
            with urllib.request.urlopen(req, timeout=60) as res:
                return json.loads(res.read() or b"{}").get("value")
        except urllib.error.HTTPError as e:
            raise WebDriverError(f"{method} {path}: {e.code} {e.read().decode(errors='replace')[:800]}") from None

    def cmd(self, method, path, body=None):
        return self._call(method, f"/session/{self.session}{path}", body)

    def get(self, url):
        # A navigation that ChromeDriver reports abandoned for a network change (see
        # `wait`) is tried again, at most three times.
        for attempt in range(4):
            try:
                self.cmd("POST", "/url", {"url": url})
                return
            except WebDriverError as e:
                if "ERR_NETWORK_CHANGED" not in str(e) or attempt == 3:
                    raise
                print(f"chromium: the host's network changed while opening {url}; trying again", file=sys.stderr)

    def refresh(self):
        self.cmd("POST", "/refresh", {})

    def url(self):
        return self.cmd("GET", "/url")

    def js(self, script, *args):
        return self.cmd("POST", "/execute/sync", {"script": script, "args": list(args)})

    def js_async(self, script, *args):
        return self.cmd("POST", "/execute/async", {"script": script, "args": list(args)})

    def screenshot(self, path):
        with open(path, "wb") as f:
            f.write(base64.b64decode(self.cmd("GET", "/screenshot")))

    def logs(self, kind):
        return self.cmd("POST", "/se/log", {"type": kind})

    def wait(self, what, check, timeout=20.0):
        """Polls `check` (a JS expression or a callable) until it is truthy.

        Chromium abandons a page load when the host's network interfaces change
        (its own error page, ERR_NETWORK_CHANGED): here that is another test's
        container coming up or going away on the same engine, not the app. Such a
        page is reloaded, as its own Reload button would, at most three times."""
        deadline = time.monotonic() + timeout
        last = None
        reloads = 0
        while time.monotonic() < deadline:
            last = self.js(f"return ({check});") if isinstance(check, str) else check()
            if last:
                return last
            if reloads < 3 and self.js(NETWORK_CHANGED):
                reloads += 1
                print(f"chromium: the host's network changed while loading {self.url()} (ERR_NETWORK_CHANGED); reloading", file=sys.stderr)
                self.refresh()
                continue
            time.sleep(0.05)
        raise WebDriverError(f"timed out after {timeout}s waiting for {what} (last value {last!r}) at {self.url()}")

    def fill(self, form, values):
        """Sets the named fields of `form[data-form=NAME]` and submits it."""
        self.wait(f"form {form}", f"document.querySelector('form[data-form={form}]')")
        self.js(
            """const f = document.querySelector('form[data-form=' + arguments[0] + ']');
            for (const [k, v] of Object.entries(arguments[1])) f.elements[k].value = v;
            f.querySelector('button[type=submit]').click();""",
            form,
            values,
        )

    def click_link(self, text):
        self.wait(f"a link '{text}'", f"[...document.querySelectorAll('a')].some(a => a.textContent === {json.dumps(text)})")
        self.js("[...document.querySelectorAll('a')].find(a => a.textContent === arguments[0]).click();", text)

    def close(self):
        try:
            self.cmd("DELETE", "")
        except Exception:
            pass
        self.proc.terminate()
        self.proc.wait(timeout=10)
        self.log.close()


class Network:
    """The requests and their outcomes, from chromedriver's performance log."""

    def __init__(self):
        self.requests = {}  # requestId -> {url, method, status, failed, headers, post}

    def feed(self, entries):
        for entry in entries:
            msg = json.loads(entry["message"])["message"]
            params = msg.get("params", {})
            rid = params.get("requestId")
            if msg["method"] == "Network.requestWillBeSent":
                r = params["request"]
                self.requests[rid] = {
                    "url": r["url"], "method": r["method"], "status": None, "failed": None,
                    "headers": r.get("headers", {}), "post": r.get("postData"),
                }
            elif msg["method"] == "Network.responseReceived" and rid in self.requests:
                self.requests[rid]["status"] = params["response"]["status"]
            elif msg["method"] == "Network.loadingFailed" and rid in self.requests:
                self.requests[rid]["failed"] = params.get("errorText")

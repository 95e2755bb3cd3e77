#!/usr/bin/env python3
"""Drives a page in headless Chromium through chromedriver's W3C WebDriver
HTTP API (standard library only), for the dashboard tests and bench.

  webdriver.py DRIVER_URL PLAN.json

PLAN.json is {"args": [chromium's arguments], "steps": [...]}: the steps
run in order on one fresh session; each
prints one line "NAME<TAB>JSON result" (or "NAME<TAB>ERROR: ..." and the
run stops with exit 1):
  {"name": n, "open": url}                       navigate
  {"name": n, "js": code}                        run code (a function body), its return value
  {"name": n, "wait": code, "timeout": s}        poll code until it returns a true value
  {"name": n, "click": css}                      a real click on the first match
  {"name": n, "type": css, "text": t}            real key presses into the first match
  {"name": n, "shot": path}                      a PNG screenshot of the window
Every request has a timeout; nothing is bounded by the caller's patience.
"""
import base64
import json
import sys
import time
import urllib.error
import urllib.request

ELEMENT = "element-6066-11e4-a52e-4f735466cecf"
REQUEST_TIMEOUT = 60


class Failure(Exception):
    pass


class Session:
    def __init__(self, base, args):
        self.base = base.rstrip("/")
        caps = {"capabilities": {"alwaysMatch": {
            "browserName": "chrome",
            "goog:chromeOptions": {"binary": "/usr/bin/chromium", "args": args},
        }}}
        self.id = self.call("POST", "/session", caps)["sessionId"]

    def call(self, method, path, body=None):
        url = self.base + path
        data = json.dumps(body if body is not None else {}).encode() if method == "POST" else None
        req = urllib.request.Request(url, data=data, method=method,
                                     headers={"Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(req, timeout=REQUEST_TIMEOUT) as r:
                reply = json.loads(r.read() or b"{}")
        except urllib.error.HTTPError as e:
            reply = json.loads(e.read() or b"{}")
            v = reply.get("value", {})
            raise Failure("%s %s: %s: %s" % (method, path, v.get("error"), v.get("message", "")[:300]))
        return reply.get("value")

    def at(self, path):
        return "/session/" + self.id + path

    def find(self, css):
        return self.call("POST", self.at("/element"), {"using": "css selector", "value": css})[ELEMENT]

    def js(self, code):
        return self.call("POST", self.at("/execute/sync"), {"script": code, "args": []})

    def close(self):
        try:
            self.call("DELETE", self.at(""))
        except (Failure, OSError):
            pass


def run_step(s, step):
    if "open" in step:
        return s.call("POST", s.at("/url"), {"url": step["open"]})
    if "js" in step:
        return s.js(step["js"])
    if "wait" in step:
        deadline = time.monotonic() + float(step.get("timeout", 20))
        while True:
            v = s.js(step["wait"])
            if v:
                return v
            if time.monotonic() > deadline:
                raise Failure("still false after %ss: %s" % (step.get("timeout", 20), step["wait"]))
            time.sleep(0.1)
    if "click" in step:
        return s.call("POST", s.at("/element/" + s.find(step["click"]) + "/click"))
    if "type" in step:
        return s.call("POST", s.at("/element/" + s.find(step["type"]) + "/value"), {"text": step["text"]})
    if "shot" in step:
        png = base64.b64decode(s.call("GET", s.at("/screenshot")))
        with open(step["shot"], "wb") as f:
            f.write(png)
        return len(png)
    raise Failure("unknown step: %s" % json.dumps(step))


def main():
    if len(sys.argv) != 3:
        sys.exit("usage: webdriver.py DRIVER_URL PLAN.json")
    with open(sys.argv[2]) as f:
        plan = json.load(f)
    steps, args = plan["steps"], plan.get("args", [])
    try:
        s = Session(sys.argv[1], args)
    except (Failure, OSError) as e:
        print("session\tERROR: %s" % e)
        return 1
    try:
        for step in steps:
            try:
                v = run_step(s, step)
            except (Failure, OSError) as e:
                print("%s\tERROR: %s" % (step.get("name", "?"), e), flush=True)
                return 1
            print("%s\t%s" % (step.get("name", "?"), json.dumps(v)), flush=True)
    finally:
        s.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())

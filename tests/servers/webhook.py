#!/usr/bin/env python3
"""A report webhook receiver for tests/e2e/t0750-report.sh: HTTPS on
127.0.0.1, bearer token check, one line per accepted report.

usage: webhook.py PORT CERT KEY TOKEN_FILE LOG_DIR

Every POST is checked: Authorization must be "Bearer <token>" (401
otherwise), the body must be JSON whose id equals the X-Kedge-Report-Id and
Idempotency-Key headers (400 otherwise). Accepted reports are appended to
LOG_DIR/ids (one id per line, duplicates included, so a test can count
deliveries) and the body is kept as LOG_DIR/<id>.json. Every request,
accepted or not, is appended to LOG_DIR/requests with its headers, so a
test can look for secrets in what was sent. When LOG_DIR/status holds a
number, that status is answered instead (after recording the request);
when LOG_DIR/hang exists, the answer comes only after 30 seconds.
"""
import json
import os
import ssl
import sys
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

PORT, CERT, KEY, TOKEN_FILE, LOG = sys.argv[1:6]


def token():
    with open(TOKEN_FILE) as f:
        return f.readline().strip()


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def answer(self, status, text):
        body = (text + "\n").encode()
        self.send_response(status)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_POST(self):
        n = int(self.headers.get("Content-Length", "0"))
        body = self.rfile.read(n) if 0 <= n <= 16 << 20 else b""
        with open(os.path.join(LOG, "requests"), "ab") as f:
            f.write(str(self.headers).encode() + body + b"\n")
        if os.path.exists(os.path.join(LOG, "hang")):
            time.sleep(30)
        forced = None
        try:
            with open(os.path.join(LOG, "status")) as f:
                forced = int(f.read().strip() or "0") or None
        except FileNotFoundError:
            pass
        if forced:
            return self.answer(forced, "forced status")
        if self.headers.get("Authorization") != "Bearer " + token():
            return self.answer(401, "bad token")
        try:
            doc = json.loads(body)
        except ValueError:
            return self.answer(400, "not JSON")
        rid = self.headers.get("X-Kedge-Report-Id")
        if not rid or doc.get("id") != rid or self.headers.get("Idempotency-Key") != rid:
            return self.answer(400, "id mismatch")
        with open(os.path.join(LOG, rid + ".json"), "wb") as f:
            f.write(body)
        with open(os.path.join(LOG, "ids"), "a") as f:
            f.write(rid + "\n")
        return self.answer(202, "accepted " + rid)

    def log_message(self, fmt, *args):
        pass


server = ThreadingHTTPServer(("127.0.0.1", int(PORT)), Handler)
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
ctx.load_cert_chain(CERT, KEY)
server.socket = ctx.wrap_socket(server.socket, server_side=True)
server.serve_forever()

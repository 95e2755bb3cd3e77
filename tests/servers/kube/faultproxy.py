#!/usr/bin/env python3
"""A fault-injecting HTTPS proxy for kedge's Kubernetes tests (standard
library only).

  faultproxy.py PORT UPSTREAM_PORT CERT KEY CA CONTROL_FILE LOG_FILE

Listens with TLS (CERT/KEY) on 127.0.0.1:PORT and serves one request per
connection (answers carry Connection: close). Before each request it takes
the first line of CONTROL_FILE (removing it) as that request's fate:
  429, 500, 502, 503, 504   answer that status (429 with Retry-After: 1)
  drop                      close the connection without an answer
  delay:MS                  wait MS milliseconds, then forward
  (no line, or pass)        forward to https://127.0.0.1:UPSTREAM_PORT (CA
                            checks it), Authorization passed through
Each request is logged as "FATE METHOD TARGET" to LOG_FILE."""
import fcntl
import socket
import ssl
import sys
import threading
import time

port, upstream, cert, key, ca, control, logfile = sys.argv[1:8]
lock = threading.Lock()


def next_fate():
    with lock:
        try:
            with open(control, "r+") as f:
                fcntl.flock(f, fcntl.LOCK_EX)
                lines = f.read().splitlines()
                fate = lines[0].strip() if lines else "pass"
                f.seek(0)
                f.truncate()
                f.write("".join(line + "\n" for line in lines[1:]))
        except FileNotFoundError:
            fate = "pass"
    return fate or "pass"


def log(line):
    with lock:
        with open(logfile, "a") as f:
            f.write(line + "\n")


def read_request(conn):
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = conn.recv(65536)
        if not chunk:
            return None, None
        data += chunk
        if len(data) > 1 << 20:
            return None, None
    head, body = data.split(b"\r\n\r\n", 1)
    length = 0
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value.strip())
    while len(body) < length:
        chunk = conn.recv(65536)
        if not chunk:
            return None, None
        body += chunk
    return head, body


up_ctx = ssl.create_default_context(cafile=ca)


def handle(raw, fate):
    try:
        conn = srv_ctx.wrap_socket(raw, server_side=True)
    except (ssl.SSLError, OSError):
        raw.close()
        return
    try:
        head, body = read_request(conn)
        if head is None:
            return
        first = head.split(b"\r\n", 1)[0].decode("latin-1")
        log(fate + " " + first)
        if fate.isdigit():
            msg = ('{"kind":"Status","apiVersion":"v1","status":"Failure",'
                   '"message":"injected %s","code":%s}' % (fate, fate)).encode()
            extra = "Retry-After: 1\r\n" if fate == "429" else ""
            conn.sendall(("HTTP/1.1 %s Injected\r\nContent-Type: application/json\r\n%s"
                          "Content-Length: %d\r\nConnection: close\r\n\r\n"
                          % (fate, extra, len(msg))).encode() + msg)
            return
        if fate == "drop":
            return
        if fate.startswith("delay:"):
            time.sleep(int(fate[6:]) / 1000)
        lines = [l for l in head.split(b"\r\n") if not l.lower().startswith(b"connection:")]
        up = up_ctx.wrap_socket(socket.create_connection(("127.0.0.1", int(upstream))),
                                server_hostname="127.0.0.1")
        up.sendall(b"\r\n".join(lines) + b"\r\nConnection: close\r\n\r\n" + body)
        while True:
            chunk = up.recv(65536)
            if not chunk:
                break
            conn.sendall(chunk)
        up.close()
    except OSError:
        pass
    finally:
        conn.close()


srv_ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
srv_ctx.load_cert_chain(cert, key)
srv = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
srv.bind(("127.0.0.1", int(port)))
srv.listen(64)
while True:
    raw, _ = srv.accept()
    threading.Thread(target=handle, args=(raw, next_fate()), daemon=True).start()

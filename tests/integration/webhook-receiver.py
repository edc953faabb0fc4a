#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""A webhook receiver for tests (stdlib only): a real HTTP server on loopback.

Every POST is appended to --out as one JSON line:
  {"path": ..., "time": <unix time received>, "valid": <body is JSON>,
   "body": <parsed body or the raw text>}
after waiting --delay seconds (per request, in its own thread, so a slow
answer does not hold up the others), then answered with --status.
"""
import argparse
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

lock = threading.Lock()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--addr", default="127.0.0.1")
    ap.add_argument("--out", required=True)
    ap.add_argument("--delay", type=float, default=0.0)
    ap.add_argument("--status", type=int, default=200)
    args = ap.parse_args()

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_POST(self):
            received = time.time()
            n = int(self.headers.get("Content-Length", "0"))
            raw = self.rfile.read(n)
            try:
                body, valid = json.loads(raw), True
            except ValueError:
                body, valid = raw.decode("utf-8", "replace"), False
            if args.delay:
                time.sleep(args.delay)
            entry = {"path": self.path, "time": received, "valid": valid,
                     "content_type": self.headers.get("Content-Type"), "body": body}
            with lock, open(args.out, "a") as f:
                f.write(json.dumps(entry) + "\n")
            try:
                self.send_response(args.status)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")
            except OSError:
                pass  # the client gave up (its timeout): expected in tests

        def log_message(self, fmt, *a):
            pass

    srv = ThreadingHTTPServer((args.addr, args.port), Handler)
    srv.daemon_threads = True
    srv.serve_forever()


if __name__ == "__main__":
    main()

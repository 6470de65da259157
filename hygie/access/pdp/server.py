"""The dedicated decision process (`hygie pdp --bind 127.0.0.1:8300`): the decision endpoints
without Django's request handling or middleware. Policies, applications and caches stay in
memory (pdp/context.py, pdp/service.py); a newly activated policy version is picked up within
the cache lifetime. Same URLs as the Django views, so a proxy can point at either.
"""

from __future__ import annotations

import re
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from django.db import close_old_connections

from hygie.access.pdp import context as ctx
from hygie.access.pdp import service

NGINX_PATH = re.compile(r"^/acces/authz/nginx/(?P<slug>[-\w]+)/?$")
ENVOY_PATH = re.compile(r"^/acces/authz/envoy/(?P<slug>[-\w]+)(?P<rest>/[^?]*)?(?:\?(?P<q>.*))?$")


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive with nginx's upstream keepalive
    disable_nagle_algorithm = True  # headers and body go in separate writes: no 40 ms stall
    server_version = "hygie-pdp"
    sys_version = ""

    def log_message(self, format, *args):  # noqa: A002 - the decision log is the log
        pass

    def _serve(self):
        length = int(self.headers.get("Content-Length") or 0)
        if length:
            self.rfile.read(length)
        headers = dict(self.headers.items())
        peer = self.client_address[0]
        match = NGINX_PATH.match(self.path)
        try:
            if match:
                inputs = ctx.HttpInputs.from_headers(headers, peer=peer)
                status, extra, body = service.handle(service.NGINX, match["slug"], inputs)
            elif m := ENVOY_PATH.match(self.path):
                path = (m["rest"] or "/") + (f"?{m['q']}" if m["q"] else "")
                inputs = ctx.HttpInputs.from_headers(
                    headers, method=self.command, path=path, peer=peer
                )
                status, extra, body = service.handle(service.ENVOY, m["slug"], inputs)
            elif self.path == "/sante":
                status, extra, body = 200, {}, b"ok\n"
            else:
                status, extra, body = 404, {}, b""
        except Exception:  # noqa: BLE001 - a 500 lets the proxy apply the failure mode
            close_old_connections()
            status, extra, body = 500, {}, b""
        self.send_response(status)
        for name, value in extra.items():
            self.send_header(name, value)
        self.send_header("Content-Type", "text/plain; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = do_OPTIONS = _serve


class Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 512


def make_server(host: str, port: int) -> Server:
    return Server((host, port), Handler)

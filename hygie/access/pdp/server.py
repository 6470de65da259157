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


MAX_HEADERS = 100
MAX_LINE = 16384


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive with nginx's upstream keepalive
    disable_nagle_algorithm = True  # headers and body go in separate writes: no 40 ms stall
    server_version = "hygie-pdp"
    sys_version = ""

    def log_message(self, format, *args):  # noqa: A002 - the decision log is the log
        pass

    def parse_request(self):
        """The request line and headers, read into a plain dict (names lower-cased).

        The standard library hands headers to the e-mail parser, which was a third of this
        process's time under load; a proxy's subrequest needs none of what it offers. Limits:
        MAX_HEADERS headers, MAX_LINE bytes a line; anything else malformed is a 400.
        """
        self.command = None
        self.request_version = "HTTP/1.1"  # so that even an error answer has a status line
        self.close_connection = True
        line = str(self.raw_requestline, "iso-8859-1").rstrip("\r\n")
        self.requestline = line
        parts = line.split()
        if len(parts) != 3 or parts[2] not in ("HTTP/1.0", "HTTP/1.1"):
            self.send_error(400, "Bad request line")
            return False
        self.command, self.path, self.request_version = parts
        headers: dict[str, str] = {}
        for _ in range(MAX_HEADERS + 1):
            raw = self.rfile.readline(MAX_LINE + 1)
            if len(raw) > MAX_LINE:
                self.send_error(431, "Header line too long")
                return False
            if raw in (b"\r\n", b"\n", b""):
                break
            name, colon, value = raw.decode("iso-8859-1").partition(":")
            name = name.strip().lower()
            if not colon or not name or " " in name:
                self.send_error(400, "Bad header line")
                return False
            value = value.strip()
            headers[name] = f"{headers[name]}, {value}" if name in headers else value
        else:
            self.send_error(431, "Too many headers")
            return False
        self.headers = headers
        connection = headers.get("connection", "").lower()
        self.close_connection = (
            connection == "close"
            or (self.request_version == "HTTP/1.0" and connection != "keep-alive")
            # A chunked body is not read here; the connection cannot be reused after it.
            or "transfer-encoding" in headers
        )
        return True

    def _serve(self):
        length = self.headers.get("content-length") or "0"
        if not (length.isascii() and length.isdigit()):
            self.close_connection = True
            length = "0"
        if int(length):
            self.rfile.read(int(length))
        headers = self.headers
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


class SharedPortServer(Server):
    allow_reuse_port = True  # several worker processes listen on the same port


def make_server(host: str, port: int, *, reuse_port: bool = False) -> Server:
    return (SharedPortServer if reuse_port else Server)((host, port), Handler)

"""A real nginx in front of a tiny sample application, with `auth_request` to Hygie, for the
end-to-end tests and the benchmark. The server block is the one Hygie generates
(pdp/proxy_config.nginx_config)."""

from __future__ import annotations

import socket
import subprocess
import tempfile
import threading
import time
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from hygie.access.pdp.proxy_config import nginx_config


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class _SampleHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def _answer(self):
        length = int(self.headers.get("Content-Length") or 0)
        if length:
            self.rfile.read(length)
        self.server.seen.append((self.command, self.path, dict(self.headers.items())))
        body = f"dossier {self.path} decision={self.headers.get('X-Hygie-Decision', '')}".encode()
        self.send_response(200)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_GET = do_POST = _answer


@contextmanager
def sample_app():
    server = ThreadingHTTPServer(("127.0.0.1", free_port()), _SampleHandler)
    server.daemon_threads = True
    server.seen = []
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()


def _wait_port(port: int, timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.02)
    raise RuntimeError(f"nothing listens on {port}")


@contextmanager
def nginx_front(
    application,
    *,
    pdp_url: str,
    hygie_url: str,
    secret: str,
    workers: int = 1,
    auth: bool = True,
    static_port: int | None = None,
):
    """nginx on a free port: `auth_request` to `pdp_url` (or, auth=False, straight to the
    application, for the benchmark's baseline)."""
    port = free_port()
    with tempfile.TemporaryDirectory(prefix="hygie-nginx-") as tmp:
        prefix = Path(tmp)
        (prefix / "logs").mkdir()
        (prefix / "conf").mkdir()
        pdp_host = pdp_url.split("://", 1)[-1].rstrip("/")
        if auth:
            locations = nginx_config(application, pdp=pdp_url, secret=secret, hygie=hygie_url)
        else:
            locations = f"location / {{ proxy_pass {application.upstream}; }}\n"
        temp = "\n".join(
            f"    {name}_temp_path {prefix}/{name};"
            for name in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
        )
        static = (
            f"server {{ listen 127.0.0.1:{static_port}; location / {{ return 200 'dossier'; }} }}"
            if static_port
            else ""
        )
        (prefix / "conf" / "nginx.conf").write_text(
            f"""daemon off;
worker_processes {workers};
pid {prefix}/nginx.pid;
error_log {prefix}/logs/error.log warn;
events {{ worker_connections 4096; }}
http {{
    access_log off;
{temp}
    upstream hygie_pdp {{ server {pdp_host}; keepalive 64; }}
    server {{
        listen 127.0.0.1:{port};
        {locations}
    }}
    {static}
}}
"""
        )
        process = subprocess.Popen(  # noqa: S603 - fixed binary, our own config
            [
                "/usr/sbin/nginx",
                "-p",
                str(prefix),
                "-c",
                "conf/nginx.conf",
                "-e",
                str(prefix / "logs/error.log"),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        try:
            try:
                _wait_port(port)
            except RuntimeError:
                process.kill()
                raise RuntimeError(process.stderr.read().decode()) from None
            yield f"http://127.0.0.1:{port}"
        finally:
            process.terminate()
            process.wait(5)

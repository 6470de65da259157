"""`hygie pdp --bind 127.0.0.1:8300 [--workers N]`: run the dedicated decision process.

With several workers, each is a process of its own (its own interpreter lock, caches and
decision log writer) listening on the same port (SO_REUSEPORT: the kernel spreads the proxy's
connections over them). The parent only supervises: a worker that dies is started again, and
SIGTERM/SIGINT stop them all after each has written its waiting decisions.
"""

import gc
import os
import signal
import socket
import sys
import threading
import time

from django.core.management.base import BaseCommand, CommandError
from django.db import connections

from hygie.access.pdp import server

RESTART_PAUSE = 1.0  # seconds between restarts of a worker that keeps dying


class Command(BaseCommand):
    help = "Point de décision Zero Trust dédié (réponses à nginx auth_request et Envoy ext_authz)."

    def add_arguments(self, parser):
        parser.add_argument("--bind", default="127.0.0.1:8300", help="adresse:port d'écoute")
        parser.add_argument(
            "--workers",
            type=int,
            default=1,
            help="nombre de processus de décision sur le même port (1 par cœur au plus)",
        )

    def handle(self, *args, bind, workers, **options):
        host, _, port = bind.rpartition(":")
        if not host or not port.isdigit():
            raise CommandError("--bind attend adresse:port, par exemple 127.0.0.1:8300")
        if not 1 <= workers <= 64:
            raise CommandError("--workers attend un nombre entre 1 et 64")
        host = host.strip("[]")
        try:
            # With several workers, bind once in the parent first: a port already taken is
            # reported here, not by each worker in a restart loop.
            httpd = server.make_server(host, int(port), reuse_port=workers > 1)
        except OSError as error:
            raise CommandError(
                f"impossible d'écouter sur {host}:{port} : {error.strerror}"
            ) from None
        if workers == 1:
            self._announce(host, port, workers)
            _serve(httpd)
            return
        httpd.server_close()
        connections.close_all()  # no database connection may cross a fork
        children: dict[int, int] = {}
        stopping = threading.Event()

        def stop(signum, _frame):
            stopping.set()
            for pid in list(children):
                _kill(pid, signal.SIGTERM)

        signal.signal(signal.SIGTERM, stop)
        signal.signal(signal.SIGINT, stop)
        for slot in range(workers):
            _spawn(host, int(port), children, slot)
        _wait_listening(host, int(port))  # announced only once a worker takes connections
        self._announce(host, port, workers)
        while children:
            try:
                pid, status = os.wait()
            except ChildProcessError:
                break
            slot = children.pop(pid, None)
            if slot is None or stopping.is_set():
                continue
            self.stderr.write(
                f"hygie pdp: worker {slot} (pid {pid}) ended ({_describe(status)}); restarting"
            )
            time.sleep(RESTART_PAUSE)
            if not stopping.is_set():
                _spawn(host, int(port), children, slot)

    def _announce(self, host, port, workers):
        suffix = f" ({workers} workers)" if workers > 1 else ""
        self.stdout.write(f"hygie pdp: listening on {host}:{port}{suffix}", ending="\n")
        self.stdout.flush()


def _serve(httpd) -> None:
    from hygie.access.pdp import log

    # Django, the policies' code and the settings live as long as the process: set them aside
    # from the garbage collector, whose full passes over them stalled every request for
    # 60–90 ms (measured under load, benchmarks/README.md).
    gc.collect()
    gc.freeze()
    try:
        httpd.serve_forever(poll_interval=0.5)
    except KeyboardInterrupt:
        pass
    finally:
        httpd.server_close()
        log.flush()


STOP_SIGNALS = {signal.SIGTERM, signal.SIGINT}


def _spawn(host: str, port: int, children: dict, slot: int) -> None:
    """Fork one worker and record it in `children`. The stop signals are held back across the
    fork: the parent only sees them once the new worker is on its list (so it is told to stop
    too), and the worker once its own handler is in place (before that it would run the
    parent's handler and never stop)."""
    signal.pthread_sigmask(signal.SIG_BLOCK, STOP_SIGNALS)
    try:
        pid = os.fork()
    except OSError:
        signal.pthread_sigmask(signal.SIG_UNBLOCK, STOP_SIGNALS)
        raise
    if pid:
        children[pid] = slot
        signal.pthread_sigmask(signal.SIG_UNBLOCK, STOP_SIGNALS)
        return
    _worker(host, port)


def _worker(host: str, port: int) -> None:
    """A worker process: its own listening socket on the shared port; never returns."""
    code = 0
    try:
        stop_requested = threading.Event()
        signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent decides when to stop
        signal.signal(signal.SIGTERM, lambda *_: stop_requested.set())
        signal.pthread_sigmask(signal.SIG_UNBLOCK, STOP_SIGNALS)
        httpd = server.make_server(host, port, reuse_port=True)

        def stop_when_asked():
            stop_requested.wait()
            httpd.shutdown()

        threading.Thread(target=stop_when_asked, daemon=True).start()
        _serve(httpd)
    except BaseException:  # noqa: BLE001 - reported, and the parent restarts the worker
        import traceback

        traceback.print_exc()
        code = 1
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)


def _wait_listening(host: str, port: int, timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            socket.create_connection((host, port), timeout=0.5).close()
            return
        except OSError:
            time.sleep(0.05)


def _kill(pid: int, signum: int) -> None:
    try:
        os.kill(pid, signum)
    except ProcessLookupError:
        pass


def _describe(status: int) -> str:
    if os.WIFSIGNALED(status):
        return f"signal {os.WTERMSIG(status)}"
    return f"exit {os.waitstatus_to_exitcode(status)}"

"""The dedicated decision process's HTTP handling (`hygie pdp`, pdp/server.py), spoken to over a
raw socket as a proxy would: keep-alive, its own header reader's limits, malformed requests,
and the cache that must not stall every thread at once when it expires."""

from __future__ import annotations

import socket
import threading
import time

import pytest

from hygie.access.models import Decision, NetworkZone
from hygie.access.pdp import context as ctx
from hygie.access.pdp import log
from hygie.access.pdp.server import MAX_HEADERS, make_server
from tests.access.enforce_fixtures import SECRET

pytestmark = [pytest.mark.django_db(transaction=True)]


@pytest.fixture
def pdp(ehr):
    """The decision process on a free port; the loopback is the care network."""
    NetworkZone.objects.create(organisation=ehr.est_a1, cidr="127.0.0.0/8", zone="care")
    server = make_server("127.0.0.1", 0)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield server.server_address[1]
    server.shutdown()
    server.server_close()


def ask(port, *, user="inf.dupont", uri="/dossiers/P100/", extra="") -> bytes:
    return (
        f"GET /acces/authz/nginx/dpi/ HTTP/1.1\r\nHost: pdp\r\n"
        f"X-Hygie-Proxy-Secret: {SECRET}\r\nX-Original-Method: GET\r\n"
        f"X-Original-URI: {uri}\r\nX-Remote-User: {user}\r\n"
        f"X-Device-Id: PC-CARDIO-01\r\n{extra}\r\n"
    ).encode()


def read_response(sock) -> tuple[int, dict, bytes]:
    """One response from the connection (answers read ahead stay in the socket's buffer)."""
    reader = _readers.setdefault(sock, sock.makefile("rb"))
    status_line = reader.readline().decode("iso-8859-1")
    headers = {}
    while (line := reader.readline()) not in (b"\r\n", b"\n", b""):
        name, _, value = line.decode("iso-8859-1").partition(":")
        headers[name.strip().lower()] = value.strip()
    body = reader.read(int(headers.get("content-length", 0)))
    return int(status_line.split()[1]), headers, body


_readers: dict = {}


@pytest.fixture(autouse=True)
def _forget_readers():
    yield
    _readers.clear()


def test_one_connection_carries_many_decisions(pdp, ehr):
    with socket.create_connection(("127.0.0.1", pdp), timeout=5) as sock:
        answers = []
        for patient, user in (("P100", "inf.dupont"), ("P200", "inf.dupont"), ("P100", "x")):
            sock.sendall(ask(pdp, user=user, uri=f"/dossiers/{patient}/"))
            status, headers, _ = read_response(sock)
            answers.append((status, headers.get("x-hygie-decision"), headers.get("connection")))
    # Her unit's patient, another unit's, and a stranger — all on the same connection.
    assert [a[:2] for a in answers] == [(200, "allow"), (403, "deny"), (403, "deny")]
    assert all(a[2] != "close" for a in answers)
    log.flush()
    assert Decision.objects.filter(application=ehr.app).count() == 3


def test_headers_are_read_case_insensitively_and_repeated_ones_joined(pdp):
    with socket.create_connection(("127.0.0.1", pdp), timeout=5) as sock:
        request = ask(pdp).replace(b"X-Remote-User", b"x-REMOTE-user")
        sock.sendall(request)
        status, headers, _ = read_response(sock)
    assert (status, headers["x-hygie-user"]) == (200, "inf.dupont")


@pytest.mark.parametrize(
    "request_bytes, status",
    [
        (b"GARBAGE\r\n\r\n", 400),
        (b"GET / HTTP/2.0\r\n\r\n", 400),
        (b"GET /acces/authz/nginx/dpi/ HTTP/1.1\r\nNo colon here\r\n\r\n", 400),
        (b"GET /acces/authz/nginx/dpi/ HTTP/1.1\r\nX-Long: " + b"a" * 20000 + b"\r\n\r\n", 431),
        (
            b"GET /acces/authz/nginx/dpi/ HTTP/1.1\r\n"
            + b"".join(b"X-H%d: v\r\n" % i for i in range(MAX_HEADERS + 1))
            + b"\r\n",
            431,
        ),
    ],
    ids=["no-request-line", "http2", "header-without-colon", "line-too-long", "too-many"],
)
def test_malformed_requests_get_a_clear_status_and_the_connection_closes(
    pdp, request_bytes, status
):
    with socket.create_connection(("127.0.0.1", pdp), timeout=5) as sock:
        sock.sendall(request_bytes)
        got, _, _ = read_response(sock)
        assert got == status
        sock.settimeout(2)
        assert (
            _readers.pop(sock).read(1) == b""
        )  # closed: nothing half-read is taken for a next request
    assert not Decision.objects.exists()


def test_a_request_with_a_body_is_answered_and_the_body_not_taken_for_a_request(pdp):
    with socket.create_connection(("127.0.0.1", pdp), timeout=5) as sock:
        body = b"GET /acces/authz/nginx/dpi/ HTTP/1.1\r\n\r\n"  # looks like a request
        sock.sendall(ask(pdp, extra=f"Content-Length: {len(body)}\r\n") + body)
        sock.sendall(ask(pdp))
        first, _, _ = read_response(sock)
        second, headers, _ = read_response(sock)
    assert (first, second, headers["x-hygie-decision"]) == (200, 200, "allow")


def test_an_expired_cache_entry_is_computed_once_while_the_others_keep_answering(monkeypatch):
    """Many threads finding the same entry expired compute it once (the rest answer the
    previous value meanwhile); a missing entry is computed once and the others wait for it."""
    calls = []
    release = threading.Event()

    def slow():
        calls.append(1)
        release.wait(5)
        return len(calls)

    monkeypatch.setattr(ctx, "CACHE_SECONDS", 30.0)
    results = []
    threads = [
        threading.Thread(target=lambda: results.append(ctx.cached(("t", 1), slow)))
        for _ in range(8)
    ]
    for thread in threads:
        thread.start()
    time.sleep(0.2)
    assert len(calls) == 1  # one computes, seven wait
    release.set()
    for thread in threads:
        thread.join(5)
    assert results == [1] * 8

    # Expired a moment ago: answered from the previous value while one thread refreshes.
    release.clear()
    with ctx._lock:
        ctx._cache[("t", 1)] = (time.monotonic() - 1, 1)
    started = time.monotonic()
    answers = [ctx.cached(("t", 1), slow) for _ in range(5)]
    assert answers == [1] * 5 and time.monotonic() - started < 1
    assert len(calls) == 2  # one refresh for the five
    release.set()
    deadline = time.monotonic() + 5
    while ctx._cache[("t", 1)][1] != 2 and time.monotonic() < deadline:
        time.sleep(0.01)
    assert ctx.cached(("t", 1), slow) == 2

    # Long expired (older than a cache lifetime): never answered stale, computed afresh.
    with ctx._lock:
        ctx._cache[("t", 1)] = (time.monotonic() - 31, 2)
    assert ctx.cached(("t", 1), slow) == 3

    # After an invalidation nothing from before is served.
    ctx.invalidate()
    assert ctx.cached(("t", 1), slow) == 4

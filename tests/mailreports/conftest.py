from __future__ import annotations

import pytest

from hygie.mailreports.models import Mailbox, Security
from tests.services.imap import imap_server


@pytest.fixture
def imap():
    with imap_server() as server:
        yield server


@pytest.fixture
def mailbox_for(world):
    """An abuse mailbox of CHU A1 pointing at the given IMAP server."""

    def make(server, *, security=Security.NONE, **extra) -> Mailbox:
        port = server.tls_port if security == Security.TLS else server.port
        fields = {
            "organisation": world.est_a1,
            "name": "Signalements CHU A1",
            "host": server.host,
            "port": port,
            "security": security,
            "username": server.username,
            "password": server.password,
            "timeout": 5,
            "reply_address": "securite@chu-a.example",
        }
        fields.update(extra)
        return Mailbox.objects.create(**fields)

    return make

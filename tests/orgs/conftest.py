"""Fixtures of the orgs tests: a real OpenLDAP server for the directory sync."""

from __future__ import annotations

import pytest

from tests.services.slapd import Directory, start_slapd


@pytest.fixture(scope="session")
def slapd():
    server = start_slapd()
    yield server
    server.stop()


@pytest.fixture
def directory(slapd):
    corner = Directory(slapd)
    yield corner
    corner.close()

"""Test clients that behave like a browser: CSRF enforced, token sent back like a real form would."""

from __future__ import annotations

import time

from django.test import Client

from hygie.accounts.services import SUDO_KEY
from tests.conftest import logged_in_client

# A fixed CSRF secret, sent both as the cookie and as the header, as a real page's JavaScript or
# form would: the CSRF check still runs, it simply passes.
CSRF_TOKEN = "hygieTestCsrfSecret0123456789abc"


def with_csrf(client: Client) -> Client:
    client.cookies["csrftoken"] = CSRF_TOKEN
    client.defaults["HTTP_X_CSRFTOKEN"] = CSRF_TOKEN
    return client


def browser(user=None, *, second_factor: bool = True, sudo: bool = False) -> Client:
    """An anonymous or logged-in client able to POST forms; optionally already re-authenticated."""
    if user is None:
        client = Client(enforce_csrf_checks=True)
    else:
        client = logged_in_client(user, second_factor=second_factor)
    with_csrf(client)
    if sudo and user is not None:
        session = client.session
        session[SUDO_KEY] = time.time() + 600
        session.save()
    return client

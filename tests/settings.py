"""Test settings: Hygie's own settings with HYGIE_TESTING on, data under a temporary directory."""

import os
import tempfile

os.environ.setdefault("HYGIE_TESTING", "1")
os.environ.setdefault("HYGIE_DATA_DIR", tempfile.mkdtemp(prefix="hygie-tests-"))
os.environ.setdefault("HYGIE_EMAIL_BACKEND", "django.core.mail.backends.locmem.EmailBackend")
# Playwright's sync API runs an event loop in the test thread; Django's ORM must still be usable there.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

from hygie.settings import *  # noqa: E402, F403

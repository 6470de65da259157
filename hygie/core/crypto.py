"""Encryption of secrets at rest (bind passwords, SMTP passwords, TOTP seeds).

Fernet (AES-128-CBC + HMAC-SHA256) from `cryptography`. Keys come from
HYGIE_ENCRYPTION_KEYS (first one encrypts, all decrypt, for rotation); without
them a key is derived from SECRET_KEY so a demo works out of the box. A
production deployment sets its own keys, kept outside the database backup.
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from functools import lru_cache

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import models

PREFIX = "fernet:"

# Backup and restore move secrets exactly as they are stored: never decrypted, never
# re-encrypted (see `ciphertext_passthrough`).
_passthrough: ContextVar[bool] = ContextVar("hygie_ciphertext_passthrough", default=False)


@contextmanager
def ciphertext_passthrough() -> Iterator[None]:
    """Inside this block, encrypted fields read and write the stored ciphertext unchanged."""
    token = _passthrough.set(True)
    try:
        yield
    finally:
        _passthrough.reset(token)


@lru_cache(maxsize=1)
def _fernet() -> MultiFernet:
    keys = list(settings.ENCRYPTION_KEYS)
    if not keys:
        digest = hashlib.sha256(
            b"hygie-encryption-at-rest:" + settings.SECRET_KEY.encode()
        ).digest()
        keys = [base64.urlsafe_b64encode(digest).decode()]
    try:
        return MultiFernet([Fernet(key.encode()) for key in keys])
    except ValueError as exc:
        raise ImproperlyConfigured(
            "HYGIE_ENCRYPTION_KEYS must hold Fernet keys (32 url-safe base64 bytes); "
            "generate one with: python -c 'from cryptography.fernet import Fernet; "
            "print(Fernet.generate_key().decode())'"
        ) from exc


def encrypt(plaintext: str) -> str:
    return PREFIX + _fernet().encrypt(plaintext.encode("utf-8")).decode("ascii")


def decrypt(token: str) -> str:
    if not token.startswith(PREFIX):
        raise ValueError("value is not an encrypted secret")
    try:
        return _fernet().decrypt(token[len(PREFIX) :].encode("ascii")).decode("utf-8")
    except InvalidToken as exc:
        raise ValueError("secret cannot be decrypted with the configured keys") from exc


class EncryptedTextField(models.TextField):
    """A text column whose value is stored encrypted; Python code sees the plaintext."""

    def from_db_value(self, value, expression, connection):
        if value is None or value == "" or _passthrough.get():
            return value
        return decrypt(value)

    def get_prep_value(self, value):
        value = super().get_prep_value(value)
        if value is None or value == "" or _passthrough.get():
            return value
        return encrypt(value)

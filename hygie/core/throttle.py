"""Token-bucket rate limiting stored in the database (logins, TOTP attempts, imports)."""

from __future__ import annotations

import hashlib

from django.db import IntegrityError, transaction
from django.utils import timezone

from hygie.core.models import ThrottleBucket


def allow(scope: str, key: str, *, capacity: int, per_seconds: float) -> bool:
    """Take one token from the bucket (scope, key); False when it is empty.

    The bucket holds `capacity` tokens and refills at capacity/per_seconds per second.
    """
    key_hash = hashlib.sha256(f"{scope}:{key}".encode()).hexdigest()
    now = timezone.now()
    rate = capacity / per_seconds
    with transaction.atomic():
        bucket = (
            ThrottleBucket.objects.select_for_update()
            .filter(scope=scope, key_hash=key_hash)
            .first()
        )
        if bucket is None:
            try:
                with transaction.atomic():
                    ThrottleBucket.objects.create(
                        scope=scope, key_hash=key_hash, tokens=capacity - 1, updated_at=now
                    )
                return True
            except IntegrityError:
                bucket = ThrottleBucket.objects.select_for_update().get(
                    scope=scope, key_hash=key_hash
                )
        elapsed = max((now - bucket.updated_at).total_seconds(), 0.0)
        tokens = min(capacity, bucket.tokens + elapsed * rate)
        allowed = tokens >= 1
        bucket.tokens = tokens - 1 if allowed else tokens
        bucket.updated_at = now
        bucket.save(update_fields=["tokens", "updated_at"])
        return allowed


def refund(scope: str, key: str, *, capacity: int) -> None:
    """Give back the token taken by an attempt that turned out legitimate (a correct password)."""
    key_hash = hashlib.sha256(f"{scope}:{key}".encode()).hexdigest()
    with transaction.atomic():
        bucket = (
            ThrottleBucket.objects.select_for_update()
            .filter(scope=scope, key_hash=key_hash)
            .first()
        )
        if bucket is not None:
            bucket.tokens = min(capacity, bucket.tokens + 1)
            bucket.save(update_fields=["tokens"])


def reset(scope: str, key: str) -> None:
    key_hash = hashlib.sha256(f"{scope}:{key}".encode()).hexdigest()
    ThrottleBucket.objects.filter(scope=scope, key_hash=key_hash).delete()

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class AppendOnlyQuerySet(models.QuerySet):
    """Bulk changes would bypass the model's guards: refuse them too."""

    def update(self, **kwargs):
        raise ValueError("the security journal is append-only")

    def delete(self):
        raise ValueError("the security journal is append-only")


class AuditEvent(models.Model):
    """One entry of the append-only, hash-chained security journal.

    Each entry's `digest` is an HMAC over its own content and the previous
    entry's digest, so editing or removing any entry breaks the chain from
    that point on (`hygie audit verify`).
    """

    sequence = models.PositiveBigIntegerField(unique=True)
    created_at = models.DateTimeField(db_index=True)
    # No database constraint and nothing done on deletion: the journal outlives accounts, and
    # the actor's id is part of the signed content (clearing it would break the chain).
    # `actor_label` keeps the name for display.
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        related_name="+",
    )
    actor_label = models.CharField(max_length=200, blank=True)
    action = models.CharField(max_length=80, db_index=True)
    target_type = models.CharField(max_length=80, blank=True)
    target_id = models.CharField(max_length=80, blank=True)
    target_label = models.CharField(max_length=300, blank=True)
    organisation_id_at_event = models.BigIntegerField(null=True, blank=True, db_index=True)
    ip_address = models.CharField(max_length=64, blank=True)
    user_agent = models.CharField(max_length=300, blank=True)
    details = models.JSONField(default=dict, blank=True)
    previous_digest = models.CharField(max_length=64)
    digest = models.CharField(max_length=64, unique=True)

    objects = AppendOnlyQuerySet.as_manager()

    class Meta:
        ordering = ["-sequence"]
        verbose_name = _("événement du journal")
        verbose_name_plural = _("journal de sécurité")

    def __str__(self):
        return f"#{self.sequence} {self.action} {self.actor_label}"

    def save(self, *args, **kwargs):
        if self.pk is not None:
            raise ValueError("the security journal is append-only")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise ValueError("the security journal is append-only")


class AuditChainHead(models.Model):
    """Single row locked while appending, so concurrent writers chain in order."""

    last_sequence = models.PositiveBigIntegerField(default=0)
    last_digest = models.CharField(max_length=64, default="0" * 64)


class ThrottleBucket(models.Model):
    """A token bucket per (scope, key), kept in the database: no extra server needed."""

    scope = models.CharField(max_length=40)
    key_hash = models.CharField(max_length=64)
    tokens = models.FloatField()
    updated_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["scope", "key_hash"], name="throttle_unique_bucket")
        ]

from __future__ import annotations

import hashlib
import hmac
import secrets

from django.conf import settings
from django.contrib.auth.models import AbstractUser
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from hygie.core.crypto import EncryptedTextField
from hygie.core.visibility import VisibleQuerySet
from hygie.orgs.roles import Role


class User(AbstractUser):
    email = models.EmailField(_("e-mail"), unique=True, null=True, blank=True)

    class Meta:
        verbose_name = _("utilisateur")

    def display_name(self) -> str:
        return self.get_full_name() or self.username


def _keyed_hash(value: str) -> str:
    key = hashlib.sha256(b"hygie-token-hash:" + settings.SECRET_KEY.encode()).digest()
    return hmac.new(key, value.encode(), hashlib.sha256).hexdigest()


class TotpDevice(models.Model):
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="totp"
    )
    secret = EncryptedTextField()
    confirmed_at = models.DateTimeField(null=True, blank=True)
    # Last accepted time step: a code is never accepted twice (replay protection).
    last_step = models.BigIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)

    @property
    def confirmed(self) -> bool:
        return self.confirmed_at is not None


class RecoveryCode(models.Model):
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="recovery_codes"
    )
    code_hash = models.CharField(max_length=64)
    used_at = models.DateTimeField(null=True, blank=True)

    @staticmethod
    def hash(code: str) -> str:
        return _keyed_hash(code.replace("-", "").replace(" ", "").lower())


class ApiTokenScope(models.TextChoices):
    READ = "read", _("Lecture")
    WRITE = "write", _("Lecture et écriture")


class ApiToken(models.Model):
    """A scoped API token; only its keyed hash is stored, the secret is shown once."""

    PREFIX = "hyg_"

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens"
    )
    name = models.CharField(_("nom"), max_length=100)
    scope = models.CharField(
        _("portée"), max_length=10, choices=ApiTokenScope.choices, default=ApiTokenScope.READ
    )
    organisation = models.ForeignKey(
        "orgs.Organisation",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        verbose_name=_("limité à"),
        help_text=_("Restreint le jeton à cette organisation et sa descendance."),
    )
    display_prefix = models.CharField(max_length=12)
    token_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField(_("expire le"), null=True, blank=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self):
        return f"{self.name} ({self.display_prefix}…)"

    @classmethod
    def issue(
        cls, user, name: str, scope: str = ApiTokenScope.READ, organisation=None, expires_at=None
    ):
        secret = cls.PREFIX + secrets.token_urlsafe(32)
        token = cls.objects.create(
            user=user,
            name=name,
            scope=scope,
            organisation=organisation,
            expires_at=expires_at,
            display_prefix=secret[:10],
            token_hash=_keyed_hash(secret),
        )
        return token, secret

    @classmethod
    def find_active(cls, secret: str):
        token = (
            cls.objects.select_related("user", "organisation")
            .filter(token_hash=_keyed_hash(secret), revoked_at__isnull=True)
            .first()
        )
        if token is None or (token.expires_at and token.expires_at <= timezone.now()):
            return None
        return token

    @property
    def active(self) -> bool:
        return self.revoked_at is None and not (
            self.expires_at and self.expires_at <= timezone.now()
        )


def new_link_secret() -> tuple[str, str]:
    """A fresh secret for a one-time link, and the keyed hash that is all the database keeps."""
    secret = secrets.token_urlsafe(32)
    return secret, _keyed_hash(secret)


def link_hash(secret: str) -> str:
    return _keyed_hash(secret)


class InvitationQuerySet(VisibleQuerySet):
    org_lookup = "organisation"

    def pending(self):
        """Neither accepted nor revoked (an expired invitation is still pending: it may be re-sent)."""
        return self.filter(accepted_at__isnull=True, revoked_at__isnull=True)


class Invitation(models.Model):
    """A person brought in by a manager: their role exists, their account awaits a password."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="invitations"
    )
    organisation = models.ForeignKey(
        "orgs.Organisation", on_delete=models.CASCADE, related_name="invitations"
    )
    role = models.CharField(_("rôle"), max_length=30, choices=Role.choices)
    invited_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    token_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)
    sent_at = models.DateTimeField()
    send_count = models.PositiveSmallIntegerField(default=1)
    expires_at = models.DateTimeField(_("expire le"))
    accepted_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    objects = InvitationQuerySet.as_manager()

    class Meta:
        verbose_name = _("invitation")
        ordering = ["-sent_at"]

    def __str__(self):
        return f"{self.user.email or self.user.username} — {self.get_role_display()}"

    @property
    def expired(self) -> bool:
        return self.expires_at <= timezone.now()


class PasswordReset(models.Model):
    """A forgotten-password link. It dies when used, when it expires, and when the password
    changes by any means (the fingerprint of the password hash no longer matches)."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="password_resets"
    )
    token_hash = models.CharField(max_length=64, unique=True)
    password_fingerprint = models.CharField(max_length=64)
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)

    @staticmethod
    def fingerprint(user) -> str:
        return _keyed_hash("password:" + user.password)

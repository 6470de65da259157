"""Forgotten password: a one-time link by e-mail (domain logic, no HTTP).

The answer on screen never depends on whether the address has an account. Accounts without a
local password (single sign-on only, or an invitation not yet accepted) are not given one: the
e-mail tells their owner how they get in instead.
"""

from __future__ import annotations

import logging
import smtplib
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone
from django.utils.translation import get_language

from hygie.accounts import mail
from hygie.accounts.invitations import is_dormant
from hygie.accounts.models import PasswordReset, link_hash, new_link_secret
from hygie.core import throttle
from hygie.core.audit import record_event
from hygie.core.net import client_ip

logger = logging.getLogger(__name__)

LIFETIME = timedelta(hours=1)
# Per address: a whole hospital behind one proxy still gets through; per e-mail: a mailbox is
# not flooded. Both counted whether or not the account exists, so a refusal reveals nothing.
IP_LIMIT = {"capacity": 20, "per_seconds": 3600}
EMAIL_LIMIT = {"capacity": 3, "per_seconds": 3600}


def request_reset(email: str, *, request) -> bool:
    """Send the link (or the explanation) to every active account with this address.

    Returns False when the request is throttled; nothing is sent then.
    """
    address = email.strip().lower()
    if not throttle.allow("password-reset-ip", client_ip(request), **IP_LIMIT) or not (
        throttle.allow("password-reset-email", address, **EMAIL_LIMIT)
    ):
        record_event(
            "auth.password_reset_throttled", request=request, actor=None, details={"email": address}
        )
        return False
    users = list(get_user_model().objects.filter(email__iexact=address, is_active=True))
    if not users:
        record_event(
            "auth.password_reset_requested",
            request=request,
            actor=None,
            details={"email": address, "account": False},
        )
    for user in users:
        _send(user, request=request)
    return True


def _send(user, *, request) -> None:
    language = get_language()  # the person asking for the link reads the e-mail
    if user.has_usable_password():
        secret, token_hash = new_link_secret()
        reset = PasswordReset.objects.create(
            user=user,
            token_hash=token_hash,
            password_fingerprint=PasswordReset.fingerprint(user),
            expires_at=timezone.now() + LIFETIME,
        )
        template = "password_reset"
        context = {
            "user": user,
            "link": mail.absolute_url("accounts:password_reset_confirm", secret),
            "expires_at": reset.expires_at,
            "minutes": int(LIFETIME.total_seconds() // 60),
        }
    else:
        reset = None
        pending = user.invitations.pending().select_related("invited_by").first()
        template = "password_reset_no_local_password"
        context = {
            "user": user,
            "oidc_name": settings.OIDC_PROVIDER_NAME if settings.OIDC_ENABLED else "",
            "invited": is_dormant(user),
            "inviter_name": (
                pending.invited_by.display_name() if pending and pending.invited_by else ""
            ),
            "login": mail.absolute_url("accounts:login"),
        }
    details = {"email": user.email, "account": True, "link": reset is not None}
    try:
        mail.send(template, user.email, context, language=language)
    except (smtplib.SMTPException, OSError):
        # Said nowhere on screen: the page must not differ for an existing account.
        logger.exception("password reset e-mail to user %s failed", user.pk)
        details["mail_failed"] = True
        if reset is not None:
            reset.delete()
    record_event(
        "auth.password_reset_requested", request=request, actor=None, target=user, details=details
    )


@dataclass
class ResetCheck:
    reset: PasswordReset | None

    @property
    def valid(self) -> bool:
        return self.reset is not None


def check_link(*, secret: str | None = None, token_hash: str | None = None) -> ResetCheck:
    """A link is good once, for an hour, for an active account whose password has not changed
    since the link was sent."""
    token_hash = token_hash or (link_hash(secret) if secret else "")
    reset = (
        PasswordReset.objects.select_related("user").filter(token_hash=token_hash).first()
        if token_hash
        else None
    )
    if (
        reset is None
        or reset.used_at is not None
        or reset.expires_at <= timezone.now()
        or not reset.user.is_active
        or not reset.user.has_usable_password()
        or reset.password_fingerprint != PasswordReset.fingerprint(reset.user)
    ):
        return ResetCheck(None)
    return ResetCheck(reset)


def complete(token_hash: str, password: str, *, request) -> ResetCheck:
    """Set the new password, once. Every session of the user ends (Django's session hash
    follows the password); the second factor is still asked at the next login."""
    with transaction.atomic():
        check = check_link(token_hash=token_hash)
        if not check.valid:
            return check
        reset = check.reset
        now = timezone.now()
        if not PasswordReset.objects.filter(pk=reset.pk, used_at__isnull=True).update(used_at=now):
            return ResetCheck(None)
        user = reset.user
        user.set_password(password)
        user.save(update_fields=["password"])
        # Other links sent meanwhile die with the old password; mark them for the record.
        PasswordReset.objects.filter(user=user, used_at__isnull=True).update(used_at=now)
        record_event("auth.password_reset", request=request, actor=user, target=user)
    # Whoever forgot the password may have locked the account with wrong guesses first.
    throttle.reset("login-user", user.username.lower())
    return check


def prune_dead_links(now=None) -> int:
    """Forgotten-password links used or expired more than a day ago (housekeeping)."""
    cutoff = (now or timezone.now()) - timedelta(days=1)
    deleted, _ = PasswordReset.objects.filter(expires_at__lt=cutoff).delete()
    return deleted

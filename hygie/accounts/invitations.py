"""Invitations: a manager brings a colleague in by e-mail (domain logic, no HTTP).

The invitee's account and role exist from the moment of the invitation; the account has no
usable password until the invitee chooses one through the one-time link of the e-mail.
"""

from __future__ import annotations

import logging
import smtplib
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from hygie.accounts import mail
from hygie.accounts.models import Invitation, link_hash, new_link_secret
from hygie.accounts.services import requires_second_factor
from hygie.core import throttle
from hygie.core.audit import record_event
from hygie.orgs.models import Membership
from hygie.orgs.roles import MANAGE, PRIVILEGED_ROLES, Role

logger = logging.getLogger(__name__)

LIFETIME = timedelta(hours=72)
# Per manager, invitations and re-sendings together: a stolen session cannot spam a hospital.
INVITER_LIMIT = {"capacity": 30, "per_seconds": 3600}
MAIL_ERRORS = (smtplib.SMTPException, OSError)


class InvitationRefused(Exception):
    """Why an invitation cannot be sent, in words for the manager."""


@dataclass
class InvitationOutcome:
    membership: Membership
    # None when the person already used Hygie: the role is simply added.
    invitation: Invitation | None


def pending_under(user, node):
    """Invitations awaiting an answer at `node` or below, among those `user` may manage."""
    return (
        Invitation.objects.visible_to(user, MANAGE)
        .pending()
        .filter(organisation__path__startswith=node.path)
        .select_related("user", "organisation", "invited_by")
        .order_by("expires_at", "pk")
    )


def is_dormant(user) -> bool:
    """An account created by an invitation, whose owner has not chosen a password yet."""
    return not user.has_usable_password() and user.last_login is None


def invite(
    *, organisation, email: str, first_name: str, last_name: str, role: str, inviter, request=None
) -> InvitationOutcome:
    """Give `role` at `organisation` to the person with this e-mail address, creating their
    account if needed and e-mailing them a link to choose a password. All or nothing."""
    address = email.strip().lower()
    if not throttle.allow("invite", str(inviter.pk), **INVITER_LIMIT):
        raise InvitationRefused(_("Trop d'invitations en peu de temps. Réessayez dans une heure."))
    User = get_user_model()
    matches = list(User.objects.filter(email__iexact=address)[:2])
    if len(matches) > 1:
        raise InvitationRefused(
            _("Plusieurs comptes utilisent l'adresse %(email)s : un administrateur doit corriger.")
            % {"email": address}
        )
    user = matches[0] if matches else None
    if user is not None and not user.is_active:
        raise InvitationRefused(
            _(
                "Le compte de %(email)s est désactivé : un administrateur de la plateforme doit "
                "le réactiver."
            )
            % {"email": address}
        )
    if user is None and User.objects.filter(username__iexact=address).exists():
        raise InvitationRefused(
            _("L'identifiant %(email)s est déjà pris par un autre compte.") % {"email": address}
        )
    if (
        user is not None
        and Membership.objects.filter(user=user, organisation=organisation, role=role).exists()
    ):
        raise InvitationRefused(_("Cette personne a déjà ce rôle ici."))

    try:
        with transaction.atomic():
            new_account = user is None
            if new_account:
                user = User(
                    username=address,
                    email=address,
                    first_name=first_name.strip(),
                    last_name=last_name.strip(),
                )
                user.set_unusable_password()
                user.save()
            membership = Membership.objects.create(user=user, organisation=organisation, role=role)
            invitation = None
            if is_dormant(user):
                invitation, secret = _create(user, organisation, role, inviter)
                # Sent inside the transaction: if the mail server refuses, nothing is kept.
                _send_invitation(invitation, secret)
                record_event(
                    "accounts.invitation_sent",
                    request=request,
                    actor=inviter,
                    target=invitation,
                    organisation=organisation,
                    details={
                        "email": address,
                        "role": role,
                        "new_account": new_account,
                        "expires_at": invitation.expires_at.isoformat(),
                    },
                )
            record_event(
                "orgs.role_granted",
                request=request,
                actor=inviter,
                target=membership,
                organisation=organisation,
                details={"user": user.username, "role": role, "invitation": invitation is not None},
            )
    except IntegrityError:
        # Another request (a double click) created the same role or account meanwhile.
        raise InvitationRefused(_("Cette personne a déjà ce rôle ici.")) from None
    except MAIL_ERRORS:
        logger.exception("invitation e-mail to %s failed", address)
        raise InvitationRefused(
            _(
                "Le serveur de messagerie n'a pas accepté l'e-mail d'invitation : rien n'a été "
                "enregistré. Réessayez plus tard ou prévenez l'administrateur de Hygie."
            )
        ) from None
    if invitation is None:
        _notify_role(membership, inviter)
    return InvitationOutcome(membership=membership, invitation=invitation)


def _create(user, organisation, role, inviter) -> tuple[Invitation, str]:
    secret, token_hash = new_link_secret()
    now = timezone.now()
    invitation = Invitation.objects.create(
        user=user,
        organisation=organisation,
        role=role,
        invited_by=inviter,
        token_hash=token_hash,
        sent_at=now,
        expires_at=now + LIFETIME,
    )
    return invitation, secret


def _send_invitation(invitation: Invitation, secret: str) -> None:
    inviter = invitation.invited_by
    mail.send(
        "invitation",
        invitation.user.email,
        {
            "invitation": invitation,
            "invitee": invitation.user,
            "inviter_name": inviter.display_name() if inviter else _("Un responsable"),
            "organisation": invitation.organisation,
            "role": Role(invitation.role).label,
            "link": mail.absolute_url("accounts:invitation_accept", secret),
            "hours": int(LIFETIME.total_seconds() // 3600),
            "second_factor": invitation.role in PRIVILEGED_ROLES,
            "oidc_name": settings.OIDC_PROVIDER_NAME if settings.OIDC_ENABLED else "",
        },
    )


def _notify_role(membership: Membership, inviter) -> None:
    """Someone who already uses Hygie is told of the new role (no link: they can log in)."""
    try:
        mail.send(
            "role_granted",
            membership.user.email,
            {
                "user": membership.user,
                "inviter_name": inviter.display_name(),
                "organisation": membership.organisation,
                "role": membership.get_role_display(),
                "login": mail.absolute_url("accounts:login"),
                "second_factor": requires_second_factor(membership.user),
            },
        )
    except MAIL_ERRORS:
        # The role is granted; the notice is a courtesy.
        logger.exception("role notice to %s failed", membership.user.email)


def resend(invitation: Invitation, *, request) -> Invitation:
    """A new link (the old one stops working) valid for another 72 hours."""
    if not throttle.allow("invite", str(request.user.pk), **INVITER_LIMIT):
        raise InvitationRefused(_("Trop d'invitations en peu de temps. Réessayez dans une heure."))
    try:
        with transaction.atomic():
            invitation = Invitation.objects.select_for_update().get(pk=invitation.pk)
            if invitation.accepted_at or invitation.revoked_at:
                raise InvitationRefused(_("Cette invitation n'est plus en attente."))
            secret, invitation.token_hash = new_link_secret()
            invitation.sent_at = timezone.now()
            invitation.expires_at = invitation.sent_at + LIFETIME
            invitation.send_count += 1
            invitation.save(update_fields=["token_hash", "sent_at", "expires_at", "send_count"])
            _send_invitation(invitation, secret)
            record_event(
                "accounts.invitation_resent",
                request=request,
                target=invitation,
                organisation=invitation.organisation,
                details={
                    "email": invitation.user.email,
                    "role": invitation.role,
                    "send_count": invitation.send_count,
                    "expires_at": invitation.expires_at.isoformat(),
                },
            )
    except MAIL_ERRORS:
        logger.exception("invitation e-mail to %s failed", invitation.user.email)
        raise InvitationRefused(
            _(
                "Le serveur de messagerie n'a pas accepté l'e-mail : l'invitation précédente "
                "reste inchangée. Réessayez plus tard."
            )
        ) from None
    return invitation


def revoke(invitation: Invitation, *, request) -> bool:
    """The link stops working and the role it granted goes; an account created for the
    invitation and never used is deleted (the journal keeps its trace). Returns whether the
    account was deleted."""
    with transaction.atomic():
        invitation = (
            Invitation.objects.select_for_update()
            .select_related("user", "organisation")
            .get(pk=invitation.pk)
        )
        if invitation.accepted_at or invitation.revoked_at:
            raise InvitationRefused(_("Cette invitation n'est plus en attente."))
        invitation.revoked_at = timezone.now()
        invitation.save(update_fields=["revoked_at"])
        user = invitation.user
        removed = Membership.objects.filter(
            user=user, organisation=invitation.organisation, role=invitation.role
        ).delete()[0]
        delete_account = (
            is_dormant(user)
            and not user.memberships.exists()
            and not user.invitations.pending().exists()
        )
        record_event(
            "accounts.invitation_revoked",
            request=request,
            target=invitation,
            organisation=invitation.organisation,
            details={
                "email": user.email,
                "role": invitation.role,
                "role_removed": bool(removed),
                "account_deleted": delete_account,
            },
        )
        if delete_account:
            user.delete()
    return delete_account


# The invitee's side --------------------------------------------------------------------------

UNKNOWN, REVOKED, INACTIVE, ACCEPTED, EXPIRED = (
    "unknown",
    "revoked",
    "inactive",
    "accepted",
    "expired",
)


@dataclass
class LinkCheck:
    invitation: Invitation | None
    problem: str = ""  # one of UNKNOWN, REVOKED, INACTIVE, ACCEPTED, EXPIRED

    @property
    def valid(self) -> bool:
        return not self.problem


def check_link(*, secret: str | None = None, token_hash: str | None = None) -> LinkCheck:
    """What an invitation link (its secret, or the hash kept in the session) leads to."""
    token_hash = token_hash or (link_hash(secret) if secret else "")
    invitation = (
        Invitation.objects.select_related("user", "organisation", "invited_by")
        .filter(token_hash=token_hash)
        .first()
        if token_hash
        else None
    )
    if invitation is None:
        return LinkCheck(None, UNKNOWN)
    if invitation.revoked_at:
        return LinkCheck(invitation, REVOKED)
    if not invitation.user.is_active:
        return LinkCheck(invitation, INACTIVE)
    if invitation.accepted_at or not is_dormant(invitation.user):
        return LinkCheck(invitation, ACCEPTED)
    if invitation.expired:
        return LinkCheck(invitation, EXPIRED)
    return LinkCheck(invitation)


def accept(token_hash: str, password: str, *, request) -> LinkCheck:
    """Set the invitee's password, once. Returns the link's state at the moment of use."""
    with transaction.atomic():
        check = check_link(token_hash=token_hash)
        if not check.valid:
            return check
        invitation = check.invitation
        now = timezone.now()
        # Conditional update: two simultaneous submissions cannot both use the link.
        if not Invitation.objects.filter(
            pk=invitation.pk, accepted_at__isnull=True, revoked_at__isnull=True
        ).update(accepted_at=now):
            return LinkCheck(invitation, ACCEPTED)
        user = invitation.user
        user.set_password(password)
        user.save(update_fields=["password"])
        record_event(
            "accounts.invitation_accepted",
            request=request,
            actor=user,
            target=invitation,
            organisation=invitation.organisation,
            details={"role": invitation.role},
        )
        # The account is live: the person's other invitations have served their purpose.
        close_pending(user, request=request, now=now, method="password")
    return LinkCheck(invitation)


def close_pending(user, *, request, now=None, method: str) -> None:
    """Mark the user's other pending invitations accepted (their links stop working)."""
    now = now or timezone.now()
    for other in user.invitations.pending().select_related("organisation"):
        other.accepted_at = now
        other.save(update_fields=["accepted_at"])
        record_event(
            "accounts.invitation_accepted",
            request=request,
            actor=user,
            target=other,
            organisation=other.organisation,
            details={"role": other.role, "method": method},
        )

"""Recording what recipients do, keeping mail scanners apart and entered values out.

Mail gateways (Microsoft Safe Links, Proofpoint, antivirus link checkers) open links and
images before the person does; counting them would accuse people of clicks they never made.
An event is flagged automated, with the reason, when it comes as a HEAD request, within a few
seconds of delivery, from a configured scanner network, or with a scanner-like user agent.
Automated events are kept (they show the gateway at work) but never count in the results.
"""

from __future__ import annotations

import ipaddress
from functools import lru_cache

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from hygie.phishing.models import Event, EventKind, Recipient

FIRST_FIELD = {
    EventKind.OPEN: "first_open_at",
    EventKind.CLICK: "first_click_at",
    EventKind.SUBMIT: "submitted_at",
    EventKind.REPORT: "reported_at",
}


@lru_cache(maxsize=8)
def _networks(ranges: tuple[str, ...]):
    return tuple(ipaddress.ip_network(item, strict=False) for item in ranges)


def automated_reason(request, recipient: Recipient, now=None) -> str:
    """Why this request looks like a machine's, or "" for a person."""
    now = now or timezone.now()
    if request.method == "HEAD":
        return _("requête HEAD")
    delay = settings.SIMULATION_SCANNER_SECONDS
    if recipient.sent_at and (now - recipient.sent_at).total_seconds() < delay:
        return _("moins de %(n)s s après l'envoi") % {"n": delay}
    address = request.META.get("REMOTE_ADDR", "")
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        ip = None
    if ip is not None and any(
        ip in net for net in _networks(tuple(settings.SIMULATION_SCANNER_NETWORKS))
    ):
        return _("réseau d'un analyseur de messagerie")
    agent = request.META.get("HTTP_USER_AGENT", "").lower()
    if not agent:
        return _("aucun agent utilisateur")
    if any(marker.lower() in agent for marker in settings.SIMULATION_SCANNER_AGENTS):
        return _("agent utilisateur d'un analyseur")
    return ""


@transaction.atomic
def record(recipient: Recipient, kind: str, request=None, *, fields=(), at=None) -> Event:
    """Keep the event; a person's first open, click, submission or report is dated on the
    recipient. A submission keeps the names of the filled fields, never what was typed.

    `request` is None for what does not come over HTTP (a report read in the abuse mailbox);
    `at` dates such an event when it happened earlier (the report's arrival)."""
    now = at or timezone.now()
    if kind == EventKind.REPORT or request is None:
        reason = ""
    else:
        reason = automated_reason(request, recipient, now)
    event = Event.objects.create(
        recipient=recipient,
        kind=kind,
        at=now,
        automated=bool(reason),
        reason=reason,
        fields=sorted(set(fields)),
    )
    if not reason:
        first = FIRST_FIELD[kind]
        updates = {first: now}
        # A click implies the message was opened, even with images blocked.
        if kind in (EventKind.CLICK, EventKind.SUBMIT) and recipient.first_open_at is None:
            updates["first_open_at"] = now
        if kind == EventKind.SUBMIT and recipient.first_click_at is None:
            updates["first_click_at"] = now
        Recipient.objects.filter(pk=recipient.pk, **{f"{first}__isnull": True}).update(**updates)
    return event


def new_token() -> str:
    """A recipient's link token: 256 random bits, URL-safe (43 characters)."""
    import secrets

    return secrets.token_urlsafe(32)

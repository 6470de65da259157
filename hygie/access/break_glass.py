"""Break-the-glass: an emergency access to one patient's record, with a reason, an alert at
once to the DPO and the RSSI, and a review afterwards (decision 0812)."""

from __future__ import annotations

import datetime as dt
import logging

from django.conf import settings
from django.core.mail import send_mail
from django.utils import timezone
from django.utils.translation import gettext as _

from hygie.access.models import BreakGlass
from hygie.access.pdp import context as ctx
from hygie.core.audit import record_event
from hygie.orgs.models import Membership
from hygie.orgs.roles import Role

logger = logging.getLogger("hygie.access")

DURATION = dt.timedelta(hours=getattr(settings, "HYGIE_BREAK_GLASS_HOURS", 4))
MIN_REASON = 20
MAX_REASON = 2000


def alert_recipients(organisation) -> list[str]:
    """E-mail addresses of the DPOs and RSSIs of the organisation and of the nodes above it."""
    ancestors = [p for p in organisation.path.split("/") if p]
    return sorted(
        {
            m.user.email
            for m in Membership.objects.filter(
                role__in=[Role.RSSI, Role.DPO], user__is_active=True, organisation__in=ancestors
            ).select_related("user")
            if m.user.email
        }
    )


def grant(application, *, principal, patient_id, reason, source_address=None, now=None):
    """Open the glass for `principal` on `patient_id`; alert at once. Returns the BreakGlass."""
    now = now or timezone.now()
    glass = BreakGlass.objects.create(
        application=application,
        principal=principal,
        resource=ctx.patient_resource(patient_id),
        reason=reason,
        started_at=now,
        expires_at=now + DURATION,
        source_address=source_address or None,
    )
    record_event(
        "access.break_glass",
        target=application,
        organisation=application.organisation,
        details={"principal": principal, "patient": patient_id, "break_glass": str(glass.pk)},
    )
    send_alert(glass)
    return glass


def send_alert(glass) -> bool:
    application = glass.application
    recipients = alert_recipients(application.organisation)
    if not recipients:
        logger.warning("break-the-glass %s: nobody to alert", glass.pk)
        return False
    local = timezone.localtime(glass.started_at)
    subject = _("Bris de glace : %(user)s sur %(app)s") % {
        "user": glass.principal,
        "app": application.name,
    }
    body = _(
        "%(user)s a ouvert en urgence le dossier %(resource)s dans %(app)s le %(when)s "
        "(accès jusqu'à %(until)s), depuis %(address)s.\n\nMotif déclaré :\n%(reason)s\n\n"
        "Cet accès doit être revu (justifié ou injustifié) dans Hygie."
    ) % {
        "user": glass.principal,
        "resource": glass.resource,
        "app": application.name,
        "when": local.strftime("%d/%m/%Y %H:%M"),
        "until": timezone.localtime(glass.expires_at).strftime("%H:%M"),
        "address": glass.source_address or "?",
        "reason": glass.reason,
    }
    try:
        send_mail(subject, body, None, recipients)
    except Exception:  # noqa: BLE001 - the access stays granted; the list shows "not alerted"
        logger.exception("break-the-glass %s: the alert could not be sent", glass.pk)
        return False
    BreakGlass.objects.filter(pk=glass.pk).update(alerted_at=timezone.now())
    glass.alerted_at = timezone.now()
    return True

"""Privacy of simulation results: pseudonyms, who may see names, retention
(decisions 0432, 0433 and 0434).

- Individual results show a pseudonym ("Personne 7F3A-21C9"): an HMAC of the person (staff
  record, else address) and the organisation under a key held in settings, so it is the same
  person from one campaign of the organisation to the next, differs between organisations, and
  cannot be turned back into a name without the key.
- Names are shown only to who may act on them (MANAGE on the campaign's organisation: RSSI,
  DSI; or a DPO there), after they give a reason; each reveal is written to the journal and
  lasts `REVEAL_SECONDS`.
- After `SIMULATION_RETENTION_DAYS` from a campaign's end, individual data is erased: events
  deleted, each recipient's staff link, address, token, message id and last error replaced;
  service, site, establishment, job family and the dates stay, so the aggregates do not change.
"""

from __future__ import annotations

import hashlib
import hmac
import time
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Exists, OuterRef
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext as _

from hygie.core.audit import record_event
from hygie.orgs.models import Membership, Organisation
from hygie.orgs.roles import MANAGE, Role
from hygie.orgs.services import can
from hygie.phishing.models import CampaignStatus, Event, Recipient, Simulation
from hygie.phishing.tracking import new_token

REVEAL_SECONDS = 15 * 60
REVEAL_SESSION_KEY = "hygie.phishing.revealed"
ERASED_DOMAIN = "efface.invalid"
ERASE_BATCH = 1000


def _key() -> bytes:
    configured = getattr(settings, "SIMULATION_PSEUDONYM_KEY", "")
    if configured:
        return configured.encode()
    # Without a dedicated key, one derived from SECRET_KEY (never the key itself).
    return hashlib.sha256(b"hygie-simulation-pseudonym:" + settings.SECRET_KEY.encode()).digest()


def pseudonym(organisation_id: int, staff_id: int | None, email: str) -> str:
    from hygie.phishing.results import identity

    message = f"{organisation_id}|{identity(staff_id, email)}".encode()
    code = hmac.new(_key(), message, hashlib.sha256).hexdigest()[:8].upper()
    return _("Personne %(code)s") % {"code": f"{code[:4]}-{code[4:]}"}


def is_erased(recipient: Recipient) -> bool:
    return recipient.email.endswith("@" + ERASED_DOMAIN)


# Who sees names ------------------------------------------------------------------------------------
def may_reveal(user, organisation: Organisation) -> bool:
    """RSSI and DSI (MANAGE) of the organisation or above, and its DPO, may show names."""
    if can(user, MANAGE, organisation):
        return True
    if not user.is_authenticated:
        return False
    paths = Membership.objects.filter(user=user, role=Role.DPO).values_list(
        "organisation__path", flat=True
    )
    return any(organisation.path.startswith(path) for path in paths)


def reveal(request, simulation: Simulation, reason: str) -> None:
    record_event(
        "phishing.results_reveal",
        request=request,
        target=simulation,
        organisation=simulation.organisation,
        details={"reason": reason, "minutes": REVEAL_SECONDS // 60},
    )
    revealed = dict(request.session.get(REVEAL_SESSION_KEY, {}))
    revealed[str(simulation.pk)] = time.time() + REVEAL_SECONDS
    request.session[REVEAL_SESSION_KEY] = revealed


def hide(request, simulation: Simulation) -> None:
    revealed = dict(request.session.get(REVEAL_SESSION_KEY, {}))
    revealed.pop(str(simulation.pk), None)
    request.session[REVEAL_SESSION_KEY] = revealed


def revealed_until(request, simulation: Simulation) -> float | None:
    """When the names shown after a reveal hide again (None: pseudonyms)."""
    until = request.session.get(REVEAL_SESSION_KEY, {}).get(str(simulation.pk))
    if until is None or until < time.time():
        return None
    if not may_reveal(request.user, simulation.organisation):
        return None  # the role was withdrawn since
    return until


# Retention ----------------------------------------------------------------------------------------
def retention() -> timedelta:
    return timedelta(days=settings.SIMULATION_RETENTION_DAYS)


def expired_simulations(now=None):
    """Ended campaigns (completed, or cancelled) whose end is older than the retention period."""
    cutoff = (now or timezone.now()) - retention()
    return (
        Simulation.objects.filter(status__in=[CampaignStatus.COMPLETED, CampaignStatus.CANCELLED])
        .annotate(ended=Coalesce("completed_at", "sent_out_at", "launched_at", "created_at"))
        .filter(ended__lte=cutoff)
    )


def erase_expired_individual_data(now=None) -> int:
    """Erase what identifies people in expired campaigns; the number of recipients erased.

    Safe to run again and again (housekeeping runs it every hour): erased recipients are
    recognised by their address and left alone."""
    erased = 0
    pending = Recipient.objects.exclude(email__endswith="@" + ERASED_DOMAIN)
    # Only campaigns with someone left to erase: one query, however many old campaigns.
    expired = (
        expired_simulations(now)
        .filter(Exists(pending.filter(simulation=OuterRef("pk"))))
        .select_related("organisation")
    )
    for simulation in expired:
        ids = list(pending.filter(simulation=simulation).values_list("pk", flat=True))
        with transaction.atomic():
            Event.objects.filter(recipient__simulation=simulation).delete()
            for start in range(0, len(ids), ERASE_BATCH):
                batch = list(
                    Recipient.objects.filter(pk__in=ids[start : start + ERASE_BATCH]).only("pk")
                )
                for recipient in batch:
                    recipient.staff = None
                    recipient.email = f"personne-{recipient.pk}@{ERASED_DOMAIN}"
                    recipient.token = new_token()  # old links now answer 404
                    recipient.message_id = ""
                    recipient.last_error = ""  # SMTP errors quote the address
                Recipient.objects.bulk_update(
                    batch, ["staff", "email", "token", "message_id", "last_error"]
                )
            record_event(
                "phishing.individual_data_erased",
                target=simulation,
                organisation=simulation.organisation,
                details={"recipients": len(ids), "retention_days": retention().days},
            )
        erased += len(ids)
    return erased


def erased_on(simulation: Simulation):
    """When this campaign's individual data is (or was) erased; None while it is not ended."""
    if simulation.status not in (CampaignStatus.COMPLETED, CampaignStatus.CANCELLED):
        return None
    ended = (
        simulation.completed_at
        or simulation.sent_out_at
        or simulation.launched_at
        or simulation.created_at
    )
    return ended + retention()

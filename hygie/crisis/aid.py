"""GHT solidarity: an establishment under attack asks its GHT's siblings for help.

Visibility (decision 0622): an AidRequest belongs to the requesting establishment, so
`AidRequest.objects.visible_to` shows it only to those who see that establishment. Siblings reach
it through `requests_seen_by` instead, which adds the requests of the GHTs in which the user sees
at least one establishment. `visible_to` is not widened: the incident behind a request stays
invisible to siblings; they see the need (kind, details, until when), the requester's name and the
offers.
"""

from __future__ import annotations

from collections import Counter

from django.db import transaction
from django.db.models import Count, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from hygie.core.visibility import ALL, scopes_for
from hygie.crisis.incidents import IncidentError, add_log_entry
from hygie.crisis.models import (
    AidKind,
    AidOffer,
    AidRequest,
    AidStatus,
    EntryKind,
    Incident,
    IncidentStatus,
    OfferStatus,
    Severity,
)
from hygie.orgs.models import Kind, Organisation
from hygie.orgs.roles import CHANGE, VIEW


class AidError(IncidentError):
    pass


def ght_of(organisation: Organisation) -> Organisation | None:
    if organisation.kind == Kind.ESTABLISHMENT and organisation.parent_id:
        if organisation.parent.kind == Kind.GHT:
            return organisation.parent
    return None


def _ghts_where(user, action: str):
    """GHT ids in which `user` may perform `action` on at least one member establishment."""
    establishments = Organisation.objects.visible_to(user, action).filter(
        kind=Kind.ESTABLISHMENT, parent__kind=Kind.GHT
    )
    return establishments.values("parent_id")


def requests_seen_by(user, action: str = VIEW):
    """Aid requests the user may see: their own establishments' and their GHT siblings'."""
    base = AidRequest.objects.select_related("incident__organisation")
    if scopes_for(user, action) is ALL:
        return base
    own = AidRequest.objects.visible_to(user, action).values("pk")
    return base.filter(
        Q(pk__in=own) | Q(incident__organisation__parent_id__in=_ghts_where(user, action))
    )


def offering_organisations(user, aid_request: AidRequest):
    """Sibling establishments on whose behalf `user` may offer help for this request."""
    requester = aid_request.incident.organisation
    return (
        Organisation.objects.visible_to(user, CHANGE)
        .filter(kind=Kind.ESTABLISHMENT, parent_id=requester.parent_id)
        .exclude(pk=requester.pk)
    )


@transaction.atomic
def request_aid(incident: Incident, *, kind, description, needed_until=None, actor=None):
    if ght_of(incident.organisation) is None:
        raise AidError(
            _("%(org)s n'appartient à aucun GHT : pas d'établissement partenaire à solliciter.")
            % {"org": incident.organisation}
        )
    if incident.status == IncidentStatus.CLOSED:
        raise AidError(_("L'incident est clos : rouvrez-le avant de demander de l'aide."))
    aid_request = AidRequest.objects.create(
        incident=incident, kind=kind, description=description, needed_until=needed_until
    )
    add_log_entry(
        incident,
        kind=EntryKind.COMMUNICATION,
        text=_("Demande d'entraide au GHT : %(kind)s") % {"kind": aid_request.get_kind_display()},
        user=actor,
    )
    return aid_request


@transaction.atomic
def make_offer(aid_request: AidRequest, *, organisation, description, actor) -> AidOffer:
    if aid_request.status != AidStatus.OPEN:
        raise AidError(_("Cette demande n'est plus ouverte."))
    if not offering_organisations(actor, aid_request).filter(pk=organisation.pk).exists():
        raise AidError(
            _("Vous ne pouvez pas proposer d'aide au nom de %(org)s.") % {"org": organisation}
        )
    offer = AidOffer.objects.create(
        request=aid_request, organisation=organisation, description=description, offered_by=actor
    )
    add_log_entry(
        aid_request.incident,
        kind=EntryKind.INFORMATION,
        text=_("Proposition d'aide de %(org)s : %(text)s")
        % {"org": organisation, "text": description},
        user=actor,
    )
    return offer


@transaction.atomic
def decide_offer(offer: AidOffer, *, accept: bool, actor, now=None) -> AidOffer:
    now = now or timezone.now()
    offer = (
        AidOffer.objects.select_for_update().select_related("request__incident").get(pk=offer.pk)
    )
    if offer.status != OfferStatus.OFFERED:
        raise AidError(_("Cette proposition a déjà reçu une réponse."))
    offer.status = OfferStatus.ACCEPTED if accept else OfferStatus.DECLINED
    offer.decided_at = now
    offer.save(update_fields=["status", "decided_at"])
    if accept and offer.request.status == AidStatus.OPEN:
        offer.request.status = AidStatus.COVERED
        offer.request.save(update_fields=["status"])
    add_log_entry(
        offer.request.incident,
        kind=EntryKind.DECISION,
        at=now,
        text=(_("Aide de %(org)s acceptée") if accept else _("Aide de %(org)s déclinée"))
        % {"org": offer.organisation},
        user=actor,
    )
    return offer


def close_request(aid_request: AidRequest) -> AidRequest:
    aid_request.status = AidStatus.CLOSED
    aid_request.save(update_fields=["status"])
    return aid_request


def regional_picture(region: Organisation) -> dict:
    """The ARS's picture (decision 0622): counts only, no names of establishments, no incident
    details; aid counted per GHT (GHTs are public groupings the ARS itself approves)."""
    incidents = Incident.objects.filter(organisation__path__startswith=region.path).exclude(
        status=IncidentStatus.CLOSED
    )
    by_severity = Counter(incidents.values_list("severity", flat=True))
    severities = [(label, by_severity.get(value, 0)) for value, label in Severity.choices]
    # Three grouped queries whatever the number of GHTs (requests by GHT, status and kind;
    # offers by GHT and status), counted up in Python.
    ght_of_request = "incident__organisation__parent_id"
    requests = Counter()
    needs: dict = {}
    for ght_id, status, kind, n in (
        AidRequest.objects.filter(incident__organisation__path__startswith=region.path)
        .values(ght_of_request, "status", "kind")
        .annotate(n=Count("pk"))
        .order_by()
        .values_list(ght_of_request, "status", "kind", "n")
    ):
        requests[ght_id, status] += n
        if status != AidStatus.CLOSED:
            needs.setdefault(ght_id, Counter())[kind] += n
    offers = Counter()
    for ght_id, status, n in (
        AidOffer.objects.filter(request__incident__organisation__path__startswith=region.path)
        .values(f"request__{ght_of_request}", "status")
        .annotate(n=Count("pk"))
        .order_by()
        .values_list(f"request__{ght_of_request}", "status", "n")
    ):
        offers[ght_id, status] += n
    ghts = [
        {
            "ght": ght,
            "open_requests": requests[ght.pk, AidStatus.OPEN],
            "covered_requests": requests[ght.pk, AidStatus.COVERED],
            "offers": sum(n for (ght_id, _status), n in offers.items() if ght_id == ght.pk),
            "accepted_offers": offers[ght.pk, OfferStatus.ACCEPTED],
            "needs": [
                (AidKind(k).label, n) for k, n in sorted(needs.get(ght.pk, Counter()).items())
            ],
        }
        for ght in Organisation.objects.filter(
            kind=Kind.GHT, path__startswith=region.path
        ).order_by("name")
    ]
    return {"severities": severities, "open_incidents": sum(by_severity.values()), "ghts": ghts}

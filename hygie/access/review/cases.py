"""The DPO's work on review cases: dispositions, follow-up, figures and the evidence fact.

Plain functions over the models (no HTTP); the pages in review_views.py call them.
"""

from __future__ import annotations

import datetime as dt

from django.core.mail import send_mail
from django.db import transaction
from django.db.models import Count, Q, Sum
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from hygie.access.models import CareRelation, CaseStatus, Pattern, PersonRecord, ReviewCase
from hygie.actions.models import ActionItem, Priority
from hygie.core.audit import record_event

DECIDED = (CaseStatus.LEGITIMATE, CaseStatus.MISUSE, CaseStatus.CLOSED)

# What each pattern means, for the DPO (shown on the case page).
EXPLANATIONS = {
    Pattern.UNEXPLAINED: gettext_lazy(
        "Aucune relation de soins ne justifie l'accès : le patient n'était pas dans une unité "
        "de la personne, sans rendez-vous ni prescription avec elle ce jour-là."
    ),
    Pattern.SAME_NAME: gettext_lazy(
        "La personne porte le même nom (d'usage ou de naissance) que le patient : un proche "
        "peut-être."
    ),
    Pattern.SAME_ADDRESS: gettext_lazy(
        "La personne et le patient ont la même adresse (comparée sous forme d'empreinte)."
    ),
    Pattern.COLLEAGUE: gettext_lazy(
        "Le patient est un membre du personnel de l'établissement, collègue de la personne."
    ),
    Pattern.VIP: gettext_lazy("Le dossier est celui d'une personnalité (dossier VIP)."),
    Pattern.SELF: gettext_lazy(
        "La personne a ouvert son propre dossier, hors du circuit prévu pour l'accès d'un "
        "patient à son dossier."
    ),
    Pattern.BULK: gettext_lazy(
        "La personne a ouvert un nombre inhabituel de dossiers en peu de temps."
    ),
    Pattern.OFF_HOURS: gettext_lazy(
        "L'accès a eu lieu en dehors des horaires de service de la personne."
    ),
    Pattern.BREAK_GLASS: gettext_lazy(
        "Bris de glace dont le motif est vide ou ne décrit pas une urgence plausible."
    ),
}


class FollowUp:
    NONE = ""
    ACTION = "action"
    HR = "hr"


def decide(
    case: ReviewCase,
    *,
    status: str,
    note: str,
    user,
    request=None,
    follow_up: str = FollowUp.NONE,
    hr_reference: str = "",
    manager_email: str = "",
) -> ReviewCase:
    """Record the DPO's disposition with its note, and the follow-up; journalled.

    "Explication demandée" can e-mail the person's manager: the message names the person and
    the case, never the patient (the manager reads the details in Hygie if entitled to).
    """
    if status not in CaseStatus.values:
        raise ValueError(f"unknown status {status!r}")
    now = timezone.now()
    with transaction.atomic():
        case = ReviewCase.objects.select_for_update().get(pk=case.pk)
        previous = case.status
        stamp = (
            f"[{timezone.localtime(now):%d/%m/%Y %H:%M} — {user.get_username()} — "
            + str(CaseStatus(status).label)
            + "]"
        )
        case.disposition = (case.disposition + "\n\n" if case.disposition else "") + (
            f"{stamp} {note}".strip()
        )
        case.status = status
        case.decided_by = user
        case.decided_at = now
        details = {"from": previous, "to": status}
        if follow_up == FollowUp.ACTION and case.action_id is None:
            case.action = ActionItem.objects.create(
                organisation=case.organisation,
                title=_("Suite de la revue des accès : cas n° %(id)s (%(user)s)")
                % {"id": case.pk, "user": case.user_label or case.user_id},
                description=_(
                    "Accès aux dossiers patients signalé par la revue du %(date)s : %(patterns)s."
                    "\n\n%(note)s"
                )
                % {
                    "date": f"{timezone.localtime(case.first_at):%d/%m/%Y}",
                    "patterns": ", ".join(str(Pattern(p).label) for p in case.patterns),
                    "note": note,
                },
                priority=Priority.HIGH if status == CaseStatus.MISUSE else Priority.MEDIUM,
                due_on=timezone.localdate() + dt.timedelta(days=30),
                origin="access",
            )
            details["action"] = case.action.pk
        if follow_up == FollowUp.HR:
            case.hr_reference = hr_reference.strip()
            details["hr_reference"] = case.hr_reference
        case.save()
        if manager_email and status == CaseStatus.EXPLANATION:
            details["explanation_requested_from"] = manager_email
        record_event(
            "access.review_case_decided",
            request=request,
            actor=user,
            target=case,
            organisation=case.organisation,
            details=details,
        )
    if manager_email and status == CaseStatus.EXPLANATION:
        send_mail(
            _("Demande d'explication sur un accès à un dossier patient (cas n° %(id)s)")
            % {"id": case.pk},
            _(
                "Bonjour,\n\nLa revue des accès aux dossiers patients a relevé un accès de "
                "%(user)s (%(service)s) que le délégué à la protection des données souhaite "
                "comprendre. Pouvez-vous recueillir les explications de la personne et les "
                "transmettre au DPO, en mentionnant le cas n° %(id)s ?\n\nCe message ne "
                "contient volontairement aucune information sur le patient.\n"
            )
            % {
                "user": case.user_label or case.user_id,
                "service": case.service or "—",
                "id": case.pk,
            },
            None,
            [manager_email],
        )
    publish_fact(case.organisation)
    return case


def publish_fact(organisation) -> None:
    """The evidence fact `access.review`: share of the organisation's cases decided (0–100)."""
    from hygie.assessments.services import record_fact

    counts = ReviewCase.objects.filter(organisation=organisation).aggregate(
        total=Count("pk"), decided=Count("pk", filter=Q(status__in=DECIDED))
    )
    total, decided = counts["total"], counts["decided"]
    last = organisation.review_runs.order_by("-started_at").first()
    share = round(100 * decided / total, 1) if total else None
    summary = (
        _("Revue des accès aux dossiers : %(decided)s cas décidés sur %(total)s")
        % {"decided": decided, "total": total}
        if total
        else _("Revue des accès aux dossiers : aucun cas signalé")
    )
    if last is not None:
        summary += _(" (dernière revue : %(events)s accès du %(start)s au %(end)s)") % {
            "events": last.events,
            "start": f"{timezone.localtime(last.period_start):%d/%m/%Y}",
            "end": f"{timezone.localtime(last.period_end):%d/%m/%Y}",
        }
    record_fact(
        organisation,
        "access.review",
        source_key=f"access-review:{organisation.pk}",
        occurred_on=timezone.localdate(),
        summary=summary,
        value=share,
        details={"cases": total, "decided": decided},
    )


def figures_by_service(run) -> list[dict]:
    """Per service of a run: flagged accesses (per 1,000 when the run counted the service's
    accesses in `figures["services"]`) and cases by status. Two queries whatever the size."""
    if run is None:
        return []
    rows = (
        run.cases.values("service", "status")
        .annotate(cases=Count("pk"), accesses=Sum("accesses"))
        .order_by("service")
    )
    services: dict[str, dict] = {}
    counted = (run.figures or {}).get("services", {})
    for row in rows:
        name = row["service"] or _("(service inconnu)")
        entry = services.setdefault(
            name, {"service": name, "flagged": 0, "cases": 0, "by_status": {}, "per_1000": None}
        )
        entry["flagged"] += row["accesses"] or 0
        entry["cases"] += row["cases"]
        entry["by_status"][row["status"]] = entry["by_status"].get(row["status"], 0) + row["cases"]
    for name, entry in services.items():
        events = (counted.get(name) or {}).get("events") if isinstance(counted, dict) else None
        if events:
            entry["per_1000"] = round(1000 * entry["flagged"] / events, 2)
    return sorted(services.values(), key=lambda e: (-(e["per_1000"] or 0), -e["flagged"]))


def evidence(case: ReviewCase) -> dict:
    """The care-relationship evidence around the case, from the imported relations: the
    patient's stays, the person's care teams, appointments and orders with the patient."""
    window_start = case.first_at - dt.timedelta(days=7)
    window_end = case.last_at + dt.timedelta(days=1)
    overlapping = Q(starts_at__lt=window_end) & (
        Q(ends_at__isnull=True) | Q(ends_at__gt=window_start)
    )
    relations = CareRelation.objects.filter(organisation=case.organisation).filter(overlapping)
    patient_stays = list(
        relations.filter(kind=CareRelation.Kind.STAY, patient_id=case.patient_id).order_by(
            "starts_at"
        )[:50]
    )
    user_teams = list(
        relations.filter(kind=CareRelation.Kind.TEAM, user_id=case.user_id).order_by("unit")[:50]
    )
    shared = list(
        relations.filter(user_id=case.user_id, patient_id=case.patient_id)
        .exclude(kind=CareRelation.Kind.TEAM)
        .order_by("starts_at")[:50]
    )
    people = {
        (p.kind, p.person_id): p
        for p in PersonRecord.objects.filter(organisation=case.organisation).filter(
            Q(kind=PersonRecord.Kind.STAFF, person_id=case.user_id)
            | Q(kind=PersonRecord.Kind.PATIENT, person_id=case.patient_id)
        )
    }
    team_units = {t.unit for t in user_teams}
    return {
        "stays": [(s, s.unit in team_units) for s in patient_stays],
        "teams": user_teams,
        "shared": shared,
        "person": people.get((PersonRecord.Kind.STAFF, case.user_id)),
        "patient": people.get((PersonRecord.Kind.PATIENT, case.patient_id)),
    }

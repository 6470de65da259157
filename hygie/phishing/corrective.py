"""Corrective measures: the rules of an establishment or a GHT applied to a campaign's results.

A rule pairs a trigger (a service's click rate at or above a threshold, its report rate
below one, each person who clicked or typed something, people who clicked in several
campaigns within twelve months) with a remedy (the teachable-moment e-mail to the people
concerned, an item in the action plan, or training: the modules tied to the lures, or a
chosen module, assigned through an awareness campaign of kind "simulation"). Rules apply when a campaign completes — not
before, so that staff do not warn each other mid-campaign — or when the RSSI asks.

Applying is idempotent: each (rule, campaign, target) gives one outcome, kept and shown on
the campaign page. Service triggers ignore services with fewer than 5 people who received
the message (the small-cell rule of hygie.dashboards); action items never name a person.
"""

from __future__ import annotations

import datetime as dt
import logging

from django.conf import settings
from django.core.mail import EmailMultiAlternatives, get_connection
from django.db import IntegrityError, transaction
from django.db.models import Count, Q
from django.utils import timezone
from django.utils.html import escape
from django.utils.translation import gettext as _

from hygie.dashboards.services import SMALL_CELL
from hygie.phishing.lures import resolve_lure
from hygie.phishing.models import (
    CorrectiveOutcome,
    CorrectiveRule,
    Recipient,
    Remedy,
    Simulation,
    Trigger,
)

logger = logging.getLogger(__name__)

REPEAT_WINDOW = dt.timedelta(days=365)
ACTION_DUE_DAYS = 60


def rules_for(simulation: Simulation):
    """Active rules of the campaign's organisation and of its ancestors (a GHT's rules reach
    its members' campaigns)."""
    organisation = simulation.organisation
    return CorrectiveRule.objects.filter(
        organisation__in=[*organisation.ancestor_ids(), organisation.pk], active=True
    )


def service_rates(simulation: Simulation) -> list[dict]:
    """Per service: received, clicked, reported (people, not events; scanners excluded since
    only a person's first action is dated on the recipient)."""
    rows = (
        simulation.recipients.filter(sent_at__isnull=False, service__isnull=False)
        .values("service", "service__name", "establishment")
        .order_by()
        .annotate(
            sent=Count("pk"),
            clicked=Count("pk", filter=Q(first_click_at__isnull=False)),
            reported=Count("pk", filter=Q(reported_at__isnull=False)),
        )
    )
    return [row for row in rows if row["sent"] >= SMALL_CELL]


def _people(simulation: Simulation, rule: CorrectiveRule):
    sent = simulation.recipients.filter(sent_at__isnull=False).select_related(
        "staff", "service", "establishment", "simulation__organisation"
    )
    if rule.trigger == Trigger.CLICKED:
        return list(sent.filter(first_click_at__isnull=False))
    if rule.trigger == Trigger.SUBMITTED:
        return list(sent.filter(submitted_at__isnull=False))
    # Repeat clickers: people who clicked here and in at least `threshold` campaigns (this
    # one included) launched in the last twelve months.
    clickers = sent.filter(first_click_at__isnull=False, staff__isnull=False)
    since = timezone.now() - REPEAT_WINDOW
    repeat = (
        Recipient.objects.filter(
            staff_id__in=clickers.values("staff_id"),
            first_click_at__isnull=False,
            simulation__launched_at__gte=since,
        )
        .values("staff_id")
        .order_by()
        .annotate(n=Count("simulation", distinct=True))
        .filter(n__gte=max(rule.threshold, 2))
        .values_list("staff_id", flat=True)
    )
    return list(clickers.filter(staff_id__in=list(repeat)))


def _keep(rule, simulation, target_key, summary, **links) -> CorrectiveOutcome | None:
    try:
        with transaction.atomic():
            return CorrectiveOutcome.objects.create(
                rule=rule, simulation=simulation, target_key=target_key, summary=summary, **links
            )
    except IntegrityError:
        return None  # applied before


def teachable_message(recipient: Recipient) -> EmailMultiAlternatives | None:
    lure = resolve_lure(recipient.lure)
    if lure is None:
        return None
    base = settings.SIMULATION_BASE_URL.rstrip("/")
    first_name = recipient.staff.first_name if recipient.staff_id else ""
    signs = [sign.text for sign in lure.teachable.signs or lure.signs]
    greeting = _("Bonjour %(name)s,") % {"name": first_name} if first_name else _("Bonjour,")
    intro = _(
        "Le message « %(subject)s » que vous avez reçu était un exercice de l'équipe sécurité "
        "de %(org)s. Personne n'est sanctionné : ces exercices servent à apprendre à repérer "
        "les vrais."
    ) % {"subject": " ".join(lure.subject.split()), "org": recipient.simulation.organisation}
    intro = intro.replace("{{", "").replace("}}", "")
    lines = [greeting, "", intro, "", _("Ce qui aurait dû vous alerter :")]
    lines += [f"- {sign}" for sign in signs]
    lines += [
        "",
        _("Le détail : %(url)s") % {"url": f"{base}/s/a/{recipient.token}/"},
        "",
        _(
            "Un message douteux ? Signalez-le avec le bouton de votre messagerie ou transférez-le "
            "à l'équipe sécurité, sans cliquer."
        ),
    ]
    text = "\n".join(lines)
    html = "<p>" + "</p><p>".join(
        escape(line) for line in lines if line and not line.startswith("- ")
    )
    html += "</p><ul>" + "".join(f"<li>{escape(sign)}</li>" for sign in signs) + "</ul>"
    message = EmailMultiAlternatives(
        subject=_("Exercice d'hameçonnage : ce qu'il fallait repérer"),
        body=text,
        to=[recipient.email],
    )
    message.attach_alternative(html, "text/html")
    return message


def _action_item(organisation_id: int, title: str, description: str, priority):
    from hygie.actions.models import ActionItem

    return ActionItem.objects.create(
        organisation_id=organisation_id,
        title=title[:300],
        description=description,
        priority=priority,
        due_on=timezone.localdate() + dt.timedelta(days=ACTION_DUE_DAYS),
        origin="simulation",
    )


# Training (the awareness app) -------------------------------------------------------------------
TRAINING_DUE_DAYS = 30
PERSON_SCOPES = {Trigger.CLICKED: "clickers", Trigger.SUBMITTED: "submitters"}


def training_modules(rule: CorrectiveRule, simulation: Simulation) -> list:
    """The chosen module, or the modules tied to the simulation's lures."""
    from hygie.awareness import content
    from hygie.awareness.models import Module

    if rule.training_module:
        return list(Module.objects.filter(slug=rule.training_module, active=True))
    found = {}
    for slug in simulation.lures or []:
        for module in content.modules_for_lure(slug):
            found.setdefault(module.pk, module)
    return list(found.values())


def _training_campaign(rule: CorrectiveRule, simulation: Simulation, scope: str):
    """One awareness campaign per rule and simulation, opened at once; None without module."""
    from hygie.awareness.models import Campaign, CampaignKind, CampaignStatus

    name = (_("Formation après « %(simulation)s » — %(rule)s") % {
        "simulation": simulation.name, "rule": rule.name,
    })[:200]  # fmt: skip
    existing = Campaign.objects.filter(
        organisation=simulation.organisation, simulation=simulation, name=name
    ).first()
    if existing is not None:
        return existing
    modules = training_modules(rule, simulation)
    if not modules:
        logger.warning("rule %s: no training module for simulation %s", rule.pk, simulation.pk)
        return None
    campaign = Campaign.objects.create(
        organisation=simulation.organisation,
        name=name,
        kind=CampaignKind.SIMULATION,
        status=CampaignStatus.OPEN,
        opened_at=timezone.now(),
        simulation=simulation,
        simulation_scope=scope,
        due_date=timezone.localdate() + dt.timedelta(days=TRAINING_DUE_DAYS),
        reminder_days=[7, 1],
    )
    campaign.modules.set(modules)
    return campaign


def _train_service(rule, simulation, row: dict, summary: str) -> CorrectiveOutcome | None:
    from hygie.awareness import services as awareness

    key = f"s{row['service']}"
    if CorrectiveOutcome.objects.filter(rule=rule, simulation=simulation, target_key=key).exists():
        return None
    campaign = _training_campaign(rule, simulation, "service")
    if campaign is None:
        return None
    campaign.target_services.add(row["service"])
    count = awareness.assign(campaign)
    return _keep(
        rule,
        simulation,
        key,
        summary + " " + _("Formation attribuée (%(n)s attribution(s) de module).") % {"n": count},
        service_id=row["service"],
    )


def _train_people(rule, simulation, people: list[Recipient]) -> list[CorrectiveOutcome]:
    from hygie.awareness import services as awareness
    from hygie.orgs.models import StaffMember

    people = [
        recipient
        for recipient in people
        if recipient.staff_id
        and not CorrectiveOutcome.objects.filter(
            rule=rule, simulation=simulation, target_key=f"r{recipient.pk}"
        ).exists()
    ]
    if not people:
        return []
    campaign = _training_campaign(rule, simulation, PERSON_SCOPES.get(rule.trigger, "people"))
    if campaign is None:
        return []
    awareness.assign_to_staff(
        StaffMember.objects.filter(pk__in=[r.staff_id for r in people]),
        campaign.modules.all(),
        organisation=campaign.organisation,
        due_date=campaign.due_date,
        campaign=campaign,
    )
    awareness.invite_soon(campaign)
    outcomes = []
    for recipient in people:
        outcome = _keep(
            rule,
            simulation,
            f"r{recipient.pk}",
            _("Formation attribuée (campagne « %(name)s »).") % {"name": campaign.name},
            service_id=recipient.service_id,
            recipient=recipient,
        )
        if outcome:
            outcomes.append(outcome)
    return outcomes


def apply_rules(simulation: Simulation) -> list[CorrectiveOutcome]:
    """Apply every active rule reaching this campaign; the new outcomes are returned."""
    from hygie.actions.models import Priority

    created: list[CorrectiveOutcome] = []
    emails: list[EmailMultiAlternatives] = []
    for rule in rules_for(simulation):
        if rule.trigger in (Trigger.SERVICE_CLICKS, Trigger.SERVICE_REPORTS):
            for row in service_rates(simulation):
                click_rate = 100 * row["clicked"] / row["sent"]
                report_rate = 100 * row["reported"] / row["sent"]
                if rule.trigger == Trigger.SERVICE_CLICKS and click_rate < rule.threshold:
                    continue
                if rule.trigger == Trigger.SERVICE_REPORTS and report_rate >= rule.threshold:
                    continue
                facts = {
                    "service": row["service__name"],
                    "name": simulation.name,
                    "clicks": round(click_rate),
                    "reports": round(report_rate),
                    "sent": row["sent"],
                    "threshold": rule.threshold,
                }
                summary = (
                    _(
                        "%(service)s : %(clicks)s %% de clics, %(reports)s %% de signalements "
                        "sur %(sent)s personnes (seuil %(threshold)s %%)."
                    )
                    % facts
                )
                if rule.remedy == Remedy.ASSIGN_TRAINING:
                    trained = _train_service(rule, simulation, row, summary)
                    if trained:
                        created.append(trained)
                    continue
                if rule.remedy == Remedy.ACTION_ITEM:
                    key = f"s{row['service']}"
                    if CorrectiveOutcome.objects.filter(
                        rule=rule, simulation=simulation, target_key=key
                    ).exists():
                        continue
                    severe = rule.trigger == Trigger.SERVICE_CLICKS and click_rate >= 2 * max(
                        rule.threshold, 1
                    )
                    item = _action_item(
                        row["establishment"] or simulation.organisation_id,
                        _(
                            "Sensibilisation ciblée du service %(service)s après la simulation « %(name)s »"
                        )
                        % facts,
                        summary
                        + "\n"
                        + _(
                            "Proposer une session courte en petit groupe sur les signes du leurre "
                            "et sur le signalement, puis mesurer à la prochaine campagne."
                        ),
                        Priority.HIGH if severe else Priority.MEDIUM,
                    )
                    outcome = _keep(
                        rule, simulation, key, summary, service_id=row["service"], action_item=item
                    )
                    if outcome:
                        created.append(outcome)
                else:
                    for recipient in simulation.recipients.filter(
                        sent_at__isnull=False, service_id=row["service"]
                    ).select_related("staff", "simulation__organisation"):
                        outcome = _keep(
                            rule,
                            simulation,
                            f"r{recipient.pk}",
                            _("Message pédagogique envoyé (%(service)s).") % facts,
                            service_id=row["service"],
                            recipient=recipient,
                        )
                        if outcome and (message := teachable_message(recipient)):
                            created.append(outcome)
                            emails.append(message)
            continue
        people = _people(simulation, rule)
        if rule.remedy == Remedy.ASSIGN_TRAINING:
            created.extend(_train_people(rule, simulation, people))
            continue
        if rule.remedy == Remedy.TEACHABLE_EMAIL:
            for recipient in people:
                outcome = _keep(
                    rule,
                    simulation,
                    f"r{recipient.pk}",
                    _("Message pédagogique envoyé."),
                    service_id=recipient.service_id,
                    recipient=recipient,
                )
                if outcome and (message := teachable_message(recipient)):
                    created.append(outcome)
                    emails.append(message)
        elif people:
            # One item per establishment with a count: the plan never names a person.
            by_establishment: dict[int | None, int] = {}
            for recipient in people:
                by_establishment[recipient.establishment_id] = (
                    by_establishment.get(recipient.establishment_id, 0) + 1
                )
            for establishment_id, count in by_establishment.items():
                key = f"e{establishment_id or 0}"
                if CorrectiveOutcome.objects.filter(
                    rule=rule, simulation=simulation, target_key=key
                ).exists():
                    continue
                facts = {"n": count, "name": simulation.name, "rule": rule.get_trigger_display()}
                summary = (
                    _("%(n)s personne(s) concernée(s) après la simulation « %(name)s » (%(rule)s).")
                    % facts
                )
                item = _action_item(
                    establishment_id or simulation.organisation_id,
                    _(
                        "Accompagnement individuel : %(n)s personne(s) après la simulation « %(name)s »"
                    )
                    % facts,
                    summary
                    + "\n"
                    + _(
                        "La liste nominative est consultable par les rôles habilités depuis les "
                        "résultats de la campagne."
                    ),
                    Priority.MEDIUM,
                )
                outcome = _keep(rule, simulation, key, summary, action_item=item)
                if outcome:
                    created.append(outcome)
    if emails:
        with get_connection() as connection:
            connection.send_messages(emails)
    logger.info("simulation %s: %s corrective outcome(s)", simulation.pk, len(created))
    return created

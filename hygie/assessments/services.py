"""Self-assessment domain logic: campaigns, answers and their history, facts, scores.

Score formula (docs/decisions/0251-assessment-score.md):
- each applicable measure counts compliant = 1, partially compliant = ½, non-compliant = 0;
- "not applicable" measures are left out entirely, and so are measures not assessed yet (the
  campaign's *progress* says how many are assessed);
- measures weigh their `weight` (1 by default; the authored frameworks give 3 to priority
  measures); score = Σ weight × value / Σ weight, as a percentage;
- maturity = the weighted mean of the 0–5 levels given, N/A excluded;
- a theme's score uses the measures under that theme; the framework's score uses all of them
  (it is not the mean of theme scores, so a large theme weighs more).
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass

from django.db import transaction
from django.db.models import Q
from django.dispatch import receiver
from django.utils import timezone
from django.utils.translation import gettext as _

from hygie.assessments.models import (
    Answer,
    AnswerRevision,
    Campaign,
    CampaignStatus,
    Evidence,
    Fact,
    Result,
    Review,
    Status,
    ThemeScore,
)
from hygie.frameworks.models import Framework, Scope
from hygie.frameworks.services import EVIDENCE_SOURCES, assessable_nodes, framework_loaded
from hygie.orgs.models import Kind, Organisation

RESULT_VALUE = {
    Result.COMPLIANT: 1.0,
    Result.PARTIAL: 0.5,
    Result.NON_COMPLIANT: 0.0,
}
ANSWER_FIELDS = ("status", "result", "maturity", "comment", "owner_id", "review")
# A fact older than this no longer proves anything for a new campaign.
FACT_FRESHNESS = dt.timedelta(days=365)


class CampaignError(ValueError):
    pass


def scope_for(organisation: Organisation) -> str:
    if organisation.kind == Kind.GHT:
        return Scope.GHT
    if organisation.kind == Kind.ESTABLISHMENT:
        return Scope.ENTITY
    raise CampaignError(
        _("Une auto-évaluation se mène pour un établissement (entité juridique) ou pour un GHT.")
    )


def previous_campaign(organisation: Organisation, framework: Framework) -> Campaign | None:
    return (
        Campaign.objects.filter(organisation=organisation, framework=framework)
        .order_by("-starts_on", "-pk")
        .first()
    )


@transaction.atomic
def create_campaign(
    *,
    organisation: Organisation,
    framework: Framework,
    name: str,
    starts_on: dt.date,
    due_on: dt.date,
    implementation_groups=(),
    baseline: Campaign | None = None,
    reminder_days=(14, 3),
    user=None,
) -> Campaign:
    """Open a campaign with one answer per measure in scope; copy the baseline's answers."""
    if due_on < starts_on:
        raise CampaignError(_("L'échéance précède le début de la campagne."))
    scope = scope_for(organisation)
    nodes = assessable_nodes(framework, scope=scope, groups=list(implementation_groups))
    if not nodes:
        raise CampaignError(
            _("Ce référentiel n'a aucune mesure à évaluer au niveau « %(scope)s ».")
            % {"scope": Scope(scope).label}
        )
    if baseline is not None and (
        baseline.organisation_id != organisation.pk or baseline.framework_id != framework.pk
    ):
        raise CampaignError(_("La campagne de référence doit porter sur le même référentiel."))
    campaign = Campaign.objects.create(
        organisation=organisation,
        framework=framework,
        name=name,
        starts_on=starts_on,
        due_on=due_on,
        implementation_groups=list(implementation_groups),
        baseline=baseline,
        reminder_days=sorted(set(reminder_days), reverse=True),
        created_by=user if getattr(user, "pk", None) else None,
    )
    previous = {}
    if baseline is not None:
        previous = {answer.node_id: answer for answer in baseline.answers.all()}
    answers = []
    for node in nodes:
        answer = Answer(campaign=campaign, node=node, updated_by=campaign.created_by)
        old = previous.get(node.pk)
        if old is not None:
            # The baseline's findings carry over; the review and the status start again.
            answer.result = old.result
            answer.maturity = old.maturity
            answer.comment = old.comment
            answer.owner_id = old.owner_id
            answer.status = (
                Status.IN_PROGRESS if old.result != Result.NOT_ASSESSED else Status.TO_DO
            )
        answers.append(answer)
    Answer.objects.bulk_create(answers, batch_size=500)
    created = list(campaign.answers.all())
    AnswerRevision.objects.bulk_create(
        [
            AnswerRevision(
                answer=answer,
                changed_by=campaign.created_by,
                values=snapshot(answer),
                note=_("Reprise de « %(name)s »") % {"name": baseline.name}
                if baseline
                else _("Création"),
            )
            for answer in created
        ],
        batch_size=500,
    )
    attach_existing_facts(campaign)
    compute_scores(campaign)
    return campaign


def snapshot(answer: Answer) -> dict:
    return {name.removesuffix("_id"): getattr(answer, name) for name in ANSWER_FIELDS}


@transaction.atomic
def update_answer(answer: Answer, *, user, note: str = "", **changes) -> bool:
    """Apply `changes` to an answer, keep the revision, refresh the campaign's scores.

    Returns False when nothing changed (no revision is written)."""
    before = snapshot(answer)
    for name, value in changes.items():
        if name not in {"status", "result", "maturity", "comment", "owner"}:
            raise ValueError(name)
        setattr(answer, name, value)
    if any(before[name] != getattr(answer, name) for name in ("result", "maturity", "comment")):
        # A changed finding needs a new review.
        answer.review = Review.PENDING
        answer.reviewed_by = None
        answer.reviewed_at = None
    after = snapshot(answer)
    if after == before:
        return False
    answer.updated_by = user
    answer.save()
    AnswerRevision.objects.create(answer=answer, changed_by=user, values=after, note=note)
    compute_scores(answer.campaign)
    return True


@transaction.atomic
def review_answer(answer: Answer, *, user, approved: bool, note: str = "") -> None:
    answer.review = Review.APPROVED if approved else Review.REJECTED
    answer.reviewed_by = user
    answer.reviewed_at = timezone.now()
    if approved:
        answer.status = Status.DONE
    elif answer.status == Status.DONE:
        answer.status = Status.IN_PROGRESS
    answer.updated_by = user
    answer.save()
    AnswerRevision.objects.create(
        answer=answer, changed_by=user, values=snapshot(answer), note=note
    )


# Scores -----------------------------------------------------------------------------------------
@dataclass
class _Tally:
    weighted: float = 0.0
    weights: float = 0.0
    maturity_weighted: float = 0.0
    maturity_weights: float = 0.0
    assessed: int = 0
    applicable: int = 0
    total: int = 0

    def add(self, weight: int, result: str, maturity: int | None) -> None:
        self.total += 1
        if result == Result.NOT_APPLICABLE:
            return
        self.applicable += 1
        if maturity is not None:
            self.maturity_weighted += weight * maturity
            self.maturity_weights += weight
        if result in RESULT_VALUE:
            self.assessed += 1
            self.weighted += weight * RESULT_VALUE[result]
            self.weights += weight

    @property
    def score(self) -> float | None:
        return round(100 * self.weighted / self.weights, 1) if self.weights else None

    @property
    def maturity(self) -> float | None:
        return (
            round(self.maturity_weighted / self.maturity_weights, 2)
            if self.maturity_weights
            else None
        )


def tally(rows) -> tuple[_Tally, dict[int, _Tally]]:
    """rows: (theme_id, weight, result, maturity) tuples."""
    overall = _Tally()
    themes: dict[int, _Tally] = defaultdict(_Tally)
    for theme_id, weight, result, maturity in rows:
        overall.add(weight, result, maturity)
        themes[theme_id].add(weight, result, maturity)
    return overall, themes


def compute_scores(campaign: Campaign) -> None:
    rows = campaign.answers.values_list("node__theme_id", "node__weight", "result", "maturity")
    overall, themes = tally(rows)
    campaign.score = overall.score
    campaign.maturity = overall.maturity
    campaign.progress = (
        round(100 * overall.assessed / overall.applicable, 1) if overall.applicable else 100.0
    )
    Campaign.objects.filter(pk=campaign.pk).update(
        score=campaign.score, maturity=campaign.maturity, progress=campaign.progress
    )
    existing = {row.theme_id: row for row in ThemeScore.objects.filter(campaign=campaign)}
    create, update = [], []
    for theme_id, theme in themes.items():
        row = existing.pop(theme_id, None) or ThemeScore(campaign=campaign, theme_id=theme_id)
        row.score, row.maturity = theme.score, theme.maturity
        row.assessed, row.applicable, row.total = theme.assessed, theme.applicable, theme.total
        (update if row.pk else create).append(row)
    ThemeScore.objects.bulk_create(create)
    ThemeScore.objects.bulk_update(update, ["score", "maturity", "assessed", "applicable", "total"])
    if existing:
        ThemeScore.objects.filter(pk__in=[row.pk for row in existing.values()]).delete()


def trend(campaign: Campaign) -> list[Campaign]:
    """This organisation's campaigns on the same framework, oldest first (for the trend chart)."""
    return list(
        Campaign.objects.filter(
            organisation_id=campaign.organisation_id, framework_id=campaign.framework_id
        )
        .order_by("starts_on", "pk")
        .only("pk", "name", "starts_on", "score", "maturity", "progress")
    )


# Facts ------------------------------------------------------------------------------------------
def record_fact(
    organisation: Organisation,
    source: str,
    *,
    source_key: str,
    occurred_on: dt.date,
    summary: str,
    value: float | None = None,
    url: str = "",
    details: dict | None = None,
) -> Fact:
    """Publish something a module observed; it becomes evidence on the measures naming `source`.

    Recording the same (organisation, source, source_key) again updates the fact in place.
    """
    if source not in EVIDENCE_SOURCES:
        raise ValueError(f"unknown evidence source {source!r}")
    with transaction.atomic():
        fact, _created = Fact.objects.update_or_create(
            organisation=organisation,
            source=source,
            source_key=source_key,
            defaults={
                "occurred_on": occurred_on,
                "summary": summary[:300],
                "value": value,
                "url": url,
                "details": details or {},
            },
        )
        campaigns = Campaign.objects.filter(
            status__in=[CampaignStatus.DRAFT, CampaignStatus.OPEN],
            organisation_id__in=[*organisation.ancestor_ids(), organisation.pk],
            starts_on__lte=occurred_on + FACT_FRESHNESS,
        )
        for campaign in campaigns:
            _attach(campaign, [fact])
    return fact


def attach_existing_facts(campaign: Campaign) -> None:
    facts = Fact.objects.filter(
        organisation__path__startswith=campaign.organisation.path,
        occurred_on__gte=campaign.starts_on - FACT_FRESHNESS,
    )
    _attach(campaign, list(facts))


def _attach(campaign: Campaign, facts: list[Fact]) -> None:
    if not facts:
        return
    answers = [
        answer
        for answer in campaign.answers.select_related("node").exclude(node__evidence_sources=[])
        if answer.node.evidence_sources
    ]
    rows = [
        Evidence(answer=answer, fact=fact, original_name=fact.summary)
        for answer in answers
        for fact in facts
        if fact.source in answer.node.evidence_sources
    ]
    Evidence.objects.bulk_create(rows, ignore_conflicts=True)


@receiver(framework_loaded)
def _sync_open_campaigns(sender, framework, created, **kwargs):
    """After an upgrade, open campaigns get answers for the measures the new version added."""
    if created:
        return
    for campaign in Campaign.objects.filter(framework=framework).exclude(
        status=CampaignStatus.CLOSED
    ):
        scope = scope_for(campaign.organisation)
        nodes = assessable_nodes(framework, scope=scope, groups=campaign.implementation_groups)
        have = set(campaign.answers.values_list("node_id", flat=True))
        Answer.objects.bulk_create(
            [Answer(campaign=campaign, node=node) for node in nodes if node.pk not in have]
        )
    for campaign in Campaign.objects.filter(framework=framework):
        compute_scores(campaign)


# Reminders --------------------------------------------------------------------------------------
def unfinished_answers(campaign: Campaign):
    return campaign.answers.exclude(Q(status=Status.DONE) | Q(result=Result.NOT_APPLICABLE))


def send_campaign_reminders(today: dt.date | None = None) -> int:
    """E-mail the owners of unfinished measures on the campaign's reminder days and the day
    after the deadline. At most one round per campaign and day; returns the e-mails sent."""
    from django.conf import settings
    from django.core.mail import EmailMessage
    from django.template.loader import render_to_string
    from django.urls import reverse
    from django.utils import translation

    today = today or timezone.localdate()
    sent = 0
    campaigns = Campaign.objects.filter(status=CampaignStatus.OPEN).exclude(last_reminder_on=today)
    for campaign in campaigns.select_related("organisation", "framework", "created_by"):
        days_left = (campaign.due_on - today).days
        if days_left not in campaign.reminder_days and days_left != -1:
            continue
        people: dict = defaultdict(list)
        for answer in unfinished_answers(campaign).select_related("node", "owner"):
            person = answer.owner or campaign.created_by
            if person is not None and person.is_active and person.email:
                people[person].append(answer)
        base = settings.BASE_URL.rstrip("/")
        for person, answers in people.items():
            context = {
                "person": person,
                "campaign": campaign,
                "days_left": days_left,
                "answers": answers[:50],
                "more": max(0, len(answers) - 50),
                "link": base + reverse("assessments:campaign", args=[campaign.pk]),
            }
            with translation.override(settings.LANGUAGE_CODE):
                subject = render_to_string("assessments/email/reminder_subject.txt", context)
                body = render_to_string("assessments/email/reminder.txt", context)
            EmailMessage(" ".join(subject.split()), body.strip() + "\n", to=[person.email]).send()
            sent += 1
        Campaign.objects.filter(pk=campaign.pk).update(last_reminder_on=today)
    return sent

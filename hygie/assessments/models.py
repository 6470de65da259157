"""Self-assessment: campaigns, answers with their history, evidence, facts, scores."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from hygie.core.visibility import VisibleQuerySet


class CampaignStatus(models.TextChoices):
    DRAFT = "draft", _("En préparation")
    OPEN = "open", _("En cours")
    CLOSED = "closed", _("Clôturée")


class CampaignQuerySet(VisibleQuerySet):
    org_lookup = "organisation"


class Campaign(models.Model):
    """One organisation's assessment of one framework over a period."""

    organisation = models.ForeignKey(
        "orgs.Organisation", on_delete=models.CASCADE, related_name="assessment_campaigns"
    )
    framework = models.ForeignKey(
        "frameworks.Framework", on_delete=models.PROTECT, related_name="campaigns"
    )
    name = models.CharField(_("nom"), max_length=200)
    # Implementation groups assessed (e.g. ["S"]); empty = every measure.
    implementation_groups = models.JSONField(default=list, blank=True)
    starts_on = models.DateField(_("début"))
    due_on = models.DateField(_("échéance"))
    status = models.CharField(
        max_length=10, choices=CampaignStatus.choices, default=CampaignStatus.OPEN
    )
    baseline = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # Days before the deadline on which owners of unfinished answers are reminded.
    reminder_days = models.JSONField(default=list, blank=True)
    last_reminder_on = models.DateField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    closed_at = models.DateTimeField(null=True, blank=True)
    # Denormalised score (see services.compute_scores), refreshed when an answer changes.
    score = models.FloatField(null=True, blank=True)
    maturity = models.FloatField(null=True, blank=True)
    progress = models.FloatField(default=0)

    objects = CampaignQuerySet.as_manager()

    class Meta:
        ordering = ["-starts_on", "-pk"]
        indexes = [models.Index(fields=["organisation", "framework", "-starts_on"])]

    def __str__(self) -> str:
        return self.name


class Status(models.TextChoices):
    TO_DO = "to_do", _("À faire")
    IN_PROGRESS = "in_progress", _("En cours")
    IN_REVIEW = "in_review", _("À valider")
    DONE = "done", _("Terminé")


class Result(models.TextChoices):
    NOT_ASSESSED = "not_assessed", _("Non évalué")
    COMPLIANT = "compliant", _("Conforme")
    PARTIAL = "partially_compliant", _("Partiellement conforme")
    NON_COMPLIANT = "non_compliant", _("Non conforme")
    NOT_APPLICABLE = "not_applicable", _("Non applicable")


class Review(models.TextChoices):
    PENDING = "pending", _("Non revu")
    APPROVED = "approved", _("Approuvé")
    REJECTED = "rejected", _("À reprendre")


class AnswerQuerySet(VisibleQuerySet):
    org_lookup = "campaign__organisation"


class Answer(models.Model):
    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="answers")
    node = models.ForeignKey(
        "frameworks.RequirementNode", on_delete=models.CASCADE, related_name="answers"
    )
    status = models.CharField(
        _("statut"), max_length=12, choices=Status.choices, default=Status.TO_DO
    )
    result = models.CharField(
        _("résultat"), max_length=20, choices=Result.choices, default=Result.NOT_ASSESSED
    )
    maturity = models.PositiveSmallIntegerField(_("niveau de maturité"), null=True, blank=True)
    comment = models.TextField(_("commentaire"), blank=True)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("responsable"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="assessment_answers",
    )
    review = models.CharField(max_length=10, choices=Review.choices, default=Review.PENDING)
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    reviewed_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    objects = AnswerQuerySet.as_manager()

    class Meta:
        ordering = ["campaign", "node__order"]
        constraints = [
            models.UniqueConstraint(fields=["campaign", "node"], name="one_answer_per_node"),
        ]
        indexes = [models.Index(fields=["node", "result"])]


class AnswerRevision(models.Model):
    """What an answer looked like after each change: the answer's history."""

    answer = models.ForeignKey(Answer, on_delete=models.CASCADE, related_name="revisions")
    changed_at = models.DateTimeField(auto_now_add=True)
    changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # {"status", "result", "maturity", "comment", "owner", "review"} after the change.
    values = models.JSONField()
    note = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["-changed_at", "-pk"]


def evidence_path(instance, filename: str) -> str:
    # Random names: the original name is kept in the database, never used on disk.
    return f"evidence/{instance.answer.campaign.organisation_id}/{uuid.uuid4().hex}"


class EvidenceQuerySet(VisibleQuerySet):
    org_lookup = "answer__campaign__organisation"


class Evidence(models.Model):
    """A file uploaded on an answer, or a fact recorded by another Hygie module."""

    answer = models.ForeignKey(Answer, on_delete=models.CASCADE, related_name="evidence")
    file = models.FileField(upload_to=evidence_path, blank=True)
    original_name = models.CharField(max_length=255, blank=True)
    content_type = models.CharField(max_length=100, blank=True)
    size = models.PositiveBigIntegerField(default=0)
    sha256 = models.CharField(max_length=64, blank=True)
    fact = models.ForeignKey(
        "assessments.Fact", null=True, blank=True, on_delete=models.CASCADE, related_name="evidence"
    )
    uploaded_at = models.DateTimeField(auto_now_add=True)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    objects = EvidenceQuerySet.as_manager()

    class Meta:
        ordering = ["-uploaded_at", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["answer", "fact"],
                condition=models.Q(fact__isnull=False),
                name="one_evidence_per_fact",
            ),
        ]


class FactQuerySet(VisibleQuerySet):
    org_lookup = "organisation"


class Fact(models.Model):
    """Something another module observed and can prove (see services.record_fact)."""

    organisation = models.ForeignKey(
        "orgs.Organisation", on_delete=models.CASCADE, related_name="facts"
    )
    source = models.CharField(max_length=60)  # e.g. "crisis.exercise"
    occurred_on = models.DateField()
    summary = models.CharField(max_length=300)
    value = models.FloatField(null=True, blank=True)
    details = models.JSONField(default=dict, blank=True)
    # Where a person follows the link to see the fact's origin (a path inside Hygie).
    url = models.CharField(max_length=300, blank=True)
    # Identity of the source object, so recording the same fact twice updates it.
    source_key = models.CharField(max_length=120)
    recorded_at = models.DateTimeField(auto_now=True)

    objects = FactQuerySet.as_manager()

    class Meta:
        ordering = ["-occurred_on", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["organisation", "source", "source_key"], name="one_fact_per_source_object"
            ),
        ]
        indexes = [models.Index(fields=["source", "organisation", "-occurred_on"])]


class ThemeScoreQuerySet(VisibleQuerySet):
    org_lookup = "campaign__organisation"


class ThemeScore(models.Model):
    """A campaign's score on one theme, kept up to date for the consolidated dashboards."""

    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="theme_scores")
    theme = models.ForeignKey(
        "frameworks.RequirementNode", on_delete=models.CASCADE, related_name="+"
    )
    score = models.FloatField(null=True, blank=True)  # 0–100, None when all N/A
    maturity = models.FloatField(null=True, blank=True)  # 0–5 mean
    assessed = models.PositiveIntegerField(default=0)
    applicable = models.PositiveIntegerField(default=0)
    total = models.PositiveIntegerField(default=0)

    objects = ThemeScoreQuerySet.as_manager()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["campaign", "theme"], name="one_score_per_theme"),
        ]

"""The action plan: items drawn from assessment gaps, possibly pooled across a GHT."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from hygie.core.visibility import VisibleQuerySet


class Priority(models.TextChoices):
    CRITICAL = "p1", _("P1 — critique")
    HIGH = "p2", _("P2 — haute")
    MEDIUM = "p3", _("P3 — moyenne")
    LOW = "p4", _("P4 — basse")


class Effort(models.TextChoices):
    SMALL = "s", _("Faible (< 5 j)")
    MEDIUM = "m", _("Moyen (5–20 j)")
    LARGE = "l", _("Important (> 20 j)")


class Funding(models.TextChoices):
    OWN = "fonds_propres", _("Fonds propres")
    CARE = "care", _("Programme CaRE")
    ARS = "ars_fir", _("ARS (FIR)")
    GHT = "ght", _("Mutualisation GHT")
    OTHER = "autre", _("Autre")


class ActionStatus(models.TextChoices):
    TO_DO = "to_do", _("À lancer")
    IN_PROGRESS = "in_progress", _("En cours")
    BLOCKED = "blocked", _("Bloquée")
    DONE = "done", _("Terminée")
    CANCELLED = "cancelled", _("Abandonnée")


# The canevas columns a person edits, in the form and in the spreadsheet alike.
ITEM_FIELDS = (
    "node",
    "title",
    "description",
    "owner",
    "priority",
    "effort",
    "cost",
    "funding",
    "starts_on",
    "due_on",
    "status",
    "progress",
    "needs_expert",
    "expert",
)


class ActionQuerySet(VisibleQuerySet):
    org_lookup = "organisation"


class ActionItem(models.Model):
    """One line of the action plan (the canevas columns)."""

    organisation = models.ForeignKey(
        "orgs.Organisation", on_delete=models.CASCADE, related_name="action_items"
    )
    campaign = models.ForeignKey(
        "assessments.Campaign",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="action_items",
    )
    node = models.ForeignKey(
        "frameworks.RequirementNode",
        verbose_name=_("mesure"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="action_items",
    )
    title = models.CharField(_("action"), max_length=300)
    description = models.TextField(_("description"), blank=True)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("responsable"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="action_items",
    )
    priority = models.CharField(
        _("priorité"), max_length=2, choices=Priority.choices, default=Priority.MEDIUM
    )
    effort = models.CharField(_("effort"), max_length=1, choices=Effort.choices, blank=True)
    cost = models.DecimalField(
        _("coût (€)"), max_digits=12, decimal_places=2, null=True, blank=True
    )
    funding = models.CharField(_("financement"), max_length=20, choices=Funding.choices, blank=True)
    starts_on = models.DateField(_("début"), null=True, blank=True)
    due_on = models.DateField(_("échéance"), null=True, blank=True)
    status = models.CharField(
        _("statut"), max_length=12, choices=ActionStatus.choices, default=ActionStatus.TO_DO
    )
    progress = models.PositiveSmallIntegerField(_("avancement (%)"), default=0)
    needs_expert = models.BooleanField(_("besoin d'un expert externe"), default=False)
    expert = models.ForeignKey(
        "directory.Actor",
        verbose_name=_("acteur spécialisé"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="action_items",
    )
    # Where the item came from: "gap" (generated), "manual", "import", "exercise", "audit"...
    origin = models.CharField(max_length=20, default="manual")
    # An establishment's item carried on by its GHT: the GHT-level item it was pooled into.
    # The establishment then follows its share (ActionMember) instead of this line.
    pooled_into = models.ForeignKey(
        "self",
        verbose_name=_("mutualisée dans"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="pooled_from",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = ActionQuerySet.as_manager()

    class Meta:
        ordering = ["due_on", "priority", "pk"]

    def __str__(self) -> str:
        return self.title

    @property
    def is_open(self) -> bool:
        return self.status not in CLOSED_STATUSES


CLOSED_STATUSES = (ActionStatus.DONE, ActionStatus.CANCELLED)


class ActionMemberQuerySet(VisibleQuerySet):
    org_lookup = "member"


class ActionMember(models.Model):
    """A member establishment's share of a GHT-level pooled action, with its own progress."""

    action = models.ForeignKey(ActionItem, on_delete=models.CASCADE, related_name="members")
    member = models.ForeignKey(
        "orgs.Organisation", on_delete=models.CASCADE, related_name="pooled_actions"
    )
    status = models.CharField(
        _("statut"), max_length=12, choices=ActionStatus.choices, default=ActionStatus.TO_DO
    )
    progress = models.PositiveSmallIntegerField(_("avancement (%)"), default=0)
    note = models.CharField(_("note"), max_length=300, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = ActionMemberQuerySet.as_manager()

    class Meta:
        ordering = ["member__name"]
        constraints = [
            models.UniqueConstraint(fields=["action", "member"], name="one_share_per_member"),
        ]

"""Frameworks: a tree of requirement nodes loaded from a library file (CISO Assistant format).

Frameworks are platform-wide reference data, shared by every organisation; what belongs to an
organisation is its assessment of a framework (hygie.assessments).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class Scope(models.TextChoices):
    """Where a measure is assessed: by each legal entity, or once for the whole GHT."""

    ENTITY = "entity", _("Entité juridique")
    GHT = "ght", _("GHT")


class Origin(models.TextChoices):
    BUILTIN = "builtin", _("Fourni avec Hygie")
    IMPORTED = "imported", _("Importé")


class Framework(models.Model):
    urn = models.CharField(max_length=255, unique=True)
    library_urn = models.CharField(max_length=255)
    ref_id = models.CharField(max_length=100)
    name = models.CharField(max_length=500)
    description = models.TextField(blank=True)
    locale = models.CharField(max_length=10, default="fr")
    provider = models.CharField(max_length=200, blank=True)
    packager = models.CharField(max_length=200, blank=True)
    copyright = models.TextField(blank=True)
    version = models.PositiveIntegerField()
    publication_date = models.DateField(null=True, blank=True)
    min_score = models.IntegerField(default=0)
    max_score = models.IntegerField(default=5)
    # [{"score": 0, "name": ..., "description": ...}, ...]
    scores_definition = models.JSONField(default=list, blank=True)
    # [{"ref_id": "S", "name": ..., "description": ...}, ...]
    implementation_groups = models.JSONField(default=list, blank=True)
    translations = models.JSONField(default=dict, blank=True)
    origin = models.CharField(max_length=10, choices=Origin.choices, default=Origin.IMPORTED)
    file_sha256 = models.CharField(max_length=64)
    imported_at = models.DateTimeField(auto_now=True)
    imported_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    # Loaded by `migrate` on every installation: not a sign that an install is in use (backup).
    INSTALL_SEED_ROWS = {"origin": Origin.BUILTIN}

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    @property
    def group_names(self) -> dict[str, str]:
        return {
            group["ref_id"]: group.get("name") or group["ref_id"]
            for group in self.implementation_groups
        }


class RequirementNode(models.Model):
    framework = models.ForeignKey(Framework, on_delete=models.CASCADE, related_name="nodes")
    urn = models.CharField(max_length=255)
    ref_id = models.CharField(max_length=100, blank=True)
    name = models.TextField(blank=True)
    description = models.TextField(blank=True)
    annotation = models.TextField(blank=True)
    typical_evidence = models.TextField(blank=True)
    parent = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.CASCADE, related_name="children"
    )
    # The depth-1 ancestor (the node itself at depth 1): scores are grouped by theme.
    theme = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    depth = models.PositiveSmallIntegerField(default=1)
    order = models.PositiveIntegerField()
    assessable = models.BooleanField(default=False)
    implementation_groups = models.JSONField(default=list, blank=True)
    weight = models.PositiveSmallIntegerField(default=1)
    scope = models.CharField(max_length=10, choices=Scope.choices, default=Scope.ENTITY)
    evidence_sources = models.JSONField(default=list, blank=True)
    questions = models.JSONField(default=dict, blank=True)
    translations = models.JSONField(default=dict, blank=True)

    INSTALL_SEED_ROWS = {"framework__origin": Origin.BUILTIN}

    class Meta:
        ordering = ["framework", "order"]
        constraints = [
            models.UniqueConstraint(fields=["framework", "urn"], name="unique_node_urn"),
        ]
        indexes = [models.Index(fields=["framework", "assessable", "order"])]

    def __str__(self) -> str:
        return self.label

    @property
    def label(self) -> str:
        text = self.name or self.description[:120]
        return f"{self.ref_id} {text}".strip() if self.ref_id else text

    @property
    def answer_key(self) -> str:
        """What identifies a measure across versions of its framework."""
        return self.ref_id or self.urn

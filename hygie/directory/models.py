"""Directory of specialised actors and resources (CSIRTs, qualified providers, guides...)."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from hygie.core.visibility import VisibleQuerySet


class ActorKind(models.TextChoices):
    CERT_SANTE = "cert_sante", _("CERT Santé")
    REGIONAL_CSIRT = "csirt_regional", _("CSIRT régional")
    GRADES = "grades", _("GRADeS")
    QUALIFIED_PROVIDER = "prestataire_qualifie", _("Prestataire qualifié ANSSI")
    EXPERT = "expert", _("Expert")
    TRAINING_BODY = "organisme_formation", _("Organisme de formation")
    GUIDE = "guide", _("Guide officiel")
    AUTHORITY = "autorite", _("Autorité")


class ActorQuerySet(VisibleQuerySet):
    org_lookup = "owner"


class Actor(models.Model):
    """A directory entry. Reference entries (owner empty) are shared with everyone."""

    name = models.CharField(_("nom"), max_length=200)
    kind = models.CharField(_("type"), max_length=30, choices=ActorKind.choices)
    description = models.TextField(_("description"), blank=True)
    website = models.URLField(_("site web"), blank=True)
    email = models.EmailField(_("courriel"), blank=True)
    phone = models.CharField(_("téléphone"), max_length=40, blank=True)
    # Regions served; none = national coverage.
    regions = models.ManyToManyField(
        "orgs.Organisation", blank=True, related_name="directory_actors"
    )
    # Competences and qualifications, e.g. ["audit", "reponse_incident"], ["PASSI", "PRIS"].
    competences = models.JSONField(_("compétences"), default=list, blank=True)
    qualifications = models.JSONField(_("qualifications"), default=list, blank=True)
    last_verified_on = models.DateField(_("vérifié le"), null=True, blank=True)
    # An organisation's own entry (its contracted provider), visible in its subtree only.
    owner = models.ForeignKey(
        "orgs.Organisation",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="own_directory_actors",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = ActorQuerySet.as_manager()

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

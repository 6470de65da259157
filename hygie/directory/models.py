"""Directory of specialised actors and resources (CSIRTs, qualified providers, guides...)."""

from __future__ import annotations

import datetime as dt

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from hygie.core.visibility import VisibleQuerySet

# An entry not confirmed for this long is flagged "à vérifier".
STALE_AFTER_MONTHS = 12


class ActorKind(models.TextChoices):
    CERT_SANTE = "cert_sante", _("CERT Santé")
    REGIONAL_CSIRT = "csirt_regional", _("CSIRT régional")
    GRADES = "grades", _("GRADeS")
    QUALIFIED_PROVIDER = "prestataire_qualifie", _("Prestataire qualifié ANSSI")
    EXPERT = "expert", _("Expert")
    TRAINING_BODY = "organisme_formation", _("Organisme de formation")
    GUIDE = "guide", _("Guide officiel")
    AUTHORITY = "autorite", _("Autorité ou agence publique")
    PUBLIC_SERVICE = "dispositif_public", _("Dispositif public d'assistance")


# Controlled vocabularies: filters and imports rely on stable ASCII codes (decision 0320).
class Competence(models.TextChoices):
    AUDIT = "audit", _("Audit de sécurité")
    AD_SECURITY = "securite_ad", _("Sécurité de l'Active Directory")
    INCIDENT_RESPONSE = "reponse_incident", _("Réponse à incident")
    DETECTION = "detection", _("Détection d'incidents")
    CRISIS = "gestion_crise", _("Gestion de crise et exercices")
    CONTINUITY = "continuite", _("Continuité et reprise d'activité")
    ADVICE = "conseil", _("Conseil et accompagnement")
    TRAINING = "formation", _("Formation et sensibilisation")
    REPORTING = "signalement", _("Signalement d'incidents")
    WATCH = "veille", _("Veille et alertes")
    VICTIM_SUPPORT = "assistance_victimes", _("Assistance aux victimes")
    DATA_PROTECTION = "donnees_personnelles", _("Protection des données personnelles")
    HOSTING = "hebergement", _("Hébergement et cloud")
    REFERENCE = "referentiel", _("Référentiel et bonnes pratiques")


class Qualification(models.TextChoices):
    PASSI = "PASSI", "PASSI"
    PRIS = "PRIS", "PRIS"
    PDIS = "PDIS", "PDIS"
    PACS = "PACS", "PACS"
    PAMS = "PAMS", "PAMS"
    SECNUMCLOUD = "SecNumCloud", "SecNumCloud"
    HDS = "HDS", _("HDS (hébergeur de données de santé)")
    QUALIOPI = "Qualiopi", "Qualiopi"


class ActorQuerySet(VisibleQuerySet):
    org_lookup = "owner"

    def stale(self, today: dt.date | None = None):
        return self.filter(
            models.Q(last_verified_on__isnull=True)
            | models.Q(last_verified_on__lt=stale_cutoff(today))
        )


def stale_cutoff(today: dt.date | None = None) -> dt.date:
    """Entries last verified before this date are stale (same day, 12 months earlier)."""
    today = today or timezone.localdate()
    year, month = divmod(today.year * 12 + today.month - 1 - STALE_AFTER_MONTHS, 12)
    month += 1
    for day in (today.day, 30, 29, 28):
        try:
            return dt.date(year, month, day)
        except ValueError:
            continue
    raise AssertionError("unreachable")


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
        "orgs.Organisation",
        blank=True,
        related_name="directory_actors",
        verbose_name=_("régions couvertes"),
        limit_choices_to={"kind": "region"},
    )
    # Codes of Competence and Qualification, e.g. ["audit", "reponse_incident"], ["PASSI"].
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
        verbose_name=_("propriétaire"),
    )
    # Entries shipped with Hygie (see seed.py) carry a stable key; others leave it empty.
    seed_key = models.CharField(max_length=60, blank=True, editable=False, db_index=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = ActorQuerySet.as_manager()

    # `migrate` creates these on every installation; a restore replaces them like any row.
    INSTALL_SEED_ROWS = {"seed_key__gt": ""}

    class Meta:
        ordering = ["name"]
        verbose_name = _("acteur de l'annuaire")
        verbose_name_plural = _("acteurs de l'annuaire")

    def __str__(self) -> str:
        return self.name

    @property
    def is_reference(self) -> bool:
        return self.owner_id is None

    @property
    def is_stale(self) -> bool:
        return self.last_verified_on is None or self.last_verified_on < stale_cutoff()

    def competence_labels(self) -> list[str]:
        labels = dict(Competence.choices)
        return [str(labels.get(code, code)) for code in self.competences]

    def qualification_labels(self) -> list[str]:
        labels = dict(Qualification.choices)
        return [str(labels.get(code, code)) for code in self.qualifications]


class SeededEntry(models.Model):
    """Keys of shipped entries already created once: one deleted by an administrator stays deleted."""

    key = models.CharField(max_length=60, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)

    INSTALL_SEED_ROWS = {"key__gt": ""}

    class Meta:
        verbose_name = _("entrée fournie de l'annuaire")
        verbose_name_plural = _("entrées fournies de l'annuaire")

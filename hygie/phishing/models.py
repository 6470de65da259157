"""Attack simulations: sending profiles (more to come: campaigns, recipients, events)."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from hygie.core.crypto import EncryptedTextField
from hygie.core.visibility import VisibleQuerySet


class Security(models.TextChoices):
    STARTTLS = "starttls", _("STARTTLS (port 587)")
    TLS = "tls", _("TLS implicite (port 465)")
    NONE = "none", _("Aucun chiffrement (relais interne uniquement)")


class SendingProfileQuerySet(VisibleQuerySet):
    org_lookup = "organisation"


class SendingProfile(models.Model):
    """An SMTP relay simulations are sent through, owned by an establishment or a GHT."""

    organisation = models.ForeignKey(
        "orgs.Organisation", on_delete=models.CASCADE, related_name="sending_profiles"
    )
    name = models.CharField(_("nom"), max_length=120)
    host = models.CharField(_("serveur SMTP"), max_length=255)
    port = models.PositiveIntegerField(_("port"), default=587)
    security = models.CharField(
        _("chiffrement"), max_length=10, choices=Security.choices, default=Security.STARTTLS
    )
    username = models.CharField(_("identifiant"), max_length=255, blank=True)
    password = EncryptedTextField(_("mot de passe"), blank=True)
    from_address = models.EmailField(_("adresse d'expédition"))
    # An internal relay often presents a certificate of the hospital's own authority.
    ca_certificate = models.TextField(
        _("certificat de l'autorité (PEM)"),
        blank=True,
        help_text=_("Laisser vide pour les autorités reconnues par le système."),
    )
    timeout = models.PositiveSmallIntegerField(_("délai d'attente (s)"), default=20)
    last_test_at = models.DateTimeField(null=True, blank=True)
    last_test_ok = models.BooleanField(null=True, blank=True)
    last_test_message = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = SendingProfileQuerySet.as_manager()

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["organisation", "name"], name="unique_profile_name"),
        ]

    def __str__(self) -> str:
        return self.name


class CampaignStatus(models.TextChoices):
    DRAFT = "draft", _("En préparation")
    SCHEDULED = "scheduled", _("Programmée")
    SENDING = "sending", _("Envoi en cours")
    PAUSED = "paused", _("En pause")
    COMPLETED = "completed", _("Terminée")
    CANCELLED = "cancelled", _("Annulée")


class SimulationQuerySet(VisibleQuerySet):
    org_lookup = "organisation"


class Simulation(models.Model):
    """An attack-simulation campaign of an establishment or a GHT."""

    organisation = models.ForeignKey(
        "orgs.Organisation", on_delete=models.CASCADE, related_name="simulations"
    )
    name = models.CharField(_("nom"), max_length=200)
    sending_profile = models.ForeignKey(
        SendingProfile, on_delete=models.PROTECT, related_name="simulations"
    )
    status = models.CharField(
        max_length=10, choices=CampaignStatus.choices, default=CampaignStatus.DRAFT
    )
    # Lures used (slugs of the library); "per_service" gives each person the first lure meant
    # for their job family or service, "random" draws among them.
    lures = models.JSONField(default=list)
    assignment = models.CharField(
        max_length=12,
        choices=[("random", _("Au hasard")), ("per_service", _("Selon le service"))],
        default="per_service",
    )
    # Targeting: ids of services and sites, job family codes; empty = everyone in the subtree.
    target_services = models.JSONField(default=list, blank=True)
    target_sites = models.JSONField(default=list, blank=True)
    target_job_families = models.JSONField(default=list, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    launched_at = models.DateTimeField(null=True, blank=True)
    completed_at = models.DateTimeField(null=True, blank=True)

    objects = SimulationQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        return self.name


class RecipientQuerySet(VisibleQuerySet):
    org_lookup = "simulation__organisation"


class Recipient(models.Model):
    """One person targeted by a simulation, with the token of their links (256 random bits)."""

    simulation = models.ForeignKey(Simulation, on_delete=models.CASCADE, related_name="recipients")
    staff = models.ForeignKey(
        "orgs.StaffMember", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    email = models.EmailField()
    # Where the person worked when targeted: statistics stay right after a move.
    service = models.ForeignKey(
        "orgs.Organisation", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    job_family = models.CharField(max_length=20, blank=True)
    lure = models.CharField(max_length=80)
    token = models.CharField(max_length=64, unique=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    first_open_at = models.DateTimeField(null=True, blank=True)
    first_click_at = models.DateTimeField(null=True, blank=True)
    submitted_at = models.DateTimeField(null=True, blank=True)
    reported_at = models.DateTimeField(null=True, blank=True)

    objects = RecipientQuerySet.as_manager()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["simulation", "email"], name="one_recipient_per_address"
            ),
        ]


class EventKind(models.TextChoices):
    OPEN = "open", _("Ouverture")
    CLICK = "click", _("Clic")
    SUBMIT = "submit", _("Saisie")
    REPORT = "report", _("Signalement")


class Event(models.Model):
    """What a recipient did. No entered value, address or full user agent is ever kept."""

    recipient = models.ForeignKey(Recipient, on_delete=models.CASCADE, related_name="events")
    kind = models.CharField(max_length=10, choices=EventKind.choices)
    at = models.DateTimeField()
    # Recognised as a mail scanner or link checker, not a person: kept apart from the results.
    automated = models.BooleanField(default=False)
    reason = models.CharField(max_length=120, blank=True)
    # For a submission: the names of the fields that were filled, never their values.
    fields = models.JSONField(default=list, blank=True)

    class Meta:
        ordering = ["at", "pk"]
        indexes = [models.Index(fields=["recipient", "kind"])]

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

"""Reporting of suspicious e-mail: abuse mailboxes, reports and the cases grouping them."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from hygie.core.crypto import EncryptedTextField
from hygie.core.visibility import VisibleQuerySet


class Security(models.TextChoices):
    TLS = "tls", _("TLS implicite (port 993)")
    STARTTLS = "starttls", _("STARTTLS (port 143)")
    NONE = "none", _("Aucun chiffrement (serveur interne uniquement)")


class MailboxQuerySet(VisibleQuerySet):
    org_lookup = "organisation"


class Mailbox(models.Model):
    """The abuse mailbox of an establishment or a GHT, read over IMAP; also the owner of the
    secret token with which report buttons post messages over HTTP."""

    organisation = models.ForeignKey(
        "orgs.Organisation", on_delete=models.CASCADE, related_name="abuse_mailboxes"
    )
    name = models.CharField(_("nom"), max_length=120)
    host = models.CharField(_("serveur IMAP"), max_length=255)
    port = models.PositiveIntegerField(_("port"), default=993)
    security = models.CharField(
        _("chiffrement"), max_length=10, choices=Security.choices, default=Security.TLS
    )
    username = models.CharField(_("identifiant"), max_length=255)
    password = EncryptedTextField(_("mot de passe"), blank=True)
    folder = models.CharField(_("dossier à relever"), max_length=200, default="INBOX")
    processed_folder = models.CharField(
        _("dossier des messages traités"),
        max_length=200,
        default="Hygie/Traites",
        help_text=_("Les messages lus y sont déplacés, marqués comme lus."),
    )
    ca_certificate = models.TextField(
        _("certificat de l'autorité (PEM)"),
        blank=True,
        help_text=_("Laisser vide pour les autorités reconnues par le système."),
    )
    timeout = models.PositiveSmallIntegerField(_("délai d'attente (s)"), default=20)
    reply_address = models.EmailField(
        _("adresse des réponses aux signaleurs"),
        blank=True,
        help_text=_("Par défaut, l'adresse d'expédition de Hygie."),
    )
    active = models.BooleanField(_("relève active"), default=True)
    # Report buttons authenticate with a secret shown once; only its SHA-256 is kept.
    button_token_hash = models.CharField(max_length=64, blank=True, db_index=True)
    # A worker polling this mailbox holds it (a conditional UPDATE) until done or the lease ends.
    poll_claimed_at = models.DateTimeField(null=True, blank=True)
    last_poll_at = models.DateTimeField(null=True, blank=True)
    last_poll_ok = models.BooleanField(null=True, blank=True)
    last_poll_message = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = MailboxQuerySet.as_manager()

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["organisation", "name"], name="unique_mailbox_name"),
        ]

    def __str__(self) -> str:
        return self.name


class CaseKind(models.TextChoices):
    REAL = "real", _("Signalement réel")
    SIMULATION = "simulation", _("Exercice (simulation Hygie)")


class CaseStatus(models.TextChoices):
    NEW = "new", _("Nouveau")
    DECIDED = "decided", _("Qualifié")


class Verdict(models.TextChoices):
    MALICIOUS = "malicious", _("Malveillant")
    SPAM = "spam", _("Indésirable (spam)")
    LEGITIMATE = "legitimate", _("Légitime")
    EXERCISE = "exercise", _("Exercice")


class CaseQuerySet(VisibleQuerySet):
    org_lookup = "organisation"


class Case(models.Model):
    """Identical reports grouped: forty people reporting one campaign make one case."""

    organisation = models.ForeignKey(
        "orgs.Organisation", on_delete=models.CASCADE, related_name="mail_cases"
    )
    fingerprint = models.CharField(max_length=64)
    kind = models.CharField(max_length=10, choices=CaseKind.choices, default=CaseKind.REAL)
    status = models.CharField(max_length=10, choices=CaseStatus.choices, default=CaseStatus.NEW)
    verdict = models.CharField(max_length=10, choices=Verdict.choices, blank=True)
    subject = models.CharField(max_length=300, blank=True)
    sender = models.CharField(max_length=320, blank=True)
    # What triage extracted from the first report (see hygie.mailreports.analysis.Indicators):
    # kept after the raw messages are purged, they are the indicators of compromise.
    indicators = models.JSONField(default=dict)
    simulation = models.ForeignKey(
        "phishing.Simulation", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    first_reported_at = models.DateTimeField()
    last_reported_at = models.DateTimeField()
    report_count = models.PositiveIntegerField(default=0)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    verdict_note = models.TextField(blank=True)

    objects = CaseQuerySet.as_manager()

    class Meta:
        ordering = ["-last_reported_at", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["organisation", "fingerprint"], name="one_case_per_fingerprint"
            ),
        ]
        indexes = [models.Index(fields=["organisation", "status", "kind"])]

    def __str__(self) -> str:
        return self.subject or str(_("(sans objet)"))


class Source(models.TextChoices):
    IMAP = "imap", _("Boîte de signalement")
    BUTTON = "button", _("Bouton de signalement")
    UPLOAD = "upload", _("Fichier déposé")


class ReportQuerySet(VisibleQuerySet):
    org_lookup = "case__organisation"


class Report(models.Model):
    """One person's report of one message."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="reports")
    mailbox = models.ForeignKey(
        Mailbox, null=True, blank=True, on_delete=models.SET_NULL, related_name="reports"
    )
    source = models.CharField(max_length=10, choices=Source.choices)
    reporter = models.EmailField(blank=True)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    received_at = models.DateTimeField()
    # Idempotence: the IMAP position of the report (a UID is only meaningful with the
    # folder's UIDVALIDITY), and the report message's own Message-ID.
    imap_uidvalidity = models.BigIntegerField(null=True, blank=True)
    imap_uid = models.BigIntegerField(null=True, blank=True)
    message_id = models.CharField(max_length=500, blank=True)
    file_name = models.CharField(max_length=255, blank=True)
    # The report as received, base64 then encrypted; emptied at the end of the retention period.
    raw = EncryptedTextField(blank=True)
    raw_size = models.PositiveIntegerField(default=0)
    purged_at = models.DateTimeField(null=True, blank=True)
    recipient = models.ForeignKey(
        "phishing.Recipient", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    credited = models.BooleanField(default=False)
    replied_at = models.DateTimeField(null=True, blank=True)

    objects = ReportQuerySet.as_manager()

    class Meta:
        ordering = ["received_at", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["mailbox", "imap_uidvalidity", "imap_uid"],
                condition=models.Q(imap_uid__isnull=False),
                name="one_report_per_imap_message",
            ),
        ]
        indexes = [models.Index(fields=["message_id"])]

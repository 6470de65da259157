"""Attack simulations: sending profiles, custom lures, campaigns, recipients and their events."""

from __future__ import annotations

from datetime import time

from django.conf import settings
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


class CustomLureQuerySet(VisibleQuerySet):
    org_lookup = "organisation"


class CustomLure(models.Model):
    """A lure written (or imported from GoPhish) by an establishment or a GHT.

    It has the shape of a library lure (hygie.phishing.lures.Lure) and is used through
    `to_lure()`. A GHT's lures are offered to its members' campaigns. It may be saved with
    problems (an imported template with an unknown placeholder): the campaign using it is
    refused at launch, naming the placeholder."""

    organisation = models.ForeignKey(
        "orgs.Organisation", on_delete=models.CASCADE, related_name="custom_lures"
    )
    name = models.CharField(_("nom"), max_length=200)
    summary = models.CharField(_("résumé"), max_length=300, blank=True)
    audiences = models.JSONField(
        _("publics"), default=list, blank=True, help_text=_("Familles de métiers ou services.")
    )
    sender_name = models.CharField(_("nom affiché de l'expéditeur"), max_length=120)
    sender_local_part = models.CharField(
        _("adresse d'expédition (partie avant @)"), max_length=64, default="ne-pas-repondre"
    )
    subject = models.CharField(_("objet"), max_length=300)
    text = models.TextField(_("corps texte"), blank=True)
    html = models.TextField(_("corps HTML"), blank=True)
    # [{"where": "subject|sender|link|body|attachment|tone", "text": "..."}]
    signs = models.JSONField(_("signes d'alerte"), default=list, blank=True)
    landing_title = models.CharField(_("titre de la page d'arrivée"), max_length=200)
    landing_intro = models.TextField(_("texte de la page d'arrivée"), blank=True)
    # [{"name": "identifiant", "label": "Identifiant", "type": "text|password|email"}]
    landing_fields = models.JSONField(default=list, blank=True)
    landing_button = models.CharField(max_length=80, default="Valider")
    # A page imported from GoPhish, served sandboxed (no script, opaque origin) with its
    # forms pointed at the submission endpoint. Empty: the landing above is used.
    landing_html = models.TextField(blank=True)
    teachable_title = models.CharField(_("titre de la page pédagogique"), max_length=200)
    teachable_body = models.TextField(_("texte de la page pédagogique"))
    source = models.CharField(
        max_length=10, choices=[("hygie", "Hygie"), ("gophish", "GoPhish")], default="hygie"
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = CustomLureQuerySet.as_manager()

    class Meta:
        ordering = ["name", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["organisation", "name"], name="unique_lure_name"),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def key(self) -> str:
        """How simulations and recipients refer to it (library lures use their slug)."""
        return f"{CUSTOM_PREFIX}{self.pk}"

    def to_lure(self):
        from hygie.phishing.lures import custom_to_lure

        return custom_to_lure(self)


CUSTOM_PREFIX = "custom-"


class TargetListQuerySet(VisibleQuerySet):
    org_lookup = "organisation"


class TargetList(models.Model):
    """A saved set of staff members to target (e.g. a GoPhish group once imported)."""

    organisation = models.ForeignKey(
        "orgs.Organisation", on_delete=models.CASCADE, related_name="target_lists"
    )
    name = models.CharField(_("nom"), max_length=200)
    members = models.ManyToManyField("orgs.StaffMember", related_name="target_lists", blank=True)
    source = models.CharField(
        max_length=10, choices=[("hygie", "Hygie"), ("gophish", "GoPhish")], default="hygie"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = TargetListQuerySet.as_manager()

    class Meta:
        ordering = ["name", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["organisation", "name"], name="unique_target_list"),
        ]

    def __str__(self) -> str:
        return self.name


class CampaignStatus(models.TextChoices):
    DRAFT = "draft", _("En préparation")
    SCHEDULED = "scheduled", _("Programmée")
    SENDING = "sending", _("Envoi en cours")
    PAUSED = "paused", _("En pause")
    RUNNING = "running", _("Envoyée, en observation")
    COMPLETED = "completed", _("Terminée")
    CANCELLED = "cancelled", _("Annulée")


def default_business_days() -> list[int]:
    return [0, 1, 2, 3, 4]  # Monday to Friday (datetime.weekday())


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
    # Saved lists (e.g. imported GoPhish groups): when set, only their members are targeted,
    # still narrowed by the filters above.
    target_lists = models.ManyToManyField(TargetList, blank=True, related_name="simulations")
    # Scheduling: messages go out at random moments between send_from and send_until, only
    # on business days and hours (local time), never faster than rate_per_minute.
    send_from = models.DateTimeField(_("début de l'envoi"), null=True, blank=True)
    send_until = models.DateTimeField(_("fin de l'envoi"), null=True, blank=True)
    business_start = models.TimeField(_("heure d'ouverture"), default=time(8, 30))
    business_end = models.TimeField(_("heure de fermeture"), default=time(17, 30))
    business_days = models.JSONField(default=default_business_days)
    rate_per_minute = models.PositiveIntegerField(_("messages par minute au plus"), default=30)
    # The observation period after the last message; then the campaign completes by itself.
    observe_days = models.PositiveSmallIntegerField(_("durée d'observation (jours)"), default=7)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    launched_at = models.DateTimeField(null=True, blank=True)
    sent_out_at = models.DateTimeField(null=True, blank=True)
    completed_at = models.DateTimeField(null=True, blank=True)

    objects = SimulationQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        return self.name


class SendStatus(models.TextChoices):
    PENDING = "pending", _("À envoyer")
    CLAIMED = "claimed", _("En cours d'envoi")
    RETRY = "retry", _("Nouvel essai prévu")
    SENT = "sent", _("Envoyé")
    FAILED = "failed", _("Échec")
    CANCELLED = "cancelled", _("Annulé")


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
    site = models.ForeignKey(
        "orgs.Organisation", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    establishment = models.ForeignKey(
        "orgs.Organisation", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    job_family = models.CharField(max_length=20, blank=True)
    lure = models.CharField(max_length=80)
    token = models.CharField(max_length=64, unique=True)
    # The send log: a worker claims a due row by a conditional UPDATE (pending/retry ->
    # claimed), sends, then marks it sent; a claim older than the lease is taken back.
    send_status = models.CharField(
        max_length=10, choices=SendStatus.choices, default=SendStatus.PENDING
    )
    scheduled_at = models.DateTimeField(null=True, blank=True)
    claimed_at = models.DateTimeField(null=True, blank=True)
    claimed_by = models.CharField(max_length=64, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    last_error = models.CharField(max_length=500, blank=True)
    message_id = models.CharField(max_length=200, blank=True)
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
        indexes = [
            models.Index(
                fields=["simulation", "send_status", "scheduled_at"], name="recipient_due"
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


class Trigger(models.TextChoices):
    SERVICE_CLICKS = "service_clicks", _("Taux de clic d'un service au moins égal au seuil (%)")
    SERVICE_REPORTS = (
        "service_reports",
        _("Taux de signalement d'un service inférieur au seuil (%)"),
    )
    CLICKED = "clicked", _("Chaque personne qui a cliqué")
    SUBMITTED = "submitted", _("Chaque personne qui a saisi des informations")
    REPEAT = "repeat", _("Personnes ayant cliqué à au moins « seuil » campagnes en 12 mois")


class Remedy(models.TextChoices):
    TEACHABLE_EMAIL = "teachable_email", _("Envoyer le message pédagogique à la personne")
    ACTION_ITEM = "action_item", _("Créer une action au plan d'action")
    ASSIGN_TRAINING = "assign_training", _("Attribuer une formation (module de sensibilisation)")


PERSON_TRIGGERS = (Trigger.CLICKED, Trigger.SUBMITTED, Trigger.REPEAT)


class CorrectiveRuleQuerySet(VisibleQuerySet):
    org_lookup = "organisation"


class CorrectiveRule(models.Model):
    """Turns a campaign's results into targeted measures, applied when the campaign completes.

    Service triggers never single out a group of fewer than 5 people (hygie.dashboards)."""

    organisation = models.ForeignKey(
        "orgs.Organisation", on_delete=models.CASCADE, related_name="corrective_rules"
    )
    name = models.CharField(_("nom"), max_length=200)
    trigger = models.CharField(_("déclencheur"), max_length=20, choices=Trigger.choices)
    threshold = models.PositiveSmallIntegerField(_("seuil"), default=0)
    remedy = models.CharField(_("mesure"), max_length=20, choices=Remedy.choices)
    # For the "assign training" remedy: this module (slug); empty = the modules tied to the
    # simulation's lures.
    training_module = models.SlugField(_("module de formation"), max_length=80, blank=True)
    active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = CorrectiveRuleQuerySet.as_manager()

    class Meta:
        ordering = ["name", "pk"]

    def __str__(self) -> str:
        return self.name


class CorrectiveOutcome(models.Model):
    """What a rule did for one campaign: an action created for a service, or a message sent
    to a person. Unique per rule, campaign and target: applying twice does nothing more."""

    rule = models.ForeignKey(CorrectiveRule, on_delete=models.CASCADE, related_name="outcomes")
    simulation = models.ForeignKey(
        Simulation, on_delete=models.CASCADE, related_name="corrective_outcomes"
    )
    service = models.ForeignKey(
        "orgs.Organisation", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    recipient = models.ForeignKey(
        Recipient, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    target_key = models.CharField(max_length=40)
    action_item = models.ForeignKey(
        "actions.ActionItem", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    summary = models.CharField(max_length=500)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["rule", "simulation", "target_key"], name="one_outcome_per_target"
            ),
        ]

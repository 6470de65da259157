"""Zero Trust access: the policy decision point in front of hospital applications, its decision
log and break-the-glass, and the review of access to patient records.

The decision point (hygie/access/pdp/) decides every request of a protected application from
Cedar policies: identity, role and service, authentication strength, device posture (from the
asset inventory), network zone, time, the resource's sensitivity and the care relationship.
nginx (`auth_request`) or Envoy (`ext_authz`) ask it; it answers allow or deny, or — in shadow
mode — logs the denial and lets the request through.

The review (hygie/access/review/) reads access logs of the EHR and other clinical applications
with care-relationship data (stays, appointments, orders, care teams), explains accesses by
the care relationship and queues the unexplained ones and known misuse patterns for the DPO.
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from hygie.core.crypto import EncryptedTextField
from hygie.core.visibility import VisibleQuerySet


class OrgQuerySet(VisibleQuerySet):
    org_lookup = "organisation"


class AppQuerySet(VisibleQuerySet):
    org_lookup = "application__organisation"


# Protected applications and their policies -------------------------------------------------------
class Mode(models.TextChoices):
    SHADOW = "shadow", _("Observation (décide et journalise, n'applique pas)")
    ENFORCE = "enforce", _("Application (refuse ce que la politique refuse)")


class FailureMode(models.TextChoices):
    CLOSED = "closed", _("Refuser (fermé par défaut)")
    OPEN = "open", _("Laisser passer")


class IdentitySource(models.TextChoices):
    HEADERS = "headers", _("En-têtes du fournisseur d'identité (derrière le mandataire)")
    TOKEN = "token", _("Jeton signé (JWT)")


class ProtectedApplication(models.Model):
    """A web application put behind the decision point (the EHR, the PACS viewer, the HR portal…).

    The proxy authenticates to Hygie with `proxy_secret` (sent as a header on every decision
    request); the identity of the person comes from the identity provider's headers or a signed
    token, as configured. `failure_mode` is what the generated proxy configuration does when the
    decision point cannot be reached.
    """

    organisation = models.ForeignKey(
        "orgs.Organisation", on_delete=models.CASCADE, related_name="protected_applications"
    )
    name = models.CharField(_("nom"), max_length=120)
    slug = models.SlugField(_("identifiant"), max_length=60, unique=True)
    upstream = models.CharField(
        _("adresse de l'application"), max_length=255, help_text=_("Ex. http://10.1.2.3:8080")
    )
    mode = models.CharField(_("mode"), max_length=8, choices=Mode.choices, default=Mode.SHADOW)
    failure_mode = models.CharField(
        _("si le point de décision est injoignable"),
        max_length=6,
        choices=FailureMode.choices,
        default=FailureMode.CLOSED,
    )
    identity_source = models.CharField(
        _("identité"), max_length=8, choices=IdentitySource.choices, default=IdentitySource.HEADERS
    )
    # Headers mode: the names of the headers the identity provider's proxy sets.
    user_header = models.CharField(max_length=80, default="X-Remote-User")
    mfa_header = models.CharField(max_length=80, default="X-Auth-MFA")
    # Token mode: the key checking the token (HS256 secret or RS256/ES256 public key, PEM).
    token_key = EncryptedTextField(_("clé de vérification du jeton"), blank=True)
    token_audience = models.CharField(max_length=255, blank=True)
    proxy_secret = EncryptedTextField(_("secret du mandataire"))
    default_sensitivity = models.PositiveSmallIntegerField(_("sensibilité par défaut"), default=2)
    active_policy = models.ForeignKey(
        "PolicyVersion",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    log_retention_days = models.PositiveIntegerField(
        _("conservation du journal (jours)"), default=365
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = OrgQuerySet.as_manager()

    class Meta:
        ordering = ["organisation__name", "name"]

    def __str__(self) -> str:
        return self.name


class PolicyVersion(models.Model):
    """One version of an application's Cedar policies, validated against the schema.

    Versions are never edited: a change is a new version, activated only when valid (the
    previous one stays active otherwise).
    """

    application = models.ForeignKey(
        ProtectedApplication, on_delete=models.CASCADE, related_name="policy_versions"
    )
    number = models.PositiveIntegerField()
    text = models.TextField(_("politiques Cedar"))
    comment = models.CharField(_("commentaire"), max_length=300, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    objects = AppQuerySet.as_manager()

    class Meta:
        ordering = ["application", "-number"]
        constraints = [
            models.UniqueConstraint(fields=["application", "number"], name="one_policy_number"),
        ]

    def __str__(self) -> str:
        return f"{self.application} v{self.number}"


class Route(models.Model):
    """How a request of the application maps to a Cedar action and resource.

    `pattern` is matched against the path (a Django-like pattern with `<patient>` and `<id>`
    captures, e.g. `/dossiers/<patient>/`); the first match in `position` order wins.
    """

    application = models.ForeignKey(
        ProtectedApplication, on_delete=models.CASCADE, related_name="routes"
    )
    position = models.PositiveIntegerField(default=0)
    methods = models.CharField(_("méthodes"), max_length=60, default="GET,HEAD")
    pattern = models.CharField(_("chemin"), max_length=255)
    action = models.CharField(_("action Cedar"), max_length=60)
    resource_type = models.CharField(_("type de ressource"), max_length=60, default="Record")
    sensitivity = models.PositiveSmallIntegerField(_("sensibilité"), null=True, blank=True)

    objects = AppQuerySet.as_manager()

    class Meta:
        ordering = ["application", "position", "pk"]


class PolicyTest(models.Model):
    """A test case of an application's policies, runnable from the interface."""

    application = models.ForeignKey(
        ProtectedApplication, on_delete=models.CASCADE, related_name="policy_tests"
    )
    name = models.CharField(_("nom"), max_length=160)
    request = models.JSONField(_("requête"))  # the PDP's request document (see pdp/requests.py)
    expected = models.CharField(
        _("décision attendue"), max_length=5, choices=[("allow", "allow"), ("deny", "deny")]
    )
    created_at = models.DateTimeField(auto_now_add=True)

    objects = AppQuerySet.as_manager()

    class Meta:
        ordering = ["application", "name"]


class NetworkZone(models.Model):
    """An address range and the zone it belongs to (care network, administration, VPN…).

    Addresses outside every range of the organisation are in the "internet" zone.
    """

    class Zone(models.TextChoices):
        CARE = "care", _("Réseau de soins")
        ADMIN = "admin", _("Réseau d'administration")
        OFFICE = "office", _("Réseau bureautique")
        VPN = "vpn", _("VPN")
        INTERNET = "internet", _("Internet")

    organisation = models.ForeignKey(
        "orgs.Organisation", on_delete=models.CASCADE, related_name="network_zones"
    )
    cidr = models.CharField(_("plage (CIDR)"), max_length=50)
    zone = models.CharField(_("zone"), max_length=10, choices=Zone.choices)
    label = models.CharField(_("libellé"), max_length=120, blank=True)

    objects = OrgQuerySet.as_manager()

    class Meta:
        ordering = ["organisation", "cidr"]


# Decisions --------------------------------------------------------------------------------------
class AppendOnlyQuerySet(AppQuerySet):
    """Decisions are never changed; only the retention purge removes old ones."""

    def update(self, **kwargs):
        raise ValueError("the decision log is append-only")

    def delete(self):
        raise ValueError("the decision log is append-only; use hygie.access.pdp.log.purge()")


class Decision(models.Model):
    """One decision of the decision point, with its inputs and the policies that decided.

    Written in batches by the decision log writer (pdp/log.py), never updated.
    """

    id = models.BigAutoField(primary_key=True)
    application = models.ForeignKey(
        ProtectedApplication, on_delete=models.CASCADE, related_name="decisions"
    )
    at = models.DateTimeField(db_index=True)
    request_id = models.CharField(max_length=64, blank=True)
    principal = models.CharField(max_length=200)
    action = models.CharField(max_length=60)
    resource = models.CharField(max_length=200)
    allowed = models.BooleanField()  # the policy's answer
    enforced = models.BooleanField()  # False in shadow mode (the request went through anyway)
    break_glass = models.BooleanField(default=False)
    policies = models.JSONField(default=list)  # ids of the policies that decided
    inputs = models.JSONField(default=dict)  # principal/resource attributes and context used
    errors = models.JSONField(default=list)
    policy_version = models.PositiveIntegerField(null=True)
    micros = models.PositiveIntegerField(default=0)  # decision time

    objects = AppendOnlyQuerySet.as_manager()

    class Meta:
        ordering = ["-at", "-id"]
        indexes = [models.Index(fields=["application", "at"])]


class BreakGlass(models.Model):
    """An emergency access: a person opens a record outside the policy, with a reason.

    Granted for a short time on one patient's record, it raises an alert at once and waits for
    a review (by the DPO or the RSSI).
    """

    class Review(models.TextChoices):
        PENDING = "pending", _("À revoir")
        JUSTIFIED = "justified", _("Justifié")
        UNJUSTIFIED = "unjustified", _("Injustifié")

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    application = models.ForeignKey(
        ProtectedApplication, on_delete=models.CASCADE, related_name="break_glass"
    )
    principal = models.CharField(max_length=200)
    resource = models.CharField(max_length=200)  # e.g. Patient::"P000123"
    reason = models.TextField(_("motif"))
    started_at = models.DateTimeField()
    expires_at = models.DateTimeField()
    source_address = models.GenericIPAddressField(null=True, blank=True)
    alerted_at = models.DateTimeField(null=True, blank=True)
    review = models.CharField(
        _("revue"), max_length=12, choices=Review.choices, default=Review.PENDING
    )
    reviewed_at = models.DateTimeField(null=True, blank=True)
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    review_note = models.TextField(_("observations"), blank=True)

    objects = AppQuerySet.as_manager()

    class Meta:
        ordering = ["-started_at"]


# Review of access to patient records ----------------------------------------------------------------
class LogKind(models.TextChoices):
    ACCESS = "access", _("Journal d'accès")
    STAYS = "stays", _("Séjours et mouvements")
    APPOINTMENTS = "appointments", _("Rendez-vous")
    ORDERS = "orders", _("Prescriptions et demandes")
    CARE_TEAMS = "care_teams", _("Équipes de soins")
    PATIENTS = "patients", _("Patients (identité, VIP)")
    STAFF = "staff", _("Personnels (identité, adresse)")


class ReviewImport(models.Model):
    """A file given to the review: access log or care-relationship data (CSV or JSON lines).

    The raw file is kept in the review's working store (DuckDB, review/store.py), not in the
    database; malformed lines are counted and the first ones kept with their line number.
    """

    organisation = models.ForeignKey(
        "orgs.Organisation", on_delete=models.CASCADE, related_name="review_imports"
    )
    kind = models.CharField(_("nature"), max_length=14, choices=LogKind.choices)
    application = models.CharField(_("application"), max_length=120, blank=True)
    filename = models.CharField(_("fichier"), max_length=255)
    lines = models.PositiveBigIntegerField(default=0)
    rejected = models.PositiveBigIntegerField(default=0)
    rejects = models.JSONField(
        default=list, blank=True
    )  # [{"line": n, "error": "..."}] (first 100)
    imported_at = models.DateTimeField(auto_now_add=True)
    imported_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    objects = OrgQuerySet.as_manager()

    class Meta:
        ordering = ["-imported_at", "-pk"]


class CareRelation(models.Model):
    """A care relationship from the imported data: a stay or movement (patient in a unit), an
    appointment or order (patient and practitioner), a care-team membership (person in a unit's
    team). Used by the decision point (current relationships) and by the review (over a period).
    """

    class Kind(models.TextChoices):
        STAY = "stay", _("Séjour / mouvement")
        APPOINTMENT = "appointment", _("Rendez-vous")
        ORDER = "order", _("Prescription / demande")
        TEAM = "team", _("Équipe de soins")

    organisation = models.ForeignKey(
        "orgs.Organisation", on_delete=models.CASCADE, related_name="care_relations"
    )
    source = models.ForeignKey(
        ReviewImport, null=True, blank=True, on_delete=models.CASCADE, related_name="relations"
    )
    kind = models.CharField(max_length=12, choices=Kind.choices)
    patient_id = models.CharField(max_length=120, blank=True)  # blank for a team membership
    user_id = models.CharField(max_length=120, blank=True)  # blank for a stay
    unit = models.CharField(max_length=160, blank=True)
    starts_at = models.DateTimeField()
    ends_at = models.DateTimeField(null=True, blank=True)  # None: still going on

    objects = OrgQuerySet.as_manager()

    class Meta:
        indexes = [
            models.Index(fields=["organisation", "patient_id"]),
            models.Index(fields=["organisation", "user_id"]),
        ]


class PersonRecord(models.Model):
    """Identity data the misuse patterns compare: patients (names, address, VIP, whether they
    work here) and staff (names, address, service), from the imported files. Addresses are kept
    only as a normalised digest (`address_key`), enough to compare, not to read."""

    class Kind(models.TextChoices):
        PATIENT = "patient", _("Patient")
        STAFF = "staff", _("Personnel")

    organisation = models.ForeignKey(
        "orgs.Organisation", on_delete=models.CASCADE, related_name="person_records"
    )
    kind = models.CharField(max_length=8, choices=Kind.choices)
    person_id = models.CharField(max_length=120)  # patient id, or the user id of the logs
    last_name = models.CharField(max_length=120, blank=True)
    birth_name = models.CharField(max_length=120, blank=True)
    first_name = models.CharField(max_length=120, blank=True)
    address_key = models.CharField(max_length=64, blank=True)
    service = models.CharField(max_length=160, blank=True)
    vip = models.BooleanField(default=False)
    staff_id = models.CharField(max_length=120, blank=True)  # a patient who works here
    # Staff: "day", "night" or "any" (blank: unknown; off-hours is only judged for "day").
    schedule = models.CharField(max_length=5, blank=True)
    # The import the record came from (deleting or replacing that import removes it).
    source = models.ForeignKey(
        ReviewImport, null=True, blank=True, on_delete=models.CASCADE, related_name="persons"
    )

    objects = OrgQuerySet.as_manager()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["organisation", "kind", "person_id"], name="one_person_record"
            ),
        ]


class ReviewRun(models.Model):
    """One analysis of the imported data over a period, with its figures."""

    organisation = models.ForeignKey(
        "orgs.Organisation", on_delete=models.CASCADE, related_name="review_runs"
    )
    period_start = models.DateTimeField()
    period_end = models.DateTimeField()
    events = models.PositiveBigIntegerField(default=0)
    explained = models.PositiveBigIntegerField(default=0)
    flagged = models.PositiveIntegerField(default=0)
    seconds = models.FloatField(default=0)
    figures = models.JSONField(default=dict, blank=True)  # per service, per pattern
    started_at = models.DateTimeField(auto_now_add=True)
    started_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    objects = OrgQuerySet.as_manager()

    class Meta:
        ordering = ["-started_at", "-pk"]


class Pattern(models.TextChoices):
    UNEXPLAINED = "unexplained", _("Accès sans relation de soins")
    SAME_NAME = "same_name", _("Même nom que le patient")
    SAME_ADDRESS = "same_address", _("Même adresse que le patient")
    COLLEAGUE = "colleague", _("Dossier d'un collègue")
    VIP = "vip", _("Dossier VIP")
    SELF = "self", _("Son propre dossier")
    BULK = "bulk", _("Consultation en masse")
    OFF_HOURS = "off_hours", _("Consultation hors des heures de service")
    BREAK_GLASS = "break_glass", _("Bris de glace sans motif plausible")


class CaseStatus(models.TextChoices):
    OPEN = "open", _("À examiner")
    EXPLANATION = "explanation", _("Explication demandée")
    LEGITIMATE = "legitimate", _("Légitime")
    MISUSE = "misuse", _("Accès injustifié confirmé")
    CLOSED = "closed", _("Clos")


class ReviewCase(models.Model):
    """A flagged access (or group of accesses of one person to one record) for the DPO."""

    run = models.ForeignKey(ReviewRun, on_delete=models.CASCADE, related_name="cases")
    organisation = models.ForeignKey(
        "orgs.Organisation", on_delete=models.CASCADE, related_name="review_cases"
    )
    user_id = models.CharField(_("utilisateur"), max_length=120)
    user_label = models.CharField(max_length=200, blank=True)
    service = models.CharField(_("service"), max_length=160, blank=True)
    patient_id = models.CharField(_("patient"), max_length=120, blank=True)
    patterns = models.JSONField(default=list)  # Pattern values
    score = models.PositiveSmallIntegerField(default=0)
    first_at = models.DateTimeField()
    last_at = models.DateTimeField()
    accesses = models.PositiveIntegerField(default=1)
    evidence = models.JSONField(default=dict, blank=True)  # what made it suspicious
    status = models.CharField(
        _("statut"), max_length=12, choices=CaseStatus.choices, default=CaseStatus.OPEN
    )
    disposition = models.TextField(_("suite donnée"), blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    action = models.ForeignKey(
        "actions.ActionItem", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # Follow-up outside Hygie: the human-resources file the case was referred to.
    hr_reference = models.CharField(_("saisine RH (référence)"), max_length=200, blank=True)

    objects = OrgQuerySet.as_manager()

    class Meta:
        ordering = ["-score", "-last_at"]
        indexes = [models.Index(fields=["organisation", "status"])]

"""Awareness training: modules (loaded from content files), campaigns that assign them,
per-person assignments and quiz attempts, personal links for learners without an account,
sessions in small mixed groups, relays of national campaign kits, and the xAPI outbox.

Staff are `orgs.StaffMember` rows: most learners never have a Hygie account.
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from hygie.core.crypto import EncryptedTextField
from hygie.core.visibility import VisibleQuerySet


class Audience(models.TextChoices):
    """The roles modules are written for (issue 5); derived from a person's job family and title."""

    CARE = "soignant", _("Soignants")
    DOCTOR = "medecin", _("Médecins")
    SECRETARY = "secretariat", _("Secrétariats et accueil")
    TECHNICAL = "biomedical_technique", _("Équipes biomédicales et techniques")
    MANAGER = "encadrement", _("Encadrement")
    IT_ADMIN = "admin_si", _("Administrateurs informatiques")


class ModuleOrigin(models.TextChoices):
    BUILTIN = "builtin", _("Livré avec Hygie")
    IMPORTED = "imported", _("Importé par la plateforme")


class Module(models.Model):
    """One training module, loaded from `hygie/awareness/content/<slug>.yaml` (or imported).

    `content` holds the validated, rendered steps and quiz; `version` rises with each edit of
    the file, and an assignment remembers the version the learner followed.
    """

    slug = models.SlugField(max_length=80, unique=True)
    version = models.PositiveIntegerField(default=1)
    title = models.CharField(_("titre"), max_length=200)
    summary = models.TextField(_("résumé"), blank=True)
    duration_minutes = models.PositiveSmallIntegerField(_("durée (minutes)"), default=10)
    # Percentage of correct quiz answers needed to pass; None when the module has no quiz.
    pass_mark = models.PositiveSmallIntegerField(_("seuil de réussite (%)"), null=True, blank=True)
    audiences = models.JSONField(default=list, blank=True)  # Audience values
    lures = models.JSONField(default=list, blank=True)  # simulation library slugs it remedies
    themes = models.JSONField(default=list, blank=True)
    content = models.JSONField(default=dict)
    digest = models.CharField(max_length=64, editable=False)
    active = models.BooleanField(_("proposé"), default=True)
    # Shipped modules follow their file in content/ (deactivated when it disappears); imported
    # ones are a platform administrator's own and are left alone by that loading.
    origin = models.CharField(
        _("origine"), max_length=8, choices=ModuleOrigin.choices, default=ModuleOrigin.BUILTIN
    )
    updated_at = models.DateTimeField(auto_now=True)

    # Loaded by `migrate` on every installation: not data that a restore would overwrite.
    INSTALL_SEED_ROWS = {"origin": ModuleOrigin.BUILTIN}

    class Meta:
        ordering = ["title"]
        verbose_name = _("module")

    def __str__(self):
        return self.title

    @property
    def has_quiz(self) -> bool:
        return self.pass_mark is not None


class CampaignKind(models.TextChoices):
    ANNUAL = "annual", _("Campagne annuelle (tous les personnels)")
    TARGETED = "targeted", _("Campagne ciblée")
    ONBOARDING = "onboarding", _("Nouveaux arrivants (au fil de l'eau)")
    SIMULATION = "simulation", _("Suite à une simulation d'attaque")


class CampaignStatus(models.TextChoices):
    DRAFT = "draft", _("Brouillon")
    OPEN = "open", _("En cours")
    CLOSED = "closed", _("Clôturée")


class CampaignQuerySet(VisibleQuerySet):
    org_lookup = "organisation"


class Campaign(models.Model):
    """A set of modules assigned to a targeted population with a due date (an establishment's
    or a GHT's). Assigning creates one `Assignment` per person and module."""

    organisation = models.ForeignKey(
        "orgs.Organisation", on_delete=models.CASCADE, related_name="awareness_campaigns"
    )
    name = models.CharField(_("nom"), max_length=200)
    kind = models.CharField(
        _("type"), max_length=12, choices=CampaignKind.choices, default=CampaignKind.TARGETED
    )
    status = models.CharField(
        max_length=8, choices=CampaignStatus.choices, default=CampaignStatus.DRAFT
    )
    modules = models.ManyToManyField(Module, related_name="campaigns", verbose_name=_("modules"))
    # Targeting (empty = everyone in the organisation's subtree).
    target_services = models.ManyToManyField(
        "orgs.Organisation", blank=True, related_name="+", verbose_name=_("services")
    )
    target_sites = models.ManyToManyField(
        "orgs.Organisation", blank=True, related_name="+", verbose_name=_("sites")
    )
    target_job_families = models.JSONField(_("familles de métiers"), default=list, blank=True)
    # Staff who arrived on or after this date (new arrivals); for ONBOARDING campaigns new
    # arrivals keep being assigned as they appear in the directory.
    arrived_since = models.DateField(_("arrivés depuis le"), null=True, blank=True)
    # A campaign created from simulation results: which simulation and which people.
    simulation = models.ForeignKey(
        "phishing.Simulation",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="awareness_campaigns",
    )
    simulation_scope = models.CharField(max_length=12, blank=True)  # "clickers" | "service"
    # Each person gets only the campaign's modules written for their role (decision 0531).
    match_audiences = models.BooleanField(_("modules selon le métier de chacun"), default=False)
    due_date = models.DateField(_("échéance"), null=True, blank=True)
    # For ONBOARDING: days after arrival given to each newcomer.
    due_days = models.PositiveSmallIntegerField(_("délai (jours)"), default=30)
    # Days before the due date on which unfinished learners get a reminder (and 1 day after).
    reminder_days = models.JSONField(default=list, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    opened_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)

    objects = CampaignQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("campagne de sensibilisation")

    def __str__(self):
        return self.name


class State(models.TextChoices):
    """A learner's state on one assigned module (SCORM-like)."""

    NOT_ATTEMPTED = "not_attempted", _("Non commencé")
    INCOMPLETE = "incomplete", _("En cours")
    COMPLETED = "completed", _("Terminé")  # a module without a quiz, followed to the end
    PASSED = "passed", _("Réussi")
    FAILED = "failed", _("Échoué")  # the last attempt failed; the learner may retry


DONE_STATES = (State.COMPLETED, State.PASSED)


class AssignmentQuerySet(VisibleQuerySet):
    org_lookup = "establishment"

    def done(self):
        return self.filter(state__in=DONE_STATES)

    def open(self):
        return self.exclude(state__in=DONE_STATES)


class Assignment(models.Model):
    """One module assigned to one person, with its progress. Service, site and job family are
    copied at assignment time so statistics stay right after a move."""

    campaign = models.ForeignKey(
        Campaign, null=True, blank=True, on_delete=models.CASCADE, related_name="assignments"
    )
    module = models.ForeignKey(Module, on_delete=models.PROTECT, related_name="assignments")
    staff = models.ForeignKey(
        "orgs.StaffMember", on_delete=models.CASCADE, related_name="awareness_assignments"
    )
    establishment = models.ForeignKey(
        "orgs.Organisation", on_delete=models.CASCADE, related_name="+"
    )
    service = models.ForeignKey(
        "orgs.Organisation", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    site = models.ForeignKey(
        "orgs.Organisation", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    job_family = models.CharField(max_length=20, blank=True)
    state = models.CharField(
        max_length=14, choices=State.choices, default=State.NOT_ATTEMPTED, db_index=True
    )
    module_version = models.PositiveIntegerField(null=True, blank=True)
    assigned_at = models.DateTimeField(auto_now_add=True)
    due_date = models.DateField(_("échéance"), null=True, blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    completed_at = models.DateTimeField(null=True, blank=True)  # completed or passed
    # Steps of the module the learner has gone through (their index in `content["steps"]`).
    steps_done = models.JSONField(default=list, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    best_score = models.PositiveSmallIntegerField(null=True, blank=True)  # percent
    last_reminded_at = models.DateTimeField(null=True, blank=True)
    reminders_sent = models.PositiveSmallIntegerField(default=0)
    # A certificate number is drawn when the module is completed or passed.
    certificate_number = models.CharField(max_length=32, blank=True)

    objects = AssignmentQuerySet.as_manager()

    class Meta:
        ordering = ["-assigned_at", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["campaign", "staff", "module"], name="one_assignment_per_campaign_module"
            ),
        ]
        indexes = [
            models.Index(fields=["establishment", "state"], name="assignment_progress"),
            models.Index(fields=["service", "state"], name="assignment_service_state"),
            models.Index(fields=["staff", "module"], name="assignment_staff_module"),
        ]


class ProgressTally(models.Model):
    """How many assignments share one set of the values the progress dashboard counts by:
    a maintained summary of `Assignment` (`hygie.awareness.tally`, decision 0538).

    Kept up to date in the transaction that creates an assignment or moves its state, rebuilt
    from the assignments after cascading deletions and once a day. Months are the first day
    of the month in UTC. `key` joins the other columns (NULL included) so
    that one unique index serves the concurrent "add n to this row" of both databases."""

    establishment = models.ForeignKey(
        "orgs.Organisation", on_delete=models.CASCADE, related_name="+"
    )
    service = models.ForeignKey(
        "orgs.Organisation", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    site = models.ForeignKey(
        "orgs.Organisation", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    job_family = models.CharField(max_length=20, blank=True)
    state = models.CharField(max_length=14, choices=State.choices)
    due_date = models.DateField(null=True, blank=True)
    assigned_month = models.DateField(null=True, blank=True)
    completed_month = models.DateField(null=True, blank=True)
    count = models.IntegerField(default=0)
    key = models.CharField(max_length=160, unique=True)

    def __str__(self) -> str:
        return f"{self.key}: {self.count}"


class QuizAttempt(models.Model):
    """One submitted quiz: the choices made (option ids, nothing free-text) and the score."""

    assignment = models.ForeignKey(
        Assignment, on_delete=models.CASCADE, related_name="quiz_attempts"
    )
    module_version = models.PositiveIntegerField()
    submitted_at = models.DateTimeField()
    answers = models.JSONField(default=dict)  # question id -> list of chosen option ids
    score = models.PositiveSmallIntegerField()  # percent
    passed = models.BooleanField()

    class Meta:
        ordering = ["submitted_at", "pk"]


class LinkPurpose(models.TextChoices):
    ASSIGNMENT = "assignment", _("Module")
    SESSION = "session", _("Session")
    KIT = "kit", _("Kit de campagne")


class LearnerLink(models.Model):
    """A personal, expiring, single-purpose link sent by e-mail to someone without an account.

    Only a SHA-256 digest of the token is stored. The first browser that opens the link is
    bound to it (a random value in a cookie, stored as a digest too); the link opened again
    from another browser is "already used" and the person can ask for a fresh one.
    """

    purpose = models.CharField(max_length=12, choices=LinkPurpose.choices)
    token_digest = models.CharField(max_length=64, unique=True)
    staff = models.ForeignKey(
        "orgs.StaffMember", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    assignment = models.ForeignKey(
        Assignment, null=True, blank=True, on_delete=models.CASCADE, related_name="links"
    )
    participant = models.ForeignKey(
        "awareness.SessionParticipant",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="links",
    )
    distribution = models.ForeignKey(
        "awareness.KitDistribution",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="links",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()
    first_used_at = models.DateTimeField(null=True, blank=True)
    browser_digest = models.CharField(max_length=64, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=(
                    Q(purpose="assignment", assignment__isnull=False)
                    | Q(purpose="session", participant__isnull=False)
                    | Q(purpose="kit", distribution__isnull=False)
                ),
                name="learner_link_has_its_target",
            ),
        ]


class SessionMode(models.TextChoices):
    IN_PERSON = "in_person", _("En présentiel")
    REMOTE = "remote", _("À distance")


class SessionStatus(models.TextChoices):
    PLANNED = "planned", _("Planifiée")
    DONE = "done", _("Réalisée")
    CANCELLED = "cancelled", _("Annulée")


class TrainingSessionQuerySet(VisibleQuerySet):
    org_lookup = "organisation"


class TrainingSession(models.Model):
    """A session for a small mixed group: theory and online practice parts alternate.

    `agenda` is a list of parts: {"kind": "theory"|"practice", "title": str, "minutes": int,
    "module": slug or ""}; practice parts link to modules.
    """

    organisation = models.ForeignKey(
        "orgs.Organisation", on_delete=models.CASCADE, related_name="training_sessions"
    )
    campaign = models.ForeignKey(
        Campaign, null=True, blank=True, on_delete=models.SET_NULL, related_name="sessions"
    )
    title = models.CharField(_("intitulé"), max_length=200)
    mode = models.CharField(
        _("modalité"), max_length=10, choices=SessionMode.choices, default=SessionMode.IN_PERSON
    )
    location = models.CharField(_("lieu"), max_length=200, blank=True)
    meeting_url = models.URLField(_("lien de visioconférence"), blank=True)
    starts_at = models.DateTimeField(_("début"))
    ends_at = models.DateTimeField(_("fin"))
    capacity = models.PositiveSmallIntegerField(_("capacité"), default=12)
    trainer = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("formateur"),
    )
    trainer_name = models.CharField(_("formateur (nom)"), max_length=200, blank=True)
    agenda = models.JSONField(default=list, blank=True)
    modules = models.ManyToManyField(Module, blank=True, related_name="sessions")
    status = models.CharField(
        max_length=10, choices=SessionStatus.choices, default=SessionStatus.PLANNED
    )
    # iCalendar identity: the same UID with a higher SEQUENCE updates the invitation.
    uid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    sequence = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = TrainingSessionQuerySet.as_manager()

    class Meta:
        ordering = ["starts_at", "pk"]
        verbose_name = _("session de sensibilisation")

    def __str__(self):
        return self.title


class Attendance(models.TextChoices):
    UNKNOWN = "unknown", _("Non relevée")
    PRESENT = "present", _("Présent")
    ABSENT = "absent", _("Absent")
    EXCUSED = "excused", _("Excusé")


class SessionParticipant(models.Model):
    session = models.ForeignKey(
        TrainingSession, on_delete=models.CASCADE, related_name="participants"
    )
    staff = models.ForeignKey(
        "orgs.StaffMember", on_delete=models.CASCADE, related_name="training_sessions"
    )
    service = models.ForeignKey(
        "orgs.Organisation", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    job_family = models.CharField(max_length=20, blank=True)
    invited_at = models.DateTimeField(null=True, blank=True)
    reminded_at = models.DateTimeField(null=True, blank=True)
    attendance = models.CharField(
        max_length=8, choices=Attendance.choices, default=Attendance.UNKNOWN
    )
    attendance_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    attendance_at = models.DateTimeField(null=True, blank=True)
    certificate_number = models.CharField(max_length=32, blank=True)

    class Meta:
        ordering = ["staff__last_name", "staff__first_name"]
        constraints = [
            models.UniqueConstraint(fields=["session", "staff"], name="one_seat_per_person"),
        ]


class KitQuerySet(VisibleQuerySet):
    org_lookup = "organisation"


class Kit(models.Model):
    """A national campaign kit relayed by an establishment or GHT (e.g. the annual
    "Tous cybervigilants" kit): posters and messages to distribute to every service."""

    organisation = models.ForeignKey(
        "orgs.Organisation", on_delete=models.CASCADE, related_name="awareness_kits"
    )
    name = models.CharField(_("campagne"), max_length=200)
    publisher = models.CharField(_("émetteur"), max_length=200, blank=True)
    year = models.PositiveSmallIntegerField(_("année"))
    description = models.TextField(_("description"), blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = KitQuerySet.as_manager()

    class Meta:
        ordering = ["-year", "name"]


class KitItemKind(models.TextChoices):
    POSTER = "poster", _("Affiche")
    MESSAGE = "message", _("Message")
    VIDEO = "video", _("Vidéo")
    OTHER = "other", _("Autre support")


class KitItem(models.Model):
    kit = models.ForeignKey(Kit, on_delete=models.CASCADE, related_name="items")
    kind = models.CharField(max_length=8, choices=KitItemKind.choices)
    title = models.CharField(_("titre"), max_length=200)
    text = models.TextField(_("texte"), blank=True)
    # A video or a page of the national body (kits link to videos rather than carry them).
    url = models.URLField(_("lien"), blank=True)
    # Stored under the data directory with a random name (like evidence files).
    file_name = models.CharField(max_length=200, blank=True)
    stored_name = models.CharField(max_length=80, blank=True)
    content_type = models.CharField(max_length=100, blank=True)
    size = models.PositiveIntegerField(default=0)
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["position", "pk"]


class KitDistribution(models.Model):
    """The kit sent to one service's contact, and their acknowledgement (displayed, relayed)."""

    kit = models.ForeignKey(Kit, on_delete=models.CASCADE, related_name="distributions")
    service = models.ForeignKey("orgs.Organisation", on_delete=models.CASCADE, related_name="+")
    contact_email = models.EmailField(_("destinataire"))
    sent_at = models.DateTimeField(null=True, blank=True)
    acknowledged_at = models.DateTimeField(null=True, blank=True)
    acknowledged_by = models.CharField(max_length=200, blank=True)
    comment = models.TextField(blank=True)
    # Reminders to services that have not acknowledged (at most one a day, claimed atomically).
    reminded_at = models.DateTimeField(null=True, blank=True)
    reminders_sent = models.PositiveSmallIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["kit", "service"], name="one_distribution_per_service")
        ]


class LrsQuerySet(VisibleQuerySet):
    org_lookup = "organisation"


class LearningRecordStore(models.Model):
    """An external xAPI learning record store that receives the establishment's statements."""

    organisation = models.OneToOneField(
        "orgs.Organisation", on_delete=models.CASCADE, related_name="learning_record_store"
    )
    endpoint = models.URLField(_("point d'accès xAPI"))
    username = models.CharField(_("clé"), max_length=200)
    password = EncryptedTextField(_("secret"))
    enabled = models.BooleanField(_("actif"), default=True)
    last_sent_at = models.DateTimeField(null=True, blank=True)
    last_error = models.CharField(max_length=500, blank=True)

    objects = LrsQuerySet.as_manager()


class StatementQuerySet(VisibleQuerySet):
    org_lookup = "establishment"


class Statement(models.Model):
    """An xAPI statement waiting for (or already delivered to) the learning record store."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    establishment = models.ForeignKey(
        "orgs.Organisation", on_delete=models.CASCADE, related_name="+"
    )
    statement = models.JSONField()
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    last_error = models.CharField(max_length=500, blank=True)
    # After a failed delivery, not tried again before this time (exponential back-off).
    next_attempt_at = models.DateTimeField(null=True, blank=True)

    objects = StatementQuerySet.as_manager()

    class Meta:
        ordering = ["created_at"]
        indexes = [models.Index(fields=["establishment", "sent_at"], name="statement_outbox")]

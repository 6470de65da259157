"""Cyber crisis management: exercises (design, preparation, live run, lessons learned), real
incidents with their regulatory notifications, GHT mutual aid, and the crisis binder.

An exercise and an incident are both run by a crisis cell: they share the logbook (main
courante), tasks and lessons, which point to one or the other.
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from hygie.core.visibility import VisibleQuerySet


# Scenario library ------------------------------------------------------------------------------
class Level(models.TextChoices):
    BEGINNER = "beginner", _("Débutant")
    INTERMEDIATE = "intermediate", _("Intermédiaire")
    CONFIRMED = "confirmed", _("Confirmé")


class Scenario(models.Model):
    """A scenario of the library, loaded from `hygie/crisis/scenarios/<slug>.yaml`.

    `content` holds the validated scenario: objectives, stimuli (offset, channel, persona,
    subject, content, expected reactions), observation grid, situation file, key timings.
    An exercise copies it at creation and is then edited on its own.
    """

    slug = models.SlugField(max_length=80, unique=True)
    version = models.PositiveIntegerField(default=1)
    title = models.CharField(_("titre"), max_length=200)
    summary = models.TextField(_("résumé"), blank=True)
    level = models.CharField(_("niveau"), max_length=12, choices=Level.choices)
    duration_minutes = models.PositiveSmallIntegerField(_("durée (minutes)"), default=120)
    themes = models.JSONField(default=list, blank=True)
    content = models.JSONField(default=dict)
    digest = models.CharField(max_length=64, editable=False)
    active = models.BooleanField(default=True)
    updated_at = models.DateTimeField(auto_now=True)

    # Loaded by `migrate` on every installation: not data that a restore would overwrite.
    INSTALL_SEED_ROWS = {"active__in": (True, False)}

    class Meta:
        ordering = ["title"]

    def __str__(self):
        return self.title


# Exercises -------------------------------------------------------------------------------------
class ExerciseStatus(models.TextChoices):
    DESIGN = "design", _("Conception")
    READY = "ready", _("Prêt")
    RUNNING = "running", _("En cours")
    PAUSED = "paused", _("En pause")
    FINISHED = "finished", _("Joué")
    CLOSED = "closed", _("Clôturé")


class ExerciseQuerySet(VisibleQuerySet):
    org_lookup = "organisation"


class Exercise(models.Model):
    """A crisis exercise of an establishment or a GHT.

    The exercise clock: exercise time (seconds since the start of the scenario) =
    `elapsed_seconds` + (now − `clock_started_at`) × `speed` while running; pausing folds the
    running part into `elapsed_seconds` and clears `clock_started_at`.
    """

    organisation = models.ForeignKey(
        "orgs.Organisation", on_delete=models.CASCADE, related_name="exercises"
    )
    scenario = models.ForeignKey(
        Scenario, null=True, blank=True, on_delete=models.SET_NULL, related_name="exercises"
    )
    title = models.CharField(_("intitulé"), max_length=200)
    level = models.CharField(
        _("niveau"), max_length=12, choices=Level.choices, default=Level.BEGINNER
    )
    scope = models.TextField(_("périmètre"), blank=True)
    # [{"id": "o1", "text": "..."}]; the cold report says which were met.
    objectives = models.JSONField(default=list, blank=True)
    situation_file = models.TextField(_("dossier de situation (Markdown)"), blank=True)
    planned_start = models.DateTimeField(_("début prévu"), null=True, blank=True)
    status = models.CharField(
        max_length=10, choices=ExerciseStatus.choices, default=ExerciseStatus.DESIGN
    )
    speed = models.FloatField(_("vitesse de l'horloge"), default=1.0)
    elapsed_seconds = models.FloatField(default=0)
    clock_started_at = models.DateTimeField(null=True, blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    # Key timings in exercise seconds: {"detection": s, "isolation": s, "escalation": s,
    # "notification": s}, marked from the logbook.
    key_timings = models.JSONField(default=dict, blank=True)
    # Objectives met, from the cold report: {"o1": "met" | "partial" | "not_met"}.
    objectives_met = models.JSONField(default=dict, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    objects = ExerciseQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("exercice de crise")

    def __str__(self):
        return self.title


class ParticipantRole(models.TextChoices):
    FACILITATOR = "facilitator", _("Animateur")
    PLAYER = "player", _("Joueur")
    OBSERVER = "observer", _("Observateur")


class Participant(models.Model):
    """Someone taking part in an exercise, with or without a Hygie account. People without an
    account reach their console through a personal link (only its digest is stored)."""

    exercise = models.ForeignKey(Exercise, on_delete=models.CASCADE, related_name="participants")
    role = models.CharField(_("rôle"), max_length=12, choices=ParticipantRole.choices)
    # The function held in the crisis cell (directeur de crise, communication, DSI, médical…).
    function = models.CharField(_("fonction dans la cellule"), max_length=120, blank=True)
    name = models.CharField(_("nom"), max_length=200)
    email = models.EmailField(_("e-mail"), blank=True)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    token_digest = models.CharField(max_length=64, blank=True, db_index=True)
    invited_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["role", "name"]


class Channel(models.TextChoices):
    EMAIL = "email", _("Courriel")
    PHONE = "phone", _("Téléphone")
    SMS = "sms", _("SMS")
    PRESS = "press", _("Presse / médias")
    OTHER = "other", _("Autre")


class ReleaseStatus(models.TextChoices):
    PENDING = "pending", _("À venir")
    RELEASED = "released", _("Diffusé")
    SENT = "sent", _("Envoyé")  # an e-mail stimulus accepted by the SMTP server
    FAILED = "failed", _("Échec d'envoi")
    SKIPPED = "skipped", _("Écarté")


class Stimulus(models.Model):
    """One line of the timeline (chronogramme): released when the exercise clock reaches
    `offset_seconds`. E-mail stimuli are really sent to `recipients`; the others are shown to
    the facilitators, who play them (phone call, SMS, journalist)."""

    exercise = models.ForeignKey(Exercise, on_delete=models.CASCADE, related_name="stimuli")
    position = models.PositiveIntegerField(default=0)
    offset_seconds = models.PositiveIntegerField(_("décalage"))
    channel = models.CharField(_("canal"), max_length=8, choices=Channel.choices)
    sender = models.CharField(_("émetteur (personnage)"), max_length=200)
    recipients = models.CharField(_("destinataires"), max_length=500, blank=True)
    subject = models.CharField(_("objet"), max_length=300, blank=True)
    content = models.TextField(_("contenu"))
    expected = models.TextField(_("réactions attendues"), blank=True)
    status = models.CharField(
        max_length=10, choices=ReleaseStatus.choices, default=ReleaseStatus.PENDING
    )
    released_at = models.DateTimeField(null=True, blank=True)  # wall clock
    released_exercise_seconds = models.FloatField(null=True, blank=True)
    message_id = models.CharField(max_length=200, blank=True)
    last_error = models.CharField(max_length=500, blank=True)

    class Meta:
        ordering = ["offset_seconds", "position", "pk"]
        indexes = [models.Index(fields=["exercise", "status", "offset_seconds"])]


class Criterion(models.Model):
    """A line of the observation grid, optionally tied to an objective."""

    exercise = models.ForeignKey(Exercise, on_delete=models.CASCADE, related_name="criteria")
    position = models.PositiveIntegerField(default=0)
    text = models.CharField(_("critère"), max_length=300)
    objective = models.CharField(max_length=40, blank=True)

    class Meta:
        ordering = ["position", "pk"]


class Rating(models.TextChoices):
    MET = "met", _("Atteint")
    PARTIAL = "partial", _("Partiellement")
    NOT_MET = "not_met", _("Non atteint")


class Observation(models.Model):
    criterion = models.ForeignKey(Criterion, on_delete=models.CASCADE, related_name="observations")
    observer = models.ForeignKey(Participant, on_delete=models.CASCADE, related_name="+")
    rating = models.CharField(max_length=8, choices=Rating.choices)
    comment = models.TextField(blank=True)
    at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["criterion", "observer"], name="one_rating_per_observer"
            )
        ]


class DebriefAnswer(models.Model):
    """A participant's answers to the hot debrief questionnaire."""

    exercise = models.ForeignKey(Exercise, on_delete=models.CASCADE, related_name="debriefs")
    participant = models.ForeignKey(Participant, on_delete=models.CASCADE, related_name="+")
    answers = models.JSONField(default=dict)
    submitted_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["exercise", "participant"], name="one_debrief_each")
        ]


# Real incidents --------------------------------------------------------------------------------
class IncidentStatus(models.TextChoices):
    OPEN = "open", _("Ouvert")
    CONTAINED = "contained", _("Maîtrisé")
    CLOSED = "closed", _("Clos")


class Severity(models.IntegerChoices):
    LOW = 1, _("1 — faible")
    MEDIUM = 2, _("2 — significatif")
    HIGH = 3, _("3 — grave")
    CRITICAL = 4, _("4 — critique (soins affectés)")


class IncidentQuerySet(VisibleQuerySet):
    org_lookup = "organisation"


class Incident(models.Model):
    """A real cyber incident handled by the establishment's crisis cell."""

    organisation = models.ForeignKey(
        "orgs.Organisation", on_delete=models.CASCADE, related_name="incidents"
    )
    title = models.CharField(_("intitulé"), max_length=200)
    description = models.TextField(_("description"), blank=True)
    severity = models.PositiveSmallIntegerField(
        _("gravité"), choices=Severity.choices, default=Severity.MEDIUM
    )
    status = models.CharField(
        max_length=10, choices=IncidentStatus.choices, default=IncidentStatus.OPEN
    )
    # When the establishment became aware of it: the CNIL's 72 hours run from here.
    discovered_at = models.DateTimeField(_("découvert le"))
    declared_at = models.DateTimeField(auto_now_add=True)
    personal_data_breach = models.BooleanField(
        _("violation de données personnelles"), default=False
    )
    care_impact = models.TextField(_("impact sur les soins"), blank=True)
    services_affected = models.ManyToManyField(
        "orgs.Organisation", blank=True, related_name="+", verbose_name=_("services touchés")
    )
    degraded_mode = models.BooleanField(_("mode dégradé activé"), default=False)
    white_plan = models.BooleanField(_("plan blanc numérique déclenché"), default=False)
    contained_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    objects = IncidentQuerySet.as_manager()

    class Meta:
        ordering = ["-discovered_at"]
        verbose_name = _("incident")

    def __str__(self):
        return self.title


class NotificationKind(models.TextChoices):
    HEALTH_AUTHORITY = "health", _("Signalement d'incident (CERT Santé / ARS)")
    CNIL = "cnil", _("Notification de violation à la CNIL")


class Notification(models.Model):
    """A regulatory notification draft with its deadline (decision record of the crisis app)."""

    incident = models.ForeignKey(Incident, on_delete=models.CASCADE, related_name="notifications")
    kind = models.CharField(max_length=8, choices=NotificationKind.choices)
    due_at = models.DateTimeField()
    draft = models.JSONField(default=dict, blank=True)
    submitted_at = models.DateTimeField(null=True, blank=True)
    reference = models.CharField(_("référence du dépôt"), max_length=120, blank=True)
    # When the deadline reminder went to the RSSI/DPO (sent once: housekeeping is idempotent).
    reminded_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["incident", "kind"], name="one_notification_per_kind")
        ]


# The crisis cell: logbook, tasks, lessons (shared by exercises and incidents) ------------------
def _one_cell():
    return Q(exercise__isnull=False, incident__isnull=True) | Q(
        exercise__isnull=True, incident__isnull=False
    )


class EntryKind(models.TextChoices):
    INFORMATION = "information", _("Information")
    DECISION = "decision", _("Décision")
    ACTION = "action", _("Action")
    COMMUNICATION = "communication", _("Communication")
    STIMULUS = "stimulus", _("Stimulus reçu")


class Milestone(models.TextChoices):
    DETECTION = "detection", _("Détection")
    ISOLATION = "isolation", _("Isolement")
    ESCALATION = "escalation", _("Escalade")
    NOTIFICATION = "notification", _("Notification")


class LogEntry(models.Model):
    """A line of the main courante, time-stamped, never edited (corrections are new lines)."""

    exercise = models.ForeignKey(
        Exercise, null=True, blank=True, on_delete=models.CASCADE, related_name="log"
    )
    incident = models.ForeignKey(
        Incident, null=True, blank=True, on_delete=models.CASCADE, related_name="log"
    )
    at = models.DateTimeField()
    exercise_seconds = models.FloatField(null=True, blank=True)
    kind = models.CharField(max_length=14, choices=EntryKind.choices)
    milestone = models.CharField(max_length=12, choices=Milestone.choices, blank=True)
    text = models.TextField()
    author_name = models.CharField(max_length=200)
    participant = models.ForeignKey(
        Participant, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    stimulus = models.ForeignKey(
        Stimulus, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["at", "pk"]
        constraints = [models.CheckConstraint(condition=_one_cell(), name="log_entry_one_cell")]


class TaskStatus(models.TextChoices):
    TODO = "todo", _("À faire")
    DOING = "doing", _("En cours")
    DONE = "done", _("Fait")


class CellTask(models.Model):
    exercise = models.ForeignKey(
        Exercise, null=True, blank=True, on_delete=models.CASCADE, related_name="tasks"
    )
    incident = models.ForeignKey(
        Incident, null=True, blank=True, on_delete=models.CASCADE, related_name="tasks"
    )
    title = models.CharField(_("tâche"), max_length=300)
    owner = models.CharField(_("responsable"), max_length=200, blank=True)
    status = models.CharField(max_length=6, choices=TaskStatus.choices, default=TaskStatus.TODO)
    due_at = models.DateTimeField(_("échéance"), null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["status", "due_at", "pk"]
        constraints = [models.CheckConstraint(condition=_one_cell(), name="cell_task_one_cell")]


class Lesson(models.Model):
    """A lesson learned (exercise debrief or post-incident review); one click turns it into an
    action-plan item, linked here."""

    exercise = models.ForeignKey(
        Exercise, null=True, blank=True, on_delete=models.CASCADE, related_name="lessons"
    )
    incident = models.ForeignKey(
        Incident, null=True, blank=True, on_delete=models.CASCADE, related_name="lessons"
    )
    text = models.TextField(_("enseignement"))
    action = models.ForeignKey(
        "actions.ActionItem", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["pk"]
        constraints = [models.CheckConstraint(condition=_one_cell(), name="lesson_one_cell")]


# GHT solidarity --------------------------------------------------------------------------------
class AidKind(models.TextChoices):
    STAFF = "staff", _("Renfort de personnel")
    EQUIPMENT = "equipment", _("Matériel (postes, réseau…)")
    LABORATORY = "laboratory", _("Continuité de la biologie")
    IMAGING = "imaging", _("Continuité de l'imagerie")
    PHARMACY = "pharmacy", _("Continuité de la pharmacie")
    OTHER = "other", _("Autre")


class AidStatus(models.TextChoices):
    OPEN = "open", _("Ouverte")
    COVERED = "covered", _("Couverte")
    CLOSED = "closed", _("Close")


class AidRequestQuerySet(VisibleQuerySet):
    org_lookup = "incident__organisation"


class AidRequest(models.Model):
    """A member under attack asks its GHT and siblings for help."""

    incident = models.ForeignKey(Incident, on_delete=models.CASCADE, related_name="aid_requests")
    kind = models.CharField(_("besoin"), max_length=12, choices=AidKind.choices)
    description = models.TextField(_("précisions"))
    needed_until = models.DateTimeField(_("jusqu'au"), null=True, blank=True)
    status = models.CharField(max_length=8, choices=AidStatus.choices, default=AidStatus.OPEN)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = AidRequestQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]


class OfferStatus(models.TextChoices):
    OFFERED = "offered", _("Proposée")
    ACCEPTED = "accepted", _("Acceptée")
    DECLINED = "declined", _("Déclinée")
    WITHDRAWN = "withdrawn", _("Retirée")


class AidOffer(models.Model):
    request = models.ForeignKey(AidRequest, on_delete=models.CASCADE, related_name="offers")
    organisation = models.ForeignKey(
        "orgs.Organisation", on_delete=models.CASCADE, related_name="aid_offers"
    )
    description = models.TextField(_("proposition"))
    status = models.CharField(
        max_length=10, choices=OfferStatus.choices, default=OfferStatus.OFFERED
    )
    offered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    decided_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["created_at", "pk"]


# Crisis binder ---------------------------------------------------------------------------------
class BinderKind(models.TextChoices):
    CONTACTS = "contacts", _("Contacts")
    ROLES = "roles", _("Rôles de la cellule de crise")
    PROCEDURE = "procedure", _("Procédure")
    DEGRADED_MODE = "degraded", _("Plan de fonctionnement en mode dégradé")
    OTHER = "other", _("Autre")


class BinderSectionQuerySet(VisibleQuerySet):
    org_lookup = "organisation"


class BinderSection(models.Model):
    """A section of the establishment's crisis binder (Markdown), exported with the contacts
    and the latest action plan as PDF and as one self-contained HTML file."""

    organisation = models.ForeignKey(
        "orgs.Organisation", on_delete=models.CASCADE, related_name="binder_sections"
    )
    kind = models.CharField(max_length=10, choices=BinderKind.choices)
    title = models.CharField(_("titre"), max_length=200)
    body = models.TextField(_("contenu (Markdown)"))
    position = models.PositiveIntegerField(default=0)
    updated_at = models.DateTimeField(auto_now=True)
    uid = models.UUIDField(default=uuid.uuid4, editable=False, unique=True)

    objects = BinderSectionQuerySet.as_manager()

    class Meta:
        ordering = ["position", "pk"]

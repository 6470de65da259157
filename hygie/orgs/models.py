from __future__ import annotations

import re

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from hygie.core.crypto import EncryptedTextField
from hygie.core.visibility import VisibleQuerySet
from hygie.orgs.finess import normalise_finess, validate_finess
from hygie.orgs.roles import Role


class Kind(models.TextChoices):
    NATIONAL = "national", _("National")
    REGION = "region", _("Région (ARS)")
    GHT = "ght", _("GHT")
    ESTABLISHMENT = "establishment", _("Établissement")
    SITE = "site", _("Site")
    SERVICE = "service", _("Service / pôle")


# Which kinds may sit directly under which: an establishment outside any GHT
# (private clinic, médico-social) hangs from its region.
ALLOWED_PARENTS: dict[str, set[str | None]] = {
    Kind.NATIONAL: {None},
    Kind.REGION: {Kind.NATIONAL},
    Kind.GHT: {Kind.REGION},
    Kind.ESTABLISHMENT: {Kind.GHT, Kind.REGION},
    Kind.SITE: {Kind.ESTABLISHMENT},
    Kind.SERVICE: {Kind.ESTABLISHMENT, Kind.SITE, Kind.SERVICE},
}


class Category(models.TextChoices):
    CHU = "chu", _("Centre hospitalier universitaire")
    CH = "ch", _("Centre hospitalier")
    CHS = "chs", _("Établissement public de santé mentale")
    ESPIC = "espic", _("Établissement privé d'intérêt collectif")
    CLINIC = "clinique", _("Clinique privée")
    EHPAD = "ehpad", _("EHPAD")
    MEDICO_SOCIAL = "medico_social", _("Établissement médico-social")
    OTHER = "autre", _("Autre")


class OrganisationQuerySet(VisibleQuerySet):
    org_lookup = ""
    # The tree itself is not nominative: aggregate-only roles may browse it.
    default_action = "aggregate"

    def subtree_of(self, node: Organisation):
        return self.filter(path__startswith=node.path)


class Organisation(models.Model):
    kind = models.CharField(_("niveau"), max_length=20, choices=Kind.choices)
    parent = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="children",
        verbose_name=_("rattachement"),
    )
    name = models.CharField(_("nom"), max_length=200)
    short_name = models.CharField(_("nom court"), max_length=60, blank=True)
    code = models.CharField(
        _("code"),
        max_length=20,
        blank=True,
        help_text=_("Code de la région (INSEE), identifiant du GHT ou code interne du service."),
    )
    category = models.CharField(_("catégorie"), max_length=20, choices=Category.choices, blank=True)
    finess_ej = models.CharField(
        _("FINESS juridique"),
        max_length=9,
        blank=True,
        validators=[validate_finess],
        help_text=_("Numéro FINESS de l'entité juridique."),
    )
    finess_et = models.CharField(
        _("FINESS géographique"),
        max_length=9,
        blank=True,
        validators=[validate_finess],
        help_text=_("Numéro FINESS de l'établissement géographique (site principal)."),
    )
    is_ght_support = models.BooleanField(_("établissement support du GHT"), default=False)
    path = models.CharField(max_length=255, db_index=True, editable=False)
    depth = models.PositiveSmallIntegerField(default=0, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = OrganisationQuerySet.as_manager()

    # `migrate` creates these on every installation; a restore replaces them like any row.
    INSTALL_SEED_ROWS = {"kind__in": ("national", "region")}

    class Meta:
        ordering = ["path"]
        verbose_name = _("organisation")
        constraints = [
            models.UniqueConstraint(
                fields=["finess_ej"],
                condition=~Q(finess_ej="") & Q(kind="establishment"),
                name="orgs_unique_establishment_finess_ej",
            ),
            models.UniqueConstraint(
                fields=["finess_et"], condition=~Q(finess_et=""), name="orgs_unique_finess_et"
            ),
        ]

    def __str__(self):
        return self.short_name or self.name

    def clean(self):
        parent_kind = self.parent.kind if self.parent_id else None
        if parent_kind not in ALLOWED_PARENTS.get(self.kind, set()):
            raise ValidationError(
                {
                    "parent": _(
                        "Un niveau « %(kind)s » ne peut pas être rattaché à « %(parent)s »."
                    )
                    % {"kind": self.get_kind_display(), "parent": parent_kind or "—"}
                }
            )
        if self.pk and self.parent_id and self.parent.path.startswith(self.path or "//"):
            raise ValidationError(
                {"parent": _("Une organisation ne peut pas être rattachée à sa propre branche.")}
            )
        self.finess_ej = normalise_finess(self.finess_ej)
        self.finess_et = normalise_finess(self.finess_et)
        if self.kind == Kind.ESTABLISHMENT and not self.finess_ej:
            raise ValidationError(
                {"finess_ej": _("Un établissement porte son numéro FINESS juridique.")}
            )

    def save(self, *args, **kwargs):
        with transaction.atomic():
            old_path = self.path
            creating = self.pk is None
            if creating:
                super().save(*args, **kwargs)
            self.path = f"{self.parent.path if self.parent_id else '/'}{self.pk}/"
            self.depth = self.path.count("/") - 2
            if creating:
                super().save(update_fields=["path", "depth"])
            else:
                super().save(*args, **kwargs)
            if old_path and old_path != self.path:
                # Moved: rewrite the descendants' paths.
                for node in Organisation.objects.filter(path__startswith=old_path).exclude(
                    pk=self.pk
                ):
                    node.path = self.path + node.path[len(old_path) :]
                    node.depth = node.path.count("/") - 2
                    models.Model.save(node, update_fields=["path", "depth"])

    # Tree helpers -----------------------------------------------------------------------
    def ancestor_ids(self) -> list[int]:
        return [int(part) for part in self.path.strip("/").split("/")[:-1] if part]

    def ancestors(self):
        ids = self.ancestor_ids()
        return sorted(Organisation.objects.filter(pk__in=ids), key=lambda node: node.depth)


class JobFamily(models.TextChoices):
    MEDICAL = "medical", _("Médical")
    CARE = "soignant", _("Soignant")
    MEDICO_TECHNICAL = "medico_technique", _("Médico-technique")
    SOCIO_EDUCATIONAL = "socio_educatif", _("Socio-éducatif")
    ADMINISTRATIVE = "administratif", _("Administratif")
    TECHNICAL = "technique", _("Technique et logistique")
    IT = "informatique", _("Informatique et biomédical")
    DIRECTION = "direction", _("Direction")
    STUDENT = "etudiant", _("Étudiant / stagiaire")
    OTHER = "autre", _("Autre")


class StaffSource(models.TextChoices):
    MANUAL = "manual", _("Saisie")
    CSV = "csv", _("Import CSV")
    LDAP = "ldap", _("Annuaire LDAP")


class StaffQuerySet(VisibleQuerySet):
    org_lookup = "establishment"


class StaffMember(models.Model):
    """A person working in an establishment; most never log in to Hygie."""

    establishment = models.ForeignKey(
        Organisation,
        on_delete=models.CASCADE,
        related_name="staff",
        limit_choices_to={"kind": Kind.ESTABLISHMENT},
        verbose_name=_("établissement"),
    )
    site = models.ForeignKey(
        Organisation,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="site_staff",
        limit_choices_to={"kind": Kind.SITE},
        verbose_name=_("site"),
    )
    service = models.ForeignKey(
        Organisation,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="service_staff",
        limit_choices_to={"kind": Kind.SERVICE},
        verbose_name=_("service"),
    )
    external_id = models.CharField(
        _("identifiant"),
        max_length=120,
        blank=True,
        help_text=_("Matricule RH ou identifiant d'annuaire, clé des mises à jour."),
    )
    first_name = models.CharField(_("prénom"), max_length=100)
    last_name = models.CharField(_("nom"), max_length=100)
    email = models.EmailField(_("e-mail"), blank=True)
    job_family = models.CharField(_("famille de métiers"), max_length=20, choices=JobFamily.choices)
    job_title = models.CharField(_("métier"), max_length=120, blank=True)
    arrival_date = models.DateField(_("date d'arrivée"), null=True, blank=True)
    active = models.BooleanField(_("en poste"), default=True)
    source = models.CharField(
        max_length=10, choices=StaffSource.choices, default=StaffSource.MANUAL
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = StaffQuerySet.as_manager()

    class Meta:
        ordering = ["last_name", "first_name"]
        verbose_name = _("personnel")
        verbose_name_plural = _("personnels")
        constraints = [
            models.UniqueConstraint(
                fields=["establishment", "external_id"],
                condition=~Q(external_id=""),
                name="staff_unique_external_id",
            ),
            models.UniqueConstraint(
                fields=["establishment", "email"], condition=~Q(email=""), name="staff_unique_email"
            ),
        ]
        indexes = [models.Index(fields=["establishment", "job_family"])]

    def __str__(self):
        return f"{self.first_name} {self.last_name}"


class MembershipQuerySet(VisibleQuerySet):
    org_lookup = "organisation"


class Membership(models.Model):
    """A user's role at an organisation node; it applies to the node's whole subtree."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships"
    )
    organisation = models.ForeignKey(
        Organisation, on_delete=models.CASCADE, related_name="memberships"
    )
    role = models.CharField(_("rôle"), max_length=30, choices=Role.choices)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = MembershipQuerySet.as_manager()

    class Meta:
        verbose_name = _("rôle")
        constraints = [
            models.UniqueConstraint(
                fields=["user", "organisation", "role"], name="membership_unique"
            )
        ]

    def __str__(self):
        return f"{self.user} — {self.get_role_display()} — {self.organisation}"


# --- Directory (LDAP) sources ------------------------------------------------------------

LDAP_URL_RE = re.compile(r"^ldaps?://[A-Za-z0-9.\-\[\]:]+(?::\d{1,5})?/?$")
LDAP_ATTRIBUTE_RE = re.compile(r"^(?:[A-Za-z][A-Za-z0-9-]*|\d+(?:\.\d+)+)$")

# Staff field → directory attributes tried in order (the first one present wins).
DEFAULT_ATTRIBUTE_MAP = {
    "external_id": ["uid"],
    "first_name": ["givenName"],
    "last_name": ["sn"],
    "email": ["mail"],
    "service": ["departmentNumber", "ou"],
    "site": [],
    "job_title": ["title"],
    "job_family": ["employeeType"],
}


def default_attribute_map() -> dict:
    return {key: list(value) for key, value in DEFAULT_ATTRIBUTE_MAP.items()}


def validate_ldap_url(value: str) -> None:
    if not LDAP_URL_RE.match(value or ""):
        raise ValidationError(
            _("Adresse attendue sous la forme ldap://serveur:389 ou ldaps://serveur:636.")
        )


class SyncStatus(models.TextChoices):
    NEVER = "never", _("Jamais synchronisé")
    QUEUED = "queued", _("En attente")
    RUNNING = "running", _("En cours")
    SUCCESS = "success", _("Réussie")
    PARTIAL = "partial", _("Réussie, entrées ignorées")
    FAILED = "failed", _("Échec")


class DirectorySourceQuerySet(VisibleQuerySet):
    org_lookup = "establishment"
    default_action = "manage"


class DirectorySource(models.Model):
    """The LDAP directory an establishment's staff is read from (read-only, on demand or scheduled)."""

    establishment = models.OneToOneField(
        Organisation,
        on_delete=models.CASCADE,
        related_name="directory_source",
        limit_choices_to={"kind": Kind.ESTABLISHMENT},
        verbose_name=_("établissement"),
    )
    server_url = models.CharField(
        _("adresse du serveur"),
        max_length=255,
        validators=[validate_ldap_url],
        help_text=_("ldaps://annuaire.ch-exemple.fr:636, ou ldap://… avec StartTLS."),
    )
    start_tls = models.BooleanField(
        _("StartTLS"),
        default=False,
        help_text=_("Chiffrer une connexion ldap:// avant l'authentification."),
    )
    ca_certificate = models.TextField(
        _("certificat de l'autorité (PEM)"),
        blank=True,
        help_text=_("Autorité de certification interne qui signe le certificat du serveur."),
    )
    bind_dn = models.CharField(
        _("DN de connexion"),
        max_length=500,
        blank=True,
        help_text=_("Compte de service en lecture seule, ex. cn=hygie,ou=services,dc=ch,dc=fr."),
    )
    bind_password = EncryptedTextField(_("mot de passe de connexion"), blank=True)
    base_dn = models.CharField(_("base de recherche"), max_length=500)
    search_filter = models.CharField(
        _("filtre de recherche"), max_length=1000, default="(objectClass=inetOrgPerson)"
    )
    attribute_map = models.JSONField(
        _("correspondance des attributs"), default=default_attribute_map
    )
    create_services = models.BooleanField(
        _("créer les services inconnus"),
        default=False,
        help_text=_("Sinon, un service absent de Hygie est signalé et laissé vide."),
    )
    enabled = models.BooleanField(
        _("synchronisation planifiée"),
        default=True,
        help_text=_("Incluse dans « hygie ldap-sync » sans établissement précisé."),
    )
    last_sync_at = models.DateTimeField(_("dernière synchronisation"), null=True, blank=True)
    last_sync_status = models.CharField(
        _("état"), max_length=10, choices=SyncStatus.choices, default=SyncStatus.NEVER
    )
    last_sync_result = models.JSONField(default=dict, blank=True)
    # Claimed with a conditional UPDATE so two workers never sync the same source at once.
    sync_started_at = models.DateTimeField(null=True, blank=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = DirectorySourceQuerySet.as_manager()

    class Meta:
        verbose_name = _("annuaire LDAP")
        verbose_name_plural = _("annuaires LDAP")

    def __str__(self):
        return f"{self.server_url} ({self.establishment})"

    def clean(self):
        if self.server_url.startswith("ldaps://") and self.start_tls:
            raise ValidationError(
                {"start_tls": _("StartTLS ne s'emploie qu'avec une adresse ldap://.")}
            )
        mapping = self.attribute_map or {}
        for key in ("external_id", "first_name", "last_name"):
            if not mapping.get(key):
                raise ValidationError(
                    {"attribute_map": _("L'attribut « %(key)s » est obligatoire.") % {"key": key}}
                )
        for attributes in mapping.values():
            for attribute in attributes:
                if not LDAP_ATTRIBUTE_RE.match(attribute):
                    raise ValidationError(
                        {
                            "attribute_map": _("Nom d'attribut LDAP invalide : « %(a)s ».")
                            % {"a": attribute}
                        }
                    )

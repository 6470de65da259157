"""Technical audits of the low layers: Active Directory, remote access and internet exposure,
end-of-life systems, passwords.

An Active Directory audit is computed from a `Snapshot` (hygie/posture/ad/snapshot.py) collected
live over LDAP or read from an export; only its results are stored (scores, findings with the
names of the objects concerned, counts and the password figures), never the export itself nor
any secret or hash it may contain.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from hygie.core.crypto import EncryptedTextField
from hygie.core.visibility import VisibleQuerySet


class OrgQuerySet(VisibleQuerySet):
    org_lookup = "organisation"


# Active Directory --------------------------------------------------------------------------------
class LdapSecurity(models.TextChoices):
    LDAPS = "ldaps", _("LDAPS (TLS dès la connexion, port 636)")
    STARTTLS = "starttls", _("StartTLS (port 389)")


class DirectoryConnection(models.Model):
    """How Hygie reads an establishment's Active Directory live: read-only, over TLS, paged.

    The account is an ordinary domain user (reading the directory needs no privilege); its
    password is encrypted at rest and never shown again.
    """

    organisation = models.ForeignKey(
        "orgs.Organisation", on_delete=models.CASCADE, related_name="directory_connections"
    )
    name = models.CharField(_("nom"), max_length=120)
    host = models.CharField(_("contrôleur de domaine"), max_length=255)
    port = models.PositiveIntegerField(_("port"), null=True, blank=True)
    security = models.CharField(
        _("sécurité"), max_length=10, choices=LdapSecurity.choices, default=LdapSecurity.LDAPS
    )
    ca_certificate = models.TextField(
        _("certificat de l'autorité (PEM)"),
        blank=True,
        help_text=_("Vide : les autorités de confiance du système."),
    )
    bind_user = models.CharField(
        _("compte de lecture"),
        max_length=255,
        help_text=_("Par exemple audit-hygie@chu.local ou son DN."),
    )
    bind_password = EncryptedTextField(_("mot de passe"), blank=True)
    base_dn = models.CharField(
        _("base de recherche"),
        max_length=255,
        blank=True,
        help_text=_("Vide : le contexte de nommage par défaut du domaine."),
    )
    page_size = models.PositiveIntegerField(_("taille des pages"), default=500)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    last_collected_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)

    objects = OrgQuerySet.as_manager()

    class Meta:
        ordering = ["organisation__name", "name"]

    def __str__(self) -> str:
        return self.name


class AuditSource(models.TextChoices):
    LIVE = "live", _("Collecte LDAP")
    LDAPDOMAINDUMP = "ldapdomaindump", _("Export ldapdomaindump (JSON)")
    LDIF = "ldif", _("Export LDIF")
    BLOODHOUND = "bloodhound", _("Export BloodHound (JSON)")


class Category(models.TextChoices):
    """PingCastle's four categories; each category's points are capped at 100."""

    STALE = "stale", _("Objets obsolètes")
    PRIVILEGED = "privileged", _("Comptes à privilèges")
    TRUSTS = "trusts", _("Relations d'approbation")
    ANOMALIES = "anomalies", _("Anomalies")


class ADAudit(models.Model):
    """One audit of one domain: the scores, the maturity level and the figures.

    `stats` holds the counts (users, computers, admins…), the domain password and lockout policy
    with its comparison to ANSSI's recommendations and the establishment's own policy, and the
    distribution of password ages (see hygie/posture/ad/passwords.py). Findings are rows.
    """

    organisation = models.ForeignKey(
        "orgs.Organisation", on_delete=models.CASCADE, related_name="ad_audits"
    )
    domain = models.CharField(_("domaine"), max_length=255)
    domain_sid = models.CharField(max_length=100, blank=True)
    source = models.CharField(_("source"), max_length=20, choices=AuditSource.choices)
    connection = models.ForeignKey(
        DirectoryConnection, null=True, blank=True, on_delete=models.SET_NULL, related_name="audits"
    )
    filename = models.CharField(_("fichier"), max_length=255, blank=True)
    collected_at = models.DateTimeField(_("date des données"))
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    score = models.PositiveSmallIntegerField(_("score"), default=0)
    score_stale = models.PositiveSmallIntegerField(default=0)
    score_privileged = models.PositiveSmallIntegerField(default=0)
    score_trusts = models.PositiveSmallIntegerField(default=0)
    score_anomalies = models.PositiveSmallIntegerField(default=0)
    maturity = models.PositiveSmallIntegerField(_("niveau de maturité"), default=5)
    rules_version = models.CharField(max_length=20, blank=True)
    stats = models.JSONField(default=dict, blank=True)

    objects = OrgQuerySet.as_manager()

    class Meta:
        ordering = ["-collected_at", "-pk"]
        indexes = [models.Index(fields=["organisation", "domain", "collected_at"])]

    def __str__(self) -> str:
        return f"{self.domain} ({self.collected_at:%Y-%m-%d})"

    def category_scores(self) -> dict[str, int]:
        return {
            Category.STALE: self.score_stale,
            Category.PRIVILEGED: self.score_privileged,
            Category.TRUSTS: self.score_trusts,
            Category.ANOMALIES: self.score_anomalies,
        }


class FindingQuerySet(VisibleQuerySet):
    org_lookup = "audit__organisation"


class ADFinding(models.Model):
    """A rule that an audit found broken, with the objects concerned (names only)."""

    audit = models.ForeignKey(ADAudit, on_delete=models.CASCADE, related_name="findings")
    rule_id = models.CharField(_("règle"), max_length=40)
    category = models.CharField(_("catégorie"), max_length=12, choices=Category.choices)
    points = models.PositiveSmallIntegerField(_("points"))
    level = models.PositiveSmallIntegerField(_("niveau ANSSI"))
    count = models.PositiveIntegerField(_("objets concernés"), default=0)
    # The first objects concerned (sAMAccountName or DN), at most ad.rules.MAX_LISTED.
    sample = models.JSONField(default=list, blank=True)
    details = models.JSONField(default=dict, blank=True)
    action = models.ForeignKey(
        "actions.ActionItem",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="ad_findings",
    )

    objects = FindingQuerySet.as_manager()

    class Meta:
        ordering = ["category", "-points", "rule_id"]
        constraints = [
            models.UniqueConstraint(fields=["audit", "rule_id"], name="one_finding_per_rule"),
        ]

    def __str__(self) -> str:
        return self.rule_id


class PasswordPolicyTarget(models.Model):
    """The establishment's own password policy, compared with the domain's at each audit.

    Blank fields are not compared. ANSSI's recommendations are compared as well, always.
    """

    organisation = models.OneToOneField(
        "orgs.Organisation", on_delete=models.CASCADE, related_name="password_policy"
    )
    min_length = models.PositiveSmallIntegerField(_("longueur minimale"), null=True, blank=True)
    admin_min_length = models.PositiveSmallIntegerField(
        _("longueur minimale des comptes à privilèges"), null=True, blank=True
    )
    complexity = models.BooleanField(_("complexité exigée"), null=True, blank=True)
    history = models.PositiveSmallIntegerField(_("historique"), null=True, blank=True)
    max_age_days = models.PositiveIntegerField(
        _("durée de validité maximale (jours)"),
        null=True,
        blank=True,
        help_text=_("0 : pas d'expiration."),
    )
    lockout_threshold = models.PositiveSmallIntegerField(
        _("seuil de verrouillage"), null=True, blank=True
    )
    lockout_duration_minutes = models.PositiveIntegerField(
        _("durée de verrouillage (minutes)"), null=True, blank=True
    )
    very_old_days = models.PositiveIntegerField(
        _("mot de passe très ancien au-delà de (jours)"), default=3 * 365
    )
    updated_at = models.DateTimeField(auto_now=True)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    objects = OrgQuerySet.as_manager()


# Remote access and internet exposure -----------------------------------------------------------
class AccessKind(models.TextChoices):
    VPN_SSL = "vpn_ssl", _("VPN SSL")
    VPN_IPSEC = "vpn_ipsec", _("VPN IPsec")
    RDP_GATEWAY = "rdp_gateway", _("Passerelle RDP")
    VDI = "vdi", _("Bureau virtuel (Citrix, VMware…)")
    BASTION = "bastion", _("Bastion d'administration")
    VENDOR_REMOTE = "vendor", _("Télémaintenance fournisseur")
    WEBMAIL = "webmail", _("Messagerie web")
    OTHER = "other", _("Autre")


class RemoteAccessPoint(models.Model):
    """A way into the establishment from outside: VPN, gateway, remote maintenance…"""

    organisation = models.ForeignKey(
        "orgs.Organisation", on_delete=models.CASCADE, related_name="remote_access_points"
    )
    name = models.CharField(_("nom"), max_length=160)
    kind = models.CharField(_("type"), max_length=12, choices=AccessKind.choices)
    vendor = models.CharField(_("éditeur"), max_length=120)
    product = models.CharField(_("produit"), max_length=160)
    version = models.CharField(_("version"), max_length=80, blank=True)
    address = models.CharField(_("adresse exposée"), max_length=255, blank=True)
    mfa = models.BooleanField(_("authentification multifacteur"), default=False)
    admin_interface_exposed = models.BooleanField(
        _("interface d'administration exposée sur internet"), default=False
    )
    last_patched_on = models.DateField(_("dernier correctif"), null=True, blank=True)
    users = models.PositiveIntegerField(_("utilisateurs"), null=True, blank=True)
    notes = models.TextField(_("notes"), blank=True)
    # The action-plan item created from this point's flags (one per point; see remote.py).
    action = models.ForeignKey(
        "actions.ActionItem",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="remote_access_points",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = OrgQuerySet.as_manager()

    class Meta:
        ordering = ["organisation__name", "name"]

    def __str__(self) -> str:
        return self.name


class KevCatalogue(models.Model):
    """An import of CISA's Known Exploited Vulnerabilities catalogue (its JSON file).

    Platform-wide reference data: the latest import is the one in force.
    """

    catalog_version = models.CharField(_("version"), max_length=40)
    date_released = models.DateTimeField(_("publié le"), null=True, blank=True)
    count = models.PositiveIntegerField(_("vulnérabilités"), default=0)
    filename = models.CharField(_("fichier"), max_length=255, blank=True)
    imported_at = models.DateTimeField(auto_now_add=True)
    imported_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["-imported_at", "-pk"]

    def __str__(self) -> str:
        return self.catalog_version


class KevEntry(models.Model):
    cve_id = models.CharField(_("CVE"), max_length=30, unique=True)
    vendor_project = models.CharField(_("éditeur"), max_length=200)
    product = models.CharField(_("produit"), max_length=200)
    name = models.CharField(_("vulnérabilité"), max_length=300)
    date_added = models.DateField(_("ajoutée le"))
    due_date = models.DateField(_("échéance CISA"), null=True, blank=True)
    ransomware = models.BooleanField(_("utilisée par des rançongiciels"), default=False)
    short_description = models.TextField(blank=True)
    required_action = models.TextField(blank=True)
    notes = models.TextField(blank=True)
    cwes = models.JSONField(default=list, blank=True)

    class Meta:
        ordering = ["-date_added", "cve_id"]
        indexes = [models.Index(fields=["vendor_project", "product"])]

    def __str__(self) -> str:
        return self.cve_id


class ExposureScan(models.Model):
    """An imported exposure scan (nmap XML) of an establishment's internet-facing addresses."""

    organisation = models.ForeignKey(
        "orgs.Organisation", on_delete=models.CASCADE, related_name="exposure_scans"
    )
    filename = models.CharField(_("fichier"), max_length=255)
    scanner = models.CharField(_("outil"), max_length=80, blank=True)
    arguments = models.TextField(_("commande"), blank=True)
    started_at = models.DateTimeField(_("début du scan"), null=True, blank=True)
    hosts_up = models.PositiveIntegerField(_("hôtes actifs"), default=0)
    imported_at = models.DateTimeField(auto_now_add=True)
    imported_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    objects = OrgQuerySet.as_manager()

    class Meta:
        ordering = ["-started_at", "-pk"]

    def __str__(self) -> str:
        return self.filename


class ServiceRisk(models.TextChoices):
    REMOTE_DESKTOP = "remote_desktop", _("Bureau à distance (RDP, VNC)")
    FILE_SHARING = "file_sharing", _("Partage de fichiers (SMB, NFS, FTP)")
    DATABASE = "database", _("Base de données")
    ADMIN = "admin", _("Interface d'administration")
    REMOTE_SHELL = "remote_shell", _("Accès en ligne de commande (SSH, Telnet)")
    DIRECTORY = "directory", _("Annuaire (LDAP, Kerberos)")
    MEDICAL = "medical", _("Protocole médical (DICOM, HL7)")
    VPN = "vpn", _("VPN")
    WEB = "web", _("Web")
    MAIL = "mail", _("Messagerie")
    OTHER = "other", _("Autre")


class ServiceQuerySet(VisibleQuerySet):
    org_lookup = "scan__organisation"


class ExposedService(models.Model):
    scan = models.ForeignKey(ExposureScan, on_delete=models.CASCADE, related_name="services")
    address = models.GenericIPAddressField(_("adresse"))
    hostname = models.CharField(_("nom"), max_length=255, blank=True)
    port = models.PositiveIntegerField(_("port"))
    protocol = models.CharField(_("protocole"), max_length=5, default="tcp")
    service = models.CharField(_("service"), max_length=80, blank=True)
    product = models.CharField(_("produit"), max_length=160, blank=True)
    version = models.CharField(_("version"), max_length=80, blank=True)
    risk = models.CharField(_("nature"), max_length=16, choices=ServiceRisk.choices)
    risky = models.BooleanField(_("à risque"), default=False)
    # The action-plan item about this exposure (shared by the same address/port in later scans).
    action = models.ForeignKey(
        "actions.ActionItem",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="exposed_services",
    )

    objects = ServiceQuerySet.as_manager()

    class Meta:
        ordering = ["-risky", "address", "port"]


# Operating systems and infrastructure ------------------------------------------------------------
class EolOrigin(models.TextChoices):
    BUILTIN = "builtin", _("Fourni avec Hygie")
    IMPORTED = "imported", _("Importé")


class EolRelease(models.Model):
    """A release of an operating system or product with its support dates (facts).

    Loaded on `migrate` from hygie/posture/data/eol.yaml; users update it from a file. `patterns`
    are the regular expressions (case-insensitive) matched against "<os name> <os version>";
    releases are tried by ascending `rank` (the order of the file), the first match wins.
    """

    product = models.CharField(_("produit"), max_length=60)
    cycle = models.CharField(_("version"), max_length=60)
    label = models.CharField(_("libellé"), max_length=160)
    patterns = models.JSONField(default=list)
    released_on = models.DateField(_("sortie"), null=True, blank=True)
    support_ends_on = models.DateField(_("fin du support standard"), null=True, blank=True)
    eol_on = models.DateField(_("fin des correctifs de sécurité"), null=True, blank=True)
    extended_until = models.DateField(_("fin du support étendu payant"), null=True, blank=True)
    origin = models.CharField(max_length=10, choices=EolOrigin.choices, default=EolOrigin.BUILTIN)
    # Matching order: the position in the shipped file; imported releases new to Hygie are tried
    # first (negative ranks), so a more specific cycle added by a user wins.
    rank = models.IntegerField(default=0)
    note = models.CharField(_("remarque"), max_length=300, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    INSTALL_SEED_ROWS = {"origin": EolOrigin.BUILTIN}

    class Meta:
        ordering = ["product", "-released_on", "cycle"]
        constraints = [
            models.UniqueConstraint(fields=["product", "cycle"], name="one_eol_per_cycle"),
        ]

    def __str__(self) -> str:
        return self.label


class AssetSource(models.TextChoices):
    AD = "ad", _("Active Directory")
    CSV = "csv", _("Fichier CSV")
    GLPI = "glpi", _("Export GLPI")
    MANUAL = "manual", _("Saisie")


class AssetKind(models.TextChoices):
    WORKSTATION = "workstation", _("Poste de travail")
    SERVER = "server", _("Serveur")
    MEDICAL = "medical", _("Équipement biomédical")
    NETWORK = "network", _("Équipement réseau")
    OTHER = "other", _("Autre")


class Asset(models.Model):
    """A computer or device of the establishment's inventory, keyed by its name."""

    organisation = models.ForeignKey(
        "orgs.Organisation", on_delete=models.CASCADE, related_name="assets"
    )
    name = models.CharField(_("nom"), max_length=255)
    kind = models.CharField(_("type"), max_length=12, choices=AssetKind.choices)
    source = models.CharField(_("source"), max_length=8, choices=AssetSource.choices)
    os_name = models.CharField(_("système"), max_length=160, blank=True)
    os_version = models.CharField(_("version du système"), max_length=80, blank=True)
    site = models.CharField(_("site"), max_length=160, blank=True)
    service = models.CharField(_("service"), max_length=160, blank=True)
    serial = models.CharField(_("numéro de série"), max_length=120, blank=True)
    enabled = models.BooleanField(_("actif"), default=True)
    last_seen = models.DateTimeField(_("vu pour la dernière fois"), null=True, blank=True)
    eol = models.ForeignKey(
        EolRelease, null=True, blank=True, on_delete=models.SET_NULL, related_name="assets"
    )
    updated_at = models.DateTimeField(auto_now=True)

    objects = OrgQuerySet.as_manager()

    class Meta:
        ordering = ["organisation__name", "name"]
        constraints = [
            models.UniqueConstraint(fields=["organisation", "name"], name="one_asset_per_name"),
        ]

    def __str__(self) -> str:
        return self.name


class AssetImport(models.Model):
    organisation = models.ForeignKey(
        "orgs.Organisation", on_delete=models.CASCADE, related_name="asset_imports"
    )
    source = models.CharField(_("source"), max_length=8, choices=AssetSource.choices)
    filename = models.CharField(_("fichier"), max_length=255, blank=True)
    rows = models.PositiveIntegerField(default=0)
    created = models.PositiveIntegerField(default=0)
    updated = models.PositiveIntegerField(default=0)
    imported_at = models.DateTimeField(auto_now_add=True)
    imported_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    objects = OrgQuerySet.as_manager()

    class Meta:
        ordering = ["-imported_at", "-pk"]


class EolGroupAction(models.Model):
    """The action-plan item raised for a group of assets past their end of security support
    (same release, site and kind), so that each import updates it instead of adding another."""

    organisation = models.ForeignKey(
        "orgs.Organisation", on_delete=models.CASCADE, related_name="eol_group_actions"
    )
    release = models.ForeignKey(EolRelease, on_delete=models.CASCADE, related_name="+")
    site = models.CharField(max_length=160, blank=True)
    kind = models.CharField(max_length=12, choices=AssetKind.choices)
    action = models.ForeignKey(
        "actions.ActionItem", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    objects = OrgQuerySet.as_manager()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["organisation", "release", "site", "kind"], name="one_action_per_eol_group"
            ),
        ]

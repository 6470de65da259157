"""The rules of the Active Directory audit, their scores and the maturity level.

In the spirit of PingCastle and of ANSSI's Active Directory checkpoints: four categories, each
rule giving points (fixed, or per object up to a cap); a category's points are summed and capped
at 100, the overall score is the worst category; the maturity level is the lowest ANSSI level
among the rules that fired, 5 when none did (decision 0710).

`evaluate` reads a `Snapshot` once: one pass over the users and one over the computers, with the
privileged accounts resolved beforehand through nested groups and primaryGroupID (cycles are
harmless). It runs in about a second on 100,000 users and 50,000 computers.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field

from django.utils.translation import gettext_lazy as _

from hygie.posture import eol
from hygie.posture.ad.snapshot import (
    DOMAIN_PASSWORD_STORE_CLEARTEXT,
    RID_DOMAIN_ADMINS,
    RID_ENTERPRISE_ADMINS,
    RID_GUEST,
    RID_KRBTGT,
    RID_PROTECTED_USERS,
    RID_SCHEMA_ADMINS,
    SID_ACCOUNT_OPERATORS,
    SID_ADMINISTRATORS,
    SID_ANONYMOUS,
    SID_BACKUP_OPERATORS,
    SID_EVERYONE,
    SID_PRE_WINDOWS_2000,
    SID_PRINT_OPERATORS,
    SID_SERVER_OPERATORS,
    TRUST_ATTRIBUTE_CROSS_ORGANIZATION_ENABLE_TGT_DELEGATION,
    TRUST_ATTRIBUTE_FOREST_TRANSITIVE,
    TRUST_ATTRIBUTE_QUARANTINED_DOMAIN,
    TRUST_ATTRIBUTE_TREAT_AS_EXTERNAL,
    TRUST_ATTRIBUTE_WITHIN_FOREST,
    TRUST_DIRECTION_OUTBOUND,
    TRUST_TYPE_DOWNLEVEL,
    UAC_DONT_EXPIRE_PASSWORD,
    UAC_DONT_REQ_PREAUTH,
    UAC_ENCRYPTED_TEXT_PWD_ALLOWED,
    UAC_NOT_DELEGATED,
    UAC_PASSWD_NOTREQD,
    UAC_TRUSTED_FOR_DELEGATION,
    UAC_USE_DES_KEY_ONLY,
    Account,
    Group,
    Snapshot,
    key,
    principal_sid,
    rid,
)

RULES_VERSION = "1"
MAX_LISTED = 200  # object names kept per finding

STALE, PRIVILEGED, TRUSTS, ANOMALIES = "stale", "privileged", "trusts", "anomalies"
CATEGORIES = (STALE, PRIVILEGED, TRUSTS, ANOMALIES)

# Thresholds (days), shown in the findings' details
INACTIVE_DAYS = 180
ADMIN_INACTIVE_DAYS = 90
ADMIN_PWD_DAYS = 3 * 365
KRBTGT_PWD_DAYS = 365
TRUST_INACTIVE_DAYS = 45
MAX_ADMINS = 10
MIN_PWD_LENGTH = 8
FUNCTIONAL_LEVEL_2016 = 7

# msDS-SupportedEncryptionTypes
ENC_DES = 0x1 | 0x2
ENC_STRONG = 0x4 | 0x8 | 0x10  # RC4, AES128, AES256

FUNCTIONAL_LEVELS = {
    0: "Windows 2000",
    1: "Windows Server 2003 (intermédiaire)",
    2: "Windows Server 2003",
    3: "Windows Server 2008",
    4: "Windows Server 2008 R2",
    5: "Windows Server 2012",
    6: "Windows Server 2012 R2",
    7: "Windows Server 2016",
    10: "Windows Server 2025",
}

OPERATOR_SIDS = (
    SID_ACCOUNT_OPERATORS,
    SID_SERVER_OPERATORS,
    SID_PRINT_OPERATORS,
    SID_BACKUP_OPERATORS,
)
BUILTIN_ADMIN_SIDS = (SID_ADMINISTRATORS, *OPERATOR_SIDS)
DOMAIN_ADMIN_RIDS = (RID_DOMAIN_ADMINS, RID_SCHEMA_ADMINS, RID_ENTERPRISE_ADMINS)
# Used only when an export gives no SIDs for groups: English and French names.
ADMIN_GROUP_NAMES = {
    "administrators": SID_ADMINISTRATORS,
    "administrateurs": SID_ADMINISTRATORS,
    "account operators": SID_ACCOUNT_OPERATORS,
    "opérateurs de compte": SID_ACCOUNT_OPERATORS,
    "server operators": SID_SERVER_OPERATORS,
    "opérateurs de serveur": SID_SERVER_OPERATORS,
    "print operators": SID_PRINT_OPERATORS,
    "opérateurs d'impression": SID_PRINT_OPERATORS,
    "backup operators": SID_BACKUP_OPERATORS,
    "opérateurs de sauvegarde": SID_BACKUP_OPERATORS,
    "domain admins": RID_DOMAIN_ADMINS,
    "admins du domaine": RID_DOMAIN_ADMINS,
    "schema admins": RID_SCHEMA_ADMINS,
    "administrateurs du schéma": RID_SCHEMA_ADMINS,
    "enterprise admins": RID_ENTERPRISE_ADMINS,
    "administrateurs de l'entreprise": RID_ENTERPRISE_ADMINS,
    "protected users": RID_PROTECTED_USERS,
    "utilisateurs protégés": RID_PROTECTED_USERS,
    "pre-windows 2000 compatible access": SID_PRE_WINDOWS_2000,
    "accès compatible pré-windows 2000": SID_PRE_WINDOWS_2000,
}
WORLD_NAMES = {SID_EVERYONE: "Tout le monde (S-1-1-0)", SID_ANONYMOUS: "Anonyme (S-1-5-7)"}
USER_PRIMARY_GROUPS = {513}  # Domain Users (Domain Guests, 514, only for the Guest account)
COMPUTER_PRIMARY_GROUPS = {515}  # Domain Computers
DC_PRIMARY_GROUPS = {516, 521}  # Domain Controllers, Read-only Domain Controllers


@dataclass(frozen=True)
class Rule:
    id: str  # e.g. "P-ADMIN-SPN"
    category: str  # models.Category value
    title: str  # French, gettext_lazy
    description: str
    remediation: str
    level: int  # ANSSI maturity level 1–5 this rule belongs to
    points: int  # points when triggered (or per object, see per_object)
    per_object: bool = False
    max_points: int = 100
    reference: str = ""  # ANSSI checkpoint or other reference


@dataclass
class Finding:
    rule: Rule
    objects: list[str] = field(default_factory=list)
    details: dict = field(default_factory=dict)

    @property
    def count(self) -> int:
        return len(self.objects)

    @property
    def points(self) -> int:
        if self.rule.per_object:
            return min(self.rule.max_points, self.rule.points * max(1, self.count))
        return self.rule.points


def _rule(id, category, level, points, title, description, remediation, reference, cap=None):
    return Rule(
        id=id,
        category=category,
        title=title,
        description=description,
        remediation=remediation,
        level=level,
        points=points,
        per_object=cap is not None,
        max_points=cap if cap is not None else points,
        reference=reference,
    )


ANSSI_AD = "ANSSI, points de contrôle Active Directory"

_CATALOGUE = (
    # Stale objects ------------------------------------------------------------------------------
    _rule(
        "S-INACTIVE-USER",
        STALE,
        3,
        1,
        _("Comptes utilisateurs inactifs"),
        _(
            "Comptes utilisateurs actifs sans connexion depuis plus de 180 jours et créés il y a plus de 180 jours. Un compte oublié est un compte dont personne ne remarquera l'usage frauduleux."
        ),
        _(
            "Désactiver ces comptes (Disable-ADAccount) après vérification auprès du service concerné, les déplacer dans une OU de comptes désactivés puis les supprimer après la durée de conservation décidée ; relier la désactivation au départ des agents (processus RH)."
        ),
        f"{ANSSI_AD} : comptes inactifs",
        cap=15,
    ),
    _rule(
        "S-INACTIVE-COMPUTER",
        STALE,
        3,
        1,
        _("Ordinateurs inactifs"),
        _(
            "Comptes d'ordinateurs (hors contrôleurs de domaine) actifs sans authentification depuis plus de 180 jours : machines retirées du réseau dont le compte reste utilisable."
        ),
        _(
            "Vérifier dans l'inventaire que la machine a disparu, désactiver son compte (Disable-ADAccount) puis le supprimer ; faire du retrait d'une machine du domaine une étape de sa mise au rebut."
        ),
        f"{ANSSI_AD} : comptes d'ordinateurs inactifs",
        cap=15,
    ),
    _rule(
        "S-PWD-NEVER-EXPIRES",
        STALE,
        3,
        1,
        _("Mots de passe qui n'expirent jamais"),
        _(
            "Comptes utilisateurs actifs et non privilégiés portant l'option « le mot de passe n'expire jamais » : leur mot de passe peut rester le même pendant des années, y compris après une fuite."
        ),
        _(
            "Retirer l'option (Set-ADUser -PasswordNeverExpires $false) ; pour les comptes de service, utiliser des comptes de service administrés (gMSA) dont le mot de passe tourne seul."
        ),
        f"{ANSSI_AD} : comptes dont le mot de passe n'expire jamais",
        cap=15,
    ),
    _rule(
        "S-PWD-NOT-REQUIRED",
        STALE,
        2,
        2,
        _("Comptes pouvant avoir un mot de passe vide"),
        _(
            "Comptes actifs portant l'attribut PASSWD_NOTREQD : la politique de mot de passe ne s'applique pas à eux et leur mot de passe peut être vide."
        ),
        _(
            "Retirer l'attribut (Set-ADAccountControl -PasswordNotRequired $false) puis définir un mot de passe conforme à la politique du domaine."
        ),
        f"{ANSSI_AD} : comptes avec mot de passe non requis",
        cap=15,
    ),
    _rule(
        "S-REVERSIBLE-PWD",
        STALE,
        1,
        5,
        _("Mots de passe stockés de façon réversible"),
        _(
            "Comptes actifs dont le mot de passe est stocké avec un chiffrement réversible : quiconque lit la base de l'annuaire retrouve le mot de passe en clair."
        ),
        _(
            "Retirer l'option (Set-ADAccountControl -AllowReversiblePasswordEncryption $false) puis faire changer le mot de passe, l'ancien restant lisible tant qu'il n'est pas changé."
        ),
        f"{ANSSI_AD} : mots de passe réversibles",
        cap=20,
    ),
    _rule(
        "S-DES-ONLY",
        STALE,
        2,
        5,
        _("Chiffrement Kerberos DES"),
        _(
            "Comptes actifs limités au chiffrement DES pour Kerberos, algorithme cassé depuis longtemps et désactivé par défaut depuis Windows 7 et Windows Server 2008 R2."
        ),
        _(
            "Retirer l'option « utiliser les types de chiffrement DES » (Set-ADAccountControl -UseDESKeyOnly $false), autoriser AES dans msDS-SupportedEncryptionTypes et changer le mot de passe pour générer les clés AES."
        ),
        f"{ANSSI_AD} : algorithmes Kerberos faibles",
        cap=15,
    ),
    _rule(
        "S-NO-PREAUTH",
        STALE,
        2,
        5,
        _("Comptes sans pré-authentification Kerberos"),
        _(
            "Comptes utilisateurs actifs non privilégiés dispensés de pré-authentification Kerberos : n'importe qui peut obtenir une réponse chiffrée avec leur mot de passe et la casser hors ligne (AS-REP roasting)."
        ),
        _(
            "Retirer l'option « ne pas exiger la pré-authentification Kerberos » (Set-ADAccountControl -DoesNotRequirePreAuth $false) ; si une application l'exige, la remplacer ou lui donner un mot de passe long et aléatoire."
        ),
        f"{ANSSI_AD} : comptes sans pré-authentification Kerberos",
        cap=20,
    ),
    _rule(
        "S-OBSOLETE-OS",
        STALE,
        2,
        2,
        _("Systèmes d'exploitation obsolètes"),
        _(
            "Ordinateurs actifs dont le système n'a plus de correctifs de sécurité de son éditeur : une vulnérabilité publiée n'y sera jamais corrigée."
        ),
        _(
            "Migrer ou retirer ces machines ; à défaut (équipement biomédical certifié), les isoler dans un réseau dédié, n'y autoriser que les flux nécessaires, souscrire le support étendu s'il existe et inscrire le risque au plan d'action."
        ),
        f"{ANSSI_AD} : systèmes d'exploitation obsolètes",
        cap=30,
    ),
    _rule(
        "S-SID-HISTORY",
        STALE,
        3,
        5,
        _("Comptes avec un historique de SID"),
        _(
            "Comptes portant l'attribut sIDHistory, hérité d'une migration : ces SID donnent les droits de l'ancien compte et servent à dissimuler des privilèges."
        ),
        _(
            "Une fois la migration terminée et les droits des ressources traduits, vider l'attribut (Set-ADUser -Remove @{sIDHistory=…}) et activer le filtrage des SID sur les approbations."
        ),
        f"{ANSSI_AD} : sIDHistory",
        cap=15,
    ),
    _rule(
        "S-PRIMARY-GROUP",
        STALE,
        3,
        5,
        _("Groupe principal inhabituel"),
        _(
            "Comptes dont le groupe principal (primaryGroupID) n'est pas celui par défaut (Utilisateurs du domaine, Ordinateurs du domaine) : cette appartenance n'apparaît pas dans l'attribut member du groupe et échappe aux revues."
        ),
        _(
            "Remettre le groupe principal par défaut (Set-ADUser -Replace @{primaryGroupID=513}, 515 pour un ordinateur) et donner l'appartenance voulue par l'attribut member."
        ),
        f"{ANSSI_AD} : primaryGroupID",
        cap=15,
    ),
    _rule(
        "S-FUNCTIONAL-LEVEL",
        STALE,
        3,
        10,
        _("Niveau fonctionnel du domaine ancien"),
        _(
            "Le niveau fonctionnel du domaine est inférieur à Windows Server 2016 : des protections récentes (groupe Utilisateurs protégés complet, expiration des jetons NTLM des comptes sensibles, etc.) ne sont pas disponibles."
        ),
        _(
            "Remplacer les contrôleurs de domaine anciens puis relever le niveau fonctionnel (Set-ADDomainMode -DomainMode Windows2016Domain) après avoir vérifié la compatibilité des applications."
        ),
        f"{ANSSI_AD} : niveau fonctionnel",
    ),
    # Privileged accounts ------------------------------------------------------------------------
    _rule(
        "P-ADMINS-TOO-MANY",
        PRIVILEGED,
        2,
        10,
        _("Trop de comptes à privilèges"),
        _(
            "Plus de 10 comptes actifs sont membres, directement ou par groupes imbriqués, des groupes d'administration du domaine : chacun est une cible dont la compromission donne le domaine."
        ),
        _(
            "Revoir chaque appartenance aux groupes d'administration, retirer les comptes qui n'en ont pas besoin au quotidien, déléguer les tâches courantes par des droits ciblés et appliquer le modèle d'administration en tiers."
        ),
        f"{ANSSI_AD} : nombre de comptes privilégiés (vuln1_privileged_members)",
    ),
    _rule(
        "P-ADMIN-INACTIVE",
        PRIVILEGED,
        2,
        5,
        _("Comptes à privilèges inactifs"),
        _(
            "Comptes à privilèges actifs sans connexion depuis plus de 90 jours : des droits d'administration que personne n'utilise ni ne surveille."
        ),
        _(
            "Retirer ces comptes des groupes d'administration puis les désactiver (Disable-ADAccount) ; revoir les appartenances aux groupes privilégiés au moins chaque trimestre."
        ),
        f"{ANSSI_AD} : comptes privilégiés inactifs",
        cap=20,
    ),
    _rule(
        "P-ADMIN-PWD-OLD",
        PRIVILEGED,
        1,
        10,
        _("Mots de passe anciens de comptes à privilèges"),
        _(
            "Comptes à privilèges actifs dont le mot de passe n'a pas changé depuis plus de 3 ans : l'ANSSI demande de renouveler le mot de passe des comptes privilégiés au moins tous les 3 ans."
        ),
        _(
            "Changer ces mots de passe (16 caractères au moins), de préférence en passant à une authentification forte (carte à puce) pour l'administration ; planifier le renouvellement."
        ),
        f"{ANSSI_AD} : mot de passe des comptes privilégiés (vuln1_password_change_priv)",
        cap=30,
    ),
    _rule(
        "P-ADMIN-PWD-NEVER-EXPIRES",
        PRIVILEGED,
        1,
        5,
        _("Comptes à privilèges dont le mot de passe n'expire jamais"),
        _("Comptes à privilèges actifs portant l'option « le mot de passe n'expire jamais »."),
        _(
            "Retirer l'option (Set-ADUser -PasswordNeverExpires $false) et appliquer aux administrateurs une stratégie de mot de passe affinée (PSO) avec une durée de validité."
        ),
        f"{ANSSI_AD} : comptes privilégiés sans expiration (vuln1_dont_expire_priv)",
        cap=20,
    ),
    _rule(
        "P-ADMIN-SPN",
        PRIVILEGED,
        1,
        20,
        _("Comptes à privilèges avec un SPN (Kerberoasting)"),
        _(
            "Comptes à privilèges portant un nom de principal de service : tout utilisateur du domaine peut demander un ticket chiffré avec leur mot de passe et le casser hors ligne."
        ),
        _(
            "Retirer le SPN du compte privilégié (Set-ADUser -ServicePrincipalNames @{Remove=…}) et faire tourner le service sous un compte de service administré (gMSA) sans privilège d'administration."
        ),
        f"{ANSSI_AD} : comptes privilégiés avec SPN (vuln1_spn_priv)",
        cap=40,
    ),
    _rule(
        "P-ADMIN-NO-PREAUTH",
        PRIVILEGED,
        1,
        20,
        _("Comptes à privilèges sans pré-authentification Kerberos"),
        _(
            "Comptes à privilèges dispensés de pré-authentification Kerberos : leur mot de passe peut être attaqué hors ligne sans aucun compte."
        ),
        _(
            "Retirer l'option immédiatement (Set-ADAccountControl -DoesNotRequirePreAuth $false) puis changer le mot de passe du compte."
        ),
        f"{ANSSI_AD} : pré-authentification des comptes privilégiés (vuln1_kerberos_properties_preauth_priv)",
        cap=40,
    ),
    _rule(
        "P-UNCONSTRAINED-DELEGATION",
        PRIVILEGED,
        2,
        5,
        _("Délégation Kerberos non contrainte"),
        _(
            "Comptes (hors contrôleurs de domaine) autorisés à la délégation non contrainte : ils reçoivent les tickets des utilisateurs qui s'y connectent, administrateurs compris, et peuvent les réutiliser partout."
        ),
        _(
            "Remplacer par une délégation contrainte vers les seuls services nécessaires (msDS-AllowedToDelegateTo) ou par la délégation basée sur les ressources, puis retirer l'option (Set-ADAccountControl -TrustedForDelegation $false)."
        ),
        f"{ANSSI_AD} : délégation non contrainte",
        cap=25,
    ),
    _rule(
        "P-ADMIN-DELEGABLE",
        PRIVILEGED,
        3,
        2,
        _("Comptes à privilèges délégables"),
        _(
            "Comptes à privilèges ni marqués « le compte est sensible et ne peut pas être délégué » ni membres du groupe Utilisateurs protégés : un serveur en délégation peut usurper leur identité."
        ),
        _(
            "Cocher « le compte est sensible et ne peut pas être délégué » (Set-ADAccountControl -AccountNotDelegated $true) ou ajouter le compte au groupe Utilisateurs protégés."
        ),
        f"{ANSSI_AD} : comptes privilégiés délégables",
        cap=20,
    ),
    _rule(
        "P-PROTECTED-USERS",
        PRIVILEGED,
        3,
        1,
        _("Comptes à privilèges hors du groupe Utilisateurs protégés"),
        _(
            "Comptes utilisateurs à privilèges absents du groupe Utilisateurs protégés, qui interdit NTLM, DES, RC4 et la délégation et limite la durée des tickets."
        ),
        _(
            'Ajouter les comptes d\'administration au groupe Utilisateurs protégés (Add-ADGroupMember "Protected Users") après un essai sur un compte, sans y mettre les comptes de service ni les ordinateurs.'
        ),
        f"{ANSSI_AD} : groupe Utilisateurs protégés (vuln3_protected_users)",
        cap=10,
    ),
    _rule(
        "P-KRBTGT-PWD-OLD",
        PRIVILEGED,
        2,
        20,
        _("Mot de passe du compte krbtgt ancien"),
        _(
            "Le mot de passe du compte krbtgt, qui signe tous les tickets Kerberos, n'a pas changé depuis plus d'un an : un attaquant qui l'a obtenu un jour peut toujours forger des tickets (golden ticket)."
        ),
        _(
            "Changer le mot de passe du compte krbtgt deux fois, en laissant la réplication et la durée de vie des tickets (10 heures par défaut) s'écouler entre les deux, avec le script de réinitialisation publié par Microsoft ; recommencer chaque année et après toute compromission."
        ),
        f"{ANSSI_AD} : mot de passe du compte krbtgt",
    ),
    _rule(
        "P-SCHEMA-ADMINS",
        PRIVILEGED,
        3,
        10,
        _("Groupe Administrateurs du schéma non vide"),
        _(
            "Le groupe Administrateurs du schéma a des membres alors que ses droits ne servent qu'aux rares extensions du schéma."
        ),
        _(
            "Vider le groupe et n'y ajouter un compte que le temps d'une modification du schéma, tracée."
        ),
        f"{ANSSI_AD} : groupes privilégiés vides par défaut",
    ),
    _rule(
        "P-OPERATORS",
        PRIVILEGED,
        3,
        5,
        _("Membres des groupes d'opérateurs"),
        _(
            "Comptes membres des groupes Opérateurs de compte, de serveur, d'impression ou de sauvegarde : ces groupes donnent des moyens détournés de devenir administrateur du domaine (ouverture de session sur les contrôleurs, sauvegarde de la base, pilotes)."
        ),
        _(
            "Vider ces groupes et déléguer les tâches voulues par des droits ciblés sur les OU concernées."
        ),
        f"{ANSSI_AD} : groupes d'opérateurs",
        cap=20,
    ),
    # Trusts -------------------------------------------------------------------------------------
    _rule(
        "T-SID-FILTERING",
        TRUSTS,
        2,
        20,
        _("Approbations sans filtrage des SID"),
        _(
            "Approbations sortantes vers un autre domaine ou une autre forêt sans filtrage des SID (quarantaine) ou avec l'historique des SID autorisé : un administrateur de l'autre domaine peut se donner les droits d'administrateur de celui-ci."
        ),
        _(
            "Activer le filtrage des SID (netdom trust /quarantine:yes pour une approbation externe, /enablesidhistory:no pour une approbation de forêt) après avoir terminé les migrations qui en avaient besoin."
        ),
        f"{ANSSI_AD} : filtrage des SID sur les approbations",
        cap=40,
    ),
    _rule(
        "T-INACTIVE",
        TRUSTS,
        3,
        10,
        _("Approbations inactives"),
        _(
            "Approbations dont le mot de passe n'a pas changé depuis plus de 45 jours alors qu'il tourne tous les 30 jours : le domaine partenaire n'existe probablement plus."
        ),
        _(
            "Vérifier avec le domaine partenaire puis supprimer l'approbation (Remove-ADTrust ou la console Domaines et approbations)."
        ),
        f"{ANSSI_AD} : approbations obsolètes",
        cap=20,
    ),
    _rule(
        "T-DOWNLEVEL",
        TRUSTS,
        2,
        10,
        _("Approbations de type ancien (NT4)"),
        _(
            "Approbations de bas niveau, sans Kerberos, vers un domaine Windows NT ou non Active Directory."
        ),
        _("Supprimer l'approbation ou la recréer vers un domaine Active Directory à jour."),
        f"{ANSSI_AD} : approbations de bas niveau",
        cap=20,
    ),
    _rule(
        "T-TGT-DELEGATION",
        TRUSTS,
        2,
        20,
        _("Délégation de tickets à travers une approbation"),
        _(
            "Approbations autorisant la délégation des tickets Kerberos (TGT) : un serveur en délégation non contrainte de l'autre forêt peut capturer les tickets des administrateurs de celle-ci."
        ),
        _(
            "Désactiver la délégation de TGT sur l'approbation (netdom trust /EnableTGTDelegation:no)."
        ),
        f"{ANSSI_AD} : délégation à travers les approbations",
        cap=40,
    ),
    # Anomalies ----------------------------------------------------------------------------------
    _rule(
        "A-MIN-PWD-LENGTH",
        ANOMALIES,
        2,
        10,
        _("Longueur minimale des mots de passe insuffisante"),
        _(
            "La politique de mot de passe du domaine accepte des mots de passe de moins de 8 caractères."
        ),
        _(
            "Porter la longueur minimale à 12 caractères au moins dans la stratégie Default Domain Policy (Set-ADDefaultDomainPasswordPolicy -MinPasswordLength 12) et à 16 pour les administrateurs par une stratégie affinée (PSO), comme le recommande l'ANSSI."
        ),
        "ANSSI, recommandations relatives à l'authentification multifacteur et aux mots de passe (2021)",
    ),
    _rule(
        "A-NO-LOCKOUT",
        ANOMALIES,
        4,
        10,
        _("Pas de verrouillage des comptes"),
        _(
            "La politique du domaine ne verrouille jamais un compte après des échecs d'authentification : les mots de passe peuvent être essayés sans limite."
        ),
        _(
            "Définir un seuil de verrouillage (Set-ADDefaultDomainPasswordPolicy -LockoutThreshold 10 -LockoutDuration 00:15:00 -LockoutObservationWindow 00:15:00) en gardant un seuil assez haut pour ne pas bloquer les services."
        ),
        "ANSSI, recommandations relatives à l'authentification multifacteur et aux mots de passe (2021)",
    ),
    _rule(
        "A-REVERSIBLE-POLICY",
        ANOMALIES,
        1,
        20,
        _("Politique de mot de passe réversible"),
        _(
            "La politique du domaine ou une stratégie affinée stocke les mots de passe avec un chiffrement réversible."
        ),
        _(
            "Désactiver « enregistrer les mots de passe en utilisant un chiffrement réversible » dans la Default Domain Policy et les PSO (Set-ADDefaultDomainPasswordPolicy -ReversibleEncryptionEnabled $false) puis faire changer les mots de passe."
        ),
        f"{ANSSI_AD} : mots de passe réversibles",
    ),
    _rule(
        "A-MACHINE-ACCOUNT-QUOTA",
        ANOMALIES,
        4,
        5,
        _("Tout utilisateur peut joindre des machines au domaine"),
        _(
            "L'attribut ms-DS-MachineAccountQuota est supérieur à 0 : tout utilisateur authentifié peut créer des comptes d'ordinateur, point de départ de plusieurs attaques d'élévation de privilèges."
        ),
        _(
            'Mettre ms-DS-MachineAccountQuota à 0 (Set-ADDomain -Replace @{"ms-DS-MachineAccountQuota"=0}) et déléguer la jonction au domaine à un groupe dédié sur l\'OU des ordinateurs.'
        ),
        f"{ANSSI_AD} : ms-DS-MachineAccountQuota",
    ),
    _rule(
        "A-LAPS-MISSING",
        ANOMALIES,
        2,
        15,
        _("Mots de passe d'administrateur local non gérés (LAPS)"),
        _(
            "LAPS n'est pas déployé, ou des ordinateurs actifs n'ont pas de mot de passe d'administrateur local géré : un même mot de passe local sur de nombreuses machines permet de passer de l'une à l'autre."
        ),
        _(
            "Déployer Windows LAPS (intégré à Windows depuis avril 2023 : Update-LapsADSchema puis une GPO « Configurer la sauvegarde du mot de passe ») sur tous les postes et serveurs membres."
        ),
        f"{ANSSI_AD} : LAPS",
    ),
    _rule(
        "A-GUEST-ENABLED",
        ANOMALIES,
        2,
        15,
        _("Compte Invité activé"),
        _("Le compte Invité du domaine est activé : il permet des accès sans identité réelle."),
        _("Désactiver le compte Invité (Disable-ADAccount -Identity Guest)."),
        f"{ANSSI_AD} : compte invité",
    ),
    _rule(
        "A-PRE-WIN2000",
        ANOMALIES,
        3,
        10,
        _("Accès anonyme par le groupe de compatibilité pré-Windows 2000"),
        _(
            "Le groupe « Accès compatible pré-Windows 2000 » contient Tout le monde ou Anonyme : l'annuaire peut être lu sans authentification."
        ),
        _(
            "Retirer Tout le monde et Anonyme du groupe (Remove-ADGroupMember) en n'y laissant, si besoin, que Utilisateurs authentifiés."
        ),
        f"{ANSSI_AD} : groupe pré-Windows 2000",
    ),
)

RULES: dict[str, Rule] = {rule.id: rule for rule in _CATALOGUE}


def catalogue() -> list[Rule]:
    return list(_CATALOGUE)


# Privileged accounts -----------------------------------------------------------------------------
def name_of(account: Account | Group) -> str:
    return account.sam or account.dn


def _well_known(group: Group, domain_sid: str):
    """The SID string or domain RID that identifies a well-known group, or None."""
    if group.sid:
        if group.sid.startswith("S-1-5-32-"):
            return group.sid
        group_rid = rid(group.sid)
        head = group.sid.rpartition("-")[0]
        # Enterprise and Schema Admins live in the forest root, whose SID may differ.
        if group_rid in (RID_SCHEMA_ADMINS, RID_ENTERPRISE_ADMINS) or not domain_sid:
            return group_rid
        return group_rid if head == domain_sid else None
    return ADMIN_GROUP_NAMES.get(group.sam.lower())


class Membership:
    """Nested group membership of a snapshot, resolved once.

    `members(group)` are the keys of every account reached from the group through nested
    groups, plus the accounts whose primaryGroupID is the group or a nested one's RID.
    """

    def __init__(self, snapshot: Snapshot):
        self.groups = {key(g.dn): g for g in snapshot.groups}
        self.children: dict[str, set[str]] = defaultdict(set)
        for group in snapshot.groups:
            gkey = key(group.dn)
            for member in group.members:
                self.children[gkey].add(key(member))
        self.by_primary: dict[int, list[str]] = defaultdict(list)
        for account in (*snapshot.users, *snapshot.computers):
            akey = key(account.dn)
            for parent in account.member_of:
                self.children[key(parent)].add(akey)
            if account.primary_group_id:
                self.by_primary[account.primary_group_id].append(akey)
        self.well_known: dict[object, list[str]] = defaultdict(list)
        for gkey, group in self.groups.items():
            marker = _well_known(group, snapshot.domain.sid)
            if marker is not None:
                self.well_known[marker].append(gkey)

    def group_keys(self, marker) -> list[str]:
        return self.well_known.get(marker, [])

    def members(self, *group_keys: str) -> tuple[set[str], set[str]]:
        """(account keys, group keys) reached from these groups, cycles included once."""
        seen_groups: set[str] = set()
        accounts: set[str] = set()
        stack = [g for g in group_keys if g in self.groups]
        while stack:
            gkey = stack.pop()
            if gkey in seen_groups:
                continue
            seen_groups.add(gkey)
            group_rid = rid(self.groups[gkey].sid) if self.groups[gkey].sid else None
            if group_rid is not None:
                accounts.update(self.by_primary.get(group_rid, ()))
            for child in self.children.get(gkey, ()):
                if child in self.groups:
                    stack.append(child)
                else:
                    accounts.add(child)
        return accounts, seen_groups


def privileged_groups(membership: Membership) -> list[str]:
    keys: list[str] = []
    for marker in (*BUILTIN_ADMIN_SIDS, *DOMAIN_ADMIN_RIDS):
        keys.extend(membership.group_keys(marker))
    return keys


def privileged_accounts(snapshot: Snapshot, membership: Membership | None = None) -> set[str]:
    """Keys (`key(dn)`) of the direct or nested members of the administration groups."""
    membership = membership or Membership(snapshot)
    return membership.members(*privileged_groups(membership))[0]


# Evaluation --------------------------------------------------------------------------------------
def _iso(value: dt.datetime | None) -> str | None:
    return value.isoformat() if value else None


def _older(value: dt.datetime | None, limit: dt.datetime) -> bool:
    return value is None or value < limit


class _Collector:
    def __init__(self):
        self.objects: dict[str, list[str]] = defaultdict(list)
        self.details: dict[str, dict] = defaultdict(dict)

    def add(self, rule_id: str, name: str) -> None:
        self.objects[rule_id].append(name)

    def oldest(self, rule_id: str, label: str, value: dt.datetime | None) -> None:
        """Keep the oldest date seen for a finding's details (None = never)."""
        details = self.details[rule_id]
        if value is None:
            details[f"{label}_never"] = details.get(f"{label}_never", 0) + 1
            return
        current = details.get(label)
        if current is None or value.isoformat() < current:
            details[label] = value.isoformat()

    def findings(self) -> list[Finding]:
        out = []
        for rule in _CATALOGUE:
            names = self.objects.get(rule.id)
            if names:
                details = dict(self.details.get(rule.id, {}))
                out.append(Finding(rule=rule, objects=sorted(set(names)), details=details))
        return out


def _des_only(account: Account) -> bool:
    if account.has(UAC_USE_DES_KEY_ONLY):
        return True
    types = account.encryption_types
    return bool(types and types & ENC_DES and not types & ENC_STRONG)


def _is_krbtgt(account: Account) -> bool:
    return rid(account.sid) == RID_KRBTGT if account.sid else account.sam.lower() == "krbtgt"


def _is_guest(account: Account) -> bool:
    if account.sid:
        return rid(account.sid) == RID_GUEST
    return account.sam.lower() in ("guest", "invité")


def evaluate(snapshot: Snapshot, *, now: dt.datetime | None = None, releases=None) -> list[Finding]:
    """Every rule that fires on this snapshot, in catalogue order.

    `now` defaults to the snapshot's collection time, so that an old export is judged as it was.
    `releases` are the end-of-life releases (eol.ReleaseSpec or EolRelease); by default the
    dataset shipped with Hygie.
    """
    now = now or snapshot.collected_at
    if releases is None:
        releases = eol.builtin_releases()
    domain = snapshot.domain
    out = _Collector()
    membership = Membership(snapshot)
    admins = membership.members(*privileged_groups(membership))[0]
    protected = membership.members(*membership.group_keys(RID_PROTECTED_USERS))[0]

    inactive_limit = now - dt.timedelta(days=INACTIVE_DAYS)
    admin_inactive_limit = now - dt.timedelta(days=ADMIN_INACTIVE_DAYS)
    admin_pwd_limit = now - dt.timedelta(days=ADMIN_PWD_DAYS)
    krbtgt_limit = now - dt.timedelta(days=KRBTGT_PWD_DAYS)
    enabled_admins = 0
    names: dict[str, str] = {}  # key → name, for the members of groups

    for user in snapshot.users:
        name = name_of(user)
        ukey = key(user.dn)
        names[ukey] = name
        if _is_guest(user) and user.enabled:
            out.add("A-GUEST-ENABLED", name)
        if _is_krbtgt(user):
            if _older(user.pwd_last_set, krbtgt_limit):
                out.add("P-KRBTGT-PWD-OLD", name)
                out.details["P-KRBTGT-PWD-OLD"] = {
                    "pwd_last_set": _iso(user.pwd_last_set),
                    "threshold_days": KRBTGT_PWD_DAYS,
                }
            continue
        if user.sid_history:
            out.add("S-SID-HISTORY", name)
        if (
            user.primary_group_id
            and user.primary_group_id not in USER_PRIMARY_GROUPS
            and not (user.primary_group_id == 514 and _is_guest(user))
        ):
            out.add("S-PRIMARY-GROUP", name)
        if not user.enabled:
            continue
        is_admin = ukey in admins
        if _older(user.last_logon, inactive_limit) and _older(user.created, inactive_limit):
            out.add("S-INACTIVE-USER", name)
            out.oldest("S-INACTIVE-USER", "oldest_logon", user.last_logon)
        if user.has(UAC_PASSWD_NOTREQD):
            out.add("S-PWD-NOT-REQUIRED", name)
        if user.has(UAC_ENCRYPTED_TEXT_PWD_ALLOWED):
            out.add("S-REVERSIBLE-PWD", name)
        if _des_only(user):
            out.add("S-DES-ONLY", name)
        if user.has(UAC_TRUSTED_FOR_DELEGATION):
            out.add("P-UNCONSTRAINED-DELEGATION", name)
        if not is_admin:
            if user.has(UAC_DONT_EXPIRE_PASSWORD):
                out.add("S-PWD-NEVER-EXPIRES", name)
            if user.has(UAC_DONT_REQ_PREAUTH):
                out.add("S-NO-PREAUTH", name)
            continue
        enabled_admins += 1
        out.add("P-ADMINS-TOO-MANY", name)
        if _older(user.last_logon, admin_inactive_limit) and _older(
            user.created, admin_inactive_limit
        ):
            out.add("P-ADMIN-INACTIVE", name)
            out.oldest("P-ADMIN-INACTIVE", "oldest_logon", user.last_logon)
        if user.pwd_last_set is not None and user.pwd_last_set < admin_pwd_limit:
            out.add("P-ADMIN-PWD-OLD", name)
            out.oldest("P-ADMIN-PWD-OLD", "oldest_password", user.pwd_last_set)
        if user.has(UAC_DONT_EXPIRE_PASSWORD):
            out.add("P-ADMIN-PWD-NEVER-EXPIRES", name)
        if user.spns:
            out.add("P-ADMIN-SPN", name)
        if user.has(UAC_DONT_REQ_PREAUTH):
            out.add("P-ADMIN-NO-PREAUTH", name)
        in_protected = ukey in protected
        if not in_protected:
            out.add("P-PROTECTED-USERS", name)
            if not user.has(UAC_NOT_DELEGATED):
                out.add("P-ADMIN-DELEGABLE", name)

    cache: dict[tuple[str, str], object] = {}
    obsolete_labels: dict[str, int] = defaultdict(int)
    laps_missing: list[str] = []
    for computer in snapshot.computers:
        name = name_of(computer)
        ckey = key(computer.dn)
        names[ckey] = name
        if computer.sid_history:
            out.add("S-SID-HISTORY", name)
        if not computer.enabled:
            continue
        is_dc = computer.is_dc
        expected = DC_PRIMARY_GROUPS if is_dc else COMPUTER_PRIMARY_GROUPS
        if computer.primary_group_id and computer.primary_group_id not in expected:
            out.add("S-PRIMARY-GROUP", name)
        if computer.has(UAC_PASSWD_NOTREQD):
            out.add("S-PWD-NOT-REQUIRED", name)
        if computer.has(UAC_ENCRYPTED_TEXT_PWD_ALLOWED):
            out.add("S-REVERSIBLE-PWD", name)
        if _des_only(computer):
            out.add("S-DES-ONLY", name)
        if computer.os and releases:
            os_key = (computer.os, computer.os_version)
            if os_key not in cache:
                cache[os_key] = eol.match(computer.os, computer.os_version, releases)
            release = cache[os_key]
            ends = getattr(release, "eol_on", None) if release is not None else None
            if ends is not None and ends <= now.date():
                out.add("S-OBSOLETE-OS", name)
                obsolete_labels[release.label] += 1
        if ckey in admins:
            enabled_admins += 1
            out.add("P-ADMINS-TOO-MANY", name)
        if is_dc:
            continue
        if _older(computer.last_logon, inactive_limit) and _older(computer.created, inactive_limit):
            out.add("S-INACTIVE-COMPUTER", name)
            out.oldest("S-INACTIVE-COMPUTER", "oldest_logon", computer.last_logon)
        if computer.has(UAC_TRUSTED_FOR_DELEGATION):
            out.add("P-UNCONSTRAINED-DELEGATION", name)
        if computer.laps_expiry is None and not computer.laps_managed:
            laps_missing.append(name)

    # Per-domain rules ----------------------------------------------------------------------------
    if enabled_admins <= MAX_ADMINS:
        out.objects.pop("P-ADMINS-TOO-MANY", None)
    else:
        out.details["P-ADMINS-TOO-MANY"] = {"count": enabled_admins, "threshold": MAX_ADMINS}
    for rule_id, days in (
        ("S-INACTIVE-USER", INACTIVE_DAYS),
        ("S-INACTIVE-COMPUTER", INACTIVE_DAYS),
        ("P-ADMIN-INACTIVE", ADMIN_INACTIVE_DAYS),
        ("P-ADMIN-PWD-OLD", ADMIN_PWD_DAYS),
    ):
        if rule_id in out.objects:
            out.details[rule_id]["threshold_days"] = days
    if obsolete_labels:
        out.details["S-OBSOLETE-OS"] = {"by_release": dict(sorted(obsolete_labels.items()))}

    domain_name = domain.dns_name or domain.dn
    if domain.functional_level is not None and domain.functional_level < FUNCTIONAL_LEVEL_2016:
        out.add("S-FUNCTIONAL-LEVEL", domain_name)
        out.details["S-FUNCTIONAL-LEVEL"] = {
            "level": domain.functional_level,
            "label": FUNCTIONAL_LEVELS.get(domain.functional_level, str(domain.functional_level)),
        }

    # Members outside the snapshot (foreign principals) are named by their DN.
    schema, _groups = membership.members(*membership.group_keys(RID_SCHEMA_ADMINS))
    for account_key in schema:
        out.add("P-SCHEMA-ADMINS", names.get(account_key, account_key))
    operators: dict[str, list[str]] = {}
    for sid in OPERATOR_SIDS:
        for gkey in membership.group_keys(sid):
            members = membership.members(gkey)[0]
            if members:
                member_names = sorted(names.get(k, k) for k in members)
                operators[membership.groups[gkey].sam or gkey] = member_names
                for member_name in member_names:
                    out.add("P-OPERATORS", member_name)
    if operators:
        out.details["P-OPERATORS"] = {"groups": operators}

    _trusts(snapshot, now, out)
    _anomalies(snapshot, membership, out, laps_missing)
    # Rules the source cannot support (e.g. a BloodHound export has no trust dates) are left
    # out rather than judged on default values (decision 0702).
    return [f for f in out.findings() if f.rule.id not in snapshot.not_judged]


def _trusts(snapshot: Snapshot, now: dt.datetime, out: _Collector) -> None:
    inactive_limit = now - dt.timedelta(days=TRUST_INACTIVE_DAYS)
    for trust in snapshot.trusts:
        name = trust.partner or trust.flat_name
        attributes = trust.attributes
        if (
            trust.direction & TRUST_DIRECTION_OUTBOUND
            and not attributes & TRUST_ATTRIBUTE_WITHIN_FOREST
        ):
            if attributes & TRUST_ATTRIBUTE_FOREST_TRANSITIVE:
                unfiltered = bool(attributes & TRUST_ATTRIBUTE_TREAT_AS_EXTERNAL)
            else:
                unfiltered = not attributes & TRUST_ATTRIBUTE_QUARANTINED_DOMAIN
            if unfiltered:
                out.add("T-SID-FILTERING", name)
        if trust.changed is not None and trust.changed < inactive_limit:
            out.add("T-INACTIVE", name)
            out.oldest("T-INACTIVE", "oldest_change", trust.changed)
            out.details["T-INACTIVE"]["threshold_days"] = TRUST_INACTIVE_DAYS
        if trust.trust_type == TRUST_TYPE_DOWNLEVEL:
            out.add("T-DOWNLEVEL", name)
        if attributes & TRUST_ATTRIBUTE_CROSS_ORGANIZATION_ENABLE_TGT_DELEGATION:
            out.add("T-TGT-DELEGATION", name)


def _anomalies(snapshot, membership, out, laps_missing) -> None:
    domain = snapshot.domain
    domain_name = domain.dns_name or domain.dn
    if domain.min_pwd_length < MIN_PWD_LENGTH:
        out.add("A-MIN-PWD-LENGTH", domain_name)
        out.details["A-MIN-PWD-LENGTH"] = {
            "min_length": domain.min_pwd_length,
            "threshold": MIN_PWD_LENGTH,
        }
    if domain.lockout_threshold == 0:
        out.add("A-NO-LOCKOUT", domain_name)
    if domain.pwd_properties & DOMAIN_PASSWORD_STORE_CLEARTEXT:
        out.add("A-REVERSIBLE-POLICY", domain_name)
    for pso in snapshot.password_settings:
        if pso.reversible:
            out.add("A-REVERSIBLE-POLICY", pso.name)
    if domain.machine_account_quota > 0:
        out.add("A-MACHINE-ACCOUNT-QUOTA", domain_name)
        out.details["A-MACHINE-ACCOUNT-QUOTA"] = {"quota": domain.machine_account_quota}
    # No LAPS schema at all: every member computer shares an unmanaged local password. With
    # the schema (or when the source does not say), the computers without a managed password.
    schema_missing = snapshot.laps_legacy_schema is False and snapshot.laps_windows_schema is False
    if schema_missing or laps_missing:
        for name in laps_missing or [domain_name]:
            out.add("A-LAPS-MISSING", name)
        out.details["A-LAPS-MISSING"] = {
            "schema": not schema_missing,
            "computers": len(laps_missing),
        }
    for gkey in membership.group_keys(SID_PRE_WINDOWS_2000):
        for member in membership.children.get(gkey, ()):
            sid = principal_sid(snapshot, member)
            if sid in WORLD_NAMES:
                out.add("A-PRE-WIN2000", WORLD_NAMES[sid])


def category_scores(findings: list[Finding]) -> dict[str, int]:
    """Points per category, summed then capped at 100 (0 = nothing found)."""
    scores = dict.fromkeys(CATEGORIES, 0)
    for finding in findings:
        scores[finding.rule.category] = min(100, scores[finding.rule.category] + finding.points)
    return scores


def overall_score(findings: list[Finding]) -> int:
    """The worst category's score, as PingCastle does."""
    return max(category_scores(findings).values())


def maturity(findings: list[Finding]) -> int:
    """The lowest ANSSI level among the rules that fired; 5 when none did."""
    return min((finding.rule.level for finding in findings), default=5)

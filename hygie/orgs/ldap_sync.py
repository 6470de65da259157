"""Staff sync from an establishment's LDAP directory (OpenLDAP, Active Directory).

Read-only: one simple bind (over LDAPS or StartTLS in production), one paged search,
nothing ever written to the directory. People are matched by their directory
identifier (external id), then by e-mail, so a re-sync updates and never duplicates.
People of this source that the directory no longer returns are marked as gone
(inactive), never deleted. An entry that cannot be used is skipped and reported by
its DN; the rest of the directory is still synced
(docs/decisions/0101-ldap-sync-skips-bad-entries.md).
"""

from __future__ import annotations

import ssl
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta

import ldap3
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _
from ldap3.core import exceptions as ldap_errors

from hygie.core.audit import record_event
from hygie.orgs.models import DirectorySource, Organisation, StaffMember, StaffSource, SyncStatus
from hygie.orgs.staff_sync import (
    MAX_LENGTHS,
    MAX_REPORTED_PROBLEMS,
    OrgLookupError,
    OrgResolver,
    Problem,
    StaffRecord,
    apply_plan,
    check_email,
    parse_job_family,
    plan_upsert,
)

PAGE_SIZE = 500
PAGED_RESULTS_OID = "1.2.840.113556.1.4.319"
CONNECT_TIMEOUT = 10
RECEIVE_TIMEOUT = 60
# A claim older than this belongs to a worker that died mid-sync.
STALE_CLAIM = timedelta(hours=1)

RESULT_INVALID_CREDENTIALS = 49
RESULT_NO_SUCH_OBJECT = 32
RESULT_UNAVAILABLE_CRITICAL_EXTENSION = 12


class DirectoryError(Exception):
    """A failure that stops the whole sync; its message is shown to the user as is."""


@dataclass
class SyncReport:
    status: str = SyncStatus.SUCCESS
    entries: int = 0
    pages: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    deactivated: int = 0
    skipped: list[Problem] = field(default_factory=list)
    skipped_count: int = 0
    warnings: list[str] = field(default_factory=list)
    warning_count: int = 0
    created_orgs: list[str] = field(default_factory=list)
    error: str = ""

    def skip(self, problem: Problem) -> None:
        self.skipped_count += 1
        if len(self.skipped) < MAX_REPORTED_PROBLEMS:
            self.skipped.append(problem)

    def warn(self, text: str) -> None:
        self.warning_count += 1
        if len(self.warnings) < MAX_REPORTED_PROBLEMS:
            self.warnings.append(text)

    def as_dict(self) -> dict:
        return {
            "status": str(self.status),
            "entries": self.entries,
            "pages": self.pages,
            "created": self.created,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "deactivated": self.deactivated,
            "skipped": [str(problem) for problem in self.skipped],
            "skipped_count": self.skipped_count,
            "warnings": self.warnings,
            "warning_count": self.warning_count,
            "created_orgs": self.created_orgs,
            "error": self.error,
        }


# --- Reading the directory --------------------------------------------------------------------


def open_connection(source: DirectorySource) -> ldap3.Connection:
    """A bound, read-only connection, or DirectoryError with a message naming the cause."""
    # Without a version, ldap3 uses Python's default context (TLS 1.2+, system CAs or the
    # authority given here); the server's name is then checked against its certificate.
    tls = ldap3.Tls(validate=ssl.CERT_REQUIRED, ca_certs_data=source.ca_certificate.strip() or None)
    try:
        server = ldap3.Server(
            source.server_url, get_info=ldap3.NONE, tls=tls, connect_timeout=CONNECT_TIMEOUT
        )
    except ldap_errors.LDAPException as exc:
        raise DirectoryError(_("Adresse de serveur invalide : %(e)s") % {"e": exc}) from exc
    connection = ldap3.Connection(
        server,
        user=source.bind_dn or None,
        password=source.bind_password or None,
        authentication=ldap3.SIMPLE if source.bind_dn else ldap3.ANONYMOUS,
        read_only=True,
        raise_exceptions=False,
        receive_timeout=RECEIVE_TIMEOUT,
        auto_bind=ldap3.AUTO_BIND_NONE,
    )
    try:
        connection.open()
        if source.start_tls and not connection.start_tls():
            raise DirectoryError(
                _("Le serveur a refusé StartTLS : %(d)s")
                % {"d": connection.result.get("description", "")}
            )
        bound = connection.bind()
    except (ldap_errors.LDAPStartTLSError, ssl.SSLError) as exc:
        raise _tls_error(source, exc) from exc
    except ldap_errors.LDAPSocketOpenError as exc:
        if "ssl" in str(exc).lower() or "certificate" in str(exc).lower():
            raise _tls_error(source, exc) from exc
        raise DirectoryError(
            _("Serveur d'annuaire injoignable (%(url)s) : %(e)s")
            % {"url": source.server_url, "e": exc}
        ) from exc
    except ldap_errors.LDAPException as exc:
        raise DirectoryError(
            _("Erreur de communication avec l'annuaire : %(e)s") % {"e": exc}
        ) from exc
    if not bound:
        result = connection.result or {}
        connection.unbind()
        if result.get("result") == RESULT_INVALID_CREDENTIALS:
            raise DirectoryError(
                _(
                    "Connexion refusée par l'annuaire : DN de connexion ou mot de passe "
                    "incorrect (%(dn)s)."
                )
                % {"dn": source.bind_dn or _("connexion anonyme")}
            )
        raise DirectoryError(
            _("Connexion refusée par l'annuaire : %(d)s %(m)s")
            % {"d": result.get("description", ""), "m": result.get("message", "")}
        )
    return connection


def _tls_error(source: DirectorySource, exc: Exception) -> DirectoryError:
    return DirectoryError(
        _(
            "Échec de la négociation TLS avec %(url)s : %(e)s "
            "(le certificat de l'autorité qui signe celui du serveur est-il renseigné ?)"
        )
        % {"url": source.server_url, "e": exc}
    )


def attributes_to_read(source: DirectorySource) -> list[str]:
    return sorted({attr for attrs in source.attribute_map.values() for attr in attrs})


def search_entries(
    connection: ldap3.Connection,
    source: DirectorySource,
    report: SyncReport,
    *,
    page_size: int = PAGE_SIZE,
    progress: Callable[[int], None] | None = None,
):
    """Every entry of the search as (dn, {attribute (lower case): [values]}), page by page.

    The loop checks each page's result itself: ldap3's own paged generator stops
    quietly on an error, which would look like a short directory and deactivate people.
    """
    cookie = None
    attributes = attributes_to_read(source)
    while True:
        try:
            connection.search(
                source.base_dn,
                source.search_filter,
                search_scope=ldap3.SUBTREE,
                attributes=attributes,
                paged_size=page_size,
                paged_criticality=True,
                paged_cookie=cookie,
            )
        except ldap_errors.LDAPInvalidFilterError as exc:
            raise DirectoryError(
                _("Filtre de recherche invalide « %(f)s » : %(e)s")
                % {"f": source.search_filter, "e": exc}
            ) from exc
        except ldap_errors.LDAPException as exc:
            raise DirectoryError(
                _("Erreur pendant la recherche dans l'annuaire : %(e)s") % {"e": exc}
            ) from exc
        result = connection.result or {}
        code = result.get("result")
        if code == RESULT_NO_SUCH_OBJECT:
            raise DirectoryError(
                _("Base de recherche introuvable dans l'annuaire : %(base)s")
                % {"base": source.base_dn}
            )
        if code == RESULT_UNAVAILABLE_CRITICAL_EXTENSION:
            raise DirectoryError(
                _("L'annuaire ne prend pas en charge la pagination des résultats.")
            )
        if code != 0:
            raise DirectoryError(
                _("Recherche refusée par l'annuaire : %(d)s %(m)s")
                % {"d": result.get("description", ""), "m": result.get("message", "")}
            )
        report.pages += 1
        for entry in connection.response or []:
            if entry.get("type") != "searchResEntry":
                continue  # referrals are not followed
            raw = entry.get("raw_attributes") or {}
            yield (
                entry["dn"],
                {
                    name.casefold(): [value.decode("utf-8", "replace") for value in values]
                    for name, values in raw.items()
                },
            )
        if progress:
            progress(report.pages)
        cookie = (
            (result.get("controls") or {}).get(PAGED_RESULTS_OID, {}).get("value", {}).get("cookie")
        )
        if not cookie:
            return


# --- Entries to records -------------------------------------------------------------------------


def _first_value(attrs: dict, names: list[str]) -> tuple[str, str | None]:
    """(value, attribute it came from) for the first mapped attribute that has a value."""
    for name in names:
        for value in attrs.get(name.casefold(), []):
            if value.strip():
                return value.strip(), name
    return "", (names[0] if names else None)


class _EntryChecker:
    def __init__(self, source: DirectorySource, resolver: OrgResolver, report: SyncReport):
        self.mapping = source.attribute_map
        self.resolver = resolver
        self.report = report
        self.seen_ids: dict[str, str] = {}
        self.seen_emails: dict[str, str] = {}
        self.labels = {key: (names[0] if names else key) for key, names in self.mapping.items()}

    def check(self, dn: str, attrs: dict) -> tuple[StaffRecord | None, str]:
        """The record for an entry (or None when skipped) and the entry's identifier."""
        problems: list[Problem] = []
        values: dict = {}

        def fail(attribute, message):
            problems.append(Problem(dn, attribute, message, kind="entry"))

        external_id = ""
        for key in ("external_id", "last_name", "first_name", "email", "job_title"):
            names = self.mapping.get(key) or []
            if not names:
                continue
            value, attribute = _first_value(attrs, names)
            if len(value) > MAX_LENGTHS[key]:
                fail(
                    attribute,
                    _("valeur trop longue (%(max)s caractères au plus)")
                    % {"max": MAX_LENGTHS[key]},
                )
                continue
            if key in ("external_id", "last_name", "first_name") and not value:
                fail(attribute, _("attribut absent ou vide"))
                continue
            if key == "email" and value:
                try:
                    value = check_email(value)
                except ValueError as exc:
                    fail(attribute, str(exc))
                    continue
                first = self.seen_emails.setdefault(value.casefold(), dn)
                if first != dn:
                    fail(attribute, _("adresse déjà portée par %(dn)s") % {"dn": first})
                    continue
            if key == "external_id":
                external_id = value
                first = self.seen_ids.setdefault(value, dn)
                if first != dn:
                    fail(
                        attribute,
                        _("identifiant « %(v)s » déjà porté par %(dn)s")
                        % {"v": value, "dn": first},
                    )
                    continue
            values[key] = value

        names = self.mapping.get("job_family") or []
        if names:
            value, attribute = _first_value(attrs, names)
            family = parse_job_family(value) if value else None
            if family:
                values["job_family"] = family
            elif value:
                self.report.warn(
                    _(
                        "%(dn)s — attribut %(a)s : famille de métiers inconnue « %(v)s », laissée inchangée (« Autre » pour une nouvelle personne)"
                    )
                    % {"dn": dn, "a": attribute, "v": value}
                )

        site = None
        for key in ("site", "service"):
            names = self.mapping.get(key) or []
            if not names:
                continue
            value, attribute = _first_value(attrs, names)
            if not value:
                values[key] = None
                continue
            try:
                node = (
                    self.resolver.site(value)
                    if key == "site"
                    else self.resolver.service(value, site)
                )
            except OrgLookupError as exc:
                self.report.warn(
                    _("%(dn)s — attribut %(a)s : %(e)s, laissé inchangé")
                    % {"dn": dn, "a": attribute, "e": exc}
                )
                continue
            values[key] = node
            if key == "site":
                site = node
            elif site is None and not self.mapping.get("site"):
                values["site"] = self.resolver.site_of(node)

        for problem in problems:
            self.report.skip(problem)
        return (None if problems else StaffRecord(ref=dn, values=values)), external_id


# --- The sync ---------------------------------------------------------------------------------


def _claim(source: DirectorySource) -> bool:
    now = timezone.now()
    return bool(
        DirectorySource.objects.filter(pk=source.pk)
        .filter(Q(sync_started_at__isnull=True) | Q(sync_started_at__lt=now - STALE_CLAIM))
        .update(sync_started_at=now, last_sync_status=SyncStatus.RUNNING)
    )


def sync_directory(
    source: DirectorySource,
    *,
    actor=None,
    page_size: int = PAGE_SIZE,
    progress: Callable[[int], None] | None = None,
) -> SyncReport:
    """Read the directory and bring the establishment's staff in line with it."""
    report = SyncReport()
    if not _claim(source):
        report.status = SyncStatus.FAILED
        report.error = _("Une synchronisation de cet annuaire est déjà en cours.")
        return report
    try:
        _run(source, report, page_size=page_size, progress=progress)
    except DirectoryError as exc:
        report.status = SyncStatus.FAILED
        report.error = str(exc)
        report.created = report.updated = report.unchanged = report.deactivated = 0
    except Exception:
        report.status = SyncStatus.FAILED
        report.error = _("Erreur interne pendant la synchronisation : voir le journal du serveur.")
        raise
    finally:
        DirectorySource.objects.filter(pk=source.pk).update(
            sync_started_at=None,
            last_sync_at=timezone.now(),
            last_sync_status=report.status,
            last_sync_result=report.as_dict(),
        )
        source.refresh_from_db()
    record_event(
        "orgs.ldap_synced" if report.status != SyncStatus.FAILED else "orgs.ldap_sync_failed",
        actor=actor,
        target=source,
        organisation=source.establishment,
        details={
            key: value
            for key, value in report.as_dict().items()
            if key not in ("skipped", "warnings")
        },
    )
    return report


def _run(source: DirectorySource, report: SyncReport, *, page_size, progress) -> None:
    establishment = source.establishment
    connection = open_connection(source)
    try:
        entries = list(
            search_entries(connection, source, report, page_size=page_size, progress=progress)
        )
    finally:
        connection.unbind()
    report.entries = len(entries)

    with transaction.atomic():
        Organisation.objects.select_for_update().filter(pk=establishment.pk).first()
        resolver = OrgResolver(establishment, create_missing=source.create_services)
        checker = _EntryChecker(source, resolver, report)
        records, seen_ids = [], set()
        for dn, attrs in entries:
            record, external_id = checker.check(dn, attrs)
            if external_id:
                seen_ids.add(external_id)
            if record is not None:
                records.append(record)
        if not records and (
            StaffMember.objects.filter(
                establishment=establishment, source=StaffSource.LDAP, active=True
            ).exists()
        ):
            # A wrong filter, base or attribute mapping must not empty the directory.
            raise DirectoryError(
                (
                    _("L'annuaire n'a renvoyé aucune personne : vérifiez la base et le filtre.")
                    if not entries
                    else _(
                        "Aucune des %(n)s entrées renvoyées n'est utilisable : vérifiez la "
                        "correspondance des attributs."
                    )
                    % {"n": len(entries)}
                )
                + " "
                + _("Par sécurité, personne n'a été marqué comme parti.")
            )
        plan = plan_upsert(
            establishment,
            records,
            source=StaffSource.LDAP,
            labels=checker.labels,
            problem_kind="entry",
            deactivate_missing=True,
            keep_refs=seen_ids,
            pending_orgs=resolver.pending,
        )
        # Conflicting entries are left out of the plan; the others are applied.
        for _record, problem in plan.problems:
            report.skip(problem)
        report.created_orgs = apply_plan(plan)
        report.created = len(plan.creates)
        report.updated = len(plan.updates)
        report.unchanged = plan.unchanged
        report.deactivated = len(plan.deactivations)
    report.status = SyncStatus.PARTIAL if report.skipped_count else SyncStatus.SUCCESS

"""What CSV imports and LDAP syncs share: value parsing, site/service lookup, and the upsert.

Both feeds turn their input into `StaffRecord`s (one per line or directory entry),
then `plan_upsert` matches each record to an existing person of the establishment
(by external id, else by e-mail, case-insensitively), finds conflicts and computes
what would change, without writing anything. `apply_plan` writes the plan in one
transaction. The callers decide what a bad record means: the CSV import refuses the
whole file, the LDAP sync skips the entry and reports it
(docs/decisions/0101-ldap-sync-skips-bad-entries.md).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from datetime import date, datetime
from functools import lru_cache

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.utils import timezone
from django.utils.translation import get_language, override
from django.utils.translation import gettext as _

from hygie.orgs.models import JobFamily, Kind, Organisation, StaffMember

# Fields a feed may set on a StaffMember, in display order.
STAFF_FIELDS = (
    "external_id",
    "last_name",
    "first_name",
    "email",
    "site",
    "service",
    "job_family",
    "job_title",
    "arrival_date",
)
MAX_LENGTHS = {
    "external_id": 120,
    "last_name": 100,
    "first_name": 100,
    "email": 254,
    "job_title": 120,
    "site": 200,
    "service": 200,
}
# Reports keep this many problems; the count of the others is still given.
MAX_REPORTED_PROBLEMS = 200


def normalise_key(text: str) -> str:
    """Case-, accent- and punctuation-insensitive form: « Famille de Métiers » → "famille de metiers"."""
    decomposed = unicodedata.normalize("NFKD", text)
    stripped = "".join(char for char in decomposed if not unicodedata.combining(char))
    return " ".join(re.sub(r"[^0-9a-z]+", " ", stripped.casefold()).split())


# Words HR exports and directories use for job families, beyond the labels and codes.
_FAMILY_SYNONYMS = {
    "medecin": JobFamily.MEDICAL,
    "medecins": JobFamily.MEDICAL,
    "personnel medical": JobFamily.MEDICAL,
    "pm": JobFamily.MEDICAL,
    "personnel soignant": JobFamily.CARE,
    "soins": JobFamily.CARE,
    "pnm soignant": JobFamily.CARE,
    "medicotechnique": JobFamily.MEDICO_TECHNICAL,
    "socioeducatif": JobFamily.SOCIO_EDUCATIONAL,
    "socio educative": JobFamily.SOCIO_EDUCATIONAL,
    "administrative": JobFamily.ADMINISTRATIVE,
    "administration": JobFamily.ADMINISTRATIVE,
    "personnel administratif": JobFamily.ADMINISTRATIVE,
    "technique": JobFamily.TECHNICAL,
    "logistique": JobFamily.TECHNICAL,
    "ouvrier": JobFamily.TECHNICAL,
    "technique et ouvrier": JobFamily.TECHNICAL,
    "biomedical": JobFamily.IT,
    "si": JobFamily.IT,
    "dsi": JobFamily.IT,
    "systeme d information": JobFamily.IT,
    "etudiant": JobFamily.STUDENT,
    "etudiants": JobFamily.STUDENT,
    "stagiaire": JobFamily.STUDENT,
    "stagiaires": JobFamily.STUDENT,
    "interne": JobFamily.MEDICAL,
    "directeur": JobFamily.DIRECTION,
    "equipe de direction": JobFamily.DIRECTION,
}


@lru_cache(maxsize=8)
def _family_lookup(language: str | None) -> dict[str, str]:
    """Labels are translated: the table is built per active language (French always works)."""
    table = dict(_FAMILY_SYNONYMS)
    labels = [(family.value, str(family.label)) for family in JobFamily]
    with override("fr"):
        labels += [(family.value, str(family.label)) for family in JobFamily]
    for code, label in labels:
        table[normalise_key(code)] = code
        table[normalise_key(label)] = code
        table.setdefault(normalise_key(label) + "s", code)  # plurals: « Soignants »
    return table


def parse_job_family(value: str) -> str | None:
    """The JobFamily code for a label, a code or a common synonym; None when unknown."""
    key = normalise_key(value)
    if not key:
        return None
    return _family_lookup(get_language()).get(key)


def accepted_job_families() -> str:
    return ", ".join(str(family.label) for family in JobFamily)


_DATE_FR = re.compile(r"^(\d{1,2})[/.-](\d{1,2})[/.-](\d{4})$")
_DATE_ISO = re.compile(r"^(\d{4})-(\d{2})-(\d{2})$")


def parse_date(value: str) -> date:
    """JJ/MM/AAAA (also with - or .) or AAAA-MM-JJ; a time after a space is ignored."""
    text = value.strip().split(" ")[0].split("T")[0]
    match = _DATE_FR.match(text)
    try:
        if match:
            day, month, year = (int(part) for part in match.groups())
            return date(year, month, day)
        match = _DATE_ISO.match(text)
        if match:
            return date(*(int(part) for part in match.groups()))
        # Directories use GeneralizedTime: 20240115000000Z.
        if re.fullmatch(r"\d{14}(\.\d+)?Z?", text):
            return datetime.strptime(text[:8], "%Y%m%d").date()  # noqa: DTZ007 — a date only
    except ValueError:
        pass
    raise ValueError(
        _("date invalide « %(value)s » (attendu JJ/MM/AAAA ou AAAA-MM-JJ)") % {"value": value}
    )


def check_email(value: str) -> str:
    value = value.strip()
    try:
        validate_email(value)
    except ValidationError:
        raise ValueError(_("adresse invalide « %(value)s »") % {"value": value}) from None
    return value


# --- Sites and services -------------------------------------------------------------------


@dataclass(eq=False)
class PendingOrg:
    """A site or service to create when the plan is applied (never in a dry run)."""

    kind: str
    name: str
    parent: Organisation | PendingOrg
    instance: Organisation | None = None

    def __str__(self):
        return self.name

    def resolve(self) -> Organisation:
        if self.instance is None:
            parent = self.parent.resolve() if isinstance(self.parent, PendingOrg) else self.parent
            node = Organisation(kind=self.kind, parent=parent, name=self.name)
            node.full_clean(exclude=["path", "depth"])
            node.save()
            self.instance = node
        return self.instance


def resolve_org(value):
    return value.resolve() if isinstance(value, PendingOrg) else value


class OrgLookupError(ValueError):
    pass


class OrgResolver:
    """Finds sites and services of one establishment by name, short name or code.

    Everything is loaded once, so a 30,000-line file costs two queries. With
    `create_missing`, unknown names become PendingOrg nodes (each created once).
    """

    def __init__(self, establishment: Organisation, *, create_missing: bool):
        self.establishment = establishment
        self.create_missing = create_missing
        self.pending: list[PendingOrg] = []
        self._index: dict[str, dict[str, list]] = {Kind.SITE: {}, Kind.SERVICE: {}}
        self._pending_index: dict[tuple, PendingOrg] = {}
        nodes = Organisation.objects.subtree_of(establishment).filter(
            kind__in=[Kind.SITE, Kind.SERVICE]
        )
        self._sites = []
        for node in nodes:
            if node.kind == Kind.SITE:
                self._sites.append(node)
            for label in {node.name, node.short_name, node.code}:
                key = normalise_key(label or "")
                if key:
                    bucket = self._index[node.kind].setdefault(key, [])
                    if node not in bucket:
                        bucket.append(node)

    @staticmethod
    def _path(node) -> str | None:
        return node.path if isinstance(node, Organisation) else None

    def site(self, name: str):
        key = normalise_key(name)
        found = self._index[Kind.SITE].get(key, [])
        if len(found) == 1:
            return found[0]
        if len(found) > 1:
            raise OrgLookupError(
                _("plusieurs sites portent le nom « %(name)s » dans l'établissement")
                % {"name": name}
            )
        return self._missing(Kind.SITE, name, self.establishment)

    def service(self, name: str, site=None):
        key = normalise_key(name)
        found = self._index[Kind.SERVICE].get(key, [])
        if site is not None:
            site_path = self._path(site)
            found = [n for n in found if site_path and n.path.startswith(site_path)]
            pending_key = (Kind.SERVICE, key, id(site))
        else:
            pending_key = (Kind.SERVICE, key, None)
        if len(found) == 1:
            return found[0]
        if len(found) > 1:
            raise OrgLookupError(
                _("plusieurs services portent le nom « %(name)s » : précisez le site")
                % {"name": name}
            )
        if pending_key in self._pending_index:
            return self._pending_index[pending_key]
        if not self.create_missing:
            if site is not None and self._index[Kind.SERVICE].get(key):
                raise OrgLookupError(
                    _("le service « %(name)s » n'existe pas sur le site « %(site)s »")
                    % {"name": name, "site": site}
                )
            raise OrgLookupError(
                _("service inconnu « %(name)s » dans l'établissement") % {"name": name}
            )
        return self._missing(Kind.SERVICE, name, site or self.establishment, pending_key)

    def _missing(self, kind, name, parent, pending_key=None):
        key = pending_key or (kind, normalise_key(name), None)
        if key in self._pending_index:
            return self._pending_index[key]
        if not self.create_missing:
            raise OrgLookupError(
                _("site inconnu « %(name)s » dans l'établissement") % {"name": name}
            )
        pending = PendingOrg(kind=kind, name=name.strip(), parent=parent)
        self._pending_index[key] = pending
        self.pending.append(pending)
        return pending

    def site_of(self, service) -> Organisation | PendingOrg | None:
        """The site a service belongs to, if any (from the loaded nodes: no query)."""
        if isinstance(service, PendingOrg):
            parent = service.parent
            return parent if getattr(parent, "kind", None) == Kind.SITE else None
        for site in self._sites:
            if service.path.startswith(site.path):
                return site
        return None


# --- Records, plan, apply --------------------------------------------------------------------


@dataclass
class Problem:
    """One thing wrong with an input: where (line or DN), which field, what."""

    ref: int | str | None
    field: str | None
    message: str
    kind: str = "line"  # "line" (CSV) or "entry" (directory)

    def __str__(self):
        if self.kind == "entry":
            where = self.ref or ""
            if self.field:
                return _("%(dn)s — attribut %(field)s : %(message)s") % {
                    "dn": where,
                    "field": self.field,
                    "message": self.message,
                }
            return f"{where} : {self.message}"
        if self.ref is None:
            return self.message
        if self.field:
            return _("ligne %(line)s, colonne %(field)s : %(message)s") % {
                "line": self.ref,
                "field": self.field,
                "message": self.message,
            }
        return _("ligne %(line)s : %(message)s") % {"line": self.ref, "message": self.message}

    def as_dict(self) -> dict:
        return {"ref": self.ref, "field": self.field, "message": self.message, "text": str(self)}


@dataclass
class StaffRecord:
    """What one line or entry says about a person; `values` holds only the fields it sets."""

    ref: int | str
    values: dict = field(default_factory=dict)


@dataclass
class UpsertPlan:
    source: str
    creates: list[StaffMember] = field(default_factory=list)
    updates: list[StaffMember] = field(default_factory=list)
    updated_fields: set[str] = field(default_factory=set)
    unchanged: int = 0
    deactivations: list[StaffMember] = field(default_factory=list)
    problems: list[tuple[StaffRecord, Problem]] = field(default_factory=list)
    pending_orgs: list[PendingOrg] = field(default_factory=list)


def _display(staff: StaffMember) -> str:
    label = f"{staff.first_name} {staff.last_name}".strip()
    if staff.external_id:
        label += _(" (identifiant %(id)s)") % {"id": staff.external_id}
    return label


def _differs(staff: StaffMember, name: str, value) -> bool:
    if name in ("site", "service"):
        # Compare ids: reading the related object would cost a query per person.
        if isinstance(value, PendingOrg):
            return True
        return getattr(staff, f"{name}_id") != (value.pk if value is not None else None)
    return getattr(staff, name) != value


def _assign(staff: StaffMember, name: str, value) -> None:
    if isinstance(value, PendingOrg):
        # Created when the plan is applied; the foreign key is set then.
        setattr(staff, f"_pending_{name}", value)
        setattr(staff, name, None)
    else:
        setattr(staff, name, value)


def plan_upsert(
    establishment: Organisation,
    records: list[StaffRecord],
    *,
    source: str,
    labels: dict[str, str],
    problem_kind: str = "line",
    deactivate_missing: bool = False,
    keep_refs: set[str] | None = None,
    pending_orgs: list[PendingOrg] | None = None,
) -> UpsertPlan:
    """Match records to existing staff and compute the changes, writing nothing.

    `keep_refs` are external ids seen in the input but not usable (bad entries):
    their people are not deactivated.
    """
    plan = UpsertPlan(source=source, pending_orgs=list(pending_orgs or []))
    existing = list(StaffMember.objects.filter(establishment=establishment))
    by_external = {s.external_id: s for s in existing if s.external_id}
    by_email = {s.email.casefold(): s for s in existing if s.email}
    claimed: dict[int, StaffRecord] = {}
    now = timezone.now()

    for record in records:
        values = record.values
        external_id = values.get("external_id") or ""
        email = (values.get("email") or "").casefold()

        def problem(field_name, message, record=record):
            plan.problems.append(
                (
                    record,
                    Problem(record.ref, labels.get(field_name), message, kind=problem_kind),
                )
            )

        target = by_external.get(external_id) if external_id else None
        if target is None and email:
            candidate = by_email.get(email)
            if candidate is not None and candidate.external_id and external_id:
                problem(
                    "email",
                    _("adresse déjà attribuée à %(who)s, qui a un autre identifiant")
                    % {"who": _display(candidate)},
                )
                continue
            target = candidate
        if target is not None and target.pk in claimed:
            other = claimed[target.pk]
            problem(
                None,
                _("désigne la même personne que %(other)s")
                % {
                    "other": (
                        _("la ligne %(line)s") % {"line": other.ref}
                        if problem_kind == "line"
                        else other.ref
                    )
                },
            )
            continue
        if email:
            holder = by_email.get(email)
            if holder is not None and holder is not target:
                problem(
                    "email",
                    _("adresse déjà attribuée à %(who)s") % {"who": _display(holder)},
                )
                continue

        if target is None:
            staff = StaffMember(establishment=establishment, source=source, active=True)
            for name, value in values.items():
                _assign(staff, name, value)
            if not staff.job_family:
                staff.job_family = JobFamily.OTHER
            plan.creates.append(staff)
            continue

        claimed[target.pk] = record
        changed = set()
        if not external_id and target.external_id:
            # A line without matricule never erases the key of the person it designates.
            values = {name: value for name, value in values.items() if name != "external_id"}
        for name, value in values.items():
            if _differs(target, name, value):
                _assign(target, name, value)
                changed.add(name)
        if not target.active:
            target.active = True
            changed.add("active")
        if target.source != source:
            target.source = source
            changed.add("source")
        if changed:
            target.updated_at = now
            plan.updates.append(target)
            plan.updated_fields |= changed | {"updated_at"}
        else:
            plan.unchanged += 1

    if deactivate_missing:
        keep = keep_refs or set()
        for staff in existing:
            if (
                staff.active
                and staff.source == source
                and staff.pk not in claimed
                and not (staff.external_id and staff.external_id in keep)
            ):
                plan.deactivations.append(staff)
    return plan


def apply_plan(plan: UpsertPlan) -> list[str]:
    """Write the plan in one transaction; return the names of the sites/services created."""
    with transaction.atomic():
        created_orgs = []
        for pending in plan.pending_orgs:
            if pending.instance is None:
                pending.resolve()
                created_orgs.append(f"{pending.instance.get_kind_display()} {pending.name}")
        for staff in [*plan.creates, *plan.updates]:
            for name in ("site", "service"):
                value = getattr(staff, f"_pending_{name}", None)
                if value is not None:
                    setattr(staff, name, resolve_org(value))
        if plan.creates:
            StaffMember.objects.bulk_create(plan.creates, batch_size=500)
        if plan.updates:
            StaffMember.objects.bulk_update(
                plan.updates, sorted(plan.updated_fields), batch_size=500
            )
        if plan.deactivations:
            StaffMember.objects.filter(pk__in=[s.pk for s in plan.deactivations]).update(
                active=False, updated_at=timezone.now()
            )
    return created_orgs

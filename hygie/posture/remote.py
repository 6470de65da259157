"""Remote-access inventory checked against CISA's Known Exploited Vulnerabilities catalogue.

A point (VPN, gateway, remote maintenance…) is matched to the catalogue by product: the vendor
and product typed by a person and those of each KEV entry are normalised and mapped through a
small alias table ("FortiGate" and "FortiOS" are the same system, "Pulse Secure" became "Ivanti
Connect Secure", "NetScaler" was "Citrix ADC"…). The entries added to the catalogue after the
point's last patch (all of them when the date is unknown) are "à vérifier": the point may still
be exposed to them. Ransomware-linked entries come first.

A point is flagged for: an entry to check, no multi-factor authentication, an administration
interface exposed on the internet, or no patch for over PATCH_MAX_DAYS days (or never recorded).
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from dataclasses import dataclass, field

from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from hygie.actions.models import ActionItem, Priority
from hygie.core.audit import record_event
from hygie.posture.models import KevEntry, RemoteAccessPoint

PATCH_MAX_DAYS = 90
FACT_SOURCE = "posture.remote_access"
FACT_KEY = "remote-access"


@dataclass(frozen=True)
class Product:
    key: str
    label: str
    # Regular expressions searched in the normalised "vendor product" text.
    patterns: tuple[str, ...]


# The products most seen on hospitals' perimeters, with the names they went by. KEV entries and
# points whose text matches none of them are compared by their normalised vendor and product.
PRODUCTS = (
    Product("fortinet-fortios", "Fortinet FortiOS (FortiGate)", (r"\bfortios\b", r"\bfortigate\b")),
    Product(
        "ivanti-connect-secure",
        "Ivanti Connect Secure (ex-Pulse Secure)",
        (r"\bpulse connect secure\b", r"\bpulse secure\b", r"\bconnect secure\b"),
    ),
    Product(
        "citrix-netscaler",
        "Citrix NetScaler ADC / Gateway",
        (
            r"\bnetscaler\b",
            r"\bcitrix adc\b",
            r"\bcitrix gateway\b",
            r"\bcitrix application delivery controller\b",
        ),
    ),
    Product(
        "paloalto-panos",
        "Palo Alto Networks PAN-OS (GlobalProtect)",
        (r"\bpan os\b", r"\bglobalprotect\b", r"\bglobal protect\b"),
    ),
    Product(
        "cisco-asa",
        "Cisco ASA / Firepower Threat Defense",
        (r"\badaptive security appliance\b", r"\bcisco asa\b", r"\bfirepower threat defense\b"),
    ),
    Product(
        "sonicwall-sma",
        "SonicWall Secure Mobile Access (SMA)",
        (r"\bsonicwall sma\b", r"\bsonicwall secure mobile access\b", r"\bsma ?1\d\d\b"),
    ),
    Product("sonicwall-sonicos", "SonicWall SonicOS", (r"\bsonicos\b",)),
    Product(
        "checkpoint-gateway",
        "Check Point Security Gateway",
        (r"\bcheck point\b.*\bsecurity gateway", r"\bcheck point quantum\b"),
    ),
    Product("f5-bigip", "F5 BIG-IP", (r"\bbig ip\b",)),
)


def normalise(text: str) -> str:
    """Lower case, no accents, punctuation as spaces, single spaces."""
    text = unicodedata.normalize("NFKD", text or "").encode("ascii", "ignore").decode()
    return " ".join(re.sub(r"[^a-z0-9]+", " ", text.lower()).split())


_COMPILED = [(p, [re.compile(x) for x in p.patterns]) for p in PRODUCTS]


def product_key(vendor: str, product: str) -> str:
    """The alias-table key of a vendor/product pair, or "<vendor>|<product>" normalised."""
    text = normalise(f"{vendor} {product}")
    for candidate, patterns in _COMPILED:
        if any(pattern.search(text) for pattern in patterns):
            return candidate.key
    return f"{normalise(vendor)}|{normalise(product)}"


def product_label(key: str) -> str:
    for candidate in PRODUCTS:
        if candidate.key == key:
            return candidate.label
    return ""


def kev_index() -> dict[str, list[KevEntry]]:
    """The catalogue in force grouped by product key (each list: ransomware first, newest)."""
    index: dict[str, list[KevEntry]] = {}
    for entry in KevEntry.objects.all():
        index.setdefault(product_key(entry.vendor_project, entry.product), []).append(entry)
    for entries in index.values():
        entries.sort(key=lambda e: (not e.ransomware, -e.date_added.toordinal(), e.cve_id))
    return index


# Assessment --------------------------------------------------------------------------------------
FLAG_LABELS = {
    "kev_ransomware": gettext_lazy("Vulnérabilité exploitée par des rançongiciels à vérifier"),
    "kev_open": gettext_lazy("Vulnérabilité activement exploitée à vérifier"),
    "no_mfa": gettext_lazy("Pas d'authentification multifacteur"),
    "admin_exposed": gettext_lazy("Interface d'administration exposée sur internet"),
    "patch_old": gettext_lazy("Aucun correctif depuis plus de %(days)s jours"),
    "patch_unknown": gettext_lazy("Date du dernier correctif inconnue"),
}


@dataclass
class PointStatus:
    point: RemoteAccessPoint
    key: str
    label: str
    known: list[KevEntry] = field(default_factory=list)  # every KEV entry of the product
    to_check: list[KevEntry] = field(default_factory=list)  # added after the last patch
    flags: list[tuple[str, str]] = field(default_factory=list)  # (code, French label)

    @property
    def ransomware(self) -> bool:
        return any(e.ransomware for e in self.to_check)

    @property
    def flagged(self) -> bool:
        return bool(self.flags)

    @property
    def secure(self) -> bool:
        """Counted in the evidence: MFA and no known-exploited entry to check."""
        return self.point.mfa and not self.to_check


def assess(point: RemoteAccessPoint, index: dict, *, today: dt.date | None = None) -> PointStatus:
    today = today or timezone.localdate()
    key = product_key(point.vendor, point.product)
    known = index.get(key, [])
    if point.last_patched_on:
        to_check = [e for e in known if e.date_added > point.last_patched_on]
    else:
        to_check = list(known)
    status = PointStatus(
        point=point, key=key, label=product_label(key), known=known, to_check=to_check
    )
    flags = status.flags
    if status.ransomware:
        flags.append(("kev_ransomware", str(FLAG_LABELS["kev_ransomware"])))
    elif to_check:
        flags.append(("kev_open", str(FLAG_LABELS["kev_open"])))
    if not point.mfa:
        flags.append(("no_mfa", str(FLAG_LABELS["no_mfa"])))
    if point.admin_interface_exposed:
        flags.append(("admin_exposed", str(FLAG_LABELS["admin_exposed"])))
    if point.last_patched_on is None:
        flags.append(("patch_unknown", str(FLAG_LABELS["patch_unknown"])))
    elif (today - point.last_patched_on).days > PATCH_MAX_DAYS:
        flags.append(("patch_old", str(FLAG_LABELS["patch_old"]) % {"days": PATCH_MAX_DAYS}))
    return status


def assess_all(points, *, today=None, index=None) -> list[PointStatus]:
    """Statuses of these points, the most worrying first (ransomware, KEV, flags, name).
    `index`: the catalogue's index when the caller assesses several inventories."""
    index = kev_index() if index is None else index
    statuses = [assess(point, index, today=today) for point in points]
    statuses.sort(
        key=lambda s: (not s.ransomware, not s.to_check, -len(s.flags), s.point.name.lower())
    )
    return statuses


# Evidence ----------------------------------------------------------------------------------------
def refresh_fact(organisation, *, index=None):
    """Record (or update) the evidence fact of this establishment's remote-access inventory."""
    from hygie.assessments.services import record_fact

    statuses = assess_all(RemoteAccessPoint.objects.filter(organisation=organisation), index=index)
    total = len(statuses)
    secure = sum(s.secure for s in statuses)
    with_mfa = sum(s.point.mfa for s in statuses)
    exposed = sum(bool(s.to_check) for s in statuses)
    ransomware = sum(s.ransomware for s in statuses)
    share = round(100 * secure / total, 1) if total else None
    if total:
        summary = _(
            "%(total)s accès à distance inventoriés : %(secure)s avec MFA et sans vulnérabilité "
            "activement exploitée à vérifier (%(share)s %%) ; %(no_mfa)s sans MFA ; %(exposed)s "
            "concernés par le catalogue KEV, dont %(ransomware)s par des rançongiciels."
        ) % {
            "total": total,
            "secure": secure,
            "share": share,
            "no_mfa": total - with_mfa,
            "exposed": exposed,
            "ransomware": ransomware,
        }
    else:
        summary = _("Aucun accès à distance inventorié.")
    return record_fact(
        organisation,
        FACT_SOURCE,
        source_key=FACT_KEY,
        occurred_on=timezone.localdate(),
        summary=summary,
        value=share,
        url=reverse("posture:remote_access", args=[organisation.pk]),
        details={
            "points": total,
            "secure": secure,
            "mfa": with_mfa,
            "kev_to_check": exposed,
            "ransomware": ransomware,
        },
    )


def refresh_all_facts() -> None:
    """After a catalogue import: every establishment with an inventory."""
    from hygie.orgs.models import Organisation

    ids = RemoteAccessPoint.objects.values_list("organisation_id", flat=True).distinct()
    index = kev_index()  # read the catalogue once for every establishment
    for organisation in Organisation.objects.filter(pk__in=ids):
        refresh_fact(organisation, index=index)


# Action plan -------------------------------------------------------------------------------------
class NotFlagged(Exception):
    pass


def create_action(point: RemoteAccessPoint, *, actor, request=None) -> ActionItem:
    """An action-plan item for a flagged point, linked back; a second call returns it."""
    with transaction.atomic():
        point = RemoteAccessPoint.objects.select_for_update().get(pk=point.pk)
        if point.action_id and ActionItem.objects.filter(pk=point.action_id).exists():
            return point.action
        status = assess(point, kev_index())
        if not status.flagged:
            raise NotFlagged(_("Cet accès à distance ne présente aucun signal."))
        lines = [
            _("Accès à distance « %(name)s » : %(vendor)s %(product)s %(version)s.")
            % {
                "name": point.name,
                "vendor": point.vendor,
                "product": point.product,
                "version": point.version,
            },
            "",
        ]
        lines += [f"- {label}" for _code, label in status.flags]
        if status.to_check:
            lines += ["", _("Vulnérabilités du catalogue KEV à vérifier :")]
            lines += [
                f"- {e.cve_id} ({e.date_added:%d/%m/%Y})"
                + (" — " + _("rançongiciels") if e.ransomware else "")
                + f" : {e.name}"
                for e in status.to_check[:20]
            ]
        if status.ransomware:
            priority, days = Priority.CRITICAL, 15
        elif status.to_check or not point.mfa:
            priority, days = Priority.HIGH, 30
        else:
            priority, days = Priority.MEDIUM, 90
        item = ActionItem.objects.create(
            organisation=point.organisation,
            title=(_("Sécuriser l'accès à distance « %(name)s »") % {"name": point.name})[:300],
            description="\n".join(lines),
            priority=priority,
            due_on=timezone.localdate() + dt.timedelta(days=days),
            origin="audit",
        )
        point.action = item
        point.save(update_fields=["action"])
        record_event(
            "posture.remote_access_action_created",
            request=request,
            actor=actor,
            target=item,
            organisation=point.organisation,
            details={"point": point.pk, "flags": [code for code, _label in status.flags]},
        )
    return item

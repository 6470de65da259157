"""Relaying national awareness campaigns (e.g. "Tous cybervigilants", the CaRE material).

An establishment or a GHT receives a kit (posters, messages, video links) from a national
body, sends it to one contact per service, and each contact confirms through a personal link
that the kit is displayed or relayed in the service. The share of services that confirmed
becomes an "awareness.campaign" fact of each establishment (evidence for the governance
measures). Files are checked and stored like assessment evidence (`hygie/core/uploads.py`).
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import logging
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.mail import EmailMultiAlternatives
from django.core.validators import validate_email
from django.db import transaction
from django.db.models import Count, F, Q
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from hygie.awareness import links
from hygie.awareness.models import Kit, KitDistribution, KitItem, KitItemKind
from hygie.core import uploads
from hygie.core.audit import record_event
from hygie.core.exports import safe_cell
from hygie.orgs.models import Kind, Organisation, StaffMember

logger = logging.getLogger(__name__)

# Kit files: printable posters and flyers. SVG is refused: it can carry script (decision 0541).
MAX_KIT_FILE_BYTES = 20 * 1024 * 1024
ALLOWED_FILES = {
    "pdf": ("application/pdf", uploads.PDF),
    "png": ("image/png", uploads.PNG),
    "jpg": ("image/jpeg", uploads.JPEG),
    "jpeg": ("image/jpeg", uploads.JPEG),
}
STORAGE_FOLDER = "kits"

# Services that have not confirmed are reminded every week, three times at most (decision 0544).
REMINDER_INTERVAL = dt.timedelta(days=7)
MAX_REMINDERS = 3

FACT_SOURCE = "awareness.campaign"


class KitError(Exception):
    """Input that cannot be used as is; `problems` are sentences naming the line or field."""

    def __init__(self, problems: list[str]):
        super().__init__("; ".join(problems))
        self.problems = problems


# Kits and items -----------------------------------------------------------------------------
def services_of(organisation: Organisation):
    """The services under a kit's organisation, in the order pages and exports show them."""
    return (
        Organisation.objects.filter(kind=Kind.SERVICE, path__startswith=organisation.path)
        .select_related("parent")
        .order_by("path")
    )


def add_item(
    kit: Kit, *, kind: str, title: str, text: str = "", url: str = "", upload=None, actor=None
) -> KitItem:
    """A poster, message, video or other support; the file is checked before anything is kept."""
    item = KitItem(kit=kit, kind=kind, title=title, text=text, url=url)
    if upload is not None:
        name, content_type, digest = uploads.check_upload(
            upload, ALLOWED_FILES, MAX_KIT_FILE_BYTES, default_name="support"
        )
        item.file_name, item.content_type, item.size = name, content_type, upload.size
        item.stored_name = uploads.store(upload, f"{STORAGE_FOLDER}/{kit.organisation_id}")
    last = kit.items.order_by("-position").values_list("position", flat=True).first()
    item.position = (last or 0) + 1
    try:
        item.save()
    except Exception:
        uploads.discard(item.stored_name)
        raise
    record_event(
        "awareness.kit_item_add",
        actor=actor,
        target=kit,
        organisation=kit.organisation,
        details={"title": title, "kind": kind, "file": item.file_name, "size": item.size},
    )
    return item


def delete_item(item: KitItem, *, actor=None) -> None:
    stored = item.stored_name
    kit = item.kit
    item.delete()
    transaction.on_commit(lambda: uploads.discard(stored))
    record_event(
        "awareness.kit_item_delete",
        actor=actor,
        target=kit,
        organisation=kit.organisation,
        details={"title": item.title, "file": item.file_name},
    )


def open_item_file(item: KitItem):
    from django.core.files.storage import default_storage

    return default_storage.open(item.stored_name, "rb")


def download(item: KitItem):
    """The stored file as a sandboxed attachment (the caller has checked who may see it)."""
    return uploads.attachment(open_item_file(item), item.file_name, item.content_type)


# Contacts ---------------------------------------------------------------------------------
def suggested_contacts(kit: Kit, services: Iterable[Organisation]) -> dict[int, str]:
    """A contact per service, from what Hygie already knows (decision 0542): the address the
    last kit was sent to for that service, else the service's active manager ("cadre…") in
    the staff directory. Services with neither are left for the RSSI to type."""
    service_ids = [service.pk for service in services]
    found: dict[int, str] = {}
    previous = (
        KitDistribution.objects.filter(service_id__in=service_ids)
        .exclude(kit=kit)
        .order_by("service_id", "-sent_at", "-pk")
        .values_list("service_id", "contact_email")
    )
    for service_id, email in previous:
        found.setdefault(service_id, email)
    managers = (
        StaffMember.objects.filter(
            service_id__in=[pk for pk in service_ids if pk not in found],
            active=True,
            job_title__istartswith="cadre",
        )
        .exclude(email="")
        .order_by("service_id", "last_name", "first_name")
        .values_list("service_id", "email")
    )
    for service_id, email in managers:
        found.setdefault(service_id, email)
    return found


def _key(text: str) -> str:
    return " ".join(text.split()).casefold()


def parse_contacts(text: str, services: Iterable[Organisation]) -> dict[int, str]:
    """Pasted "service;e-mail" lines -> {service id: e-mail}. Services are named by their name,
    short name or code. Every bad line is reported (KitError) and nothing is returned then."""
    index: dict[str, list[Organisation]] = {}
    for service in services:
        for label in {service.name, service.short_name, service.code}:
            if label:
                index.setdefault(_key(label), []).append(service)
    problems: list[str] = []
    contacts: dict[int, str] = {}
    seen_on: dict[int, int] = {}
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        delimiter = ";" if ";" in line else ("\t" if "\t" in line else ",")
        cells = [cell.strip() for cell in next(csv.reader([line], delimiter=delimiter))]
        cells = [cell for cell in cells if cell] if len(cells) > 2 else cells
        if number == 1 and len(cells) == 2 and "@" not in cells[1] and _key(cells[0]) == "service":
            continue  # a header line
        if len(cells) != 2 or not all(cells):
            problems.append(
                _("Ligne %(n)s : attendu « service;adresse e-mail », lu « %(line)s ».")
                % {"n": number, "line": line.strip()[:80]}
            )
            continue
        label, email = cells
        matches = {service.pk: service for service in index.get(_key(label), [])}
        if not matches:
            problems.append(
                _("Ligne %(n)s : aucun service « %(label)s » dans cette organisation.")
                % {"n": number, "label": label}
            )
            continue
        if len(matches) > 1:
            problems.append(
                _(
                    "Ligne %(n)s : plusieurs services s'appellent « %(label)s » ; "
                    "indiquez leur code."
                )
                % {"n": number, "label": label}
            )
            continue
        service = next(iter(matches.values()))
        try:
            validate_email(email)
        except ValidationError:
            problems.append(
                _("Ligne %(n)s : adresse e-mail « %(email)s » invalide.")
                % {"n": number, "email": email}
            )
            continue
        if service.pk in seen_on:
            problems.append(
                _("Ligne %(n)s : le service « %(label)s » figure déjà ligne %(first)s.")
                % {"n": number, "label": label, "first": seen_on[service.pk]}
            )
            continue
        seen_on[service.pk] = number
        contacts[service.pk] = email
    if problems:
        raise KitError(problems)
    if not contacts:
        raise KitError([_("Aucune ligne « service;adresse e-mail » à lire.")])
    return contacts


# Distribution -----------------------------------------------------------------------------
@dataclass
class DistributionReport:
    created: int = 0
    changed: int = 0
    to_send: int = 0


def distribute(kit: Kit, contacts: dict[int, str], *, actor=None, now=None) -> DistributionReport:
    """Record one distribution per service named in `contacts` (in one transaction: all or
    nothing), then have a worker e-mail every contact who has not received the kit yet.

    A changed address on a service that has not confirmed sends the kit again to the new
    address; services left out keep their distribution (nothing is withdrawn silently).
    """
    now = now or timezone.now()
    report = DistributionReport()
    allowed = set(services_of(kit.organisation).values_list("pk", flat=True))
    if set(contacts) - allowed:
        raise KitError([_("Un des services choisis n'appartient pas à cette organisation.")])
    with transaction.atomic():
        existing = {d.service_id: d for d in kit.distributions.select_for_update()}
        for service_id, email in contacts.items():
            current = existing.get(service_id)
            if current is None:
                KitDistribution.objects.create(kit=kit, service_id=service_id, contact_email=email)
                report.created += 1
            elif current.contact_email != email:
                current.contact_email = email
                fields = ["contact_email"]
                if current.acknowledged_at is None:
                    current.sent_at = None
                    current.reminders_sent = 0
                    current.reminded_at = None
                    fields += ["sent_at", "reminders_sent", "reminded_at"]
                current.save(update_fields=fields)
                report.changed += 1
        report.to_send = _pending(kit.distributions.all()).count()
        record_event(
            "awareness.kit_distribute",
            actor=actor,
            target=kit,
            organisation=kit.organisation,
            details={"created": report.created, "changed": report.changed},
        )
    if report.to_send:
        from hygie.awareness.kit_tasks import send_kit_distributions

        send_kit_distributions.enqueue(kit.pk)
    if report.created or report.changed:
        record_kit_facts(kit, now=now)
    return report


def _pending(distributions):
    return distributions.filter(sent_at__isnull=True, acknowledged_at__isnull=True)


def send_pending(kit: Kit, *, now=None) -> tuple[int, int]:
    """E-mail the kit to every contact who has not received it: (sent, refused). Each row is
    claimed by setting `sent_at` first, so two workers never mail the same service; a refused
    e-mail gives the row back ("not sent" in the status) for the next run to try again."""
    now = now or timezone.now()
    sent = failed = 0
    for distribution in _pending(kit.distributions.select_related("service", "kit__organisation")):
        claimed = _pending(KitDistribution.objects.filter(pk=distribution.pk)).update(sent_at=now)
        if not claimed:
            continue
        if send_kit(distribution, now=now):
            sent += 1
        else:
            KitDistribution.objects.filter(pk=distribution.pk).update(sent_at=None)
            failed += 1
    return sent, failed


def send_kit(distribution: KitDistribution, *, reminder: bool = False, now=None) -> bool:
    """E-mail the kit to the service's contact with a fresh personal link; False when the mail
    server refused it."""
    now = now or timezone.now()
    kit = distribution.kit
    link, token = links.issue_link(distribution=distribution, now=now)
    items = list(kit.items.all())
    context = {
        "kit": kit,
        "distribution": distribution,
        "service": distribution.service,
        "organisation": kit.organisation,
        "messages": [item for item in items if item.kind == KitItemKind.MESSAGE and item.text],
        "supports": [item for item in items if item.kind != KitItemKind.MESSAGE or item.url],
        "link": links.link_url(token),
        "expires_on": date_format(
            timezone.localtime(now + links.DEFAULT_VALIDITY).date(), "DATE_FORMAT"
        ),
        "reminder": reminder,
    }
    with translation.override(settings.LANGUAGE_CODE):
        subject = " ".join(render_to_string("awareness/kit_email_subject.txt", context).split())
        text = render_to_string("awareness/kit_email.txt", context)
        html = render_to_string("awareness/kit_email.html", context)
    message = EmailMultiAlternatives(subject, text.strip() + "\n", to=[distribution.contact_email])
    message.attach_alternative(html, "text/html")
    try:
        message.send()
    except (OSError, ValueError) as exc:  # smtplib errors are OSErrors
        logger.warning(
            "kit %s: mail to service %s refused: %s", kit.pk, distribution.service_id, exc
        )
        link.delete()  # never delivered: hourly retries must not pile up unused links
        return False
    return True


def send_kit_reminders(now=None) -> int:
    """Remind the services that have not confirmed, a week after the kit (or the last
    reminder) and three times at most; a second run the same day sends nothing. Each row is
    claimed with a conditional UPDATE, so two workers never remind the same service twice.
    Kits whose first e-mail was refused are tried again first. Returns the e-mails sent
    (housekeeping)."""
    now = now or timezone.now()
    sent = 0
    unsent = Kit.objects.filter(
        distributions__sent_at__isnull=True, distributions__acknowledged_at__isnull=True
    ).distinct()
    for kit in unsent.select_related("organisation"):
        sent += send_pending(kit, now=now)[0]
    cutoff = now - REMINDER_INTERVAL
    start_of_day = timezone.localtime(now).replace(hour=0, minute=0, second=0, microsecond=0)
    due = (
        KitDistribution.objects.filter(
            sent_at__isnull=False, acknowledged_at__isnull=True, reminders_sent__lt=MAX_REMINDERS
        )
        .filter(Q(reminded_at__isnull=True, sent_at__lte=cutoff) | Q(reminded_at__lte=cutoff))
        .exclude(reminded_at__gte=start_of_day)
    )
    for distribution in due.select_related("kit__organisation", "service__parent"):
        claimed = (
            KitDistribution.objects.filter(
                pk=distribution.pk,
                reminders_sent=distribution.reminders_sent,
                acknowledged_at__isnull=True,
            )
            .exclude(reminded_at__gte=start_of_day)
            .update(reminded_at=now, reminders_sent=F("reminders_sent") + 1)
        )
        if not claimed:
            continue
        if send_kit(distribution, reminder=True, now=now):
            sent += 1
        else:  # give the row back: the next run tries again
            KitDistribution.objects.filter(pk=distribution.pk).update(
                reminded_at=distribution.reminded_at, reminders_sent=distribution.reminders_sent
            )
    return sent


# Acknowledgement and evidence -----------------------------------------------------------------
def acknowledge(distribution: KitDistribution, *, name: str, comment: str = "", now=None) -> bool:
    """The service confirms the kit is displayed / relayed. The first confirmation stands
    (False when it was already confirmed); the establishment's fact is updated."""
    now = now or timezone.now()
    updated = KitDistribution.objects.filter(
        pk=distribution.pk, acknowledged_at__isnull=True
    ).update(acknowledged_at=now, acknowledged_by=name.strip()[:200], comment=comment.strip())
    if not updated:
        return False
    distribution.refresh_from_db()
    kit = distribution.kit
    record_event(
        "awareness.kit_acknowledge",
        target=kit,
        organisation=kit.organisation,
        details={"service": distribution.service_id, "by": distribution.acknowledged_by},
    )
    record_kit_facts(kit, now=now)
    return True


def record_kit_facts(kit: Kit, *, now=None) -> list:
    """One "awareness.campaign" fact per establishment with a confirmed service: the share of
    its services (that received the kit) that confirmed, as a percentage (decision 0545)."""
    from hygie.assessments.services import record_fact

    now = now or timezone.now()
    establishments = list(
        Organisation.objects.filter(path__startswith=kit.organisation.path, kind=Kind.ESTABLISHMENT)
    )
    counts: dict[int, list[int]] = {}
    rows = kit.distributions.values_list("service__path", "acknowledged_at")
    by_pk = {e.pk: e for e in establishments}
    for path, acknowledged_at in rows:
        establishment = next((e for e in establishments if path.startswith(e.path)), None)
        if establishment is None:
            continue
        total_done = counts.setdefault(establishment.pk, [0, 0])
        total_done[0] += 1
        total_done[1] += acknowledged_at is not None
    facts = []
    for pk, (total, done) in counts.items():
        if not done:
            continue
        share = round(100 * done / total, 1)
        facts.append(
            record_fact(
                by_pk[pk],
                FACT_SOURCE,
                source_key=f"kit-{kit.pk}",
                occurred_on=timezone.localtime(now).date(),
                summary=_(
                    "Campagne nationale « %(kit)s » (%(year)s) relayée par %(done)s service(s) "
                    "sur %(total)s (%(share)s %%)."
                )
                % {"kit": kit.name, "year": kit.year, "done": done, "total": total, "share": share},
                value=share,
                url=reverse("awareness:kit_status", args=[kit.pk]),
                details={"kit": kit.pk, "services": total, "acknowledged": done},
            )
        )
    return facts


# Status and export -------------------------------------------------------------------------
@dataclass
class ServiceStatus:
    service: Organisation
    distribution: KitDistribution | None

    @property
    def state(self) -> str:
        d = self.distribution
        if d is None:
            return "not_distributed"
        if d.acknowledged_at:
            return "acknowledged"
        return "sent" if d.sent_at else "not_sent"

    @property
    def state_label(self) -> str:
        return {
            "not_distributed": _("Non diffusé"),
            "not_sent": _("En attente d'envoi"),
            "sent": _("Envoyé, en attente"),
            "acknowledged": _("Relayé"),
        }[self.state]


def status(kit: Kit) -> list[ServiceStatus]:
    """Every service under the kit's organisation, with its distribution if there is one."""
    by_service = {d.service_id: d for d in kit.distributions.all()}
    return [
        ServiceStatus(service, by_service.get(service.pk))
        for service in services_of(kit.organisation)
    ]


def summary(kit: Kit) -> dict:
    counts = kit.distributions.aggregate(
        distributed=Count("pk"),
        sent=Count("pk", filter=Q(sent_at__isnull=False)),
        acknowledged=Count("pk", filter=Q(acknowledged_at__isnull=False)),
    )
    counts["services"] = services_of(kit.organisation).count()
    counts["share"] = (
        round(100 * counts["acknowledged"] / counts["distributed"])
        if counts["distributed"]
        else None
    )
    return counts


CSV_HEADER = [
    "site",
    "service",
    "destinataire",
    "état",
    "envoyé le",
    "relances",
    "relayé le",
    "relayé par",
    "commentaire",
]


def _when(value) -> str:
    return timezone.localtime(value).strftime("%d/%m/%Y %H:%M") if value else ""


def status_csv(kit: Kit) -> Iterator[str]:
    """The status table as CSV (UTF-8 with BOM, `;`), formula-safe like the staff export."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=";", lineterminator="\r\n")
    buffer.write("\ufeff")
    writer.writerow(CSV_HEADER)
    for row in status(kit):
        d = row.distribution
        cells = [
            row.service.parent.name if row.service.parent_id else "",
            row.service.name,
            d.contact_email if d else "",
            row.state_label,
            _when(d.sent_at) if d else "",
            d.reminders_sent if d else "",
            _when(d.acknowledged_at) if d else "",
            d.acknowledged_by if d else "",
            d.comment if d else "",
        ]
        writer.writerow([safe_cell(cell) for cell in cells])
    yield buffer.getvalue()

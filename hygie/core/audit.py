"""The security journal: record events, verify the chain."""

from __future__ import annotations

import hashlib
import hmac
import json
from dataclasses import dataclass, field

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from hygie.core.models import AuditChainHead, AuditEvent
from hygie.core.net import client_ip

GENESIS = "0" * 64


def _chain_key() -> bytes:
    return hashlib.sha256(b"hygie-audit-chain:" + settings.SECRET_KEY.encode()).digest()


def _canonical(event: AuditEvent) -> bytes:
    payload = {
        "sequence": event.sequence,
        "created_at": event.created_at.isoformat(),
        "actor_id": event.actor_id,
        "actor_label": event.actor_label,
        "action": event.action,
        "target_type": event.target_type,
        "target_id": event.target_id,
        "target_label": event.target_label,
        "organisation": event.organisation_id_at_event,
        "ip_address": event.ip_address,
        "user_agent": event.user_agent,
        "details": event.details,
        "previous": event.previous_digest,
    }
    return json.dumps(payload, sort_keys=True, separators=(",", ":"), default=str).encode()


def compute_digest(event: AuditEvent) -> str:
    return hmac.new(_chain_key(), _canonical(event), hashlib.sha256).hexdigest()


def record_event(
    action: str,
    *,
    request=None,
    actor=None,
    target=None,
    organisation=None,
    details: dict | None = None,
) -> AuditEvent:
    """Append one event. `target` is any model instance (its type, id and label are kept)."""
    if actor is None and request is not None and getattr(request, "user", None) is not None:
        actor = request.user if request.user.is_authenticated else None
    with transaction.atomic():
        head, _ = AuditChainHead.objects.select_for_update().get_or_create(pk=1)
        event = AuditEvent(
            sequence=head.last_sequence + 1,
            created_at=timezone.now(),
            actor=actor,
            actor_label=actor.get_username() if actor is not None else "",
            action=action,
            target_type=target._meta.label_lower if target is not None else "",
            target_id=str(target.pk) if target is not None else "",
            target_label=str(target)[:300] if target is not None else "",
            organisation_id_at_event=organisation.pk if organisation is not None else None,
            ip_address=client_ip(request) if request is not None else "",
            user_agent=(
                request.META.get("HTTP_USER_AGENT", "")[:300] if request is not None else ""
            ),
            details=json.loads(json.dumps(details or {}, default=str)),
            previous_digest=head.last_digest,
        )
        event.digest = compute_digest(event)
        event.save()
        head.last_sequence = event.sequence
        head.last_digest = event.digest
        head.save(update_fields=["last_sequence", "last_digest"])
    return event


@dataclass
class VerificationReport:
    checked: int = 0
    problems: list[str] = field(default_factory=list)
    last_sequence: int = 0
    last_digest: str = GENESIS

    @property
    def ok(self) -> bool:
        return not self.problems


def verify_chain(
    batch_size: int = 2000, anchor: tuple[int, str] | None = None
) -> VerificationReport:
    """Walk the whole journal in order; report every altered, removed or reordered entry.

    `anchor` is an entry (sequence, digest) written down outside Hygie earlier (`hygie audit
    head`): someone able to delete the last entries AND rewrite the chain-head row leaves a
    chain that is consistent in itself, which only such an outside record can expose.
    """
    report = VerificationReport()
    anchor_seen = False
    expected_previous = GENESIS
    expected_sequence = 1
    queryset = AuditEvent.objects.order_by("sequence")
    for event in queryset.iterator(chunk_size=batch_size):
        report.checked += 1
        if event.sequence != expected_sequence:
            if event.sequence == expected_sequence + 1:
                problem = f"entrée {expected_sequence} manquante (supprimée)"
            elif event.sequence > expected_sequence:
                problem = (
                    f"entrées {expected_sequence}–{event.sequence - 1} manquantes (supprimées)"
                )
            else:
                problem = f"entrée {event.sequence} en double ou réordonnée"
            report.problems.append(problem)
        if event.previous_digest != expected_previous:
            report.problems.append(
                f"entrée {event.sequence} : chaînage rompu avec l'entrée précédente"
            )
        if compute_digest(event) != event.digest:
            report.problems.append(
                f"entrée {event.sequence} : contenu modifié (empreinte invalide)"
            )
        if anchor is not None and event.sequence == anchor[0]:
            anchor_seen = True
            if event.digest != anchor[1]:
                report.problems.append(
                    f"entrée {event.sequence} : ne correspond pas au point d'ancrage noté "
                    "(journal réécrit depuis)"
                )
        expected_previous = event.digest
        expected_sequence = event.sequence + 1
    report.last_sequence = expected_sequence - 1
    report.last_digest = expected_previous
    if anchor is not None and not anchor_seen:
        report.problems.append(
            f"l'entrée {anchor[0]}, notée comme point d'ancrage, n'existe plus "
            f"(le journal s'arrête à {expected_sequence - 1} : entrées finales supprimées)"
        )
    head = AuditChainHead.objects.filter(pk=1).first()
    if head is not None and head.last_sequence != expected_sequence - 1:
        report.problems.append(
            f"le journal devrait se terminer à l'entrée {head.last_sequence}, "
            f"il s'arrête à {expected_sequence - 1} (entrées finales supprimées)"
        )
    elif head is not None and head.last_digest != expected_previous and report.checked:
        report.problems.append("la dernière entrée ne correspond pas à la tête de chaîne")
    return report

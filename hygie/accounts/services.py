"""Second factor (TOTP and recovery codes), sudo mode and the second-factor policy."""

from __future__ import annotations

import secrets
import time

import pyotp
import segno
from django.conf import settings
from django.db import transaction
from django.utils import timezone

from hygie.accounts.models import RecoveryCode, TotpDevice
from hygie.orgs.roles import PRIVILEGED_ROLES

TOTP_ISSUER = "Hygie"
TOTP_PERIOD = 30
RECOVERY_CODE_COUNT = 10


def requires_second_factor(user) -> bool:
    """Privileged roles and platform administrators must use a second factor."""
    if not user.is_authenticated:
        return False
    if user.is_superuser:
        return True
    if has_confirmed_totp(user):
        return True
    return user.memberships.filter(role__in=PRIVILEGED_ROLES).exists()


def has_confirmed_totp(user) -> bool:
    return TotpDevice.objects.filter(user=user, confirmed_at__isnull=False).exists()


def start_enrolment(user) -> TotpDevice:
    device, created = TotpDevice.objects.get_or_create(
        user=user, defaults={"secret": pyotp.random_base32(length=32)}
    )
    if not created and device.confirmed_at is None:
        device.secret = pyotp.random_base32(length=32)
        device.save(update_fields=["secret"])
    return device


def provisioning_uri(device: TotpDevice) -> str:
    label = device.user.email or device.user.username
    return pyotp.TOTP(device.secret, interval=TOTP_PERIOD).provisioning_uri(
        name=label, issuer_name=TOTP_ISSUER
    )


def qr_svg_data_uri(uri: str) -> str:
    return segno.make(uri, error="m").svg_data_uri(scale=5, border=2)


def verify_totp(device: TotpDevice, code: str, now: float | None = None) -> bool:
    """Accept the current code or its neighbours (clock drift), each at most once."""
    code = "".join(ch for ch in code if ch.isdigit())
    if len(code) != 6:
        return False
    now = time.time() if now is None else now
    totp = pyotp.TOTP(device.secret, interval=TOTP_PERIOD)
    current_step = int(now // TOTP_PERIOD)
    for step in (current_step - 1, current_step, current_step + 1):
        if step <= device.last_step:
            continue
        if secrets.compare_digest(totp.at(step * TOTP_PERIOD), code):
            with transaction.atomic():
                updated = TotpDevice.objects.filter(pk=device.pk, last_step__lt=step).update(
                    last_step=step
                )
            if updated:
                device.last_step = step
                return True
            return False
    return False


def confirm_enrolment(device: TotpDevice, code: str) -> list[str] | None:
    """Confirm the device with a first code; returns fresh recovery codes, or None."""
    if not verify_totp(device, code):
        return None
    device.confirmed_at = timezone.now()
    device.save(update_fields=["confirmed_at"])
    return regenerate_recovery_codes(device.user)


def regenerate_recovery_codes(user) -> list[str]:
    alphabet = "abcdefghjkmnpqrstuvwxyz23456789"
    codes = [
        "".join(secrets.choice(alphabet) for _ in range(10)) for _ in range(RECOVERY_CODE_COUNT)
    ]
    with transaction.atomic():
        RecoveryCode.objects.filter(user=user).delete()
        RecoveryCode.objects.bulk_create(
            RecoveryCode(user=user, code_hash=RecoveryCode.hash(c)) for c in codes
        )
    return [f"{code[:5]}-{code[5:]}" for code in codes]


def use_recovery_code(user, code: str) -> bool:
    return bool(
        RecoveryCode.objects.filter(
            user=user, code_hash=RecoveryCode.hash(code), used_at__isnull=True
        ).update(used_at=timezone.now())
    )


def remaining_recovery_codes(user) -> int:
    return RecoveryCode.objects.filter(user=user, used_at__isnull=True).count()


# Sudo mode ------------------------------------------------------------------------------
SUDO_KEY = "hygie_sudo_until"


def grant_sudo(request) -> None:
    request.session[SUDO_KEY] = time.time() + settings.SUDO_MINUTES * 60


def in_sudo_mode(request) -> bool:
    return request.session.get(SUDO_KEY, 0) > time.time()

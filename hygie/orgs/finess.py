"""FINESS numbers (Fichier national des établissements sanitaires et sociaux).

Nine characters: the département on two (2A/2B for Corsica, 9A–9F overseas in
the historical coding, else digits), six digits, then a Luhn check digit
computed over the first eight. The Luhn rule is checked on the national
numbers of known establishments (e.g. AP-HP 750712184, HCL 690781810). For
numbers carrying a letter (Corsica, historical overseas codes) the key cannot
be computed by plain Luhn, so only their shape is checked
(docs/decisions/0004-finess-validation.md).
"""

from __future__ import annotations

import re

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

FINESS_RE = re.compile(r"^(?:\d{2}|2[AB]|9[A-F])\d{6}\d$")


def luhn_ok(digits: str) -> bool:
    total = 0
    for index, char in enumerate(reversed(digits)):
        value = int(char)
        if index % 2 == 1:
            value *= 2
            if value > 9:
                value -= 9
        total += value
    return total % 10 == 0


def luhn_key(first_eight: str) -> str:
    for key in "0123456789":
        if luhn_ok(first_eight + key):
            return key
    raise AssertionError("unreachable: a Luhn key always exists")


def normalise_finess(value: str) -> str:
    return re.sub(r"[\s.-]", "", value or "").upper()


def validate_finess(value: str) -> None:
    number = normalise_finess(value)
    if not FINESS_RE.match(number):
        raise ValidationError(
            _("« %(value)s » n'est pas un numéro FINESS : 9 caractères attendus (ex. 750712184)."),
            code="finess_format",
            params={"value": value},
        )
    if number.isdigit() and not luhn_ok(number):
        raise ValidationError(
            _("« %(value)s » : la clé de contrôle du numéro FINESS est fausse (attendu %(key)s)."),
            code="finess_key",
            params={"value": value, "key": number[:8] + luhn_key(number[:8])},
        )

"""Password rules after ANSSI's current guidance: length over composition rules."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from django.utils.translation import ngettext


class LengthValidator:
    def __init__(self, min_length: int = 12, max_length: int = 128):
        self.min_length = min_length
        self.max_length = max_length

    def validate(self, password, user=None):
        if len(password) < self.min_length:
            raise ValidationError(
                ngettext(
                    "Le mot de passe doit contenir au moins %(min)d caractère.",
                    "Le mot de passe doit contenir au moins %(min)d caractères.",
                    self.min_length,
                ),
                code="password_too_short",
                params={"min": self.min_length},
            )
        if len(password) > self.max_length:
            raise ValidationError(
                _("Le mot de passe ne peut pas dépasser %(max)d caractères."),
                code="password_too_long",
                params={"max": self.max_length},
            )

    def get_help_text(self):
        return _(
            "Au moins %(min)d caractères. Une phrase de passe de plusieurs mots est plus sûre "
            "et plus facile à retenir ; aucune règle de composition n'est imposée."
        ) % {"min": self.min_length}


class NotOnlyRepeatedValidator:
    """Refuse passwords made of one repeated character or a trivial run (aaaa…, 1234…)."""

    def validate(self, password, user=None):
        distinct = len(set(password.lower()))
        if distinct <= 2:
            raise ValidationError(
                _("Le mot de passe est trop répétitif."), code="password_repetitive"
            )

    def get_help_text(self):
        return _("Évitez les répétitions d'un même caractère.")

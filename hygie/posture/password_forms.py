"""The establishment's own password policy (compared with the domain's at each audit)."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from hygie.posture.models import PasswordPolicyTarget


class ComplexitySelect(forms.NullBooleanSelect):
    def __init__(self, attrs=None):
        super().__init__(attrs)
        self.choices = [("unknown", _("Non comparée")), ("true", _("Oui")), ("false", _("Non"))]


class PasswordPolicyForm(forms.ModelForm):
    complexity = forms.NullBooleanField(
        label=_("Complexité exigée"), required=False, widget=ComplexitySelect
    )

    class Meta:
        model = PasswordPolicyTarget
        fields = [
            "min_length",
            "admin_min_length",
            "complexity",
            "history",
            "max_age_days",
            "lockout_threshold",
            "lockout_duration_minutes",
            "very_old_days",
        ]
        help_texts = {
            "min_length": _("L'ANSSI recommande au moins 12 caractères. Vide : non comparée."),
            "admin_min_length": _(
                "L'ANSSI recommande au moins 16 caractères pour les administrateurs."
            ),
            "history": _("Nombre d'anciens mots de passe refusés. Vide : non comparé."),
            "max_age_days": _(
                "0 : pas d'expiration (recommandé par l'ANSSI pour des mots de passe robustes). "
                "Vide : non comparée."
            ),
            "lockout_threshold": _("Nombre d'échecs avant verrouillage. Vide : non comparé."),
            "very_old_days": _(
                "Au-delà, le compte figure dans la liste des mots de passe très anciens."
            ),
        }

    def clean_min_length(self):
        return self._length("min_length")

    def clean_admin_min_length(self):
        return self._length("admin_min_length")

    def _length(self, name):
        value = self.cleaned_data.get(name)
        if value is not None and not 1 <= value <= 256:
            raise forms.ValidationError(_("Une longueur entre 1 et 256 caractères."))
        return value

    def clean_very_old_days(self):
        value = self.cleaned_data.get("very_old_days")
        if value is not None and value < 30:
            raise forms.ValidationError(_("Au moins 30 jours."))
        return value

    def clean(self):
        cleaned = super().clean()
        general, admin = cleaned.get("min_length"), cleaned.get("admin_min_length")
        if general is not None and admin is not None and admin < general:
            self.add_error(
                "admin_min_length",
                _(
                    "Les comptes à privilèges ne peuvent pas avoir une longueur inférieure à celle des autres comptes."
                ),
            )
        return cleaned

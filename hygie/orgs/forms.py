from __future__ import annotations

from django import forms
from django.contrib.auth import get_user_model
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from hygie.orgs.models import JobFamily, Kind, Organisation
from hygie.orgs.roles import Role


class MembershipForm(forms.Form):
    user = forms.CharField(label=_("Utilisateur (identifiant ou e-mail)"), max_length=254)
    role = forms.ChoiceField(label=_("Rôle"), choices=Role.choices)

    def clean_user(self):
        value = self.cleaned_data["user"].strip()
        user = (
            get_user_model()
            .objects.filter(Q(username__iexact=value) | Q(email__iexact=value), is_active=True)
            .first()
        )
        if user is None:
            raise forms.ValidationError(_("Aucun utilisateur actif « %(v)s ».") % {"v": value})
        return user


class StaffFilterForm(forms.Form):
    q = forms.CharField(label=_("Recherche"), required=False, max_length=100)
    job_family = forms.ChoiceField(
        label=_("Famille de métiers"),
        choices=[("", _("Toutes")), *JobFamily.choices],
        required=False,
    )
    service = forms.TypedChoiceField(
        label=_("Service"), required=False, coerce=int, empty_value=None, choices=()
    )

    def __init__(self, services, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["service"].choices = [("", _("Tous")), *[(s.pk, str(s)) for s in services]]


class OrganisationForm(forms.ModelForm):
    """Create or edit a node; the parent is fixed by the URL, the kind by what it allows."""

    class Meta:
        model = Organisation
        fields = [
            "kind",
            "name",
            "short_name",
            "code",
            "category",
            "finess_ej",
            "finess_et",
            "is_ght_support",
        ]

    def __init__(self, *args, parent: Organisation | None = None, allowed_kinds=None, **kwargs):
        super().__init__(*args, **kwargs)
        if parent is not None:
            self.instance.parent = parent
        if allowed_kinds is not None:
            self.fields["kind"].choices = [(k, Kind(k).label) for k in allowed_kinds]
        if self.instance.pk:
            self.fields["kind"].disabled = True

    def clean(self):
        data = super().clean()
        kind = data.get("kind") or self.instance.kind
        if kind != Kind.ESTABLISHMENT:
            for name in ("finess_ej", "category", "is_ght_support"):
                if data.get(name):
                    self.add_error(name, _("Réservé aux établissements."))
        if (
            kind == Kind.ESTABLISHMENT
            and data.get("is_ght_support")
            and self.instance.parent.kind != Kind.GHT
        ):
            self.add_error(
                "is_ght_support",
                _("Seul un établissement membre d'un GHT peut en être le support."),
            )
        return data

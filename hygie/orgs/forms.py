from __future__ import annotations

from django import forms
from django.contrib.auth import get_user_model
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from hygie.orgs.models import JobFamily
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

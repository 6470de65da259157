from __future__ import annotations

import datetime as dt

from django import forms
from django.contrib.auth import get_user_model
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from hygie.assessments.models import Answer, Campaign, Result, Status
from hygie.frameworks.models import Framework


class CampaignForm(forms.Form):
    framework = forms.ModelChoiceField(Framework.objects.order_by("name"), label=_("Référentiel"))
    name = forms.CharField(label=_("Nom de la campagne"), max_length=200)
    starts_on = forms.DateField(label=_("Début"), widget=forms.DateInput(attrs={"type": "date"}))
    due_on = forms.DateField(label=_("Échéance"), widget=forms.DateInput(attrs={"type": "date"}))
    implementation_groups = forms.CharField(
        label=_("Niveaux évalués"),
        required=False,
        help_text=_(
            "Identifiants des groupes séparés par des virgules (ex. « S » ou « S, R ») ; vide = toutes les mesures."
        ),
    )
    start_from_previous = forms.BooleanField(
        label=_("Partir de la campagne précédente"),
        required=False,
        initial=True,
        help_text=_(
            "Reprend les résultats, niveaux, commentaires et responsables de la dernière campagne sur ce référentiel."
        ),
    )
    reminder_days = forms.CharField(
        label=_("Relances (jours avant l'échéance)"),
        required=False,
        initial="14, 3",
        help_text=_(
            "Les responsables des mesures non terminées reçoivent un courriel ces jours-là."
        ),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        today = dt.date.today()
        self.fields["starts_on"].initial = today
        self.fields["due_on"].initial = today + dt.timedelta(days=90)

    def clean_implementation_groups(self):
        raw = self.cleaned_data["implementation_groups"]
        return [part.strip() for part in raw.replace(";", ",").split(",") if part.strip()]

    def clean_reminder_days(self):
        raw = self.cleaned_data["reminder_days"]
        days = []
        for part in raw.replace(";", ",").split(","):
            part = part.strip()
            if not part:
                continue
            if not part.isdigit() or int(part) > 365:
                raise forms.ValidationError(
                    _("Des nombres de jours entre 0 et 365, séparés par des virgules.")
                )
            days.append(int(part))
        return days

    def clean(self):
        data = super().clean()
        framework = data.get("framework")
        groups = data.get("implementation_groups") or []
        if framework and groups:
            known = set(framework.group_names)
            unknown = [g for g in groups if g not in known]
            if unknown:
                self.add_error(
                    "implementation_groups",
                    _("Groupes inconnus pour ce référentiel : %(groups)s (connus : %(known)s).")
                    % {"groups": ", ".join(unknown), "known": ", ".join(sorted(known)) or "—"},
                )
        if data.get("starts_on") and data.get("due_on") and data["due_on"] < data["starts_on"]:
            self.add_error("due_on", _("L'échéance précède le début de la campagne."))
        return data


def owner_choices(organisation):
    """People holding a role at the organisation or above it: who may own a measure."""
    ids = [*organisation.ancestor_ids(), organisation.pk]
    return (
        get_user_model()
        .objects.filter(is_active=True)
        .filter(Q(memberships__organisation_id__in=ids))
        .distinct()
        .order_by("last_name", "first_name", "username")
    )


class AnswerForm(forms.ModelForm):
    class Meta:
        model = Answer
        fields = ["status", "result", "maturity", "owner", "comment"]
        widgets = {"comment": forms.Textarea(attrs={"rows": 5})}

    def __init__(self, *args, campaign: Campaign, **kwargs):
        super().__init__(*args, **kwargs)
        framework = campaign.framework
        levels = {item["score"]: item["name"] for item in framework.scores_definition}
        self.fields["maturity"] = forms.TypedChoiceField(
            label=_("Niveau de maturité"),
            required=False,
            coerce=int,
            empty_value=None,
            choices=[("", "—")]
            + [
                (score, f"{score} — {levels[score]}" if levels.get(score) else str(score))
                for score in range(framework.min_score, framework.max_score + 1)
            ],
        )
        self.fields["owner"].queryset = owner_choices(campaign.organisation)
        self.fields["owner"].label_from_instance = lambda user: user.display_name
        self.fields["status"].choices = Status.choices
        self.fields["result"].choices = Result.choices


class EvidenceForm(forms.Form):
    file = forms.FileField(label=_("Ajouter une preuve"))


class ReviewForm(forms.Form):
    decision = forms.ChoiceField(
        choices=[("approve", _("Approuver")), ("reject", _("À reprendre"))]
    )
    note = forms.CharField(label=_("Note de revue"), max_length=200, required=False)


class AnswerFilterForm(forms.Form):
    theme = forms.TypedChoiceField(label=_("Thème"), required=False, coerce=int, empty_value=None)
    result = forms.ChoiceField(
        label=_("Résultat"), required=False, choices=[("", _("Tous"))] + Result.choices
    )
    status = forms.ChoiceField(
        label=_("Statut"), required=False, choices=[("", _("Tous"))] + Status.choices
    )

    def __init__(self, *args, themes=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["theme"].choices = [("", _("Tous"))] + [(t.pk, t.label) for t in themes]

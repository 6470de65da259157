"""Forms of the lessons-learned and binder pages."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from hygie.crisis.models import BinderSection, Rating
from hygie.crisis.report import ANSWER_MAX_LENGTH, DEBRIEF_QUESTIONS


class DebriefForm(forms.Form):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for key, label in DEBRIEF_QUESTIONS:
            self.fields[key] = forms.CharField(
                label=label,
                required=False,
                max_length=ANSWER_MAX_LENGTH,
                widget=forms.Textarea(attrs={"rows": 4}),
            )

    def clean(self):
        data = super().clean()
        if not any((data.get(key) or "").strip() for key, _label in DEBRIEF_QUESTIONS):
            raise forms.ValidationError(_("Répondez au moins à une question."))
        return data


class LessonForm(forms.Form):
    text = forms.CharField(
        label=_("Enseignement"),
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("La première ligne devient l'intitulé de l'action si vous la créez."),
    )


class ObjectivesForm(forms.Form):
    """One rating per objective of the exercise ("" = not assessed)."""

    def __init__(self, exercise, *args, **kwargs):
        super().__init__(*args, **kwargs)
        choices = [("", _("Non évalué")), *Rating.choices]
        for objective in exercise.objectives:
            key = str(objective.get("id", ""))
            self.fields[f"objective_{key}"] = forms.ChoiceField(
                label=f"{key} — {objective.get('text', '')}",
                choices=choices,
                required=False,
                initial=exercise.objectives_met.get(key, ""),
            )

    def ratings(self) -> dict[str, str]:
        return {name.removeprefix("objective_"): value for name, value in self.cleaned_data.items()}


class BinderSectionForm(forms.ModelForm):
    class Meta:
        model = BinderSection
        fields = ["kind", "title", "body", "position"]
        widgets = {"body": forms.Textarea(attrs={"rows": 18})}
        help_texts = {
            "body": _(
                "Markdown : titres (#), listes (-), tableaux. Les liens sont imprimés en "
                "texte : le classeur s'ouvre sans réseau."
            ),
            "position": _("Ordre d'affichage dans le classeur."),
        }

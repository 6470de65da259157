"""Forms of the exercise design and preparation pages: the design (title, level, scope,
objectives, planned start), participants, the timeline of stimuli and the observation grid
(both editable tables: model formsets with an order column and a delete box), the situation
file."""

from __future__ import annotations

from django import forms
from django.contrib.auth import get_user_model
from django.db.models import Q
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from hygie.crisis.models import (
    Criterion,
    Exercise,
    Participant,
    Scenario,
    Stimulus,
)
from hygie.crisis.scenarios import format_offset, parse_offset

SPARE_ROWS = 3
MAX_ROWS = 80


class CreateForm(forms.Form):
    scenario = forms.ModelChoiceField(
        label=gettext_lazy("Scénario"),
        queryset=Scenario.objects.filter(active=True),
        required=False,
        empty_label=gettext_lazy("— exercice vierge —"),
    )
    title = forms.CharField(
        label=gettext_lazy("Intitulé"),
        max_length=200,
        required=False,
        help_text=gettext_lazy("Laissez vide pour reprendre le titre du scénario."),
    )

    def clean(self):
        data = super().clean()
        if not data.get("scenario") and not data.get("title"):
            self.add_error("title", _("Un exercice vierge a besoin d'un intitulé."))
        return data


class DesignForm(forms.ModelForm):
    objectives_text = forms.CharField(
        label=gettext_lazy("Objectifs"),
        widget=forms.Textarea(attrs={"rows": 4}),
        required=False,
        help_text=gettext_lazy(
            "Un objectif par ligne. Les critères de la grille restent liés aux objectifs "
            "dont le texte ne change pas."
        ),
    )

    class Meta:
        model = Exercise
        fields = ["title", "level", "scope", "planned_start"]
        widgets = {
            "scope": forms.Textarea(attrs={"rows": 3}),
            "planned_start": forms.DateTimeInput(
                attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"
            ),
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["planned_start"].input_formats = ["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M"]
        self.initial.setdefault(
            "objectives_text", "\n".join(item["text"] for item in self.instance.objectives)
        )

    def clean_objectives_text(self):
        lines = [line.strip() for line in self.cleaned_data["objectives_text"].splitlines()]
        lines = [line for line in lines if line]
        for number, line in enumerate(lines, start=1):
            if len(line) > 500:
                raise forms.ValidationError(
                    _("Objectif %(n)s : 500 caractères au plus.") % {"n": number}
                )
        if len(lines) > 10:
            raise forms.ValidationError(_("Dix objectifs au plus."))
        return lines

    def objectives(self) -> list[dict]:
        """The new objectives; one whose text is unchanged keeps its id (criteria stay tied)."""
        kept = {item["text"]: item["id"] for item in self.instance.objectives}
        used = set(kept.values())
        out, number = [], 1
        for text in self.cleaned_data["objectives_text"]:
            if text in kept:
                out.append({"id": kept.pop(text), "text": text})
                continue
            while f"o{number}" in used:
                number += 1
            used.add(f"o{number}")
            out.append({"id": f"o{number}", "text": text})
        return out


def organisation_users(exercise: Exercise):
    """Accounts that may be picked as participants: members of the exercise's organisation,
    of a node above it (the GHT's RSSI) or below it (a service's manager)."""
    node = exercise.organisation
    ancestors = [
        node.path[:end] for end in range(1, len(node.path) + 1) if node.path[end - 1] == "/"
    ]
    condition = Q(memberships__organisation__path__startswith=node.path) | Q(
        memberships__organisation__path__in=ancestors or [node.path]
    )
    return (
        get_user_model()
        .objects.filter(condition, is_active=True)
        .distinct()
        .order_by("last_name", "first_name", "username")
    )


class UserChoice(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        return obj.get_full_name() or obj.get_username()


class ParticipantForm(forms.ModelForm):
    user = UserChoice(
        label=gettext_lazy("Compte Hygie"),
        queryset=get_user_model().objects.none(),
        required=False,
        empty_label=gettext_lazy("— personne sans compte (saisir nom et e-mail) —"),
    )

    class Meta:
        model = Participant
        fields = ["role", "function", "user", "name", "email"]

    def __init__(self, *args, exercise: Exercise, **kwargs):
        super().__init__(*args, **kwargs)
        self.exercise = exercise
        self.fields["user"].queryset = organisation_users(exercise)
        self.fields["name"].required = False
        self.fields["function"].widget.attrs["list"] = "crisis-functions"

    def clean(self):
        data = super().clean()
        user = data.get("user")
        if user is not None:
            data["name"] = data.get("name") or user.get_full_name() or user.get_username()
            data["email"] = data.get("email") or user.email
            if self.exercise.participants.filter(user=user).exists():
                self.add_error("user", _("Cette personne participe déjà à l'exercice."))
        elif not data.get("name"):
            self.add_error("name", _("Choisissez un compte ou saisissez le nom de la personne."))
        email = data.get("email")
        if email and self.exercise.participants.filter(email__iexact=email).exists():
            self.add_error("email", _("Cette adresse est déjà celle d'un participant."))
        return data

    def save(self, commit=True):
        participant = super().save(commit=False)
        participant.exercise = self.exercise
        participant.name = self.cleaned_data["name"]
        participant.email = self.cleaned_data.get("email", "")
        if commit:
            participant.save()
        return participant


class OffsetField(forms.CharField):
    """A timeline offset typed as HH:MM (or minutes), cleaned to seconds."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.widget.attrs.update(
            {"placeholder": "HH:MM", "size": 6, "maxlength": 6, "inputmode": "numeric"}
        )

    def prepare_value(self, value):
        return format_offset(value) if isinstance(value, int) else value

    def to_python(self, value):
        value = super().to_python(value)
        if value in self.empty_values:
            return None
        try:
            return parse_offset(value)
        except ValueError as exc:
            raise forms.ValidationError(str(exc)) from None


class StimulusForm(forms.ModelForm):
    offset_seconds = OffsetField(label=gettext_lazy("Décalage (HH:MM)"))

    class Meta:
        model = Stimulus
        fields = [
            "offset_seconds",
            "channel",
            "sender",
            "recipients",
            "subject",
            "content",
            "expected",
        ]
        widgets = {
            "content": forms.Textarea(attrs={"rows": 3}),
            "expected": forms.Textarea(attrs={"rows": 2}),
        }

    def clean(self):
        data = super().clean()
        if data.get("channel") == "email":
            for name in ("recipients", "subject"):
                if not data.get(name):
                    self.add_error(name, _("Un courriel a des destinataires et un objet."))
        return data


class CriterionForm(forms.ModelForm):
    objective = forms.ChoiceField(label=gettext_lazy("Objectif"), required=False)

    class Meta:
        model = Criterion
        fields = ["text", "objective"]

    def __init__(self, *args, objective_choices=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["objective"].choices = [("", "—"), *objective_choices]


class RowErrorsMixin:
    """Every row's problem named with its row number and field label, for the summary above
    the table (the errors are also shown in their cells)."""

    def named_errors(self) -> list[str]:
        out = []
        for number, form in enumerate(self.forms, start=1):
            for name, errors in form.errors.items():
                label = form.fields[name].label if name in form.fields else ""
                for error in errors:
                    out.append(
                        _("Ligne %(row)s, %(field)s : %(error)s")
                        % {"row": number, "field": label, "error": error}
                        if label
                        else _("Ligne %(row)s : %(error)s") % {"row": number, "error": error}
                    )
        out.extend(self.non_form_errors())
        return out


class BaseRowFormSet(RowErrorsMixin, forms.BaseModelFormSet):
    def save_rows(self, parent_field: str, parent) -> int:
        """Save the kept rows with their position from the order column; delete the ticked."""
        for form in self.deleted_forms:
            if form.instance.pk:
                form.instance.delete()
        kept = 0
        for position, form in enumerate(self.ordered_forms):
            if not form.has_changed() and not form.instance.pk:
                continue
            row = form.save(commit=False)
            setattr(row, parent_field, parent)
            row.position = position
            row.save()
            kept += 1
        return kept


class BaseCriterionFormSet(BaseRowFormSet):
    def __init__(self, *args, objective_choices=(), **kwargs):
        self.objective_choices = objective_choices
        super().__init__(*args, **kwargs)

    def get_form_kwargs(self, index):
        return {"objective_choices": self.objective_choices}


StimulusFormSet = forms.modelformset_factory(
    Stimulus,
    form=StimulusForm,
    formset=BaseRowFormSet,
    extra=SPARE_ROWS,
    can_delete=True,
    can_order=True,
    max_num=MAX_ROWS,
    absolute_max=MAX_ROWS,
    validate_max=True,
)

CriterionFormSet = forms.modelformset_factory(
    Criterion,
    form=CriterionForm,
    formset=BaseCriterionFormSet,
    extra=SPARE_ROWS,
    can_delete=True,
    can_order=True,
    max_num=MAX_ROWS,
    absolute_max=MAX_ROWS,
    validate_max=True,
)


def stimulus_formset(exercise: Exercise, data=None):
    return StimulusFormSet(
        data, queryset=exercise.stimuli.order_by(*Stimulus._meta.ordering), prefix="stimuli"
    )


def criterion_formset(exercise: Exercise, data=None):
    return CriterionFormSet(
        data,
        queryset=exercise.criteria.all(),
        prefix="criteria",
        objective_choices=[(item["id"], item["text"][:80]) for item in exercise.objectives],
    )


class SituationForm(forms.ModelForm):
    class Meta:
        model = Exercise
        fields = ["situation_file"]
        widgets = {"situation_file": forms.Textarea(attrs={"rows": 18})}

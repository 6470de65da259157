"""Forms of the real-incident and GHT-aid pages."""

from __future__ import annotations

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from hygie.crisis.models import (
    AidKind,
    CellTask,
    EntryKind,
    Incident,
    IncidentStatus,
    TaskStatus,
)
from hygie.crisis.notifications import DRAFT_FIELDS
from hygie.orgs.models import Kind, Organisation

DATETIME_WIDGET = forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M")


class IncidentForm(forms.ModelForm):
    class Meta:
        model = Incident
        fields = [
            "title",
            "description",
            "severity",
            "discovered_at",
            "personal_data_breach",
            "care_impact",
            "services_affected",
            "degraded_mode",
            "white_plan",
        ]
        widgets = {
            "discovered_at": DATETIME_WIDGET,
            "services_affected": forms.CheckboxSelectMultiple,
        }
        help_texts = {
            "discovered_at": _(
                "Moment où l'établissement a eu connaissance de l'incident : le délai de 72 heures "
                "de la notification à la CNIL court à partir de là."
            ),
        }

    def __init__(self, *args, organisation: Organisation, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["discovered_at"].input_formats = ["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M"]
        self.fields["services_affected"].queryset = Organisation.objects.filter(
            path__startswith=organisation.path, kind__in=[Kind.SITE, Kind.SERVICE]
        )
        if not self.instance.pk:
            self.initial.setdefault("discovered_at", timezone.localtime().replace(second=0))

    def clean_discovered_at(self):
        value = self.cleaned_data["discovered_at"]
        if value and value > timezone.now() + timezone.timedelta(minutes=5):
            raise forms.ValidationError(_("La date de découverte ne peut pas être dans le futur."))
        return value


class StatusForm(forms.Form):
    status = forms.ChoiceField(label=_("Nouveau statut"), choices=IncidentStatus.choices)


class LogEntryForm(forms.Form):
    kind = forms.ChoiceField(
        label=_("Type"),
        choices=[
            (EntryKind.INFORMATION, EntryKind.INFORMATION.label),
            (EntryKind.DECISION, EntryKind.DECISION.label),
            (EntryKind.ACTION, EntryKind.ACTION.label),
            (EntryKind.COMMUNICATION, EntryKind.COMMUNICATION.label),
        ],
    )
    text = forms.CharField(label=_("Texte"), widget=forms.Textarea(attrs={"rows": 2}))


class TaskForm(forms.ModelForm):
    class Meta:
        model = CellTask
        fields = ["title", "owner", "due_at"]
        widgets = {"due_at": DATETIME_WIDGET}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["due_at"].input_formats = ["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M"]


class TaskStatusForm(forms.Form):
    status = forms.ChoiceField(choices=TaskStatus.choices)


class LessonForm(forms.Form):
    text = forms.CharField(label=_("Enseignement"), widget=forms.Textarea(attrs={"rows": 2}))


class DraftForm(forms.Form):
    """The fields of a notification draft (DRAFT_FIELDS), prefilled from the incident."""

    def __init__(self, *args, kind: str, **kwargs):
        super().__init__(*args, **kwargs)
        for key, label, multiline in DRAFT_FIELDS[kind]:
            widget = forms.Textarea(attrs={"rows": 3}) if multiline else forms.TextInput
            self.fields[key] = forms.CharField(label=label, required=False, widget=widget)


class SubmittedForm(forms.Form):
    submitted_at = forms.DateTimeField(
        label=_("Déposée le"),
        widget=DATETIME_WIDGET,
        input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M"],
    )
    reference = forms.CharField(label=_("Référence du dépôt"), max_length=120)

    def clean_submitted_at(self):
        value = self.cleaned_data["submitted_at"]
        if value > timezone.now() + timezone.timedelta(minutes=5):
            raise forms.ValidationError(_("La date de dépôt ne peut pas être dans le futur."))
        return value


class AidRequestForm(forms.Form):
    kind = forms.ChoiceField(label=_("Besoin"), choices=AidKind.choices)
    description = forms.CharField(label=_("Précisions"), widget=forms.Textarea(attrs={"rows": 3}))
    needed_until = forms.DateTimeField(
        label=_("Jusqu'au"),
        required=False,
        widget=DATETIME_WIDGET,
        input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M"],
    )


class AidOfferForm(forms.Form):
    organisation = forms.ModelChoiceField(
        label=_("Au nom de"), queryset=Organisation.objects.none()
    )
    description = forms.CharField(label=_("Proposition"), widget=forms.Textarea(attrs={"rows": 2}))

    def __init__(self, *args, organisations, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["organisation"].queryset = organisations

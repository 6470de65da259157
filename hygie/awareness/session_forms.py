"""Forms of the session pages: the session itself, its agenda (a formset), the planner."""

from __future__ import annotations

import datetime as dt

from django import forms
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from hygie.awareness import planner, sessions
from hygie.awareness.models import Module, SessionMode, TrainingSession
from hygie.orgs.models import JobFamily, Kind, Organisation

DATETIME_WIDGET = forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M")
DATETIME_FORMATS = ["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M", "%d/%m/%Y %H:%M"]


def trainers_for(node: Organisation):
    """People who may lead a session here: accounts with a role at the node, above or below."""
    ancestors = [node.path[: i + 1] for i, ch in enumerate(node.path) if ch == "/" and i > 0]
    return (
        get_user_model()
        .objects.filter(
            Q(memberships__organisation__path__in=ancestors)
            | Q(memberships__organisation__path__startswith=node.path),
            is_active=True,
        )
        .distinct()
        .order_by("last_name", "first_name", "username")
    )


class TrainerChoice(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        return obj.get_full_name() or obj.username


class AgendaPartForm(forms.Form):
    kind = forms.ChoiceField(
        label=_("partie"),
        choices=[("", "—"), (sessions.THEORY, _("Théorie")), (sessions.PRACTICE, _("Pratique"))],
        required=False,
    )
    title = forms.CharField(label=_("intitulé"), max_length=200, required=False)
    minutes = forms.IntegerField(label=_("minutes"), min_value=1, max_value=480, required=False)
    module = forms.ChoiceField(label=_("module"), required=False)

    def __init__(self, *args, module_choices=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["module"].choices = [("", "—"), *module_choices]

    def is_blank(self) -> bool:
        data = self.cleaned_data if hasattr(self, "cleaned_data") else {}
        return not any(data.get(name) for name in ("kind", "title", "minutes", "module"))


class BaseAgendaFormSet(forms.BaseFormSet):
    def __init__(self, *args, **kwargs):
        kwargs.setdefault("prefix", "agenda")
        self.module_choices = [
            (module.slug, module.title) for module in Module.objects.filter(active=True)
        ]
        super().__init__(*args, **kwargs)

    def get_form_kwargs(self, index):
        return {"module_choices": self.module_choices}

    def clean(self):
        if any(self.errors):
            return
        parts = [
            {key: form.cleaned_data.get(key) for key in ("kind", "title", "minutes", "module")}
            for form in self.forms
            if not form.is_blank()
        ]
        try:
            self.agenda = sessions.validate_agenda(parts)
        except ValidationError as exc:
            raise ValidationError(exc.messages) from None


AgendaFormSet = forms.formset_factory(
    AgendaPartForm, formset=BaseAgendaFormSet, extra=0, max_num=12, absolute_max=12
)


DEFAULT_AGENDA = [
    {"kind": sessions.THEORY, "minutes": 30},
    {"kind": sessions.PRACTICE, "minutes": 20},
    {"kind": sessions.THEORY, "minutes": 20},
    {"kind": sessions.PRACTICE, "minutes": 20},
]


def agenda_formset(data=None, agenda=None):
    """The agenda rows: the posted ones, or the session's (a default outline) plus two spare."""
    if data is not None:
        return AgendaFormSet(data)
    return AgendaFormSet(initial=[*(agenda or DEFAULT_AGENDA), {}, {}])


class SessionForm(forms.ModelForm):
    meeting_url = forms.URLField(
        label=_("lien de visioconférence"), required=False, assume_scheme="https"
    )
    starts_at = forms.DateTimeField(
        label=_("début"), widget=DATETIME_WIDGET, input_formats=DATETIME_FORMATS
    )
    ends_at = forms.DateTimeField(
        label=_("fin"), widget=DATETIME_WIDGET, input_formats=DATETIME_FORMATS
    )

    class Meta:
        model = TrainingSession
        fields = [
            "title",
            "mode",
            "location",
            "meeting_url",
            "starts_at",
            "ends_at",
            "capacity",
            "trainer",
            "trainer_name",
        ]
        field_classes = {"trainer": TrainerChoice}

    def __init__(self, *args, node: Organisation, agenda_formset, **kwargs):
        super().__init__(*args, **kwargs)
        self.agenda_formset = agenda_formset
        self.fields["trainer"].queryset = trainers_for(node)
        self.fields["trainer"].required = False
        self.fields["trainer_name"].help_text = _(
            "Pour un formateur sans compte Hygie ; sinon choisissez-le ci-dessus."
        )

    def clean(self):
        data = super().clean()
        agenda = getattr(self.agenda_formset, "agenda", None)
        seated = self.instance.participants.count() if self.instance.pk else 0
        try:
            sessions.validate_schedule(
                mode=data.get("mode"),
                location=data.get("location"),
                meeting_url=data.get("meeting_url"),
                starts_at=data.get("starts_at"),
                ends_at=data.get("ends_at"),
                capacity=data.get("capacity"),
                agenda=agenda,
                seated=seated,
            )
        except ValidationError as exc:
            for name, messages in exc.message_dict.items():
                if name in self.fields and name not in self.errors:
                    self.add_error(name, messages)
        return data


class PlannerFilterForm(forms.Form):
    """Who to plan for: services, job families, a site (all optional, within the node)."""

    services = forms.ModelMultipleChoiceField(
        label=_("services"), queryset=Organisation.objects.none(), required=False
    )
    job_families = forms.MultipleChoiceField(
        label=_("familles de métiers"),
        choices=JobFamily.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    site = forms.ModelChoiceField(
        label=_("site"), queryset=Organisation.objects.none(), required=False
    )
    capacity = forms.IntegerField(
        label=_("capacité par session"),
        min_value=2,
        max_value=sessions.MAX_CAPACITY,
        initial=planner.DEFAULT_CAPACITY,
    )
    include_seated = forms.BooleanField(
        label=_("inclure les personnes déjà inscrites à une session à venir"), required=False
    )

    def __init__(self, *args, node: Organisation, **kwargs):
        super().__init__(*args, **kwargs)
        subtree = Organisation.objects.subtree_of(node)
        self.fields["services"].queryset = subtree.filter(kind=Kind.SERVICE)
        self.fields["site"].queryset = subtree.filter(kind=Kind.SITE)


class PlannerCreateForm(forms.Form):
    """What every proposed session shares; the groups travel as member ids (decision 0521)."""

    groups = forms.CharField(widget=forms.HiddenInput)
    title = forms.CharField(
        label=_("intitulé"), max_length=180, initial=_("Sensibilisation à la cybersécurité")
    )
    mode = forms.ChoiceField(label=_("modalité"), choices=SessionMode.choices)
    location = forms.CharField(label=_("lieu"), max_length=200, required=False)
    meeting_url = forms.URLField(
        label=_("lien de visioconférence"), required=False, assume_scheme="https"
    )
    first_start = forms.DateTimeField(
        label=_("début de la première session"),
        widget=DATETIME_WIDGET,
        input_formats=DATETIME_FORMATS,
    )
    duration = forms.IntegerField(
        label=_("durée (minutes)"), min_value=15, max_value=480, initial=90
    )
    spacing_days = forms.IntegerField(
        label=_("jours entre deux sessions"), min_value=0, max_value=60, initial=7
    )
    trainer_name = forms.CharField(label=_("formateur"), max_length=200, required=False)
    capacity = forms.IntegerField(widget=forms.HiddenInput)

    def __init__(self, *args, agenda_formset, **kwargs):
        super().__init__(*args, **kwargs)
        self.agenda_formset = agenda_formset

    def clean(self):
        data = super().clean()
        agenda = getattr(self.agenda_formset, "agenda", None)
        start, minutes = data.get("first_start"), data.get("duration")
        try:
            sessions.validate_schedule(
                mode=data.get("mode"),
                location=data.get("location"),
                meeting_url=data.get("meeting_url"),
                starts_at=start,
                ends_at=start + dt.timedelta(minutes=minutes) if start and minutes else None,
                capacity=data.get("capacity"),
                agenda=agenda,
            )
        except ValidationError as exc:
            for name, messages in exc.message_dict.items():
                target = "duration" if name == "ends_at" else name
                if target in self.fields:
                    self.add_error(target, messages)
                else:
                    self.add_error(None, messages)
        return data

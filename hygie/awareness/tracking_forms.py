"""Forms of the tracking pages: campaigns and the xAPI learning record store."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from hygie.awareness.models import Campaign, CampaignKind, LearningRecordStore, Module
from hygie.awareness.services import DEFAULT_REMINDER_DAYS, SIMULATION_SCOPES
from hygie.orgs.models import JobFamily, Kind, Organisation


class ReminderDaysField(forms.CharField):
    """ "7, 1" → [7, 1]: days before the due date on which unfinished learners are reminded."""

    def to_python(self, value):
        text = super().to_python(value) or ""
        days = []
        for part in text.replace(";", ",").split(","):
            part = part.strip()
            if not part:
                continue
            if not part.isdigit() or not 1 <= int(part) <= 90:
                raise forms.ValidationError(
                    _("« %(value)s » : un nombre de jours entre 1 et 90, séparés par des virgules.")
                    % {"value": part}
                )
            days.append(int(part))
        return sorted(set(days), reverse=True)

    def prepare_value(self, value):
        if isinstance(value, list):
            return ", ".join(str(day) for day in value)
        return value


class CampaignForm(forms.ModelForm):
    target_job_families = forms.MultipleChoiceField(
        label=_("Familles de métiers"),
        choices=JobFamily.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    reminder_days = ReminderDaysField(
        label=_("Relances (jours avant l'échéance)"),
        required=False,
        help_text=_(
            "Par exemple « 7, 1 ». Une dernière relance part le lendemain de l'échéance pour "
            "les personnes qui n'ont pas terminé."
        ),
    )
    simulation_scope = forms.ChoiceField(
        label=_("Personnes issues de la simulation"),
        choices=[("", "—"), *SIMULATION_SCOPES.items()],
        required=False,
    )

    class Meta:
        model = Campaign
        fields = [
            "name",
            "kind",
            "modules",
            "match_audiences",
            "target_services",
            "target_sites",
            "target_job_families",
            "arrived_since",
            "simulation",
            "simulation_scope",
            "due_date",
            "due_days",
            "reminder_days",
        ]
        widgets = {
            "modules": forms.CheckboxSelectMultiple,
            "arrived_since": forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
            "due_date": forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        }
        help_texts = {
            "match_audiences": _(
                "Chaque personne reçoit les modules écrits pour son métier (et les modules "
                "pour tous) ; si aucun ne lui correspond, elle reçoit tous les modules."
            ),
            "target_services": _("Vide : tous les services."),
            "arrived_since": _(
                "Campagne ciblée : les personnes arrivées depuis cette date. Nouveaux "
                "arrivants : le point de départ (la date d'ouverture sinon)."
            ),
            "due_days": _("Nouveaux arrivants : délai donné à chacun après son arrivée."),
        }

    def __init__(self, *args, node: Organisation, **kwargs):
        super().__init__(*args, **kwargs)
        self.node = node
        units = Organisation.objects.subtree_of(node)
        self.fields["modules"].queryset = Module.objects.filter(active=True)
        self.fields["target_services"].queryset = units.filter(kind=Kind.SERVICE)
        self.fields["target_services"].required = False
        self.fields["target_sites"].queryset = units.filter(kind=Kind.SITE)
        self.fields["target_sites"].required = False
        from hygie.phishing.models import Simulation

        self.fields["simulation"].queryset = Simulation.objects.filter(
            organisation__path__startswith=node.path, launched_at__isnull=False
        ).order_by("-launched_at")
        if not self.instance.pk:
            self.initial.setdefault("reminder_days", DEFAULT_REMINDER_DAYS)

    def clean(self):
        data = super().clean()
        kind = data.get("kind")
        if kind != CampaignKind.ONBOARDING and not data.get("due_date"):
            self.add_error("due_date", _("Indiquez une échéance."))
        if kind == CampaignKind.SIMULATION:
            if not data.get("simulation"):
                self.add_error("simulation", _("Choisissez la simulation d'origine."))
            scope = data.get("simulation_scope")
            if not scope or scope == "people":
                self.add_error(
                    "simulation_scope", _("Choisissez les personnes issues de la simulation.")
                )
            elif scope == "service" and not data.get("target_services"):
                self.add_error("target_services", _("Choisissez au moins un service."))
        return data


class LrsForm(forms.ModelForm):
    endpoint = forms.URLField(label=_("Point d'accès xAPI"), assume_scheme="https")
    password = forms.CharField(
        label=_("Secret"),
        required=False,
        widget=forms.PasswordInput(render_value=False),
        help_text=_("Laissez vide pour conserver le secret enregistré."),
    )

    class Meta:
        model = LearningRecordStore
        fields = ["endpoint", "username", "password", "enabled"]
        help_texts = {
            "endpoint": _(
                "L'adresse de base xAPI du LRS, par exemple https://lrs.exemple.fr/xapi/ "
                "(Hygie y ajoute « statements »)."
            ),
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._stored = self.instance.password if self.instance.pk else ""

    def clean_password(self):
        value = self.cleaned_data.get("password") or self._stored
        if not value:
            raise forms.ValidationError(_("Indiquez le secret fourni par le LRS."))
        return value

    def clean_endpoint(self):
        value = self.cleaned_data["endpoint"]
        if not value.startswith(("https://", "http://")):
            raise forms.ValidationError(_("Une adresse http(s)."))
        return value

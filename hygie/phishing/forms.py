from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from hygie.core.forms import ServerAccountForm
from hygie.phishing.models import CorrectiveRule, SendingProfile, Simulation, Trigger


class SendingProfileForm(ServerAccountForm):
    duplicate_name = _("Un profil porte déjà ce nom dans cette organisation.")

    class Meta:
        model = SendingProfile
        fields = [
            "name",
            "host",
            "port",
            "security",
            "username",
            "password",
            "from_address",
            "ca_certificate",
            "timeout",
        ]
        widgets = {"ca_certificate": forms.Textarea(attrs={"rows": 4, "spellcheck": "false"})}


class TestSendForm(forms.Form):
    recipient = forms.EmailField(label=_("Envoyer un message de test à"))


WEEKDAYS = [
    (0, _("lundi")),
    (1, _("mardi")),
    (2, _("mercredi")),
    (3, _("jeudi")),
    (4, _("vendredi")),
    (5, _("samedi")),
    (6, _("dimanche")),
]


class SimulationForm(forms.ModelForm):
    """A campaign in preparation: what is sent, to whom, when and how fast."""

    lures = forms.MultipleChoiceField(
        label=_("Leurres"),
        widget=forms.CheckboxSelectMultiple,
        help_text=_(
            "Plusieurs leurres : chacun reçoit celui de son service ou de son métier, ou un "
            "leurre tiré au hasard."
        ),
    )
    target_services = forms.MultipleChoiceField(
        label=_("Services"), required=False, widget=forms.CheckboxSelectMultiple
    )
    target_sites = forms.MultipleChoiceField(
        label=_("Sites"), required=False, widget=forms.CheckboxSelectMultiple
    )
    target_job_families = forms.MultipleChoiceField(
        label=_("Familles de métiers"), required=False, widget=forms.CheckboxSelectMultiple
    )
    business_days = forms.TypedMultipleChoiceField(
        label=_("Jours d'envoi"),
        choices=WEEKDAYS,
        coerce=int,
        widget=forms.CheckboxSelectMultiple,
    )

    class Meta:
        model = Simulation
        fields = [
            "name",
            "sending_profile",
            "lures",
            "assignment",
            "target_services",
            "target_sites",
            "target_job_families",
            "target_lists",
            "send_from",
            "send_until",
            "business_start",
            "business_end",
            "business_days",
            "rate_per_minute",
            "observe_days",
        ]
        widgets = {
            "send_from": forms.DateTimeInput(
                attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"
            ),
            "send_until": forms.DateTimeInput(
                attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"
            ),
            "business_start": forms.TimeInput(attrs={"type": "time"}, format="%H:%M"),
            "business_end": forms.TimeInput(attrs={"type": "time"}, format="%H:%M"),
            "target_lists": forms.CheckboxSelectMultiple,
        }
        labels = {
            "sending_profile": _("Profil d'envoi"),
            "assignment": _("Attribution des leurres"),
            "target_lists": _("Listes de personnes"),
        }
        help_texts = {
            "send_from": _("Vide : dès le lancement."),
            "send_until": _(
                "Les messages partent à des moments tirés au hasard dans la période, en heures "
                "ouvrées. Vide : au rythme maximal dès l'ouverture."
            ),
            "rate_per_minute": _("0 : pas de limite."),
        }

    def __init__(self, *args, organisation, **kwargs):
        super().__init__(*args, **kwargs)
        from hygie.orgs.models import JobFamily, Kind, Organisation
        from hygie.phishing.lures import available_custom_lures, library
        from hygie.phishing.models import SendingProfile, TargetList

        self.organisation = organisation
        chain = [*organisation.ancestor_ids(), organisation.pk]
        self.fields["sending_profile"].queryset = SendingProfile.objects.filter(
            organisation__in=chain
        )
        choices = [(lure.slug, f"{lure.name} — {lure.summary}") for lure in library()]
        choices += [
            (
                custom.key,
                _("%(name)s (modèle de %(owner)s)")
                % {"name": custom.name, "owner": custom.organisation},
            )
            for custom in available_custom_lures(organisation).select_related("organisation")
        ]
        self.fields["lures"].choices = choices
        below = Organisation.objects.filter(path__startswith=organisation.path)
        self.fields["target_services"].choices = [
            (str(o.pk), str(o)) for o in below.filter(kind=Kind.SERVICE).order_by("name")
        ]
        self.fields["target_sites"].choices = [
            (str(o.pk), str(o)) for o in below.filter(kind=Kind.SITE).order_by("name")
        ]
        self.fields["target_job_families"].choices = JobFamily.choices
        self.fields["target_lists"].queryset = TargetList.objects.filter(organisation__in=chain)
        self.initial.setdefault("business_days", list(self.instance.business_days or []))
        if self.instance.pk:
            self.initial.setdefault(
                "target_services", [str(v) for v in self.instance.target_services]
            )
            self.initial.setdefault("target_sites", [str(v) for v in self.instance.target_sites])

    def clean_name(self):
        return self.cleaned_data["name"].strip()

    def clean(self):
        data = super().clean()
        start, end = data.get("send_from"), data.get("send_until")
        if start and end and end <= start:
            self.add_error("send_until", _("La fin doit suivre le début."))
        opens, closes = data.get("business_start"), data.get("business_end")
        if opens and closes and closes <= opens:
            self.add_error("business_end", _("L'heure de fermeture doit suivre l'ouverture."))
        return data

    def save(self, commit=True):
        simulation = super().save(commit=False)
        simulation.organisation = self.organisation
        simulation.lures = list(self.cleaned_data["lures"])
        simulation.target_services = [int(v) for v in self.cleaned_data["target_services"]]
        simulation.target_sites = [int(v) for v in self.cleaned_data["target_sites"]]
        simulation.target_job_families = list(self.cleaned_data["target_job_families"])
        simulation.business_days = sorted(self.cleaned_data["business_days"])
        if commit:
            simulation.save()
            self.save_m2m()
        return simulation


class CorrectiveRuleForm(forms.ModelForm):
    training_module = forms.ChoiceField(
        label=_("Module de formation"),
        required=False,
        help_text=_(
            "Pour la mesure « Attribuer une formation ». Vide : les modules liés aux leurres "
            "de la simulation."
        ),
    )

    class Meta:
        model = CorrectiveRule
        fields = ["name", "trigger", "threshold", "remedy", "training_module", "active"]
        help_texts = {
            "threshold": _(
                "Un pourcentage pour les déclencheurs par service ; un nombre de campagnes pour "
                "les personnes qui cliquent à répétition (2 au moins)."
            )
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        from hygie.awareness.models import Module

        self.fields["training_module"].choices = [
            ("", _("Modules liés aux leurres de la simulation")),
            *Module.objects.filter(active=True).values_list("slug", "title"),
        ]

    def clean(self):
        data = super().clean()
        trigger, threshold = data.get("trigger"), data.get("threshold")
        if trigger in (Trigger.SERVICE_CLICKS, Trigger.SERVICE_REPORTS) and threshold is not None:
            if not 1 <= threshold <= 100:
                self.add_error("threshold", _("Un pourcentage entre 1 et 100."))
        if trigger == Trigger.REPEAT and threshold is not None and threshold < 2:
            self.add_error("threshold", _("Au moins 2 campagnes."))
        return data

"""Forms of the custom lure, target list and GoPhish import pages."""

from __future__ import annotations

import re

from django import forms
from django.utils.translation import gettext_lazy as _

from hygie.orgs.models import JobFamily, Kind, Organisation
from hygie.phishing.lures import FIELD_TYPES, SIGN_PLACES
from hygie.phishing.models import CustomLure, TargetList

_FIELD_NAME = re.compile(r"^[a-z][a-z0-9_]{0,39}$")

SIGN_PLACE_LABELS = {
    "subject": _("Objet"),
    "sender": _("Expéditeur"),
    "link": _("Lien"),
    "body": _("Corps du message"),
    "attachment": _("Pièce jointe"),
    "tone": _("Ton"),
}
FIELD_TYPE_LABELS = {"text": _("Texte"), "password": _("Mot de passe"), "email": _("E-mail")}


class CustomLureForm(forms.ModelForm):
    audiences = forms.CharField(
        label=_("Publics"),
        required=False,
        help_text=_(
            "Familles de métiers (codes) ou mots-clés de service, séparés par des virgules ; "
            "sert à choisir le leurre « selon le service »."
        ),
    )

    class Meta:
        model = CustomLure
        fields = [
            "name",
            "summary",
            "audiences",
            "sender_name",
            "sender_local_part",
            "subject",
            "text",
            "html",
            "landing_title",
            "landing_intro",
            "landing_button",
            "teachable_title",
            "teachable_body",
        ]
        labels = {"landing_button": _("bouton de la page d'arrivée")}
        widgets = {
            "text": forms.Textarea(attrs={"rows": 8}),
            "html": forms.Textarea(attrs={"rows": 8, "spellcheck": "false"}),
            "landing_intro": forms.Textarea(attrs={"rows": 3}),
            "teachable_body": forms.Textarea(attrs={"rows": 6}),
        }
        help_texts = {
            "subject": _(
                "Variables : {{prenom}} {{nom}} {{service}} {{etablissement}} {{date}} "
                "{{expediteur}} ; le corps doit contenir {{lien}}, le HTML peut contenir {{pixel}}."
            ),
        }

    def __init__(self, *args, organisation, **kwargs):
        super().__init__(*args, **kwargs)
        self.organisation = organisation
        if self.instance.pk:
            self.initial["audiences"] = ", ".join(self.instance.audiences or [])

    def clean_name(self):
        name = self.cleaned_data["name"].strip()
        taken = CustomLure.objects.filter(organisation=self.organisation, name=name)
        if self.instance.pk:
            taken = taken.exclude(pk=self.instance.pk)
        if taken.exists():
            raise forms.ValidationError(_("Un leurre porte déjà ce nom dans cette organisation."))
        return name

    def clean_audiences(self):
        raw = self.cleaned_data.get("audiences") or ""
        return [part.strip() for part in raw.split(",") if part.strip()]

    def clean_sender_local_part(self):
        value = self.cleaned_data["sender_local_part"].strip().lower()
        if not re.fullmatch(r"[a-z0-9](?:[a-z0-9._+-]{0,62}[a-z0-9])?", value):
            raise forms.ValidationError(
                _("Minuscules, chiffres, point, tiret, plus ou souligné (partie avant @).")
            )
        return value


class LandingFieldForm(forms.Form):
    name = forms.CharField(label=_("Nom technique"), max_length=40, required=False)
    label = forms.CharField(label=_("Libellé"), max_length=120, required=False)
    type = forms.ChoiceField(
        label=_("Type"), choices=[(t, FIELD_TYPE_LABELS[t]) for t in FIELD_TYPES], required=False
    )

    def clean(self):
        data = super().clean()
        name, label = data.get("name", "").strip(), data.get("label", "").strip()
        if not name and not label:
            return data
        if not _FIELD_NAME.match(name):
            self.add_error(
                "name", _("Minuscules, chiffres et souligné, commençant par une lettre.")
            )
        if not label:
            self.add_error("label", _("Libellé obligatoire."))
        return data


class SignForm(forms.Form):
    where = forms.ChoiceField(
        label=_("Où"),
        choices=[("", "—")] + [(p, SIGN_PLACE_LABELS[p]) for p in SIGN_PLACES],
        required=False,
    )
    text = forms.CharField(label=_("Signe d'alerte"), max_length=300, required=False)

    def clean(self):
        data = super().clean()
        if data.get("text", "").strip() and not data.get("where"):
            self.add_error("where", _("Dites où se voit ce signe."))
        return data


class _RowsFormSet(forms.BaseFormSet):
    def rows(self) -> list[dict]:
        """The filled rows, stripped (blank extra rows are left out)."""
        found = []
        for form in self.forms:
            data = getattr(form, "cleaned_data", None) or {}
            row = {k: v.strip() if isinstance(v, str) else v for k, v in data.items()}
            if row.get("name") or row.get("label") or row.get("text"):
                found.append(row)
        return found


class LandingFieldFormSet(_RowsFormSet):
    def clean(self):
        if any(self.errors):
            return
        names = [row["name"] for row in self.rows()]
        duplicates = sorted({name for name in names if names.count(name) > 1})
        if duplicates:
            raise forms.ValidationError(
                _("Nom de champ utilisé deux fois : %(names)s.") % {"names": ", ".join(duplicates)}
            )


def landing_field_formset(data=None, initial=None):
    factory = forms.formset_factory(LandingFieldForm, formset=LandingFieldFormSet, extra=2)
    return factory(data, initial=initial, prefix="champ")


def sign_formset(data=None, initial=None):
    factory = forms.formset_factory(SignForm, formset=_RowsFormSet, extra=2)
    return factory(data, initial=initial, prefix="signe")


class TargetListForm(forms.Form):
    """A named list built from a filter over the staff directory of the node."""

    name = forms.CharField(label=_("Nom"), max_length=200)
    services = forms.ModelMultipleChoiceField(
        label=_("Services"), queryset=Organisation.objects.none(), required=False
    )
    sites = forms.ModelMultipleChoiceField(
        label=_("Sites"), queryset=Organisation.objects.none(), required=False
    )
    job_families = forms.MultipleChoiceField(
        label=_("Familles de métiers"), choices=JobFamily.choices, required=False
    )

    def __init__(self, *args, organisation, **kwargs):
        super().__init__(*args, **kwargs)
        self.organisation = organisation
        subtree = Organisation.objects.subtree_of(organisation)
        self.fields["services"].queryset = subtree.filter(kind=Kind.SERVICE).order_by("name")
        self.fields["sites"].queryset = subtree.filter(kind=Kind.SITE).order_by("name")
        self.fields["services"].help_text = _("Aucun choix : tous les services.")

    def clean_name(self):
        name = self.cleaned_data["name"].strip()
        if TargetList.objects.filter(organisation=self.organisation, name=name).exists():
            raise forms.ValidationError(_("Une liste porte déjà ce nom dans cette organisation."))
        return name


class GophishImportForm(forms.Form):
    KINDS = [
        ("templates", _("Modèles de message (JSON)")),
        ("pages", _("Pages d'arrivée (JSON)")),
        ("groups", _("Groupes de destinataires (JSON ou CSV)")),
    ]
    kind = forms.ChoiceField(label=_("Contenu du fichier"), choices=KINDS)
    file = forms.FileField(
        label=_("Fichier exporté de GoPhish"),
        help_text=_(
            "JSON tel que renvoyé par l'API de GoPhish (un objet ou une liste), ou CSV de groupe "
            "(First Name, Last Name, Email, Position, et une colonne Service facultative)."
        ),
    )
    group_name = forms.CharField(
        label=_("Nom du groupe (CSV)"),
        max_length=200,
        required=False,
        help_text=_("Par défaut, le nom du fichier."),
    )
    create_services = forms.BooleanField(label=_("Créer les services inconnus"), required=False)
    establishment = forms.ModelChoiceField(
        label=_("Établissement des nouvelles personnes"),
        queryset=Organisation.objects.none(),
        required=False,
        help_text=_("Pour un groupe importé au niveau du GHT."),
    )

    def __init__(self, *args, organisation, **kwargs):
        super().__init__(*args, **kwargs)
        self.organisation = organisation
        if organisation.kind == Kind.ESTABLISHMENT:
            del self.fields["establishment"]
        else:
            self.fields["establishment"].queryset = Organisation.objects.subtree_of(
                organisation
            ).filter(kind=Kind.ESTABLISHMENT)

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from hygie.directory.csv_io import MAX_UPLOAD_BYTES
from hygie.directory.models import Actor, ActorKind, Competence, Qualification
from hygie.orgs.models import Kind, Organisation

REFERENCE = "reference"


def _regions():
    return Organisation.objects.filter(kind=Kind.REGION).order_by("name")


class ActorFilterForm(forms.Form):
    q = forms.CharField(label=_("Recherche"), required=False, max_length=100)
    region = forms.ModelChoiceField(
        label=_("Région"),
        queryset=Organisation.objects.none(),
        required=False,
        empty_label=_("Toutes"),
    )
    kind = forms.ChoiceField(
        label=_("Type"), choices=[("", _("Tous")), *ActorKind.choices], required=False
    )
    competence = forms.ChoiceField(
        label=_("Compétence"), choices=[("", _("Toutes")), *Competence.choices], required=False
    )
    qualification = forms.ChoiceField(
        label=_("Qualification"),
        choices=[("", _("Toutes")), *Qualification.choices],
        required=False,
    )
    origin = forms.ChoiceField(
        label=_("Origine"),
        choices=[
            ("", _("Toutes")),
            ("reference", _("Référentiel partagé")),
            ("own", _("Entrées de mes organisations")),
        ],
        required=False,
    )
    stale = forms.BooleanField(label=_("À vérifier uniquement"), required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["region"].queryset = _regions()

    def filters(self) -> dict:
        """Keyword arguments of services.filter_actors (no filter when the form is invalid)."""
        if not self.is_valid():
            return {}
        data = self.cleaned_data
        return {
            "q": data["q"].strip(),
            "region": data["region"],
            "kind": data["kind"],
            "competence": data["competence"],
            "qualification": data["qualification"],
            "stale_only": data["stale"],
            "origin": data["origin"],
        }


class OwnerField(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        return f"{obj.get_kind_display()} — {obj}"


class ActorForm(forms.ModelForm):
    website = forms.URLField(label=_("Site web"), required=False, assume_scheme="https")
    competences = forms.MultipleChoiceField(
        label=_("Compétences"),
        choices=Competence.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    qualifications = forms.MultipleChoiceField(
        label=_("Qualifications et certifications"),
        choices=Qualification.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_(
            "Qualifications ANSSI (PASSI, PRIS, PDIS, PACS, PAMS, SecNumCloud), HDS, Qualiopi."
        ),
    )
    regions = forms.ModelMultipleChoiceField(
        label=_("Régions couvertes"),
        queryset=Organisation.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("Aucune case cochée : couverture nationale."),
    )

    class Meta:
        model = Actor
        fields = [
            "owner",
            "name",
            "kind",
            "description",
            "website",
            "email",
            "phone",
            "regions",
            "competences",
            "qualifications",
            "last_verified_on",
        ]
        widgets = {"last_verified_on": forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")}
        help_texts = {
            "last_verified_on": _(
                "Date à laquelle ces informations ont été confirmées. Au-delà de 12 mois, "
                "l'entrée est signalée « à vérifier »."
            )
        }

    def __init__(self, *args, owners, reference_allowed: bool, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["regions"].queryset = _regions()
        self.fields["owner"] = OwnerField(
            label=_("Annuaire"),
            queryset=owners,
            required=not reference_allowed,
            empty_label=_("Référentiel partagé (toutes les organisations)")
            if reference_allowed
            else None,
            help_text=_(
                "Une entrée propre n'est visible que de l'organisation choisie et de ce qui "
                "lui est rattaché."
            ),
        )
        if not reference_allowed and self.instance.pk is None and owners.count() == 1:
            self.initial.setdefault("owner", owners.first())


class ActorImportForm(forms.Form):
    file = forms.FileField(
        label=_("Fichier CSV"),
        help_text=_(
            "Séparateur « ; » ou « , », UTF-8 ou Windows-1252. Colonnes : id, nom, type, "
            "description, site web, courriel, téléphone, régions, compétences, "
            "qualifications, vérifié le. Plusieurs valeurs dans une case : séparées par « ; »."
        ),
        widget=forms.ClearableFileInput(attrs={"accept": ".csv,.txt,text/csv"}),
    )
    target = forms.ChoiceField(label=_("Importer dans"))

    def __init__(self, *args, owners, reference_allowed: bool, **kwargs):
        super().__init__(*args, **kwargs)
        self.owners = {str(org.pk): org for org in owners}
        choices = [(pk, f"{org.get_kind_display()} — {org}") for pk, org in self.owners.items()]
        if reference_allowed:
            choices.insert(0, (REFERENCE, _("Référentiel partagé (toutes les organisations)")))
        self.fields["target"].choices = choices

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if upload.size > MAX_UPLOAD_BYTES:
            raise forms.ValidationError(
                _("Fichier trop volumineux : %(max)s Mo au plus.")
                % {"max": MAX_UPLOAD_BYTES // (1024 * 1024)}
            )
        return upload

    def target_owner(self) -> Organisation | None:
        value = self.cleaned_data["target"]
        return None if value == REFERENCE else self.owners[value]

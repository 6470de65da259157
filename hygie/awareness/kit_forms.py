"""Forms of the kit pages (national campaign relay)."""

from __future__ import annotations

from django import forms
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from hygie.awareness import kits
from hygie.awareness.models import Kit, KitItemKind


class KitForm(forms.ModelForm):
    class Meta:
        model = Kit
        fields = ["name", "publisher", "year", "description"]
        help_texts = {
            "publisher": _("Par exemple : Cybermalveillance.gouv.fr, ANS, ARS."),
        }
        widgets = {"description": forms.Textarea(attrs={"rows": 4})}

    def clean_year(self):
        year = self.cleaned_data["year"]
        this_year = timezone.localdate().year
        if not 2000 <= year <= this_year + 1:
            raise ValidationError(
                _("Indiquez une année entre 2000 et %(max)s.") % {"max": this_year + 1}
            )
        return year


class KitItemForm(forms.Form):
    kind = forms.ChoiceField(label=_("type de support"), choices=KitItemKind.choices)
    title = forms.CharField(label=_("titre"), max_length=200)
    text = forms.CharField(
        label=_("texte"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_("Le message à relayer : il figure dans l'e-mail envoyé aux services."),
    )
    url = forms.URLField(
        label=_("lien"), required=False, assume_scheme="https", help_text=_("Vidéo ou page web.")
    )
    file = forms.FileField(
        label=_("fichier"),
        required=False,
        help_text=_("PDF, PNG ou JPEG, 20 Mo au plus (SVG refusé : il peut contenir du script)."),
    )

    def clean(self):
        data = super().clean()
        kind = data.get("kind")
        if kind == KitItemKind.POSTER and not data.get("file"):
            self.add_error("file", _("Une affiche se dépose sous forme de fichier."))
        elif kind == KitItemKind.MESSAGE and not data.get("text"):
            self.add_error("text", _("Saisissez le texte du message."))
        elif kind == KitItemKind.VIDEO and not data.get("url"):
            self.add_error("url", _("Indiquez le lien de la vidéo."))
        elif not (data.get("text") or data.get("url") or data.get("file")):
            self.add_error(None, _("Un support porte un texte, un lien ou un fichier."))
        return data


def service_field_name(service) -> str:
    return f"service_{service.pk}"


class DistributionForm(forms.Form):
    """One e-mail field per service, and a box to paste "service;e-mail" lines instead."""

    contacts_csv = forms.CharField(
        label=_("ou collez des lignes « service;adresse e-mail »"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 5, "placeholder": "Urgences;cadre.urgences@ch.fr"}),
        help_text=_(
            "Une ligne par service ; le service par son nom ou son code. "
            "Les lignes collées complètent ou remplacent les adresses saisies ci-dessus."
        ),
    )

    def __init__(self, *args, services, initial_contacts, **kwargs):
        super().__init__(*args, **kwargs)
        self.services = list(services)
        for service in self.services:
            label = f"{service.parent.name} — {service.name}" if service.parent_id else service.name
            self.fields[service_field_name(service)] = forms.EmailField(
                label=label,
                required=False,
                initial=initial_contacts.get(service.pk, ""),
            )
        self.order_fields([service_field_name(s) for s in self.services] + ["contacts_csv"])

    def service_fields(self):
        return [self[service_field_name(service)] for service in self.services]

    def clean(self):
        data = super().clean()
        contacts = {
            service.pk: data[service_field_name(service)]
            for service in self.services
            if data.get(service_field_name(service))
        }
        pasted = (data.get("contacts_csv") or "").strip()
        if pasted:
            try:
                contacts.update(kits.parse_contacts(pasted, self.services))
            except kits.KitError as exc:
                for problem in exc.problems:
                    self.add_error("contacts_csv", problem)
        if not contacts and not self.errors:
            raise ValidationError(_("Indiquez l'adresse d'au moins un service."))
        data["contacts"] = contacts
        return data


class AcknowledgeForm(forms.Form):
    name = forms.CharField(
        label=_("Votre nom"), max_length=200, widget=forms.TextInput(attrs={"autocomplete": "name"})
    )
    comment = forms.CharField(
        label=_("Commentaire (facultatif)"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Par exemple : affiches en salle de pause et à l'accueil."),
    )

"""Forms of the remote-access inventory, the KEV catalogue and exposure scans."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from hygie.posture.models import RemoteAccessPoint


class RemoteAccessForm(forms.ModelForm):
    class Meta:
        model = RemoteAccessPoint
        fields = [
            "name",
            "kind",
            "vendor",
            "product",
            "version",
            "address",
            "mfa",
            "admin_interface_exposed",
            "last_patched_on",
            "users",
            "notes",
        ]
        widgets = {
            "last_patched_on": forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
            "notes": forms.Textarea(attrs={"rows": 3}),
        }
        help_texts = {
            "vendor": _("Par exemple Fortinet, Ivanti, Citrix, Palo Alto Networks, Cisco."),
            "product": _(
                "Par exemple FortiGate, Connect Secure, NetScaler Gateway, GlobalProtect."
            ),
            "last_patched_on": _(
                "Vide si inconnue : toutes les vulnérabilités connues du produit sont à vérifier."
            ),
        }


class KevImportForm(forms.Form):
    file = forms.FileField(
        label=_("Catalogue KEV (fichier JSON)"),
        help_text=_("known_exploited_vulnerabilities.json, tel que publié par la CISA."),
    )
    allow_older = forms.BooleanField(
        label=_("Importer même s'il est plus ancien que le catalogue en vigueur"),
        required=False,
    )


class ScanUploadForm(forms.Form):
    file = forms.FileField(
        label=_("Résultat du scan nmap (XML)"),
        help_text=_("Produit par nmap -sV -oX scan.xml …"),
    )

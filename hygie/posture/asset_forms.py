"""Forms of the asset inventory and end-of-life pages."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from hygie.core.uploads import TEXT, check_upload
from hygie.posture import eol, inventory

INVENTORY_TYPES = {"csv": ("text/csv", TEXT), "txt": ("text/plain", TEXT)}
EOL_TYPES = {
    "yaml": ("application/yaml", TEXT),
    "yml": ("application/yaml", TEXT),
    "json": ("application/json", TEXT),
}


class AssetImportForm(forms.Form):
    file = forms.FileField(
        label=_("Fichier CSV ou export GLPI"),
        help_text=_(
            "Colonnes reconnues (en-têtes français ou anglais) : Nom (obligatoire), Type, Système, "
            "Version, Site, Service, Numéro de série, Actif, Dernière connexion. Export de la liste "
            "des ordinateurs de GLPI : Nom, Entité, Lieu, Système d'exploitation - Nom, Système "
            "d'exploitation - Version, Numéro de série, Type, Dernière modification. Séparateur « ; » "
            "ou « , », UTF-8 (avec ou sans BOM) ou Latin-1."
        ),
    )

    def clean_file(self):
        upload = self.cleaned_data["file"]
        name, _content_type, _digest = check_upload(
            upload, INVENTORY_TYPES, inventory.MAX_FILE_BYTES, default_name="inventaire.csv"
        )
        self.filename = name
        return upload


class EolImportForm(forms.Form):
    file = forms.FileField(
        label=_("Fichier de dates de fin de vie"),
        help_text=_(
            "Fichier YAML au format du jeu fourni avec Hygie, ou réponse JSON de l'API "
            "endoflife.date pour un produit (ex. : windows-server.json)."
        ),
    )
    product = forms.CharField(
        label=_("Produit (fichier endoflife.date)"),
        required=False,
        max_length=60,
        help_text=_("Par défaut le nom du fichier : windows-server, debian, ubuntu, rhel…"),
    )

    def clean_file(self):
        upload = self.cleaned_data["file"]
        name, _content_type, _digest = check_upload(
            upload, EOL_TYPES, eol.MAX_FILE_BYTES, default_name="eol.yaml"
        )
        self.filename = name
        return upload

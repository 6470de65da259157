"""Forms of the access review pages."""

from __future__ import annotations

import datetime as dt

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from hygie.access.models import CaseStatus, LogKind, Pattern
from hygie.access.review.cases import FollowUp

MAX_LOG_BYTES = 512 * 1024 * 1024
LOG_FILES = {
    "csv": ("text/csv", None),
    "jsonl": ("application/x-ndjson", None),
    "json": ("application/x-ndjson", None),
    "txt": ("text/plain", None),
}


class ImportForm(forms.Form):
    kind = forms.ChoiceField(label=_("Nature du fichier"), choices=LogKind.choices)
    application = forms.CharField(
        label=_("Application"),
        max_length=120,
        required=False,
        help_text=_("Pour un journal d'accès : le logiciel qui l'a produit (DPI, PACS…)."),
    )
    file = forms.FileField(
        label=_("Fichier"),
        help_text=_(
            "CSV (séparateur « , » ou « ; », UTF-8) ou JSON lines, selon le schéma documenté."
        ),
    )

    def clean_file(self):
        from django.core.exceptions import ValidationError

        from hygie.core.uploads import check_upload

        upload = self.cleaned_data["file"]
        try:
            name, _type, _digest = check_upload(upload, LOG_FILES, MAX_LOG_BYTES)
        except ValidationError as error:
            raise forms.ValidationError(error.messages) from None
        self.cleaned_data["filename"] = name
        return upload


class RunForm(forms.Form):
    start = forms.DateField(label=_("Du"), widget=forms.DateInput(attrs={"type": "date"}))
    end = forms.DateField(label=_("Au (inclus)"), widget=forms.DateInput(attrs={"type": "date"}))

    def clean(self):
        data = super().clean()
        start, end = data.get("start"), data.get("end")
        if start and end and end < start:
            self.add_error("end", _("La fin de la période précède son début."))
        if start and end and (end - start).days > 366:
            self.add_error("end", _("Une revue porte sur un an au plus."))
        return data

    def period(self) -> tuple[dt.datetime, dt.datetime]:
        zone = timezone.get_current_timezone()
        start = dt.datetime.combine(self.cleaned_data["start"], dt.time(), zone)
        end = dt.datetime.combine(self.cleaned_data["end"] + dt.timedelta(days=1), dt.time(), zone)
        return start, end


class QueueFilter(forms.Form):
    status = forms.ChoiceField(
        label=_("Statut"), required=False, choices=[("", _("Tous"))] + CaseStatus.choices
    )
    pattern = forms.ChoiceField(
        label=_("Motif"), required=False, choices=[("", _("Tous"))] + Pattern.choices
    )
    service = forms.CharField(label=_("Service"), required=False, max_length=160)


class DecisionForm(forms.Form):
    status = forms.ChoiceField(label=_("Décision"), choices=CaseStatus.choices)
    note = forms.CharField(
        label=_("Note"),
        widget=forms.Textarea(attrs={"rows": 4}),
        max_length=4000,
        help_text=_("Ce qui fonde la décision : explications reçues, vérifications faites."),
    )
    manager_email = forms.EmailField(
        label=_("Demander l'explication par e-mail à (responsable de la personne)"),
        required=False,
        help_text=_("Seulement avec « Explication demandée ». Le message ne nomme pas le patient."),
    )
    follow_up = forms.ChoiceField(
        label=_("Suite"),
        required=False,
        choices=[
            (FollowUp.NONE, _("Aucune")),
            (FollowUp.ACTION, _("Créer une action au plan d'action")),
            (FollowUp.HR, _("Saisine des ressources humaines")),
        ],
    )
    hr_reference = forms.CharField(
        label=_("Référence du dossier RH"), required=False, max_length=200
    )

    def clean(self):
        data = super().clean()
        if data.get("manager_email") and data.get("status") != CaseStatus.EXPLANATION:
            self.add_error(
                "manager_email",
                _("L'e-mail au responsable accompagne une demande d'explication."),
            )
        if data.get("follow_up") == FollowUp.HR and not data.get("hr_reference", "").strip():
            self.add_error("hr_reference", _("Indiquez la référence du dossier RH."))
        return data

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from hygie.core.forms import ServerAccountForm
from hygie.mailreports.models import Mailbox, Verdict


class MailboxForm(ServerAccountForm):
    duplicate_name = _("Une boîte porte déjà ce nom dans cette organisation.")

    class Meta:
        model = Mailbox
        fields = [
            "name",
            "host",
            "port",
            "security",
            "username",
            "password",
            "folder",
            "processed_folder",
            "ca_certificate",
            "timeout",
            "reply_address",
            "active",
        ]
        widgets = {"ca_certificate": forms.Textarea(attrs={"rows": 4, "spellcheck": "false"})}

    def clean(self):
        data = super().clean()
        if data.get("folder") and data.get("folder") == data.get("processed_folder"):
            self.add_error(
                "processed_folder", _("Le dossier des messages traités doit être un autre dossier.")
            )
        if not self.instance.pk and not data.get("password"):
            self.add_error("password", _("Le mot de passe de la boîte est nécessaire."))
        return data


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    def __init__(self, *args, **kwargs):
        kwargs.setdefault("widget", MultipleFileInput(attrs={"accept": ".eml,.msg"}))
        super().__init__(*args, **kwargs)

    def clean(self, data, initial=None):
        if isinstance(data, list | tuple):
            if not data:
                raise forms.ValidationError(self.error_messages["required"], code="required")
            return [super(MultipleFileField, self).clean(item, initial) for item in data]
        return [super().clean(data, initial)]


class UploadForm(forms.Form):
    files = MultipleFileField(label=_("Messages (.eml ou .msg)"))
    reporter = forms.EmailField(
        label=_("Signalé par (adresse)"),
        required=False,
        help_text=_("La personne à qui répondre ; vide si le fichier est lui-même un signalement."),
    )


VERDICTS = [
    (Verdict.MALICIOUS, Verdict.MALICIOUS.label),
    (Verdict.SPAM, Verdict.SPAM.label),
    (Verdict.LEGITIMATE, Verdict.LEGITIMATE.label),
]


class VerdictForm(forms.Form):
    verdict = forms.ChoiceField(label=_("Verdict"), choices=VERDICTS, widget=forms.RadioSelect)
    note = forms.CharField(
        label=_("Note d'analyse"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        max_length=4000,
    )


class ReplyForm(forms.Form):
    subject = forms.CharField(label=_("Objet"), max_length=200)
    body = forms.CharField(label=_("Message"), widget=forms.Textarea(attrs={"rows": 12}))


class CaseFilterForm(forms.Form):
    status = forms.ChoiceField(required=False, label=_("État"))
    verdict = forms.ChoiceField(required=False, label=_("Verdict"))
    kind = forms.ChoiceField(required=False, label=_("Nature"))

    def __init__(self, *args, **kwargs):
        from hygie.mailreports.models import CaseKind, CaseStatus

        super().__init__(*args, **kwargs)
        everything = [("", _("Tous"))]
        self.fields["status"].choices = everything + list(CaseStatus.choices)
        self.fields["verdict"].choices = everything + list(Verdict.choices)
        self.fields["kind"].choices = everything + list(CaseKind.choices)

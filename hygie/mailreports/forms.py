from __future__ import annotations

import ssl

from django import forms
from django.utils.translation import gettext_lazy as _

from hygie.mailreports.models import Mailbox, Verdict


class MailboxForm(forms.ModelForm):
    password = forms.CharField(
        label=_("Mot de passe"),
        required=False,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "new-password"}),
        help_text=_(
            "Chiffré avant d'être enregistré. Laisser vide pour conserver le mot de passe actuel."
        ),
    )

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

    def __init__(self, *args, organisation, **kwargs):
        super().__init__(*args, **kwargs)
        self.organisation = organisation

    def clean_name(self):
        name = self.cleaned_data["name"].strip()
        taken = Mailbox.objects.filter(organisation=self.organisation, name=name)
        if self.instance.pk:
            taken = taken.exclude(pk=self.instance.pk)
        if taken.exists():
            raise forms.ValidationError(_("Une boîte porte déjà ce nom dans cette organisation."))
        return name

    def clean_ca_certificate(self):
        pem = self.cleaned_data["ca_certificate"].strip()
        if pem:
            try:
                ssl.create_default_context().load_verify_locations(cadata=pem)
            except (ssl.SSLError, ValueError):
                raise forms.ValidationError(
                    _("Certificat PEM illisible (attendu : -----BEGIN CERTIFICATE-----…).")
                ) from None
        return pem

    def clean_port(self):
        port = self.cleaned_data["port"]
        if not 1 <= port <= 65535:
            raise forms.ValidationError(_("Un port entre 1 et 65535."))
        return port

    def clean_timeout(self):
        timeout = self.cleaned_data["timeout"]
        if not 1 <= timeout <= 120:
            raise forms.ValidationError(_("Entre 1 et 120 secondes."))
        return timeout

    def clean(self):
        data = super().clean()
        if data.get("folder") and data.get("folder") == data.get("processed_folder"):
            self.add_error(
                "processed_folder", _("Le dossier des messages traités doit être un autre dossier.")
            )
        if not self.instance.pk and not data.get("password"):
            self.add_error("password", _("Le mot de passe de la boîte est nécessaire."))
        return data

    def save(self, commit=True):
        mailbox = super().save(commit=False)
        new_password = self.cleaned_data.get("password")
        if new_password:
            mailbox.password = new_password
        elif self.instance.pk:
            mailbox.password = Mailbox.objects.get(pk=self.instance.pk).password
        mailbox.organisation = self.organisation
        if commit:
            mailbox.save()
        return mailbox


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

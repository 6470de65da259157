"""Form pieces shared by the apps."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from hygie.core.net import verified_tls_context


class ServerAccountForm(forms.ModelForm):
    """A server Hygie logs in to on behalf of an organisation (SMTP relay, IMAP mailbox): a
    name unique in the organisation, host and port, a password kept encrypted and never shown
    back (empty keeps the current one), an optional authority certificate, a timeout.

    Subclasses set `Meta` and `duplicate_name` (the message when the name is taken)."""

    duplicate_name = ""  # set by each subclass

    password = forms.CharField(
        label=_("Mot de passe"),
        required=False,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "new-password"}),
        help_text=_(
            "Chiffré avant d'être enregistré. Laisser vide pour conserver le mot de passe actuel."
        ),
    )

    def __init__(self, *args, organisation, **kwargs):
        super().__init__(*args, **kwargs)
        self.organisation = organisation

    def clean_name(self):
        name = self.cleaned_data["name"].strip()
        taken = type(self.instance).objects.filter(organisation=self.organisation, name=name)
        if self.instance.pk:
            taken = taken.exclude(pk=self.instance.pk)
        if taken.exists():
            raise forms.ValidationError(self.duplicate_name)
        return name

    def clean_ca_certificate(self):
        pem = self.cleaned_data["ca_certificate"].strip()
        if pem:
            try:
                verified_tls_context(pem)
            except ValueError:
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

    def save(self, commit=True):
        account = super().save(commit=False)
        new_password = self.cleaned_data.get("password")
        if new_password:
            account.password = new_password
        elif self.instance.pk:
            account.password = type(self.instance).objects.get(pk=self.instance.pk).password
        account.organisation = self.organisation
        if commit:
            account.save()
        return account

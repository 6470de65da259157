"""Forms of the Active Directory audit pages: export upload and live connection settings."""

from __future__ import annotations

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from hygie.core.uploads import TEXT, ZIP, check_upload
from hygie.posture.models import DirectoryConnection

# ldapdomaindump writes JSON files (domain_users.json…), LDIF is text, a zip holds either.
EXPORT_TYPES = {
    "json": ("application/json", TEXT),
    "ldif": ("text/plain", TEXT),
    "zip": ("application/zip", ZIP),
}
EXPORT_MAX_BYTES = 512 * 1024 * 1024  # a 100,000-user ldapdomaindump stays well below
EXPORT_MAX_FILES = 30


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class ExportFilesField(forms.FileField):
    def __init__(self, *args, **kwargs):
        kwargs.setdefault("widget", MultipleFileInput(attrs={"accept": ".json,.ldif,.zip"}))
        super().__init__(*args, **kwargs)

    def clean(self, data, initial=None):
        items = list(data) if isinstance(data, list | tuple) else [data]
        if not any(items):
            raise ValidationError(self.error_messages["required"], code="required")
        if len(items) > EXPORT_MAX_FILES:
            raise ValidationError(
                _("Au plus %(n)s fichiers à la fois (ou une archive zip).")
                % {"n": EXPORT_MAX_FILES}
            )
        cleaned = []
        for item in items:
            upload = super().clean(item, initial)
            try:
                check_upload(upload, EXPORT_TYPES, EXPORT_MAX_BYTES, default_name="export")
            except ValidationError as exc:
                raise ValidationError(f"{upload.name} : {' '.join(exc.messages)}") from None
            cleaned.append(upload)
        return cleaned


class ExportUploadForm(forms.Form):
    files = ExportFilesField(
        label=_("Export de l'annuaire"),
        help_text=_(
            "Les fichiers JSON de ldapdomaindump, un export LDIF ou BloodHound, ou une archive "
            "zip qui les contient. Seuls les résultats de l'audit sont conservés, jamais l'export."
        ),
    )


class ConnectionForm(forms.ModelForm):
    """The password is write-only: never shown back; left blank, the current one is kept."""

    bind_password = forms.CharField(
        label=_("mot de passe"),
        required=False,
        strip=False,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "new-password"}),
        help_text=_("Jamais réaffiché. Laissez vide pour conserver le mot de passe enregistré."),
    )

    class Meta:
        model = DirectoryConnection
        fields = [
            "name",
            "host",
            "port",
            "security",
            "ca_certificate",
            "bind_user",
            "bind_password",
            "base_dn",
            "page_size",
        ]
        widgets = {"ca_certificate": forms.Textarea(attrs={"rows": 4})}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["page_size"].min_value = 10
        self.fields["page_size"].widget.attrs["min"] = 10

    def clean_page_size(self):
        size = self.cleaned_data["page_size"]
        if size < 10 or size > 5000:
            raise ValidationError(_("Entre 10 et 5000 objets par page."))
        return size

    def clean_ca_certificate(self):
        pem = self.cleaned_data["ca_certificate"].strip()
        if pem and "-----BEGIN CERTIFICATE-----" not in pem:
            raise ValidationError(
                _("Collez un certificat au format PEM (-----BEGIN CERTIFICATE-----).")
            )
        return pem

    def clean(self):
        data = super().clean()
        if not self.instance.pk and not data.get("bind_password"):
            self.add_error(
                "bind_password", _("Le mot de passe du compte de lecture est nécessaire.")
            )
        return data

    def save(self, commit=True):
        password = self.cleaned_data.get("bind_password")
        instance = super().save(commit=False)
        if not password and self.instance.pk:
            instance.bind_password = (
                DirectoryConnection.objects.filter(pk=self.instance.pk)
                .values_list("bind_password", flat=True)
                .first()
                or ""
            )
        if commit:
            instance.save()
        return instance

from __future__ import annotations

from django import forms
from django.contrib.auth import get_user_model
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy
from ldap3.core.exceptions import LDAPException
from ldap3.operation.search import parse_filter

from hygie.orgs.models import (
    LDAP_ATTRIBUTE_RE,
    DirectorySource,
    JobFamily,
    Kind,
    Organisation,
    default_attribute_map,
)
from hygie.orgs.roles import Role


class MembershipForm(forms.Form):
    user = forms.CharField(label=_("Utilisateur (identifiant ou e-mail)"), max_length=254)
    role = forms.ChoiceField(label=_("Rôle"), choices=Role.choices)

    def clean_user(self):
        value = self.cleaned_data["user"].strip()
        user = (
            get_user_model()
            .objects.filter(Q(username__iexact=value) | Q(email__iexact=value), is_active=True)
            .first()
        )
        if user is None:
            raise forms.ValidationError(_("Aucun utilisateur actif « %(v)s ».") % {"v": value})
        return user


class InvitationForm(forms.Form):
    email = forms.EmailField(
        label=_("Adresse e-mail professionnelle"),
        max_length=150,
        widget=forms.EmailInput(attrs={"autocomplete": "off"}),
    )
    first_name = forms.CharField(label=_("Prénom"), max_length=150)
    last_name = forms.CharField(label=_("Nom"), max_length=150)
    role = forms.ChoiceField(label=_("Rôle"), choices=Role.choices)


class StaffFilterForm(forms.Form):
    q = forms.CharField(label=_("Recherche"), required=False, max_length=100)
    job_family = forms.ChoiceField(
        label=_("Famille de métiers"),
        choices=[("", _("Toutes")), *JobFamily.choices],
        required=False,
    )
    service = forms.TypedChoiceField(
        label=_("Service"), required=False, coerce=int, empty_value=None, choices=()
    )

    def __init__(self, services, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["service"].choices = [("", _("Tous")), *[(s.pk, str(s)) for s in services]]


class StaffImportForm(forms.Form):
    file = forms.FileField(
        label=_("Fichier CSV"),
        help_text=_(
            "Export RH au format CSV (séparateur « ; » ou « , », UTF-8 ou Windows-1252). "
            "Colonnes : nom, prénom, e-mail, matricule, famille de métiers, métier, service, "
            "site, date d'arrivée."
        ),
        widget=forms.ClearableFileInput(attrs={"accept": ".csv,.txt,text/csv"}),
    )
    create_services = forms.BooleanField(
        label=_("Créer les services et sites inconnus"),
        required=False,
        help_text=_("Sinon, un service ou un site absent de Hygie est une erreur."),
    )
    deactivate_missing = forms.BooleanField(
        label=_("Marquer comme partis les personnels absents du fichier"),
        required=False,
        help_text=_(
            "Concerne les personnes venues d'un import CSV précédent qui ne figurent plus "
            "dans ce fichier ; elles ne sont pas supprimées."
        ),
    )
    dry_run = forms.BooleanField(
        label=_("Vérifier seulement, sans rien enregistrer"), required=False
    )

    def __init__(self, *args, max_bytes: int, **kwargs):
        super().__init__(*args, **kwargs)
        self.max_bytes = max_bytes

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if upload is None or upload.size > self.max_bytes:
            raise forms.ValidationError(
                _("Fichier trop volumineux : %(max)s Mo au plus.")
                % {"max": self.max_bytes // (1024 * 1024)}
            )
        return upload


MAP_FIELDS = {
    "external_id": _("Identifiant (matricule)"),
    "first_name": _("Prénom"),
    # "Nom" alone is ambiguous in English (name or surname?) next to "Prénom".
    "last_name": pgettext_lazy("surname", "Nom"),
    "email": _("E-mail"),
    "service": _("Service"),
    "site": _("Site"),
    "job_title": _("Métier"),
    "job_family": _("Famille de métiers"),
}


class DirectorySourceForm(forms.ModelForm):
    new_bind_password = forms.CharField(
        label=_("Mot de passe de connexion"),
        required=False,
        strip=False,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "new-password"}),
        help_text=_("Laisser vide pour conserver le mot de passe enregistré."),
    )
    clear_bind_password = forms.BooleanField(
        label=_("Effacer le mot de passe enregistré"), required=False
    )

    class Meta:
        model = DirectorySource
        fields = [
            "server_url",
            "start_tls",
            "ca_certificate",
            "bind_dn",
            "base_dn",
            "search_filter",
            "create_services",
            "enabled",
        ]
        widgets = {"ca_certificate": forms.Textarea(attrs={"rows": 4})}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        mapping = self.instance.attribute_map or default_attribute_map()
        for key, label in MAP_FIELDS.items():
            self.fields[f"map_{key}"] = forms.CharField(
                label=_("Attribut LDAP — %(field)s") % {"field": label},
                required=key in ("external_id", "first_name", "last_name"),
                initial=", ".join(mapping.get(key, [])),
                help_text=(
                    _(
                        "Plusieurs attributs séparés par des virgules : le premier renseigné l'emporte."
                    )
                    if key == "service"
                    else ""
                ),
                max_length=200,
            )
        # Keep the password field right after the bind DN.
        order = list(self.fields)
        for name in ("new_bind_password", "clear_bind_password"):
            order.remove(name)
        position = order.index("bind_dn") + 1
        order[position:position] = ["new_bind_password", "clear_bind_password"]
        self.order_fields(order)

    def clean_search_filter(self):
        value = self.cleaned_data["search_filter"].strip()
        try:
            parse_filter(value, None, True, None, None, False)
        except LDAPException:
            raise forms.ValidationError(
                _("Filtre LDAP invalide, par exemple : (objectClass=inetOrgPerson).")
            ) from None
        return value

    def clean(self):
        cleaned = super().clean()
        mapping = {}
        for key in MAP_FIELDS:
            raw = cleaned.get(f"map_{key}") or ""
            mapping[key] = [part.strip() for part in raw.split(",") if part.strip()]
            bad = [name for name in mapping[key] if not LDAP_ATTRIBUTE_RE.match(name)]
            if bad:
                self.add_error(
                    f"map_{key}",
                    _("Nom d'attribut LDAP invalide : « %(a)s ».") % {"a": bad[0]},
                )
        if not any(self.has_error(f"map_{key}") for key in MAP_FIELDS):
            # Invalid names stay out of the instance, whose own checks would repeat them.
            self.instance.attribute_map = mapping
        return cleaned

    def save(self, commit=True):
        source = super().save(commit=False)
        if self.cleaned_data.get("clear_bind_password"):
            source.bind_password = ""
        elif self.cleaned_data.get("new_bind_password"):
            source.bind_password = self.cleaned_data["new_bind_password"]
        if commit:
            source.save()
        return source

    @property
    def password_changed(self) -> bool:
        return bool(
            self.cleaned_data.get("clear_bind_password")
            or self.cleaned_data.get("new_bind_password")
        )


class OrganisationForm(forms.ModelForm):
    """Create or edit a node; the parent is fixed by the URL, the kind by what it allows."""

    class Meta:
        model = Organisation
        fields = [
            "kind",
            "name",
            "short_name",
            "code",
            "category",
            "finess_ej",
            "finess_et",
            "is_ght_support",
        ]

    def __init__(self, *args, parent: Organisation | None = None, allowed_kinds=None, **kwargs):
        super().__init__(*args, **kwargs)
        if parent is not None:
            self.instance.parent = parent
        if allowed_kinds is not None:
            self.fields["kind"].choices = [(k, Kind(k).label) for k in allowed_kinds]
        if self.instance.pk:
            self.fields["kind"].disabled = True

    def clean(self):
        data = super().clean()
        kind = data.get("kind") or self.instance.kind
        if kind != Kind.ESTABLISHMENT:
            for name in ("finess_ej", "category", "is_ght_support"):
                if data.get(name):
                    self.add_error(name, _("Réservé aux établissements."))
        if (
            kind == Kind.ESTABLISHMENT
            and data.get("is_ght_support")
            and self.instance.parent.kind != Kind.GHT
        ):
            self.add_error(
                "is_ght_support",
                _("Seul un établissement membre d'un GHT peut en être le support."),
            )
        return data

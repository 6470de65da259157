"""Forms of the policy area: applications, routes and zones (edited as tables), policy versions,
test cases and the "what if" request (form fields, never raw JSON), the decision-log filters."""

from __future__ import annotations

import ipaddress
import re

from django import forms
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from hygie.access.models import NetworkZone, PolicyTest, ProtectedApplication, Route
from hygie.crisis.exercise_forms import RowErrorsMixin

ACTIONS = ("read", "write", "print", "export", "admin")
ACTION_CHOICES = [(a, a) for a in ACTIONS]
RESOURCE_TYPES = [("Record", gettext_lazy("Dossier patient (Record)")), ("Page", "Page")]
HTTP_METHODS = {"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "*"}
MAX_ROWS = 200
SPARE_ROWS = 3


# Applications ---------------------------------------------------------------------------------------
class ApplicationForm(forms.ModelForm):
    token_key = forms.CharField(
        label=gettext_lazy("Clé de vérification du jeton"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3, "autocomplete": "off"}),
        help_text=gettext_lazy(
            "Secret HS256 ou clé publique PEM. Jamais réaffichée : laissez vide pour garder "
            "la clé enregistrée."
        ),
    )
    clear_token_key = forms.BooleanField(
        label=gettext_lazy("Effacer la clé enregistrée"), required=False
    )

    class Meta:
        model = ProtectedApplication
        fields = [
            "name",
            "slug",
            "upstream",
            "failure_mode",
            "identity_source",
            "user_header",
            "mfa_header",
            "token_audience",
            "default_sensitivity",
            "log_retention_days",
        ]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.order_fields([*self.Meta.fields[:8], "token_key", "clear_token_key"])
        if not self.instance.pk:
            del self.fields["clear_token_key"]

    def clean_upstream(self):
        value = self.cleaned_data["upstream"].strip()
        if not re.match(r"^https?://[^\s/]+", value):
            raise forms.ValidationError(_("Une adresse http:// ou https://, ex. http://10.1.2.3."))
        return value

    def clean_token_key(self):
        """A PEM public key must be readable now, not fail every request later."""
        value = (self.cleaned_data.get("token_key") or "").strip()
        if "BEGIN" in value:
            from cryptography.hazmat.primitives.serialization import load_pem_public_key

            try:
                load_pem_public_key(value.encode())
            except (ValueError, TypeError):
                raise forms.ValidationError(
                    _("Clé publique PEM illisible (RSA ou EC attendue).")
                ) from None
        return value

    def clean(self):
        data = super().clean()
        has_key = bool(data.get("token_key")) or (
            self.instance.pk and self.instance.token_key and not data.get("clear_token_key")
        )
        if data.get("identity_source") == "token" and not has_key:
            self.add_error("token_key", _("Le mode jeton demande une clé de vérification."))
        return data

    def save(self, commit=True):
        application = super().save(commit=False)
        if self.cleaned_data.get("token_key"):
            application.token_key = self.cleaned_data["token_key"].strip()
        elif self.cleaned_data.get("clear_token_key"):
            application.token_key = ""
        if commit:
            application.save()
        return application


class ModeForm(forms.Form):
    mode = forms.ChoiceField(label=gettext_lazy("Mode"), choices=())

    def __init__(self, *args, **kwargs):
        from hygie.access.models import Mode

        super().__init__(*args, **kwargs)
        self.fields["mode"].choices = Mode.choices


# Routes and zones (tables) ---------------------------------------------------------------------------
class KeyedRowMixin:
    """A new row counts as filled only when its key column is: the spare rows come with the
    defaults of their other columns (GET,HEAD, read, Record…) and are ignored when left blank."""

    key_field = ""

    def has_changed(self):
        if self.instance.pk:
            return super().has_changed()
        return bool((self.data.get(self.add_prefix(self.key_field)) or "").strip())


class RouteForm(KeyedRowMixin, forms.ModelForm):
    key_field = "pattern"

    action = forms.ChoiceField(label=gettext_lazy("Action Cedar"), choices=ACTION_CHOICES)
    resource_type = forms.ChoiceField(
        label=gettext_lazy("Type de ressource"), choices=RESOURCE_TYPES
    )

    class Meta:
        model = Route
        fields = ["methods", "pattern", "action", "resource_type", "sensitivity"]

    def clean_methods(self):
        methods = [m.strip().upper() for m in self.cleaned_data["methods"].split(",") if m.strip()]
        unknown = [m for m in methods if m not in HTTP_METHODS]
        if not methods or unknown:
            raise forms.ValidationError(
                _("Méthodes HTTP séparées par des virgules (GET,HEAD,POST…) ; inconnue : %(m)s")
                % {"m": ", ".join(unknown) or "—"}
            )
        return ",".join(methods)

    def clean_pattern(self):
        pattern = self.cleaned_data["pattern"].strip()
        if not pattern.startswith("/"):
            raise forms.ValidationError(_("Le chemin commence par « / »."))
        for capture in re.findall(r"<([^>]*)>", pattern):
            if capture not in ("patient", "id"):
                raise forms.ValidationError(
                    _("Capture inconnue <%(c)s> : seules <patient> et <id> existent.")
                    % {"c": capture}
                )
        return pattern

    def clean_sensitivity(self):
        value = self.cleaned_data.get("sensitivity")
        if value is not None and not 0 <= value <= 5:
            raise forms.ValidationError(_("Une sensibilité de 0 à 5."))
        return value


class ZoneForm(KeyedRowMixin, forms.ModelForm):
    key_field = "cidr"

    zone = forms.ChoiceField(
        label=gettext_lazy("Zone"),
        choices=[c for c in NetworkZone.Zone.choices if c[0] != NetworkZone.Zone.INTERNET],
    )

    class Meta:
        model = NetworkZone
        fields = ["cidr", "zone", "label"]

    def clean_cidr(self):
        value = self.cleaned_data["cidr"].strip()
        try:
            network = ipaddress.ip_network(value, strict=False)
        except ValueError:
            raise forms.ValidationError(
                _("« %(v)s » n'est pas une plage d'adresses (ex. 10.20.0.0/16 ou 2001:db8::/48).")
                % {"v": value}
            ) from None
        return str(network)


class BaseRowFormSet(RowErrorsMixin, forms.BaseModelFormSet):
    unique_field = ""

    def clean(self):
        super().clean()
        if not self.unique_field:
            return
        seen = {}
        for number, form in enumerate(self.forms, start=1):
            if form in self.deleted_forms or not form.has_changed() and not form.instance.pk:
                continue
            value = form.cleaned_data.get(self.unique_field)
            if value in seen:
                form.add_error(
                    self.unique_field, _("Déjà sur la ligne %(n)s.") % {"n": seen[value]}
                )
            elif value:
                seen[value] = number

    def save_rows(self, parent_field: str, parent, *, positions: bool = True) -> int:
        for form in self.deleted_forms:
            if form.instance.pk:
                form.instance.delete()
        kept = 0
        for position, form in enumerate(self.forms):
            if form in self.deleted_forms or (not form.has_changed() and not form.instance.pk):
                continue
            row = form.save(commit=False)
            setattr(row, parent_field, parent)
            if positions:
                row.position = position
            row.save()
            kept += 1
        return kept


class ZoneFormSetBase(BaseRowFormSet):
    unique_field = "cidr"


RouteFormSet = forms.modelformset_factory(
    Route,
    form=RouteForm,
    formset=BaseRowFormSet,
    extra=SPARE_ROWS,
    can_delete=True,
    max_num=MAX_ROWS,
    absolute_max=MAX_ROWS,
    validate_max=True,
)
ZoneFormSet = forms.modelformset_factory(
    NetworkZone,
    form=ZoneForm,
    formset=ZoneFormSetBase,
    extra=SPARE_ROWS,
    can_delete=True,
    max_num=MAX_ROWS,
    absolute_max=MAX_ROWS,
    validate_max=True,
)


# Policies ----------------------------------------------------------------------------------------------
class PolicyForm(forms.Form):
    text = forms.CharField(
        label=gettext_lazy("Politiques Cedar"),
        widget=forms.Textarea(attrs={"rows": 24, "cols": 100, "spellcheck": "false"}),
        strip=False,
    )
    comment = forms.CharField(label=gettext_lazy("Commentaire"), max_length=300, required=False)


# Requests (test cases and "what if") -----------------------------------------------------------------
ZONE_CHOICES = NetworkZone.Zone.choices
WEEKDAYS = [
    (1, gettext_lazy("lundi")),
    (2, gettext_lazy("mardi")),
    (3, gettext_lazy("mercredi")),
    (4, gettext_lazy("jeudi")),
    (5, gettext_lazy("vendredi")),
    (6, gettext_lazy("samedi")),
    (7, gettext_lazy("dimanche")),
]


class RequestFieldsForm(forms.Form):
    """The request of a test case or of the "what if" page, field by field."""

    principal_id = forms.CharField(label=gettext_lazy("Utilisateur (identifiant)"), max_length=200)
    role = forms.CharField(label=gettext_lazy("Rôle"), max_length=80, required=False)
    job_family = forms.CharField(label=gettext_lazy("Métier"), max_length=80, required=False)
    service = forms.CharField(label=gettext_lazy("Service"), max_length=160, required=False)
    admin = forms.BooleanField(label=gettext_lazy("Administrateur"), required=False)
    units = forms.CharField(
        label=gettext_lazy("Unités de l'utilisateur"),
        required=False,
        help_text=gettext_lazy("Séparées par des virgules."),
    )
    action = forms.ChoiceField(label=gettext_lazy("Action"), choices=ACTION_CHOICES)
    resource_type = forms.ChoiceField(label=gettext_lazy("Ressource"), choices=RESOURCE_TYPES)
    resource_id = forms.CharField(label=gettext_lazy("Identifiant de la ressource"), max_length=200)
    patient_unit = forms.CharField(
        label=gettext_lazy("Unité du patient"), max_length=160, required=False
    )
    vip = forms.BooleanField(label=gettext_lazy("Patient VIP"), required=False)
    sensitivity = forms.IntegerField(
        label=gettext_lazy("Sensibilité"), min_value=0, max_value=5, initial=2
    )
    mfa = forms.BooleanField(label=gettext_lazy("Authentification forte (MFA)"), required=False)
    zone = forms.ChoiceField(label=gettext_lazy("Zone réseau"), choices=ZONE_CHOICES)
    hour = forms.IntegerField(label=gettext_lazy("Heure (0–23)"), min_value=0, max_value=23)
    weekday = forms.TypedChoiceField(label=gettext_lazy("Jour"), choices=WEEKDAYS, coerce=int)
    device_managed = forms.BooleanField(label=gettext_lazy("Poste géré"), required=False)
    device_compliant = forms.BooleanField(label=gettext_lazy("Poste conforme"), required=False)
    break_glass = forms.BooleanField(label=gettext_lazy("Bris de glace actif"), required=False)
    care_relationship = forms.BooleanField(label=gettext_lazy("Relation de soins"), required=False)

    def document(self) -> dict:
        d = self.cleaned_data
        record = d["resource_type"] == "Record"
        return {
            "principal": {
                "id": d["principal_id"],
                "role": d.get("role", ""),
                "job_family": d.get("job_family", ""),
                "service": d.get("service", ""),
                "admin": d.get("admin", False),
                "units": [u.strip() for u in d.get("units", "").split(",") if u.strip()],
            },
            "action": d["action"],
            "resource": {
                "type": d["resource_type"],
                "id": d["resource_id"],
                "sensitivity": d["sensitivity"],
                **(
                    {
                        "patient": d["resource_id"],
                        "unit": d.get("patient_unit", ""),
                        "vip": d["vip"],
                    }
                    if record
                    else {}
                ),
            },
            "context": {
                name: d[name]
                for name in (
                    "mfa",
                    "zone",
                    "hour",
                    "weekday",
                    "device_managed",
                    "device_compliant",
                    "break_glass",
                    "care_relationship",
                )
            },
        }

    @staticmethod
    def initial_from(document: dict) -> dict:
        p = document.get("principal", {})
        r = document.get("resource", {})
        return {
            "principal_id": p.get("id", ""),
            "role": p.get("role", ""),
            "job_family": p.get("job_family", ""),
            "service": p.get("service", ""),
            "admin": p.get("admin", False),
            "units": ", ".join(p.get("units", [])),
            "action": document.get("action", "read"),
            "resource_type": r.get("type", "Record"),
            "resource_id": r.get("id", ""),
            "patient_unit": r.get("unit", ""),
            "vip": r.get("vip", False),
            "sensitivity": r.get("sensitivity", 2),
            **document.get("context", {}),
        }


class PolicyTestForm(RequestFieldsForm):
    name = forms.CharField(label=gettext_lazy("Nom du cas"), max_length=160)
    expected = forms.ChoiceField(
        label=gettext_lazy("Décision attendue"),
        choices=[("allow", gettext_lazy("Autoriser")), ("deny", gettext_lazy("Refuser"))],
    )

    field_order = ["name", "expected"]

    def __init__(self, *args, instance: PolicyTest | None = None, **kwargs):
        self.instance = instance
        if instance is not None and "initial" not in kwargs:
            kwargs["initial"] = {
                "name": instance.name,
                "expected": instance.expected,
                **self.initial_from(instance.request),
            }
        super().__init__(*args, **kwargs)

    def save(self, application) -> PolicyTest:
        test = self.instance or PolicyTest(application=application)
        test.name = self.cleaned_data["name"]
        test.expected = self.cleaned_data["expected"]
        test.request = self.document()
        test.save()
        return test


class WhatIfForm(RequestFieldsForm):
    draft = forms.CharField(
        label=gettext_lazy("Brouillon de politique (facultatif)"),
        required=False,
        strip=False,
        widget=forms.Textarea(attrs={"rows": 10, "cols": 100, "spellcheck": "false"}),
        help_text=gettext_lazy("Vide : la version active décide."),
    )


class DraftForm(forms.Form):
    draft = WhatIfForm.base_fields["draft"]


# Decision log ------------------------------------------------------------------------------------------
class DecisionFilterForm(forms.Form):
    outcome = forms.ChoiceField(
        label=gettext_lazy("Décision"),
        required=False,
        choices=[
            ("", gettext_lazy("Toutes")),
            ("allowed", gettext_lazy("Autorisées")),
            ("all_denied", gettext_lazy("Refusées (toutes)")),
            ("denied", gettext_lazy("Refusées et appliquées")),
            ("shadow", gettext_lazy("Refus en observation (non appliqués)")),
        ],
    )
    break_glass = forms.BooleanField(label=gettext_lazy("Bris de glace"), required=False)
    application = forms.ModelChoiceField(
        label=gettext_lazy("Application"),
        queryset=ProtectedApplication.objects.none(),
        required=False,
    )
    principal = forms.CharField(label=gettext_lazy("Utilisateur"), required=False, max_length=200)
    resource = forms.CharField(label=gettext_lazy("Ressource"), required=False, max_length=200)
    start = forms.DateTimeField(
        label=gettext_lazy("Depuis"),
        required=False,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}),
    )
    end = forms.DateTimeField(
        label=gettext_lazy("Jusqu'à"),
        required=False,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}),
    )

    def __init__(self, *args, applications=None, **kwargs):
        super().__init__(*args, **kwargs)
        if applications is None:
            del self.fields["application"]
        else:
            self.fields["application"].queryset = applications

    def clean(self):
        data = super().clean()
        for name in ("start", "end"):
            moment = data.get(name)
            if moment and not 1900 <= moment.year <= 2199:
                # Year 1 cannot even be converted to UTC for the query.
                self.add_error(name, _("Date attendue entre 1900 et 2199."))
                data.pop(name, None)
        if data.get("start") and data.get("end") and data["end"] <= data["start"]:
            self.add_error("end", _("La fin de la période est après son début."))
        return data

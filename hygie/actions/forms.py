from __future__ import annotations

from django import forms
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from hygie.actions import services
from hygie.actions.models import ITEM_FIELDS, ActionItem, ActionMember, ActionStatus, Priority
from hygie.assessments.models import Campaign
from hygie.frameworks.models import RequirementNode
from hygie.orgs.models import Kind, Organisation


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, attrs=None):
        super().__init__(attrs, format="%Y-%m-%d")


class UserChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, user):
        return user.display_name() if hasattr(user, "display_name") else str(user)


class PlanFilterForm(forms.Form):
    status = forms.ChoiceField(
        label=_("Statut"), required=False, choices=[("", _("Tous"))] + ActionStatus.choices
    )
    priority = forms.ChoiceField(
        label=_("Priorité"), required=False, choices=[("", _("Toutes"))] + Priority.choices
    )
    owner = UserChoiceField(label=_("Responsable"), required=False, queryset=None)
    overdue = forms.BooleanField(label=_("En retard seulement"), required=False)

    def __init__(self, owners, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["owner"].queryset = owners
        self.fields["owner"].empty_label = _("Tous")


class GenerateForm(forms.Form):
    campaign = forms.ModelChoiceField(label=_("Campagne d'auto-évaluation"), queryset=None)
    include_not_assessed = forms.BooleanField(
        label=_("Inclure les mesures non évaluées"), required=False
    )

    def __init__(self, campaigns, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["campaign"].queryset = campaigns
        self.fields["campaign"].empty_label = None


class ActionItemForm(forms.ModelForm):
    class Meta:
        model = ActionItem
        fields = list(ITEM_FIELDS)
        widgets = {
            "starts_on": DateInput(),
            "due_on": DateInput(),
            "description": forms.Textarea(attrs={"rows": 4}),
        }
        field_classes = {"owner": UserChoiceField}

    def __init__(self, *args, user, organisation: Organisation, **kwargs):
        super().__init__(*args, **kwargs)
        frameworks = Campaign.objects.filter(organisation=organisation).values("framework_id")
        current = self.instance.node_id if self.instance.pk else None
        self.fields["node"].queryset = RequirementNode.objects.filter(
            Q(framework_id__in=frameworks, assessable=True) | Q(pk=current)
        ).select_related("framework")
        self.fields["node"].required = False
        self.fields["owner"].queryset = services.eligible_owners(organisation)
        experts = services.experts_for(user, organisation)
        if self.instance.expert_id:
            from hygie.directory.models import Actor

            experts = Actor.objects.filter(
                Q(pk__in=experts.values("pk")) | Q(pk=self.instance.expert_id)
            ).order_by("name")
        self.fields["expert"].queryset = experts
        self.fields["expert"].help_text = _(
            "Une entrée de l'annuaire des acteurs spécialisés (CSIRT régional, prestataire "
            "qualifié…) qui sert la région de l'organisation."
        )
        self.fields["progress"].widget.attrs.update({"min": 0, "max": 100})
        if self.instance.pk and self.instance.members.exists():
            # A pooled action's status and progress come from its members' shares.
            del self.fields["status"]
            del self.fields["progress"]

    def clean_progress(self):
        progress = self.cleaned_data["progress"]
        if progress is not None and not 0 <= progress <= 100:
            raise forms.ValidationError(_("L'avancement est un pourcentage entre 0 et 100."))
        return progress

    def clean(self):
        data = super().clean()
        starts, due = data.get("starts_on"), data.get("due_on")
        if starts and due and due < starts:
            self.add_error("due_on", _("L'échéance précède le début de l'action."))
        if data.get("expert") is not None:
            data["needs_expert"] = True
        return data


class PoolForm(forms.Form):
    into = forms.ModelChoiceField(
        label=_("Action du GHT"),
        required=False,
        queryset=None,
        help_text=_("Laisser vide pour créer une nouvelle action au niveau du GHT."),
    )
    members = forms.ModelMultipleChoiceField(
        label=_("Établissements concernés"),
        queryset=None,
        widget=forms.CheckboxSelectMultiple,
    )

    def __init__(self, item: ActionItem, ght: Organisation, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.item = item
        self.fields["into"].queryset = services.pool_candidates(ght, item.node)
        self.fields["into"].empty_label = _("Nouvelle action mutualisée")
        self.fields["members"].queryset = Organisation.objects.filter(
            parent=ght, kind=Kind.ESTABLISHMENT
        ).order_by("name")
        self.fields["members"].initial = [item.organisation_id]

    def clean_members(self):
        members = list(self.cleaned_data["members"])
        if self.item.organisation_id not in {member.pk for member in members}:
            raise forms.ValidationError(
                _("L'établissement qui porte l'action (%(name)s) en fait partie.")
                % {"name": self.item.organisation}
            )
        return members


class ShareForm(forms.ModelForm):
    class Meta:
        model = ActionMember
        fields = ["status", "progress", "note"]

    def clean_progress(self):
        progress = self.cleaned_data["progress"]
        if not 0 <= progress <= 100:
            raise forms.ValidationError(_("L'avancement est un pourcentage entre 0 et 100."))
        return progress


class ImportForm(forms.Form):
    file = forms.FileField(
        label=_("Fichier XLSX"),
        help_text=_(
            "Le fichier exporté depuis ce plan, modifié : une ligne avec un ID met à jour "
            "l'action, une ligne sans ID en crée une. Rien n'est enregistré si une ligne est "
            "en erreur."
        ),
    )

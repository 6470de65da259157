"""REST surface of self-assessment, read-only: frameworks, campaigns with scores, answers.

Answers are written in the web interface, where the history, the review and the evidence
checks live; the API serves reporting and integration (e.g. a regional tool reading scores).
"""

from __future__ import annotations

from django.db.models import Count, Q
from django.utils.translation import gettext as _
from rest_framework import serializers, viewsets
from rest_framework.exceptions import ValidationError

from hygie.assessments.models import Answer, Campaign, ThemeScore
from hygie.frameworks.models import Framework
from hygie.orgs.roles import VIEW


class FrameworkSerializer(serializers.ModelSerializer):
    measures = serializers.IntegerField(read_only=True)

    class Meta:
        model = Framework
        fields = [
            "id",
            "urn",
            "ref_id",
            "name",
            "provider",
            "version",
            "publication_date",
            "measures",
        ]


class FrameworkViewSet(viewsets.ReadOnlyModelViewSet):
    """Frameworks loaded on this platform (reference data, readable by every signed-in user)."""

    serializer_class = FrameworkSerializer

    def get_queryset(self):
        return Framework.objects.annotate(
            measures=Count("nodes", filter=Q(nodes__assessable=True))
        ).order_by("name")


class ThemeScoreSerializer(serializers.ModelSerializer):
    theme = serializers.CharField(source="theme.label")

    class Meta:
        model = ThemeScore
        fields = ["theme", "score", "maturity", "assessed", "applicable"]


class CampaignSerializer(serializers.ModelSerializer):
    themes = ThemeScoreSerializer(source="theme_scores", many=True, read_only=True)

    class Meta:
        model = Campaign
        fields = [
            "id",
            "organisation",
            "framework",
            "name",
            "status",
            "starts_on",
            "due_on",
            "implementation_groups",
            "score",
            "maturity",
            "progress",
            "themes",
        ]


class CampaignViewSet(viewsets.ReadOnlyModelViewSet):
    """Campaigns of the organisations you may view; `?organisation=` narrows to a subtree."""

    serializer_class = CampaignSerializer

    def get_queryset(self):
        campaigns = (
            Campaign.objects.visible_to(self.request.user, VIEW)
            .prefetch_related("theme_scores__theme")
            .order_by("-starts_on", "-pk")
        )
        organisation = self.request.query_params.get("organisation")
        if organisation:
            if not organisation.isdigit():
                raise ValidationError({"organisation": _("Identifiant numérique attendu.")})
            campaigns = campaigns.filter(organisation__path__contains=f"/{organisation}/")
        return campaigns


class AnswerSerializer(serializers.ModelSerializer):
    ref_id = serializers.CharField(source="node.ref_id")
    measure = serializers.CharField(source="node.name")
    owner = serializers.CharField(source="owner.display_name", default=None)

    class Meta:
        model = Answer
        fields = [
            "id",
            "campaign",
            "ref_id",
            "measure",
            "status",
            "result",
            "maturity",
            "comment",
            "owner",
            "review",
            "updated_at",
        ]


class AnswerViewSet(viewsets.ReadOnlyModelViewSet):
    """Answers of the campaigns you may view; `?campaign=` for one campaign."""

    serializer_class = AnswerSerializer

    def get_queryset(self):
        answers = (
            Answer.objects.visible_to(self.request.user, VIEW)
            .select_related("node", "owner")
            .order_by("campaign_id", "node__order")
        )
        campaign = self.request.query_params.get("campaign")
        if campaign:
            if not campaign.isdigit():
                raise ValidationError({"campaign": _("Identifiant numérique attendu.")})
            answers = answers.filter(campaign_id=int(campaign))
        return answers

from __future__ import annotations

from django.db.models import Q
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers, viewsets
from rest_framework.decorators import api_view
from rest_framework.response import Response

from hygie.orgs.models import Membership, Organisation, StaffMember
from hygie.orgs.roles import AGGREGATE, VIEW


class OrganisationSerializer(serializers.ModelSerializer):
    class Meta:
        model = Organisation
        fields = [
            "id",
            "kind",
            "parent",
            "name",
            "short_name",
            "code",
            "category",
            "finess_ej",
            "finess_et",
            "is_ght_support",
        ]


class StaffMemberSerializer(serializers.ModelSerializer):
    class Meta:
        model = StaffMember
        fields = [
            "id",
            "establishment",
            "site",
            "service",
            "external_id",
            "first_name",
            "last_name",
            "email",
            "job_family",
            "job_title",
            "arrival_date",
            "active",
            "source",
        ]


class MembershipSerializer(serializers.ModelSerializer):
    username = serializers.CharField(source="user.username", read_only=True)

    class Meta:
        model = Membership
        fields = ["id", "username", "organisation", "role"]


class OrganisationViewSet(viewsets.ReadOnlyModelViewSet):
    """The organisation tree visible to the caller (non-nominative, open to analysts)."""

    serializer_class = OrganisationSerializer

    def get_queryset(self):
        queryset = Organisation.objects.visible_to(self.request.user, AGGREGATE)
        kind = self.request.query_params.get("kind")
        return queryset.filter(kind=kind) if kind else queryset


class StaffMemberViewSet(viewsets.ReadOnlyModelViewSet):
    """Staff directory (nominative: hidden from aggregate-only roles)."""

    serializer_class = StaffMemberSerializer

    def get_queryset(self):
        queryset = StaffMember.objects.visible_to(self.request.user, VIEW).order_by("pk")
        establishment = self.request.query_params.get("establishment")
        if establishment:
            queryset = queryset.filter(establishment_id=establishment)
        search = self.request.query_params.get("q")
        if search:
            queryset = queryset.filter(Q(last_name__icontains=search) | Q(email__icontains=search))
        return queryset


class MembershipViewSet(viewsets.ReadOnlyModelViewSet):
    serializer_class = MembershipSerializer

    def get_queryset(self):
        return (
            Membership.objects.visible_to(self.request.user, VIEW)
            .select_related("user")
            .order_by("pk")
        )


@extend_schema(
    responses=inline_serializer(
        "Me",
        {
            "username": serializers.CharField(),
            "email": serializers.EmailField(allow_null=True),
            "roles": inline_serializer(
                "MeRole",
                {
                    "organisation": serializers.IntegerField(),
                    "organisation_name": serializers.CharField(),
                    "role": serializers.CharField(),
                },
                many=True,
            ),
        },
    )
)
@api_view(["GET"])
def me(request):
    """The caller's identity and roles."""
    user = request.user
    return Response(
        {
            "username": user.username,
            "email": user.email,
            "roles": [
                {
                    "organisation": m.organisation_id,
                    "organisation_name": str(m.organisation),
                    "role": m.role,
                }
                for m in user.memberships.select_related("organisation")
            ],
        }
    )

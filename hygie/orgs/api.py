"""REST surface of the organisation tree, the staff directory and memberships.

Every queryset goes through `visible_to` with the action the request needs (view to
read, change to write, manage to delete): an object outside that scope answers 404.
Memberships are read-only here: granting a role needs the re-authentication of the web
interface (sudo mode), which an API token cannot give.
"""

from __future__ import annotations

from django.db.models import Q
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import serializers, viewsets
from rest_framework.decorators import api_view
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response

from hygie.accounts.models import ApiToken
from hygie.core.audit import record_event
from hygie.orgs.models import Kind, Membership, Organisation, StaffMember
from hygie.orgs.roles import AGGREGATE, CHANGE, MANAGE, VIEW


def _int_param(request, name: str) -> int | None:
    value = request.query_params.get(name)
    if value in (None, ""):
        return None
    try:
        return int(value)
    except ValueError:
        raise ValidationError({name: _("Entier attendu, reçu « %(v)s ».") % {"v": value}}) from None


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


class ScopedOrganisationField(serializers.PrimaryKeyRelatedField):
    """A node of one kind inside the caller's write scope; anything else reads as unknown."""

    default_error_messages = {
        "does_not_exist": gettext_lazy(
            "Organisation {pk_value} inconnue ou hors de votre périmètre."
        ),
        "incorrect_type": gettext_lazy("Identifiant numérique attendu."),
    }

    def __init__(self, kind: str, **kwargs):
        self.kind = kind
        super().__init__(**kwargs)

    def get_queryset(self):
        request = self.context.get("request")
        user = request.user if request is not None else None
        return Organisation.objects.visible_to(user, CHANGE).filter(kind=self.kind)


class StaffMemberSerializer(serializers.ModelSerializer):
    establishment = ScopedOrganisationField(Kind.ESTABLISHMENT)
    site = ScopedOrganisationField(Kind.SITE, required=False, allow_null=True)
    service = ScopedOrganisationField(Kind.SERVICE, required=False, allow_null=True)

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
        read_only_fields = ["source"]
        # Uniqueness is checked in validate() with messages naming the field.
        validators = []

    def validate(self, attrs):
        instance = self.instance
        establishment = attrs.get("establishment", getattr(instance, "establishment", None))
        errors = {}
        for name in ("site", "service"):
            node = attrs.get(name, getattr(instance, name, None))
            if node is not None and establishment is not None:
                if not node.path.startswith(establishment.path):
                    errors[name] = _("« %(node)s » n'appartient pas à l'établissement %(est)s.") % {
                        "node": node,
                        "est": establishment,
                    }
        others = StaffMember.objects.filter(establishment=establishment)
        if instance is not None:
            others = others.exclude(pk=instance.pk)
        for name, label in (("email", _("cette adresse")), ("external_id", _("cet identifiant"))):
            value = attrs.get(name, getattr(instance, name, ""))
            if value and others.filter(**{name: value}).exists():
                errors[name] = _("Un personnel de cet établissement a déjà %(what)s.") % {
                    "what": label
                }
        if errors:
            raise ValidationError(errors)
        return attrs


class MembershipSerializer(serializers.ModelSerializer):
    username = serializers.CharField(source="user.username", read_only=True)

    class Meta:
        model = Membership
        fields = ["id", "username", "organisation", "role"]


@extend_schema_view(
    list=extend_schema(
        parameters=[
            OpenApiParameter(
                "kind", enum=Kind.values, description=gettext_lazy("Niveau de l'arbre.")
            )
        ]
    )
)
class OrganisationViewSet(viewsets.ReadOnlyModelViewSet):
    """The organisation tree visible to the caller (non-nominative, open to analysts)."""

    serializer_class = OrganisationSerializer

    def get_queryset(self):
        queryset = Organisation.objects.visible_to(self.request.user, AGGREGATE)
        kind = self.request.query_params.get("kind")
        if kind:
            if kind not in Kind.values:
                raise ValidationError(
                    {"kind": _("Niveau inconnu ; valeurs possibles : %(v)s.") % {"v": Kind.values}}
                )
            queryset = queryset.filter(kind=kind)
        return queryset


@extend_schema_view(
    list=extend_schema(
        parameters=[
            OpenApiParameter(
                "establishment", OpenApiTypes.INT, description=gettext_lazy("Établissement.")
            ),
            OpenApiParameter(
                "q", OpenApiTypes.STR, description=gettext_lazy("Nom ou e-mail contient.")
            ),
        ]
    )
)
class StaffMemberViewSet(viewsets.ModelViewSet):
    """Staff directory (nominative: hidden from aggregate-only roles).

    Reading needs the `view` action on the establishment, creating and editing `change`,
    deleting `manage`.
    """

    serializer_class = StaffMemberSerializer
    http_method_names = ["get", "post", "put", "patch", "delete", "head", "options"]
    ACTION_FOR = {"create": CHANGE, "update": CHANGE, "partial_update": CHANGE, "destroy": MANAGE}

    def get_queryset(self):
        action = self.ACTION_FOR.get(self.action, VIEW)
        queryset = StaffMember.objects.visible_to(self.request.user, action).order_by("pk")
        if self.action != "list":
            return queryset
        establishment = _int_param(self.request, "establishment")
        if establishment is not None:
            queryset = queryset.filter(establishment_id=establishment)
        search = self.request.query_params.get("q")
        if search:
            queryset = queryset.filter(Q(last_name__icontains=search) | Q(email__icontains=search))
        return queryset

    def perform_destroy(self, instance):
        record_event(
            "orgs.staff_deleted",
            request=self.request,
            target=instance,
            organisation=instance.establishment,
            details={"via": "api"},
        )
        instance.delete()


class MembershipViewSet(viewsets.ReadOnlyModelViewSet):
    serializer_class = MembershipSerializer

    def get_queryset(self):
        return (
            Membership.objects.visible_to(self.request.user, VIEW)
            .select_related("user")
            .order_by("pk")
        )


class RoleSerializer(serializers.Serializer):
    organisation = serializers.IntegerField()
    organisation_name = serializers.CharField()
    role = serializers.CharField()


class TokenInfoSerializer(serializers.Serializer):
    scope = serializers.CharField()
    organisation = serializers.IntegerField(allow_null=True)
    expires_at = serializers.DateTimeField(allow_null=True)


class MeSerializer(serializers.Serializer):
    username = serializers.CharField()
    email = serializers.EmailField(allow_null=True)
    roles = RoleSerializer(many=True)
    token = TokenInfoSerializer(
        allow_null=True, help_text=gettext_lazy("Le jeton utilisé, s'il y en a un.")
    )


@extend_schema(responses=MeSerializer)
@api_view(["GET"])
def me(request):
    """The caller's identity, roles and, when a token is used, what it is limited to."""
    user = request.user
    token = request.auth if isinstance(request.auth, ApiToken) else None
    data = {
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
        "token": (
            {
                "scope": token.scope,
                "organisation": token.organisation_id,
                "expires_at": token.expires_at,
            }
            if token
            else None
        ),
    }
    return Response(MeSerializer(data).data)

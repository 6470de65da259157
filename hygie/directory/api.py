"""Read-only REST surface of the directory: `/api/v1/actors/` (decision 0324).

Goes through `actors_visible_to(user, "view")` like the pages: reference entries for every
caller, an organisation's own entries inside its subtree only. Writes stay in the web
interface (and its CSV import), where they are journaled with the person's session.
"""

from __future__ import annotations

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import serializers, viewsets
from rest_framework.exceptions import ValidationError

from hygie.directory import services
from hygie.directory.models import Actor, ActorKind, Competence, Qualification
from hygie.orgs.models import Kind, Organisation


class ActorSerializer(serializers.ModelSerializer):
    regions = serializers.SlugRelatedField(slug_field="code", many=True, read_only=True)
    is_stale = serializers.BooleanField(read_only=True)
    is_reference = serializers.BooleanField(read_only=True)

    class Meta:
        model = Actor
        fields = [
            "id",
            "name",
            "kind",
            "description",
            "website",
            "email",
            "phone",
            "regions",
            "competences",
            "qualifications",
            "last_verified_on",
            "is_stale",
            "is_reference",
            "owner",
        ]


def _choice(request, name: str, values) -> str:
    value = request.query_params.get(name, "")
    if value and value not in values:
        raise ValidationError(
            {name: _("Valeur inconnue ; valeurs possibles : %(v)s.") % {"v": ", ".join(values)}}
        )
    return value


@extend_schema_view(
    list=extend_schema(
        parameters=[
            OpenApiParameter(
                "q", OpenApiTypes.STR, description=gettext_lazy("Nom ou description contient.")
            ),
            OpenApiParameter(
                "region",
                OpenApiTypes.STR,
                description=gettext_lazy(
                    "Code INSEE de la région : ses acteurs puis les acteurs nationaux."
                ),
            ),
            OpenApiParameter("kind", enum=ActorKind.values),
            OpenApiParameter("competence", enum=Competence.values),
            OpenApiParameter("qualification", enum=Qualification.values),
            OpenApiParameter(
                "stale",
                OpenApiTypes.BOOL,
                description=gettext_lazy("Entrées à vérifier seulement."),
            ),
        ]
    )
)
class ActorViewSet(viewsets.ReadOnlyModelViewSet):
    """Directory of specialised actors and resources (read-only)."""

    serializer_class = ActorSerializer

    def get_queryset(self):
        actors = services.actors_visible_to(self.request.user).prefetch_related("regions")
        if self.action != "list":
            return actors.order_by("pk")
        params = self.request.query_params
        region = None
        code = params.get("region")
        if code:
            region = Organisation.objects.filter(kind=Kind.REGION, code=code).first()
            if region is None:
                raise ValidationError({"region": _("Code de région INSEE inconnu.")})
        actors = services.filter_actors(
            actors,
            q=params.get("q", "").strip(),
            region=region,
            kind=_choice(self.request, "kind", ActorKind.values),
            competence=_choice(self.request, "competence", Competence.values),
            qualification=_choice(self.request, "qualification", Qualification.values),
            stale_only=params.get("stale") in ("1", "true", "True"),
        )
        return actors if region is not None else actors.order_by("name", "pk")

"""The REST API, version 1. Every viewset goes through `visible_to`."""

from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView
from rest_framework.routers import DefaultRouter

from hygie.orgs import api as orgs_api

router = DefaultRouter()
router.register("organisations", orgs_api.OrganisationViewSet, basename="organisation")
router.register("staff", orgs_api.StaffMemberViewSet, basename="staff")
router.register("memberships", orgs_api.MembershipViewSet, basename="membership")

urlpatterns = [
    path("me/", orgs_api.me, name="me"),
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    path("docs/", SpectacularSwaggerView.as_view(url_name="api:schema"), name="docs"),
    path("", include(router.urls)),
]

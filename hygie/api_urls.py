"""The REST API, version 1. Every viewset goes through `visible_to`."""

from django.contrib.auth.decorators import login_required
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView
from rest_framework.routers import DefaultRouter

from hygie.assessments import api as assessments_api
from hygie.core.api_docs import ApiDocsView
from hygie.directory import api as directory_api
from hygie.orgs import api as orgs_api

router = DefaultRouter()
# JSON only: no `.json`/`.api` URL variants to secure and test (decision 0141).
router.include_format_suffixes = False
router.register("organisations", orgs_api.OrganisationViewSet, basename="organisation")
router.register("staff", orgs_api.StaffMemberViewSet, basename="staff")
router.register("memberships", orgs_api.MembershipViewSet, basename="membership")
router.register("frameworks", assessments_api.FrameworkViewSet, basename="framework")
router.register("campaigns", assessments_api.CampaignViewSet, basename="campaign")
router.register("answers", assessments_api.AnswerViewSet, basename="answer")
router.register("actors", directory_api.ActorViewSet, basename="actor")

urlpatterns = [
    path("me/", orgs_api.me, name="me"),
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    # A page for people: an anonymous visitor is sent to the login page, not given a 401.
    path("docs/", login_required(ApiDocsView.as_view(url_name="api:schema")), name="docs"),
    path("", include(router.urls)),
]

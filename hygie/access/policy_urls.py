"""Routes of the access app's policy area: applications, zones, policies, tests, decisions."""

from django.urls import path

from hygie.access import policy_views as views

_ORG = "acces/organisations/<int:org_id>/"
_APP = "acces/applications/<int:pk>/"

urlpatterns = [
    path(f"{_ORG}applications/", views.application_list, name="applications"),
    path(f"{_ORG}applications/nouvelle/", views.application_create, name="application_create"),
    path(f"{_ORG}zones/", views.zones, name="zones"),
    path(f"{_ORG}decisions/", views.decision_list, name="decisions"),
    path(f"{_ORG}decisions/export/<str:fmt>/", views.decision_export, name="decisions_export"),
    path(_APP, views.application_detail, name="application_detail"),
    path(f"{_APP}modifier/", views.application_edit, name="application_edit"),
    path(f"{_APP}supprimer/", views.application_delete, name="application_delete"),
    path(f"{_APP}secret/", views.application_secret, name="application_secret"),
    path(f"{_APP}mode/", views.application_mode, name="application_mode"),
    path(f"{_APP}routes/", views.application_routes, name="application_routes"),
    path(f"{_APP}politique/", views.policy_edit, name="policy"),
    path(f"{_APP}politique/versions/", views.policy_history, name="policy_history"),
    path(f"{_APP}politique/versions/<int:number>/", views.policy_version, name="policy_version"),
    path(
        f"{_APP}politique/versions/<int:number>/activer/",
        views.policy_activate,
        name="policy_activate",
    ),
    path(f"{_APP}tests/", views.policy_tests, name="policy_tests"),
    path(f"{_APP}tests/nouveau/", views.policy_test_create, name="policy_test_create"),
    path(f"{_APP}tests/<int:test_id>/", views.policy_test_edit, name="policy_test_edit"),
    path(
        f"{_APP}tests/<int:test_id>/supprimer/", views.policy_test_delete, name="policy_test_delete"
    ),
    path(f"{_APP}et-si/", views.what_if, name="what_if"),
    path(f"{_APP}decisions/", views.decision_list, name="app_decisions"),
    path(
        f"{_APP}decisions/export/<str:fmt>/",
        views.decision_export,
        name="app_decisions_export",
    ),
    path(f"{_APP}observation/", views.shadow_report, name="shadow_report"),
    path("acces/decisions/<int:decision_id>/", views.decision_detail, name="decision"),
]

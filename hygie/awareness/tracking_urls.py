"""Tracking routes: campaigns, progress, exports and xAPI (under organisations/<id>/sensibilisation/)."""

from django.urls import path

from hygie.awareness import tracking_views as views

PREFIX = "organisations/<int:org_id>/sensibilisation/"

urlpatterns = [
    path(f"{PREFIX}campagnes/", views.campaigns, name="campaigns"),
    path(f"{PREFIX}campagnes/nouvelle/", views.campaign_create, name="campaign_create"),
    path(f"{PREFIX}progression/", views.progress, name="progress"),
    path(f"{PREFIX}progression/export.csv", views.progress_csv, name="progress_csv"),
    path(f"{PREFIX}xapi/", views.xapi_settings, name="xapi_settings"),
    path(f"{PREFIX}xapi/statements.json", views.statements_json, name="statements_json"),
    path("sensibilisation/campagnes/<int:campaign_id>/", views.campaign_detail, name="campaign"),
    path(
        "sensibilisation/campagnes/<int:campaign_id>/modifier/",
        views.campaign_edit,
        name="campaign_edit",
    ),
    path(
        "sensibilisation/campagnes/<int:campaign_id>/ouvrir/",
        views.campaign_open,
        name="campaign_open",
    ),
    path(
        "sensibilisation/campagnes/<int:campaign_id>/attribuer/",
        views.campaign_assign,
        name="campaign_assign",
    ),
    path(
        "sensibilisation/campagnes/<int:campaign_id>/cloturer/",
        views.campaign_close,
        name="campaign_close",
    ),
]

"""Routes of the posture app's asset area: inventory, imports, end-of-life dataset."""

from django.urls import path

from hygie.posture import asset_views

urlpatterns = [
    path("organisations/<int:org_id>/audits/parc/", asset_views.asset_overview, name="assets"),
    path(
        "organisations/<int:org_id>/audits/parc/export.csv",
        asset_views.asset_export,
        name="assets_export",
    ),
    path(
        "organisations/<int:org_id>/audits/parc/import/",
        asset_views.asset_import,
        name="assets_import",
    ),
    path("audits/fin-de-vie/", asset_views.eol_list, name="eol"),
    path("audits/fin-de-vie/import/", asset_views.eol_import, name="eol_import"),
]

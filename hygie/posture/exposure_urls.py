"""Routes of the posture app's exposure area: remote access, KEV catalogue, exposure scans."""

from django.urls import path

from hygie.posture import exposure_views as views

urlpatterns = [
    path(
        "organisations/<int:org_id>/audits/acces-distance/",
        views.remote_access,
        name="remote_access",
    ),
    path(
        "organisations/<int:org_id>/audits/acces-distance/ajouter/",
        views.remote_access_create,
        name="remote_access_create",
    ),
    path(
        "audits/acces-distance/<int:pk>/modifier/",
        views.remote_access_edit,
        name="remote_access_edit",
    ),
    path(
        "audits/acces-distance/<int:pk>/supprimer/",
        views.remote_access_delete,
        name="remote_access_delete",
    ),
    path(
        "audits/acces-distance/<int:pk>/action/",
        views.remote_access_action,
        name="remote_access_action",
    ),
    path("audits/kev/", views.kev, name="kev"),
    path("audits/kev/importer/", views.kev_import, name="kev_import"),
    path("organisations/<int:org_id>/audits/exposition/", views.exposure, name="exposure"),
    path(
        "organisations/<int:org_id>/audits/exposition/importer/",
        views.exposure_upload,
        name="exposure_upload",
    ),
    path("audits/exposition/scans/<int:pk>/", views.exposure_scan, name="exposure_scan"),
    path(
        "audits/exposition/scans/<int:pk>/supprimer/",
        views.exposure_scan_delete,
        name="exposure_scan_delete",
    ),
    path(
        "audits/exposition/services/<int:pk>/action/",
        views.exposure_service_action,
        name="exposure_service_action",
    ),
]

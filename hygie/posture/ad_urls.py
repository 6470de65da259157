"""Routes of the posture app's ad area."""

from django.urls import path

from hygie.posture import ad_views as views

urlpatterns = [
    path("organisations/<int:org_id>/audits/ad/", views.audit_list, name="ad_audits"),
    path("organisations/<int:org_id>/audits/ad/import/", views.audit_upload, name="ad_upload"),
    path("audits/ad/<int:pk>/", views.audit_detail, name="ad_audit"),
    path("audits/ad/<int:pk>/rapport/", views.audit_report, name="ad_report"),
    path("audits/ad/<int:pk>/rapport.pdf", views.audit_report_pdf, name="ad_report_pdf"),
    path("audits/ad/constats/<int:pk>/action/", views.finding_action, name="ad_finding_action"),
    path(
        "organisations/<int:org_id>/audits/ad/connexions/nouvelle/",
        views.connection_create,
        name="ad_connection_create",
    ),
    path("audits/ad/connexions/<int:pk>/", views.connection_edit, name="ad_connection_edit"),
    path(
        "audits/ad/connexions/<int:pk>/supprimer/",
        views.connection_delete,
        name="ad_connection_delete",
    ),
    path(
        "audits/ad/connexions/<int:pk>/collecter/",
        views.connection_collect,
        name="ad_connection_collect",
    ),
]

"""Routes of the real-incident area: incidents, notifications, GHT solidarity."""

from django.urls import path

from hygie.crisis import incident_views as views

urlpatterns = [
    path("organisations/<int:org_id>/crise/incidents/", views.incident_list, name="incident_list"),
    path(
        "organisations/<int:org_id>/crise/incidents/declarer/",
        views.incident_declare,
        name="incident_declare",
    ),
    path(
        "organisations/<int:org_id>/crise/notifications/",
        views.notification_list,
        name="notification_list",
    ),
    path("crise/incidents/<int:pk>/", views.incident_detail, name="incident_detail"),
    path("crise/incidents/<int:pk>/modifier/", views.incident_edit, name="incident_edit"),
    path("crise/incidents/<int:pk>/statut/", views.incident_status, name="incident_status"),
    path("crise/incidents/<int:pk>/journal/", views.incident_log, name="incident_log"),
    path("crise/incidents/<int:pk>/taches/", views.incident_task, name="incident_task"),
    path(
        "crise/incidents/taches/<int:task_id>/",
        views.incident_task_status,
        name="incident_task_status",
    ),
    path("crise/incidents/<int:pk>/retex/", views.incident_lesson, name="incident_lesson"),
    path(
        "crise/incidents/retex/<int:lesson_id>/action/",
        views.lesson_to_action,
        name="incident_lesson_action",
    ),
    path(
        "crise/incidents/<int:pk>/notifications/<slug:kind>/",
        views.notification_edit,
        name="notification_edit",
    ),
    path(
        "crise/incidents/<int:pk>/notifications/<slug:kind>/depot/",
        views.notification_submitted,
        name="notification_submitted",
    ),
    path("crise/incidents/<int:pk>/entraide/", views.aid_request_create, name="aid_request_create"),
    path("organisations/<int:org_id>/crise/entraide/", views.aid_board, name="aid_board"),
    path("organisations/<int:org_id>/crise/entraide/region/", views.aid_region, name="aid_region"),
    path(
        "crise/entraide/demandes/<int:request_id>/offrir/",
        views.aid_offer_create,
        name="aid_offer_create",
    ),
    path(
        "crise/entraide/demandes/<int:request_id>/clore/",
        views.aid_request_close,
        name="aid_request_close",
    ),
    path(
        "crise/entraide/offres/<int:offer_id>/<slug:decision>/",
        views.aid_offer_decide,
        name="aid_offer_decide",
    ),
]

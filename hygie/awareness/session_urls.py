"""Routes of the training sessions (session_views); names start with `session`."""

from django.urls import path

from hygie.awareness import session_views as views

urlpatterns = [
    path(
        "organisations/<int:org_id>/sensibilisation/sessions/",
        views.session_list,
        name="sessions",
    ),
    path(
        "organisations/<int:org_id>/sensibilisation/sessions/nouvelle/",
        views.session_create,
        name="session_create",
    ),
    path(
        "organisations/<int:org_id>/sensibilisation/sessions/planificateur/",
        views.session_planner,
        name="session_planner",
    ),
    path("sensibilisation/sessions/<int:pk>/", views.session_detail, name="session"),
    path("sensibilisation/sessions/<int:pk>/modifier/", views.session_edit, name="session_edit"),
    path("sensibilisation/sessions/<int:pk>/annuler/", views.session_cancel, name="session_cancel"),
    path(
        "sensibilisation/sessions/<int:pk>/participants/",
        views.session_add_participants,
        name="session_add_participants",
    ),
    path(
        "sensibilisation/sessions/<int:pk>/participants/<int:participant_id>/retirer/",
        views.session_remove_participant,
        name="session_remove_participant",
    ),
    path(
        "sensibilisation/sessions/<int:pk>/invitations/",
        views.session_invite,
        name="session_invite",
    ),
    path(
        "sensibilisation/sessions/<int:pk>/appel/",
        views.session_attendance,
        name="session_attendance",
    ),
    path(
        "sensibilisation/sessions/<int:pk>/attestations/<int:participant_id>.pdf",
        views.session_certificate,
        name="session_certificate",
    ),
]

from django.urls import path

from hygie.orgs import staff_views, views

app_name = "orgs"

urlpatterns = [
    path("", views.home, name="home"),
    path("organisation/changer/", views.switch_organisation, name="switch"),
    path("organisations/<int:org_id>/", views.organisation_detail, name="detail"),
    path("organisations/<int:org_id>/ajouter/", views.organisation_create, name="create"),
    path("organisations/<int:org_id>/modifier/", views.organisation_edit, name="edit"),
    path("organisations/<int:org_id>/personnels/", views.staff_list, name="staff"),
    path(
        "organisations/<int:org_id>/personnels/export.csv", views.staff_export, name="staff_export"
    ),
    path(
        "organisations/<int:org_id>/personnels/import/",
        staff_views.staff_import,
        name="staff_import",
    ),
    path(
        "organisations/<int:org_id>/annuaire/",
        staff_views.directory_source,
        name="directory_source",
    ),
    path(
        "organisations/<int:org_id>/annuaire/modifier/",
        staff_views.directory_source_edit,
        name="directory_source_edit",
    ),
    path(
        "organisations/<int:org_id>/annuaire/synchroniser/",
        staff_views.directory_sync,
        name="directory_sync",
    ),
    path("organisations/<int:org_id>/roles/", views.members, name="members"),
    path("organisations/<int:org_id>/roles/ajouter/", views.membership_add, name="membership_add"),
    path("organisations/<int:org_id>/roles/inviter/", views.invite, name="invite"),
    path(
        "organisations/<int:org_id>/roles/invitations/<int:invitation_id>/renvoyer/",
        views.invitation_resend,
        name="invitation_resend",
    ),
    path(
        "organisations/<int:org_id>/roles/invitations/<int:invitation_id>/revoquer/",
        views.invitation_revoke,
        name="invitation_revoke",
    ),
    path(
        "organisations/<int:org_id>/roles/<int:membership_id>/retirer/",
        views.membership_remove,
        name="membership_remove",
    ),
    path("journal/", views.audit_journal, name="audit_journal"),
]

from django.urls import path

from hygie.orgs import views

app_name = "orgs"

urlpatterns = [
    path("", views.home, name="home"),
    path("organisation/changer/", views.switch_organisation, name="switch"),
    path("organisations/<int:org_id>/", views.organisation_detail, name="detail"),
    path("organisations/<int:org_id>/ajouter/", views.organisation_create, name="create"),
    path("organisations/<int:org_id>/modifier/", views.organisation_edit, name="edit"),
    path("organisations/<int:org_id>/personnels/", views.staff_list, name="staff"),
    path("organisations/<int:org_id>/roles/", views.members, name="members"),
    path("organisations/<int:org_id>/roles/ajouter/", views.membership_add, name="membership_add"),
    path(
        "organisations/<int:org_id>/roles/<int:membership_id>/retirer/",
        views.membership_remove,
        name="membership_remove",
    ),
    path("journal/", views.audit_journal, name="audit_journal"),
]

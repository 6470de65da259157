from django.urls import path

from hygie.phishing import views

app_name = "phishing"

urlpatterns = [
    path("organisations/<int:org_id>/simulations/profils/", views.profile_list, name="profiles"),
    path(
        "organisations/<int:org_id>/simulations/profils/nouveau/",
        views.profile_create,
        name="profile_create",
    ),
    path("simulations/profils/<int:profile_id>/", views.profile_edit, name="profile_edit"),
    path("simulations/profils/<int:profile_id>/tester/", views.profile_test, name="profile_test"),
]

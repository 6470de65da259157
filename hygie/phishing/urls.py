from django.urls import path, re_path

from hygie.phishing import public_views, views

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
    path("organisations/<int:org_id>/simulations/", views.simulation_list, name="simulations"),
    path(
        "organisations/<int:org_id>/simulations/nouvelle/",
        views.simulation_create,
        name="simulation_create",
    ),
    path("simulations/<int:simulation_id>/", views.simulation_detail, name="simulation"),
    path(
        "simulations/<int:simulation_id>/modifier/", views.simulation_edit, name="simulation_edit"
    ),
    re_path(
        r"^simulations/(?P<simulation_id>[0-9]+)/(?P<action>lancer|pause|reprendre|annuler|terminer)/$",
        views.simulation_action,
        name="simulation_action",
    ),
    # Reached by recipients without an account (see public_views).
    path("s/o/<str:token>.gif", public_views.open_pixel, name="open"),
    path("s/c/<str:token>/", public_views.landing, name="landing"),
    path("s/c/<str:token>/envoyer/", public_views.submit, name="submit"),
    path("s/a/<str:token>/", public_views.teachable, name="teachable"),
    path("s/r/<str:token>/", public_views.report, name="report"),
]

from django.urls import path

from hygie.phishing import public_views, results_views, views

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
    # Reached by recipients without an account (see public_views).
    path("s/o/<str:token>.gif", public_views.open_pixel, name="open"),
    path("s/c/<str:token>/", public_views.landing, name="landing"),
    path("s/c/<str:token>/envoyer/", public_views.submit, name="submit"),
    path("s/a/<str:token>/", public_views.teachable, name="teachable"),
    path("s/r/<str:token>/", public_views.report, name="report"),
    # Results (results_views): per campaign, individual (pseudonymised), trend, overview.
    path(
        "simulations/<int:simulation_id>/resultats/",
        results_views.simulation_results,
        name="results",
    ),
    path(
        "simulations/<int:simulation_id>/resultats/export.csv",
        results_views.results_csv,
        name="results_csv",
    ),
    path(
        "simulations/<int:simulation_id>/resultats/individuels/",
        results_views.results_people,
        name="results_people",
    ),
    path(
        "simulations/<int:simulation_id>/resultats/individuels/noms/",
        results_views.results_reveal,
        name="results_reveal",
    ),
    path(
        "organisations/<int:org_id>/simulations/tendances/",
        results_views.results_trends,
        name="results_trends",
    ),
    path(
        "organisations/<int:org_id>/simulations/synthese/",
        results_views.results_overview,
        name="results_overview",
    ),
    # Public: staff read it without an account (linked from the teachable-moment page).
    path(
        "transparence/simulations/<int:org_id>/",
        results_views.transparency,
        name="transparency",
    ),
]

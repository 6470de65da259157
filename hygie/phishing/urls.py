from django.urls import path, re_path

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
        r"^simulations/(?P<simulation_id>[0-9]+)/(?P<action>lancer|pause|reprendre|annuler|terminer|mesures)/$",
        views.simulation_action,
        name="simulation_action",
    ),
    path(
        "organisations/<int:org_id>/simulations/mesures-correctives/",
        views.corrective_rules,
        name="corrective_rules",
    ),
    path(
        "simulations/mesures-correctives/<int:rule_id>/supprimer/",
        views.corrective_rule_delete,
        name="corrective_rule_delete",
    ),
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

# Custom lures, target lists and the GoPhish import.
from hygie.phishing import custom_views  # noqa: E402 - kept with its routes, for easy merges

urlpatterns += [
    path(
        "organisations/<int:org_id>/simulations/leurres/",
        custom_views.lure_list,
        name="custom_lures",
    ),
    path(
        "organisations/<int:org_id>/simulations/leurres/nouveau/",
        custom_views.lure_create,
        name="custom_create",
    ),
    path("simulations/leurres/<int:lure_id>/", custom_views.lure_edit, name="custom_edit"),
    path(
        "simulations/leurres/<int:lure_id>/apercu/",
        custom_views.lure_preview,
        name="custom_preview",
    ),
    path(
        "simulations/leurres/<int:lure_id>/supprimer/",
        custom_views.lure_delete,
        name="custom_delete",
    ),
    path(
        "organisations/<int:org_id>/simulations/listes/",
        custom_views.targetlist_list,
        name="target_lists",
    ),
    path(
        "organisations/<int:org_id>/simulations/listes/nouvelle/",
        custom_views.targetlist_create,
        name="targetlist_create",
    ),
    path(
        "simulations/listes/<int:list_id>/",
        custom_views.targetlist_detail,
        name="targetlist_detail",
    ),
    path(
        "simulations/listes/<int:list_id>/supprimer/",
        custom_views.targetlist_delete,
        name="targetlist_delete",
    ),
    path(
        "organisations/<int:org_id>/simulations/import-gophish/",
        custom_views.gophish_import,
        name="gophish_import",
    ),
]

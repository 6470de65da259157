"""Routes of exercise design and preparation (exercise_views); names start with `exercise` or
`scenario`."""

from django.urls import path

from hygie.crisis import exercise_views as views

_ORG = "organisations/<int:org_id>/crise/exercices/"
_ONE = "crise/exercices/<int:pk>/"

urlpatterns = [
    path(_ORG, views.exercise_list, name="exercises"),
    path(f"{_ORG}nouveau/", views.exercise_create, name="exercise_create"),
    path(f"{_ORG}scenarios/", views.scenario_library, name="scenarios"),
    path(f"{_ORG}scenarios/<slug:slug>/", views.scenario_preview, name="scenario"),
    path(_ONE, views.exercise_detail, name="exercise"),
    path(f"{_ONE}conception/", views.exercise_design, name="exercise_design"),
    path(f"{_ONE}participants/", views.exercise_participants, name="exercise_participants"),
    path(
        f"{_ONE}participants/<int:participant_id>/retirer/",
        views.exercise_participant_remove,
        name="exercise_participant_remove",
    ),
    path(f"{_ONE}chronogramme/", views.exercise_timeline, name="exercise_timeline"),
    path(f"{_ONE}grille/", views.exercise_grid, name="exercise_grid"),
    path(f"{_ONE}dossier-de-situation/", views.exercise_situation, name="exercise_situation"),
    path(f"{_ONE}pret/", views.exercise_ready, name="exercise_ready"),
]

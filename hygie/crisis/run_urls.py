"""Routes of the live run of an exercise (run helper)."""

from django.urls import path

from hygie.crisis import run_views

base = "crise/exercices/<int:pk>/"

urlpatterns = [
    path(base + "animation/", run_views.console, name="run_console"),
    path(base + "animation/horloge/", run_views.clock_command, name="run_clock"),
    path(
        base + "animation/stimuli/<int:stimulus_pk>/",
        run_views.stimulus_command,
        name="run_stimulus",
    ),
    path(
        base + "animation/participants/<int:participant_pk>/lien/",
        run_views.issue_link,
        name="run_issue_link",
    ),
    path(base + "cellule/", run_views.players, name="run_players"),
    path(base + "main-courante/", run_views.write_log, name="run_log"),
    path(base + "observation/", run_views.grid, name="run_grid"),
    path(base + "etat.json", run_views.state, name="run_state"),
    path(base + "debriefing/", run_views.debrief, name="run_debrief"),
    path("crise/acces/<str:token>/", run_views.join, name="run_join"),
]

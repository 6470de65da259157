"""Routes of the lessons learned, the cold report and the crisis binder."""

from django.urls import path

from hygie.crisis import binder_views as views

urlpatterns: list = [
    path("crise/exercices/<int:pk>/retex/", views.lessons, name="lessons"),
    path("crise/exercices/<int:pk>/retex/questionnaire/", views.debrief, name="debrief"),
    path("crise/exercices/<int:pk>/retex/enseignements/", views.lesson_add, name="lesson_add"),
    path(
        "crise/exercices/<int:pk>/retex/enseignements/<int:lesson_pk>/action/",
        views.lesson_action,
        name="lesson_action",
    ),
    path("crise/exercices/<int:pk>/retex/objectifs/", views.objectives, name="objectives_met"),
    path("crise/exercices/<int:pk>/rapport.pdf", views.report_pdf, name="report_pdf"),
    path("crise/exercices/<int:pk>/cloturer/", views.close, name="close"),
    path("organisations/<int:org_id>/crise/classeur/", views.binder, name="binder"),
    path(
        "organisations/<int:org_id>/crise/classeur/modeles/",
        views.binder_seed,
        name="binder_seed",
    ),
    path(
        "organisations/<int:org_id>/crise/classeur/sections/nouvelle/",
        views.section_create,
        name="binder_section_create",
    ),
    path(
        "organisations/<int:org_id>/crise/classeur/sections/<int:section_pk>/",
        views.section_edit,
        name="binder_section_edit",
    ),
    path(
        "organisations/<int:org_id>/crise/classeur/sections/<int:section_pk>/supprimer/",
        views.section_delete,
        name="binder_section_delete",
    ),
    path("organisations/<int:org_id>/crise/classeur.pdf", views.binder_pdf, name="binder_pdf"),
    path("organisations/<int:org_id>/crise/classeur.html", views.binder_html, name="binder_html"),
]

"""Learner pages: everything under apprendre/<token>/ (the browser cookie is limited to it)."""

from django.urls import path

from hygie.awareness import learner_views

urlpatterns = [
    path("apprendre/<str:token>/", learner_views.open_link, name="learner_open"),
    path("apprendre/<str:token>/commencer/", learner_views.start, name="learner_start"),
    path("apprendre/<str:token>/etapes/<int:number>/", learner_views.step, name="learner_step"),
    path("apprendre/<str:token>/quiz/", learner_views.quiz, name="learner_quiz"),
    path("apprendre/<str:token>/resultat/", learner_views.result, name="learner_result"),
    path(
        "apprendre/<str:token>/attestation/",
        learner_views.certificate,
        name="learner_certificate",
    ),
    path("apprendre/<str:token>/nouveau-lien/", learner_views.new_link, name="learner_new_link"),
]

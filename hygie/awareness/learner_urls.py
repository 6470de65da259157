from django.urls import path

from hygie.awareness import learner_views

urlpatterns = [
    path("apprendre/<str:token>/", learner_views.open_link, name="learner_open"),
]

"""The module catalogue, shared by every organisation."""

from django.urls import path

from hygie.awareness import catalogue_views

urlpatterns = [
    path("sensibilisation/modules/", catalogue_views.catalogue_list, name="catalogue"),
    path(
        "sensibilisation/modules/<slug:slug>/",
        catalogue_views.catalogue_module,
        name="catalogue_module",
    ),
]

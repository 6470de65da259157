from django.urls import path  # noqa: F401

urlpatterns: list = []

# catalogue (content helper): the module catalogue, shared by every organisation.
from hygie.awareness import catalogue_views  # noqa: E402

urlpatterns += [
    path("sensibilisation/modules/", catalogue_views.catalogue_list, name="catalogue"),
    path(
        "sensibilisation/modules/<slug:slug>/",
        catalogue_views.catalogue_module,
        name="catalogue_module",
    ),
]

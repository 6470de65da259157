"""Routes of the national campaign kit pages (the service contact's page is reached through the
learner pages' personal link, `apprendre/<token>/`)."""

from django.urls import path

from hygie.awareness import kit_views

urlpatterns = [
    path("organisations/<int:org_id>/sensibilisation/kits/", kit_views.kit_list, name="kit_list"),
    path(
        "organisations/<int:org_id>/sensibilisation/kits/nouveau/",
        kit_views.kit_create,
        name="kit_create",
    ),
    path("sensibilisation/kits/<int:pk>/", kit_views.kit_detail, name="kit_detail"),
    path("sensibilisation/kits/<int:pk>/modifier/", kit_views.kit_edit, name="kit_edit"),
    path("sensibilisation/kits/<int:pk>/supports/", kit_views.kit_item_add, name="kit_item_add"),
    path(
        "sensibilisation/kits/<int:pk>/supports/<int:item_pk>/fichier/",
        kit_views.kit_item_download,
        name="kit_item_download",
    ),
    path(
        "sensibilisation/kits/<int:pk>/supports/<int:item_pk>/retirer/",
        kit_views.kit_item_delete,
        name="kit_item_delete",
    ),
    path(
        "sensibilisation/kits/<int:pk>/diffusion/", kit_views.kit_distribute, name="kit_distribute"
    ),
    path("sensibilisation/kits/<int:pk>/suivi/", kit_views.kit_status, name="kit_status"),
    path(
        "sensibilisation/kits/<int:pk>/suivi.csv", kit_views.kit_status_csv, name="kit_status_csv"
    ),
]

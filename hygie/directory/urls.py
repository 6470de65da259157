from django.urls import path

from hygie.directory import views

app_name = "directory"

urlpatterns = [
    path("", views.actor_list, name="list"),
    path("export.csv", views.actor_export, name="export"),
    path("import/", views.actor_import, name="import"),
    path("nouveau/", views.actor_create, name="create"),
    path("<int:pk>/", views.actor_detail, name="detail"),
    path("<int:pk>/modifier/", views.actor_edit, name="edit"),
    path("<int:pk>/verifie/", views.actor_verify, name="verify"),
    path("<int:pk>/supprimer/", views.actor_delete, name="delete"),
]

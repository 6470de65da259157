from django.urls import path

from hygie.frameworks import views

app_name = "frameworks"

urlpatterns = [
    path("", views.framework_list, name="list"),
    path("importer/", views.framework_import, name="import"),
    path("<int:framework_id>/", views.framework_detail, name="detail"),
]

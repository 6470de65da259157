from django.urls import path

from hygie.dashboards import views

app_name = "dashboards"

urlpatterns = [
    path(
        "organisations/<int:org_id>/tableau-de-bord/",
        views.consolidated_dashboard,
        name="dashboard",
    ),
]

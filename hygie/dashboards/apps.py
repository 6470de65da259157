from django.apps import AppConfig


class DashboardsConfig(AppConfig):
    name = "hygie.dashboards"
    label = "dashboards"
    verbose_name = "Tableaux de bord consolidés"

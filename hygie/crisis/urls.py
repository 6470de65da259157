"""The crisis app's routes, one list per area (each area owns its own module)."""

from hygie.crisis import binder_urls, exercise_urls, incident_urls, run_urls

app_name = "crisis"

urlpatterns = [
    *exercise_urls.urlpatterns,
    *run_urls.urlpatterns,
    *incident_urls.urlpatterns,
    *binder_urls.urlpatterns,
]

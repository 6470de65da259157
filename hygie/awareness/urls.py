"""The awareness app's routes, one list per area (each area owns its own module)."""

from hygie.awareness import catalogue_urls, kit_urls, learner_urls, session_urls, tracking_urls

app_name = "awareness"

urlpatterns = [
    *tracking_urls.urlpatterns,
    *learner_urls.urlpatterns,
    *session_urls.urlpatterns,
    *kit_urls.urlpatterns,
    *catalogue_urls.urlpatterns,
]

"""The access app's routes, one list per area (each area owns its own module)."""

from hygie.access import enforce_urls, policy_urls, review_urls

app_name = "access"

urlpatterns = [
    *policy_urls.urlpatterns,
    *enforce_urls.urlpatterns,
    *review_urls.urlpatterns,
]

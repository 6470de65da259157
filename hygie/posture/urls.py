"""The posture app's routes, one list per area (each area owns its own module)."""

from hygie.posture import ad_urls, asset_urls, exposure_urls, password_urls

app_name = "posture"

urlpatterns = [
    *ad_urls.urlpatterns,
    *password_urls.urlpatterns,
    *exposure_urls.urlpatterns,
    *asset_urls.urlpatterns,
]

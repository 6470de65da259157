from django.urls import include, path
from django.views.i18n import set_language

urlpatterns = [
    path("", include("hygie.accounts.urls")),
    path("", include("hygie.orgs.urls")),
    path("referentiels/", include("hygie.frameworks.urls")),
    path("", include("hygie.assessments.urls")),
    path("", include("hygie.actions.urls")),
    path("acteurs/", include("hygie.directory.urls")),
    path("", include("hygie.dashboards.urls")),
    path("", include("hygie.phishing.urls")),
    path("", include("hygie.mailreports.urls")),
    path("", include("hygie.awareness.urls")),
    path("", include("hygie.crisis.urls")),
    path("", include("hygie.posture.urls")),
    path("", include("hygie.access.urls")),
    path("api/v1/", include(("hygie.api_urls", "api"), namespace="api")),
    # GoPhish-compatible API (its own paths: /api/campaigns/, /api/groups/...; no clash with v1).
    path("api/", include(("hygie.phishing.gophish_urls", "gophish"), namespace="gophish")),
    path("i18n/setlang/", set_language, name="set_language"),
    # Single sign-on: always routed, the views answer 404 while HYGIE_OIDC_ENABLED is off.
    path("oidc/", include("hygie.accounts.oidc_urls")),
]

from django.conf import settings
from django.urls import include, path
from django.views.i18n import set_language

urlpatterns = [
    path("", include("hygie.accounts.urls")),
    path("", include("hygie.orgs.urls")),
    path("api/v1/", include(("hygie.api_urls", "api"), namespace="api")),
    path("i18n/setlang/", set_language, name="set_language"),
]
if settings.OIDC_ENABLED:
    urlpatterns.append(path("oidc/", include("mozilla_django_oidc.urls")))

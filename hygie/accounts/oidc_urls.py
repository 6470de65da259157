"""Single sign-on URLs, always routed (the views answer 404 while OIDC is off).

The names are mozilla-django-oidc's, so its helpers and the login template find them.
"""

from django.urls import path

from hygie.accounts import oidc_views

urlpatterns = [
    path("authenticate/", oidc_views.OIDCLoginStart.as_view(), name="oidc_authentication_init"),
    path("callback/", oidc_views.OIDCCallback.as_view(), name="oidc_authentication_callback"),
]

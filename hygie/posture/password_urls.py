"""Routes of the posture app's password area."""

from django.urls import path

from hygie.posture import password_views

urlpatterns = [
    path(
        "organisations/<int:org_id>/audits/mots-de-passe/",
        password_views.passwords_page,
        name="passwords",
    ),
    path(
        "organisations/<int:org_id>/audits/mots-de-passe/politique/",
        password_views.password_policy,
        name="password_policy",
    ),
]

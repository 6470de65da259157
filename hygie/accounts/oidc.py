"""Single sign-on over OpenID Connect (hospital identity provider, Pro Santé Connect)."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth import get_user_model
from mozilla_django_oidc.auth import OIDCAuthenticationBackend


class HygieOIDCBackend(OIDCAuthenticationBackend):
    """Matches the identity provider's verified e-mail to an existing Hygie user.

    Accounts are provisioned in Hygie (roles are granted there); the identity
    provider only proves who is logging in, unless HYGIE_OIDC_CREATE_USERS is on.
    """

    def authenticate(self, request, **kwargs):
        if not settings.OIDC_ENABLED:
            return None
        return super().authenticate(request, **kwargs)

    def filter_users_by_claims(self, claims):
        email = (claims.get("email") or "").strip()
        if not email or claims.get("email_verified") is False:
            return self.UserModel.objects.none()
        return self.UserModel.objects.filter(email__iexact=email, is_active=True)

    def create_user(self, claims):
        user_model = get_user_model()
        email = claims["email"].strip()
        return user_model.objects.create_user(
            username=email.lower(),
            email=email,
            first_name=claims.get("given_name", "")[:150],
            last_name=claims.get("family_name", "")[:150],
        )

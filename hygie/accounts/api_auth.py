from __future__ import annotations

from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import authentication, exceptions
from rest_framework.permissions import SAFE_METHODS, BasePermission

from hygie.accounts.models import ApiToken, ApiTokenScope
from hygie.core.visibility import clear_scope_cache


class ApiTokenAuthentication(authentication.BaseAuthentication):
    """`Authorization: Bearer hyg_…`; the token's scope and organisation narrow what its user may do."""

    keyword = "Bearer"

    def authenticate(self, request):
        header = authentication.get_authorization_header(request).decode("latin-1")
        if not header:
            return None
        parts = header.split()
        # The scheme name is case-insensitive (RFC 9110 §11.1).
        if len(parts) != 2 or parts[0].lower() != self.keyword.lower():
            return None
        token = ApiToken.find_active(parts[1])
        if token is None or not token.user.is_active:
            raise exceptions.AuthenticationFailed(_("Jeton invalide, expiré ou révoqué."))
        user = token.user
        clear_scope_cache(user)
        user._hygie_token_restrict = token.organisation.path if token.organisation_id else None
        if token.last_used_at is None or (timezone.now() - token.last_used_at).total_seconds() > 60:
            ApiToken.objects.filter(pk=token.pk).update(last_used_at=timezone.now())
        return user, token

    def authenticate_header(self, request):
        return self.keyword


class TokenScopePermission(BasePermission):
    """A read-only token may only use safe methods."""

    message = gettext_lazy("Ce jeton est en lecture seule.")

    def has_permission(self, request, view):
        token = request.auth
        if isinstance(token, ApiToken) and token.scope == ApiTokenScope.READ:
            return request.method in SAFE_METHODS
        return True


class ApiTokenScheme(OpenApiAuthenticationExtension):
    """Describes token authentication in the OpenAPI schema (and the docs' Authorize button)."""

    target_class = ApiTokenAuthentication
    name = "jeton"

    def get_security_definition(self, auto_schema):
        return {
            "type": "http",
            "scheme": "bearer",
            "bearerFormat": "hyg_…",
            "description": gettext_lazy(
                "Jeton créé depuis « Mon compte » : `Authorization: Bearer hyg_…`."
            ),
        }

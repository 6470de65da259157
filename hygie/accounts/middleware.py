from __future__ import annotations

import time

from django.conf import settings
from django.contrib.auth import logout
from django.shortcuts import redirect
from django.urls import reverse

SESSION_AUTH_AT = "hygie_auth_at"
SESSION_MFA = "hygie_mfa"


class SessionLifetimeMiddleware:
    """Absolute session lifetime on top of the idle expiry of the session cookie."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.user.is_authenticated:
            started = request.session.get(SESSION_AUTH_AT)
            if started is None or time.time() - started > settings.SESSION_MAX_HOURS * 3600:
                logout(request)
                return redirect(f"{reverse('accounts:login')}?expired=1")
        return self.get_response(request)


class SecondFactorMiddleware:
    """A session of a user who must use a second factor, but has not, reaches only enrolment."""

    ALLOWED_PREFIXES = ("/static/", "/connexion/", "/deconnexion/", "/i18n/")

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = request.user
        if (
            user.is_authenticated
            and not request.session.get(SESSION_MFA)
            and not request.path.startswith(self.ALLOWED_PREFIXES)
        ):
            from hygie.accounts.services import has_confirmed_totp, requires_second_factor

            if requires_second_factor(user):
                target = "accounts:login_code" if has_confirmed_totp(user) else "accounts:enrol"
                return redirect(reverse(target))
        return self.get_response(request)

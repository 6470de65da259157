"""The two single sign-on pages: start (redirect to the provider) and callback.

Always routed; both answer 404 while HYGIE_OIDC_ENABLED is off, so turning single sign-on on
or off never depends on the URL configuration loaded at start-up.
"""

from __future__ import annotations

import logging
import time

from django.conf import settings
from django.contrib.auth import logout
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.generic import View
from mozilla_django_oidc.views import OIDCAuthenticationRequestView

from hygie.accounts import services
from hygie.accounts.oidc import (
    BACKEND_PATH,
    SESSION_ID_TOKEN,
    SESSION_OIDC,
    HygieOIDCBackend,
    OIDCRefused,
    ProviderUnavailable,
    provider_config,
)
from hygie.accounts.views import (
    PENDING_AT,
    PENDING_BACKEND,
    PENDING_NEXT,
    PENDING_USER,
    _complete_login,
    _safe_next,
)
from hygie.core import throttle
from hygie.core.audit import record_event
from hygie.core.net import client_ip

logger = logging.getLogger(__name__)

# mozilla-django-oidc keeps {state: {nonce, code_verifier, added_on}} under this key.
SESSION_STATES = "oidc_states"
SESSION_NEXT = "oidc_login_next"
# A login started longer ago than this at the provider must be started again.
STATE_MAX_AGE_SECONDS = 15 * 60

_USER_FAULT = 403
_BAD_RESPONSE = 400
_PROVIDER_DOWN = 502


def _refusal(reason: str) -> tuple[str, int]:
    """French message and HTTP status shown for each refusal reason."""
    messages = {
        "unknown_user": (
            _(
                "Aucun compte Hygie n'est associé à l'adresse %(email)s. Demandez à "
                "l'administrateur Hygie de votre établissement de créer votre compte avec "
                "cette adresse, puis reconnectez-vous."
            ),
            _USER_FAULT,
        ),
        "email_missing": (
            _(
                "Le fournisseur d'identité n'a pas transmis d'adresse électronique : Hygie "
                "ne peut pas retrouver votre compte."
            ),
            _USER_FAULT,
        ),
        "email_unverified": (
            _(
                "Le fournisseur d'identité indique que l'adresse %(email)s n'est pas vérifiée : "
                "Hygie ne peut pas l'utiliser pour vous connecter."
            ),
            _USER_FAULT,
        ),
        "ambiguous_email": (
            _(
                "Plusieurs comptes Hygie utilisent l'adresse %(email)s. Un administrateur doit "
                "corriger ces comptes avant que vous puissiez vous connecter."
            ),
            _USER_FAULT,
        ),
        "inactive_user": (
            _("Le compte Hygie associé à l'adresse %(email)s est désactivé."),
            _USER_FAULT,
        ),
        "provider_error": (
            _("Le fournisseur d'identité a refusé ou interrompu la connexion."),
            _USER_FAULT,
        ),
        "state_invalid": (
            _(
                "Cette demande de connexion n'est pas valable : elle a déjà servi, a été "
                "ouverte dans un autre navigateur ou a été modifiée. Recommencez la connexion."
            ),
            _BAD_RESPONSE,
        ),
        "state_expired": (
            _("Cette demande de connexion a expiré. Recommencez la connexion."),
            _BAD_RESPONSE,
        ),
        "throttled": (
            _("Trop de tentatives. Réessayez dans quelques minutes."),
            429,
        ),
        "provider_unreachable": (
            _(
                "Le fournisseur d'identité ne répond pas. Réessayez dans quelques minutes ou "
                "connectez-vous avec votre compte local."
            ),
            _PROVIDER_DOWN,
        ),
        "token_exchange_failed": (
            _(
                "Le fournisseur d'identité n'a pas confirmé la connexion. Recommencez ; si le "
                "problème persiste, prévenez l'administrateur Hygie."
            ),
            _PROVIDER_DOWN,
        ),
        "userinfo_failed": (
            _(
                "Le fournisseur d'identité n'a pas transmis votre profil. Recommencez ; si le "
                "problème persiste, prévenez l'administrateur Hygie."
            ),
            _PROVIDER_DOWN,
        ),
    }
    fallback = (
        _(
            "La réponse du fournisseur d'identité n'a pas pu être vérifiée : la connexion est "
            "refusée et l'incident a été consigné."
        ),
        _BAD_RESPONSE,
    )
    return messages.get(reason, fallback)


def refuse(request, reason: str, *, detail: str = "", email: str = "", extra: dict | None = None):
    """Record a refused single sign-on in the journal and show why, in French."""
    details = {"reason": reason, "method": "oidc"}
    if email:
        details["email"] = email[:254]
    if detail:
        details["detail"] = detail[:300]
    details.update(extra or {})
    record_event("auth.oidc_refused", request=request, details=details)
    logger.info("OIDC login refused: %s %s", reason, detail)
    message, status = _refusal(reason)
    return render(
        request,
        "accounts/oidc_error.html",
        {"message": message % {"email": email}, "provider": settings.OIDC_PROVIDER_NAME},
        status=status,
    )


def _require_enabled():
    if not settings.OIDC_ENABLED:
        raise Http404


class OIDCLoginStart(OIDCAuthenticationRequestView):
    """Redirects to the provider with state, nonce and a PKCE S256 challenge."""

    def __init__(self, **kwargs):
        # mozilla's __init__ reads the endpoints from settings; they may come from discovery.
        View.__init__(self, **kwargs)

    def get(self, request):
        _require_enabled()
        try:
            config = provider_config()
        except ProviderUnavailable as exc:
            return refuse(request, exc.reason, detail=exc.detail)
        self.OIDC_OP_AUTH_ENDPOINT = config.authorization_endpoint
        self.OIDC_RP_CLIENT_ID = settings.OIDC_RP_CLIENT_ID
        return super().get(request)

    def get_extra_params(self, request):
        params = {}
        if settings.OIDC_ACR_VALUES:
            params["acr_values"] = settings.OIDC_ACR_VALUES
        return params


class OIDCCallback(View):
    """Checks the state, lets the backend check the tokens, then logs in or asks for TOTP."""

    http_method_names = ["get"]

    def get(self, request):
        _require_enabled()
        if not throttle.allow("oidc-callback", client_ip(request), capacity=30, per_seconds=600):
            return refuse(request, "throttled")

        # The state is single-use: take it out of the session whatever happens next.
        states = request.session.get(SESSION_STATES)
        state = request.GET.get("state", "")
        entry = None
        if isinstance(states, dict) and state in states:
            entry = states.pop(state)
            request.session[SESSION_STATES] = states
        next_url = request.session.pop(SESSION_NEXT, None)

        if request.GET.get("error"):
            return refuse(
                request,
                "provider_error",
                extra={"error": request.GET["error"][:100]},
            )
        if entry is None or not request.GET.get("code"):
            return refuse(request, "state_invalid")
        if time.time() - entry.get("added_on", 0) > STATE_MAX_AGE_SECONDS:
            return refuse(request, "state_expired")

        backend = HygieOIDCBackend()
        try:
            issuer = provider_config().issuer
            returned_issuer = request.GET.get("iss")
            if returned_issuer is not None and returned_issuer != issuer:
                # RFC 9207: the answer comes from another provider (mix-up attack).
                raise OIDCRefused("issuer_mismatch", returned_issuer[:200])
            user, assertion, id_token = backend.authenticate_callback(
                request, nonce=entry.get("nonce") or "", code_verifier=entry.get("code_verifier")
            )
        except OIDCRefused as exc:
            return refuse(request, exc.reason, detail=exc.detail, email=exc.email)

        if request.user.is_authenticated:
            logout(request)  # someone else's session must not carry over
        request.session.cycle_key()
        request.session[SESSION_OIDC] = assertion
        if settings.OIDC_PROVIDER_LOGOUT:
            request.session[SESSION_ID_TOKEN] = id_token
        request.session[PENDING_NEXT] = next_url
        if getattr(user, "oidc_created", False):
            record_event(
                "auth.oidc_user_created",
                request=request,
                actor=user,
                target=user,
                details={"iss": assertion["iss"]},
            )

        second_factor = assertion["second_factor"]
        if not second_factor and (
            services.has_confirmed_totp(user) or services.requires_second_factor(user)
        ):
            # Same path as a password login: the TOTP step (or enrolment) completes the login.
            request.session[PENDING_USER] = user.pk
            request.session[PENDING_BACKEND] = BACKEND_PATH
            request.session[PENDING_AT] = time.time()
            target = (
                "accounts:login_code" if services.has_confirmed_totp(user) else "accounts:enrol"
            )
            return redirect(target)
        next_url = _complete_login(request, user, BACKEND_PATH, second_factor=second_factor)
        request.session.pop(PENDING_NEXT, None)
        return redirect(_safe_next(request, next_url))

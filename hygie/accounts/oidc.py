"""Single sign-on over OpenID Connect (hospital identity provider, Pro Santé Connect).

mozilla-django-oidc does the protocol plumbing (state, nonce and PKCE in the session, the
token request, the userinfo request). This module adds what a production relying party needs
on top of it, see docs/decisions/0120-oidc-single-sign-on.md:

- the provider's endpoints from its discovery document, fetched on first use and cached;
- a strict ID token check: signature with a key from the provider's JWKS (cached, refreshed
  when the provider rotates its keys), the configured algorithm only, issuer, audience,
  authorised party, expiry, issue time and nonce;
- the userinfo answer must be about the same subject as the ID token;
- the second-factor policy from the ID token's `amr`/`acr` claims;
- every refusal carries a reason for the audit trail and a French message for the user.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass
from urllib.parse import urlencode, urlsplit

import jwt
import requests
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import SuspiciousOperation
from django.urls import reverse
from mozilla_django_oidc.auth import OIDCAuthenticationBackend

logger = logging.getLogger(__name__)

BACKEND_PATH = "hygie.accounts.oidc.HygieOIDCBackend"
# Session keys: what the provider asserted at login (for the audit trail), and the ID token
# kept only when Hygie must send it back at logout (RP-initiated logout).
SESSION_OIDC = "hygie_oidc"
SESSION_ID_TOKEN = "hygie_oidc_id_token"  # noqa: S105 (a session key name)

DISCOVERY_TTL_SECONDS = 24 * 3600
JWKS_TTL_SECONDS = 3600
# A token signed with an unknown key triggers a JWKS refresh at most this often.
JWKS_MIN_REFRESH_SECONDS = 60
CLOCK_LEEWAY_SECONDS = 60

_KEY_TYPES = {"RS": "RSA", "PS": "RSA", "ES": "EC", "Ed": "OKP"}


class OIDCRefused(Exception):
    """A single sign-on Hygie refuses; `reason` goes to the audit trail, `email` if known."""

    def __init__(self, reason: str, detail: str = "", *, email: str = ""):
        super().__init__(f"{reason}: {detail}" if detail else reason)
        self.reason = reason
        self.detail = detail
        self.email = email


class ProviderUnavailable(OIDCRefused):
    def __init__(self, detail: str):
        super().__init__("provider_unreachable", detail)


@dataclass(frozen=True)
class ProviderConfig:
    issuer: str
    authorization_endpoint: str
    token_endpoint: str
    userinfo_endpoint: str
    jwks_uri: str
    end_session_endpoint: str


# Process-wide caches: {url: (fetched_at, document)}.
_cache_lock = threading.Lock()
_discovery_cache: dict[str, tuple[float, dict]] = {}
_jwks_cache: dict[str, tuple[float, list[dict]]] = {}


def _get_json(url: str) -> dict:
    try:
        response = requests.get(
            url,
            timeout=settings.OIDC_TIMEOUT,
            verify=settings.OIDC_VERIFY_SSL,
            headers={"Accept": "application/json"},
        )
        response.raise_for_status()
        document = response.json()
    except (requests.RequestException, ValueError) as exc:
        raise ProviderUnavailable(f"{url}: {exc}") from exc
    if not isinstance(document, dict):
        raise ProviderUnavailable(f"{url}: not a JSON object")
    return document


def _validate_discovery(url: str, document: dict) -> dict:
    for key in ("issuer", "authorization_endpoint", "token_endpoint"):
        if not isinstance(document.get(key), str) or not document[key]:
            raise ProviderUnavailable(f"{url}: the discovery document has no {key}")
    suffix = "/.well-known/openid-configuration"
    if url.endswith(suffix) and document["issuer"].rstrip("/") != url[: -len(suffix)].rstrip("/"):
        # OpenID Connect Discovery 1.0, section 4.3: the issuer must match the document's URL.
        raise ProviderUnavailable(f"{url}: issuer {document['issuer']!r} does not match")
    if urlsplit(url).scheme == "https":
        for key, value in document.items():
            if key.endswith(("_endpoint", "_uri")) and isinstance(value, str):
                if urlsplit(value).scheme != "https":
                    raise ProviderUnavailable(f"{url}: {key} is not an https URL")
    return document


def discover(url: str) -> dict:
    """The provider's discovery document, fetched once a day; a stale copy beats none."""
    now = time.monotonic()
    with _cache_lock:
        cached = _discovery_cache.get(url)
    if cached and now - cached[0] < DISCOVERY_TTL_SECONDS:
        return cached[1]
    try:
        document = _validate_discovery(url, _get_json(url))
    except ProviderUnavailable:
        if cached:
            logger.warning("OIDC discovery refresh failed, keeping the previous document")
            return cached[1]
        raise
    with _cache_lock:
        _discovery_cache[url] = (now, document)
    return document


def provider_config() -> ProviderConfig:
    """Endpoints from the settings, completed by the discovery document when configured."""
    discovered = discover(settings.OIDC_DISCOVERY_URL) if settings.OIDC_DISCOVERY_URL else {}

    def pick(explicit: str, key: str) -> str:
        value = explicit or discovered.get(key) or ""
        return value if isinstance(value, str) else ""

    return ProviderConfig(
        issuer=pick(settings.OIDC_OP_ISSUER, "issuer"),
        authorization_endpoint=pick(
            settings.OIDC_OP_AUTHORIZATION_ENDPOINT, "authorization_endpoint"
        ),
        token_endpoint=pick(settings.OIDC_OP_TOKEN_ENDPOINT, "token_endpoint"),
        userinfo_endpoint=pick(settings.OIDC_OP_USER_ENDPOINT, "userinfo_endpoint"),
        jwks_uri=pick(settings.OIDC_OP_JWKS_ENDPOINT, "jwks_uri"),
        end_session_endpoint=pick(settings.OIDC_OP_END_SESSION_ENDPOINT, "end_session_endpoint"),
    )


def _jwks(uri: str, *, refresh: bool = False) -> list[dict]:
    now = time.monotonic()
    with _cache_lock:
        cached = _jwks_cache.get(uri)
    fresh_enough = cached and (
        now - cached[0] < (JWKS_MIN_REFRESH_SECONDS if refresh else JWKS_TTL_SECONDS)
    )
    if fresh_enough:
        return cached[1]
    keys = _get_json(uri).get("keys")
    if not isinstance(keys, list):
        raise ProviderUnavailable(f"{uri}: no 'keys' list")
    keys = [key for key in keys if isinstance(key, dict)]
    with _cache_lock:
        _jwks_cache[uri] = (now, keys)
    return keys


def signing_key(uri: str, header: dict) -> jwt.PyJWK:
    """The provider key that signed a token: same kid, a signing key of the algorithm's type."""
    alg = header.get("alg", "")
    kid = header.get("kid")
    kty = _KEY_TYPES.get(alg[:2])
    for refresh in (False, True):
        candidates = [
            key
            for key in _jwks(uri, refresh=refresh)
            if key.get("use", "sig") == "sig"
            and key.get("kty") == kty
            and key.get("alg", alg) == alg
            and (kid is None or key.get("kid") == kid)
        ]
        if len(candidates) == 1:
            return jwt.PyJWK(candidates[0], algorithm=alg)
        if len(candidates) > 1:
            raise OIDCRefused("id_token_invalid", "several provider keys match the token")
    raise OIDCRefused("id_token_invalid", f"no provider key with kid {kid!r}")


def asserts_second_factor(id_claims: dict) -> bool:
    """Whether the provider says, in the signed ID token, that it used a second factor."""
    amr = id_claims.get("amr") or []
    if isinstance(amr, str):
        amr = [amr]
    if isinstance(amr, list) and set(map(str, amr)) & set(settings.OIDC_MFA_AMR):
        return True
    acr = id_claims.get("acr")
    return isinstance(acr, str) and acr in settings.OIDC_MFA_ACR


def _is_false(value) -> bool:
    return value is False or (isinstance(value, str) and value.strip().lower() == "false")


def _is_true(value) -> bool:
    return value is True or (isinstance(value, str) and value.strip().lower() == "true")


class HygieOIDCBackend(OIDCAuthenticationBackend):
    """Matches the identity provider's verified e-mail to an existing Hygie user.

    Accounts are provisioned in Hygie (roles are granted there); the identity provider only
    proves who is logging in, unless HYGIE_OIDC_CREATE_USERS is on.

    Django's authenticate() never logs anyone in through this backend: the callback view
    calls `authenticate_callback` itself, with the state it has checked. The backend stays
    in AUTHENTICATION_BACKENDS so that sessions opened through it keep working.
    """

    def __init__(self, *args, **kwargs):
        # Django builds every backend on every authenticate() call, password logins included:
        # nothing here may fail or touch the network. The provider is read per login.
        self.UserModel = get_user_model()

    def authenticate(self, request, **kwargs):
        return None

    def get_user(self, user_id):
        user = self.UserModel.objects.filter(pk=user_id).first()
        return user if user is not None and user.is_active else None

    # The callback -----------------------------------------------------------------------

    def authenticate_callback(self, request, *, nonce: str, code_verifier: str | None):
        """Exchange the code, check the tokens, find the user; raises OIDCRefused."""
        self.request = request
        config = provider_config()
        self.OIDC_OP_TOKEN_ENDPOINT = config.token_endpoint
        self.OIDC_OP_USER_ENDPOINT = config.userinfo_endpoint
        self.OIDC_OP_JWKS_ENDPOINT = config.jwks_uri
        self.OIDC_RP_CLIENT_ID = settings.OIDC_RP_CLIENT_ID
        self.OIDC_RP_CLIENT_SECRET = settings.OIDC_RP_CLIENT_SECRET
        self.OIDC_RP_SIGN_ALGO = settings.OIDC_RP_SIGN_ALGO
        self.OIDC_RP_IDP_SIGN_KEY = None

        token_request = {
            "client_id": settings.OIDC_RP_CLIENT_ID,
            "client_secret": settings.OIDC_RP_CLIENT_SECRET,
            "grant_type": "authorization_code",
            "code": request.GET.get("code", ""),
            "redirect_uri": request.build_absolute_uri(reverse("oidc_authentication_callback")),
        }
        if code_verifier:
            token_request["code_verifier"] = code_verifier
        try:
            tokens = self.get_token(token_request)
        except (requests.RequestException, ValueError) as exc:
            raise OIDCRefused("token_exchange_failed", str(exc)[:300]) from exc
        id_token = tokens.get("id_token") if isinstance(tokens, dict) else None
        if not isinstance(id_token, str):
            raise OIDCRefused("id_token_invalid", "the token response has no ID token")
        id_claims = self.verify_id_token(id_token, nonce=nonce, config=config)

        claims = dict(id_claims)
        if config.userinfo_endpoint and tokens.get("access_token"):
            try:
                userinfo = self.get_userinfo(tokens["access_token"], id_token, id_claims)
            except (requests.RequestException, ValueError, SuspiciousOperation) as exc:
                raise OIDCRefused("userinfo_failed", str(exc)[:300]) from exc
            if not isinstance(userinfo, dict) or userinfo.get("sub") != id_claims["sub"]:
                # OpenID Connect Core 1.0, section 5.3.2: never mix two people's claims.
                raise OIDCRefused("userinfo_mismatch", "userinfo is about another subject")
            claims.update(
                {k: v for k, v in userinfo.items() if k not in ("iss", "aud", "amr", "acr")}
            )

        user = self.match_user(claims)
        second_factor = asserts_second_factor(id_claims)
        assertion = {
            "user": user.pk,
            "iss": id_claims["iss"],
            "sub": str(id_claims["sub"])[:255],
            "amr": id_claims.get("amr") or [],
            "acr": id_claims.get("acr") or "",
            "second_factor": second_factor,
        }
        return user, assertion, id_token

    def verify_id_token(self, token: str, *, nonce: str, config: ProviderConfig) -> dict:
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError as exc:
            raise OIDCRefused("id_token_invalid", f"malformed ID token: {exc}") from exc
        alg = header.get("alg")
        if alg != settings.OIDC_RP_SIGN_ALGO:
            # Only the configured algorithm: no "none", no RS/HS confusion.
            raise OIDCRefused("id_token_invalid", f"unexpected algorithm {alg!r}")
        if not config.issuer:
            raise OIDCRefused("id_token_invalid", "no issuer configured")
        if alg.startswith("HS"):
            key = settings.OIDC_RP_CLIENT_SECRET.encode()
        else:
            if not config.jwks_uri:
                raise OIDCRefused("id_token_invalid", "no JWKS endpoint configured")
            key = signing_key(config.jwks_uri, header)
        try:
            claims = jwt.decode(
                token,
                key,
                algorithms=[alg],
                audience=settings.OIDC_RP_CLIENT_ID,
                issuer=config.issuer,
                leeway=CLOCK_LEEWAY_SECONDS,
                options={"require": ["iss", "sub", "aud", "exp", "iat"]},
            )
        except jwt.PyJWTError as exc:
            raise OIDCRefused("id_token_invalid", str(exc)) from exc
        audiences = claims["aud"] if isinstance(claims["aud"], list) else [claims["aud"]]
        if (len(audiences) > 1 or "azp" in claims) and claims.get(
            "azp"
        ) != settings.OIDC_RP_CLIENT_ID:
            raise OIDCRefused("id_token_invalid", "the ID token was issued to another client")
        if not nonce or claims.get("nonce") != nonce:
            raise OIDCRefused("id_token_invalid", "nonce mismatch (replayed or foreign token)")
        return claims

    def verify_token(self, token, **kwargs):
        """Signed userinfo answers (application/jwt): same key and algorithm rules."""
        try:
            header = jwt.get_unverified_header(token)
            alg = header.get("alg")
            if alg != settings.OIDC_RP_SIGN_ALGO:
                raise SuspiciousOperation(f"unexpected algorithm {alg!r}")
            if alg.startswith("HS"):
                key = settings.OIDC_RP_CLIENT_SECRET.encode()
            else:
                key = signing_key(self.OIDC_OP_JWKS_ENDPOINT, header)
            return jwt.decode(
                token,
                key,
                algorithms=[alg],
                options={"verify_aud": False, "require": ["sub"]},
                leeway=CLOCK_LEEWAY_SECONDS,
            )
        except (jwt.PyJWTError, OIDCRefused) as exc:
            raise SuspiciousOperation(f"userinfo signature: {exc}") from exc

    def match_user(self, claims: dict):
        email = claims.get("email")
        email = email.strip() if isinstance(email, str) else ""
        if not email or "@" not in email:
            raise OIDCRefused("email_missing")
        verified = claims.get("email_verified")
        if _is_false(verified) or (settings.OIDC_REQUIRE_VERIFIED_EMAIL and not _is_true(verified)):
            raise OIDCRefused("email_unverified", email=email)
        users = list(self.UserModel.objects.filter(email__iexact=email)[:2])
        if len(users) > 1:
            raise OIDCRefused("ambiguous_email", email=email)
        if not users:
            if not settings.OIDC_CREATE_USER:
                raise OIDCRefused("unknown_user", email=email)
            return self.create_user(claims)
        if not users[0].is_active:
            raise OIDCRefused("inactive_user", email=email)
        return users[0]

    def create_user(self, claims):
        email = claims["email"].strip()
        username = email.lower()[:150]
        if self.UserModel.objects.filter(username__iexact=username).exists():
            raise OIDCRefused("ambiguous_email", "username taken", email=email)
        given = claims.get("given_name")
        family = claims.get("family_name")
        user = self.UserModel.objects.create_user(
            username=username,
            email=email,
            first_name=given[:150] if isinstance(given, str) else "",
            last_name=family[:150] if isinstance(family, str) else "",
        )
        user.oidc_created = True
        return user


def provider_logout_url(request) -> str | None:
    """Where to send the browser after a local logout: the provider's end_session_endpoint.

    Only when HYGIE_OIDC_PROVIDER_LOGOUT is on and this session came from the provider.
    Read before the session is flushed.
    """
    id_token = request.session.get(SESSION_ID_TOKEN)
    if not (settings.OIDC_ENABLED and settings.OIDC_PROVIDER_LOGOUT and id_token):
        return None
    if (request.session.get(SESSION_OIDC) or {}).get("user") != request.user.pk:
        return None  # an abandoned single sign-on, then someone else logged in
    try:
        endpoint = provider_config().end_session_endpoint
    except ProviderUnavailable:
        return None
    if not endpoint:
        return None
    query = urlencode(
        {
            "id_token_hint": id_token,
            "client_id": settings.OIDC_RP_CLIENT_ID,
            "post_logout_redirect_uri": request.build_absolute_uri(reverse("accounts:login")),
        }
    )
    return f"{endpoint}{'&' if '?' in endpoint else '?'}{query}"

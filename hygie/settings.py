"""Hygie settings, read from HYGIE_* environment variables only.

Defaults give a working single-machine install (SQLite and the database task
queue under HYGIE_DATA_DIR). Production sets HYGIE_DEBUG=false (the default),
HYGIE_SECRET_KEY, HYGIE_ALLOWED_HOSTS and HYGIE_DATABASE_URL; see the README.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

from hygie.core.env import env_bool, env_choice, env_int, env_list, env_str

BASE_DIR = Path(__file__).resolve().parent

DATA_DIR = Path(env_str("HYGIE_DATA_DIR", str(Path.cwd() / "data"))).resolve()
MEDIA_ROOT = DATA_DIR / "files"  # uploaded files: outside the web root, served after checks
STATIC_ROOT = DATA_DIR / "static"
STATIC_URL = "/static/"

DEBUG = env_bool("HYGIE_DEBUG", False)
TESTING = env_bool("HYGIE_TESTING", False)
# `hygie demo`: local evaluation over plain HTTP on 127.0.0.1 with generated secrets.
DEMO = env_bool("HYGIE_DEMO", False)
LOCAL = DEBUG or TESTING or DEMO


def _secret_key() -> str:
    key = env_str("HYGIE_SECRET_KEY")
    if key:
        if len(key) < 50:
            raise ImproperlyConfigured("HYGIE_SECRET_KEY must be at least 50 characters long.")
        return key
    if not LOCAL:
        raise ImproperlyConfigured(
            "HYGIE_SECRET_KEY is not set. Generate one with: "
            "python -c 'import secrets; print(secrets.token_urlsafe(64))'"
        )
    # Development and demo: a random key kept in the data directory so sessions
    # survive restarts without anyone having to invent a secret.
    key_file = DATA_DIR / "secret_key"
    if key_file.exists():
        return key_file.read_text(encoding="utf-8").strip()
    DATA_DIR.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(64)
    key_file.write_text(key, encoding="utf-8")
    os.chmod(key_file, 0o600)
    return key


SECRET_KEY = _secret_key()
# Key for secrets encrypted at rest (LDAP bind passwords, SMTP passwords, TOTP seeds).
# Several comma-separated keys allow rotation: the first encrypts, all decrypt.
ENCRYPTION_KEYS = env_list("HYGIE_ENCRYPTION_KEYS")

ALLOWED_HOSTS = env_list("HYGIE_ALLOWED_HOSTS", ["127.0.0.1", "localhost"] if LOCAL else [])
CSRF_TRUSTED_ORIGINS = env_list("HYGIE_CSRF_TRUSTED_ORIGINS")
BASE_URL = env_str("HYGIE_BASE_URL", "http://127.0.0.1:8000")
# Attack simulations: where the links of simulated e-mails point (a separate name is advised,
# so staff learn not to trust Hygie's own address), and how automated clicks are recognised.
SIMULATION_BASE_URL = env_str("HYGIE_SIMULATION_BASE_URL", BASE_URL)
SIMULATION_SCANNER_NETWORKS = env_list("HYGIE_SIMULATION_SCANNER_NETWORKS", [])
# Zero Trust: where proxies reach the decision process (`hygie pdp`) and Hygie's
# break-the-glass page (written into the generated configurations), and how long the decision
# process keeps what it read from the database before reading it again.
PDP_URL = env_str("HYGIE_PDP_URL", "http://127.0.0.1:8300")
PDP_PAGES_URL = env_str("HYGIE_PDP_PAGES_URL", BASE_URL)
PDP_CACHE_SECONDS = env_int("HYGIE_PDP_CACHE_SECONDS", 30, minimum=1)
SIMULATION_SCANNER_AGENTS = env_list(
    "HYGIE_SIMULATION_SCANNER_AGENTS",
    [
        "python-requests",
        "curl/",
        "wget/",
        "go-http-client",
        "bot",
        "spider",
        "crawler",
        "scanner",
        "preview",
    ],
)
SIMULATION_SCANNER_SECONDS = env_int("HYGIE_SIMULATION_SCANNER_SECONDS", 10, minimum=0)
# Sending: a claimed message not marked sent after this many seconds is taken back (its
# worker died); one task run sends for at most SIMULATION_RUN_SECONDS then hands over.
SIMULATION_CLAIM_LEASE = env_int("HYGIE_SIMULATION_CLAIM_LEASE", 300, minimum=1)
SIMULATION_RUN_SECONDS = env_int("HYGIE_SIMULATION_RUN_SECONDS", 60, minimum=1)
SIMULATION_MAX_ATTEMPTS = env_int("HYGIE_SIMULATION_MAX_ATTEMPTS", 5, minimum=1)
# Reports of suspicious e-mail: raw messages are kept this long (then emptied, the case and
# its indicators stay), a report is at most this big, abuse mailboxes are read this often.
MAILREPORTS_RETENTION_DAYS = env_int("HYGIE_MAILREPORTS_RETENTION_DAYS", 90, minimum=1)
MAILREPORTS_MAX_BYTES = env_int("HYGIE_MAILREPORTS_MAX_BYTES", 10 * 1024 * 1024, minimum=1024)
MAILREPORTS_POLL_SECONDS = env_int("HYGIE_MAILREPORTS_POLL_SECONDS", 180, minimum=30)
# Individual simulation results (who clicked, who reported) are erased this many days after a
# campaign ends; the aggregates stay. Pseudonyms are derived from a key of their own when set.
SIMULATION_RETENTION_DAYS = env_int("HYGIE_SIMULATION_RETENTION_DAYS", 365, minimum=1)
SIMULATION_PSEUDONYM_KEY = env_str("HYGIE_SIMULATION_PSEUDONYM_KEY")

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_tasks",
    "django_tasks_db",
    "mozilla_django_oidc",
    "hygie.core",
    "hygie.accounts",
    "hygie.orgs",
    "hygie.frameworks",
    "hygie.assessments",
    "hygie.actions",
    "hygie.directory",
    "hygie.dashboards",
    "hygie.phishing",
    "hygie.mailreports",
    "hygie.awareness",
    "hygie.crisis",
    "hygie.posture",
    "hygie.access",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "hygie.accounts.middleware.SessionLifetimeMiddleware",
    "hygie.accounts.middleware.SecondFactorMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "hygie.core.middleware.SecurityHeadersMiddleware",
]

ROOT_URLCONF = "hygie.urls"
WSGI_APPLICATION = "hygie.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "hygie.orgs.context_processors.organisation_context",
            ],
        },
    }
]

_database_url = env_str("HYGIE_DATABASE_URL")
if _database_url:
    try:
        DATABASES = {
            "default": dj_database_url.parse(
                _database_url, conn_max_age=60, conn_health_checks=True
            )
        }
    except Exception as exc:  # dj_database_url raises several exception types
        raise ImproperlyConfigured(
            f"HYGIE_DATABASE_URL is not a valid database URL: {exc}"
        ) from exc
    # Hygie is tested on PostgreSQL and SQLite only; the URL itself is never echoed (password).
    if DATABASES["default"]["ENGINE"] not in (
        "django.db.backends.postgresql",
        "django.db.backends.sqlite3",
    ):
        raise ImproperlyConfigured(
            "HYGIE_DATABASE_URL must point to PostgreSQL (postgres://user:password@host:5432/name)"
            " or SQLite (sqlite:////absolute/path.sqlite3)."
        )
    if not DATABASES["default"]["NAME"]:
        raise ImproperlyConfigured("HYGIE_DATABASE_URL names no database (…/name at the end).")
else:
    DATA_DIR.mkdir(parents=True, exist_ok=True)
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": DATA_DIR / "hygie.sqlite3",
            "OPTIONS": {
                "timeout": 20,
                "transaction_mode": "IMMEDIATE",
                "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
            },
        }
    }

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "accounts.User"

AUTHENTICATION_BACKENDS = [
    "django.contrib.auth.backends.ModelBackend",
    "hygie.accounts.oidc.HygieOIDCBackend",
]

PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
if TESTING:
    # Argon2 is deliberately slow; tests create hundreds of users.
    PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher", *PASSWORD_HASHERS]

PASSWORD_MIN_LENGTH = env_int("HYGIE_PASSWORD_MIN_LENGTH", 12, minimum=8)
AUTH_PASSWORD_VALIDATORS = [
    {
        "NAME": "hygie.accounts.passwords.LengthValidator",
        "OPTIONS": {"min_length": PASSWORD_MIN_LENGTH, "max_length": 128},
    },
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "hygie.accounts.passwords.NotOnlyRepeatedValidator"},
    {"NAME": "hygie.accounts.passwords.CommonWordValidator"},
]

LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "orgs:home"
LOGOUT_REDIRECT_URL = "accounts:login"

# Sessions: idle expiry (cookie age, refreshed on each request) and an absolute cap.
SESSION_COOKIE_AGE = env_int("HYGIE_SESSION_IDLE_MINUTES", 30, minimum=5) * 60
SESSION_SAVE_EVERY_REQUEST = True
SESSION_MAX_HOURS = env_int("HYGIE_SESSION_MAX_HOURS", 10, minimum=1)
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
# Re-authentication ("sudo mode") is valid for this long before sensitive actions.
SUDO_MINUTES = env_int("HYGIE_SUDO_MINUTES", 10, minimum=1)

SECURE = env_bool("HYGIE_SECURE", not LOCAL)
SESSION_COOKIE_SECURE = SECURE
CSRF_COOKIE_SECURE = SECURE
SECURE_SSL_REDIRECT = SECURE and env_bool("HYGIE_SSL_REDIRECT", True)
SECURE_HSTS_SECONDS = 31536000 if SECURE else 0
SECURE_HSTS_INCLUDE_SUBDOMAINS = SECURE
SECURE_HSTS_PRELOAD = SECURE
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
if env_bool("HYGIE_BEHIND_PROXY", False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    USE_X_FORWARDED_HOST = True
# Number of reverse proxies in front of Hygie, to find the client address for the audit trail.
TRUSTED_PROXY_COUNT = env_int("HYGIE_TRUSTED_PROXY_COUNT", 0, minimum=0)

LANGUAGE_CODE = "fr"
LANGUAGES = [("fr", _("Français")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = env_str("HYGIE_TIME_ZONE", "Europe/Paris")
USE_I18N = True
USE_TZ = True

STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if not LOCAL
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}
WHITENOISE_USE_FINDERS = LOCAL
if LOCAL:
    STATIC_ROOT.mkdir(parents=True, exist_ok=True)

EMAIL_BACKEND = env_str("HYGIE_EMAIL_BACKEND", "django.core.mail.backends.smtp.EmailBackend")
EMAIL_HOST = env_str("HYGIE_EMAIL_HOST", "localhost")
EMAIL_PORT = env_int("HYGIE_EMAIL_PORT", 25, minimum=1)
EMAIL_HOST_USER = env_str("HYGIE_EMAIL_USER")
EMAIL_HOST_PASSWORD = env_str("HYGIE_EMAIL_PASSWORD")
EMAIL_USE_TLS = env_bool("HYGIE_EMAIL_STARTTLS", False)
EMAIL_USE_SSL = env_bool("HYGIE_EMAIL_SSL", False)
if EMAIL_USE_TLS and EMAIL_USE_SSL:
    raise ImproperlyConfigured("HYGIE_EMAIL_STARTTLS and HYGIE_EMAIL_SSL are mutually exclusive.")
DEFAULT_FROM_EMAIL = env_str("HYGIE_EMAIL_FROM", "hygie@localhost")
# Invitations are sent inside the transaction that creates them: a stuck server must not hold it.
EMAIL_TIMEOUT = 15
SERVER_EMAIL = DEFAULT_FROM_EMAIL

# Background tasks: the database backend by default; see docs/operations.md for a broker.
TASK_QUEUES = ["default"]
TASKS_BACKEND = env_choice(
    "HYGIE_TASKS_BACKEND",
    ("django_tasks_db.DatabaseBackend", "django_tasks_rq.RQBackend"),
    "django_tasks_db.DatabaseBackend",
)
TASKS = {"default": {"BACKEND": TASKS_BACKEND, "QUEUES": TASK_QUEUES}}
if TASKS_BACKEND == "django_tasks_rq.RQBackend":
    # Redis + RQ at scale: an optional package, not a dependency (docs/operations.md).
    from importlib.util import find_spec

    if find_spec("django_tasks_rq") is None:
        raise ImproperlyConfigured(
            "HYGIE_TASKS_BACKEND=django_tasks_rq.RQBackend needs the optional package: "
            "pip install django-tasks-rq"
        )
    _redis_url = env_str("HYGIE_REDIS_URL")
    if not _redis_url:
        raise ImproperlyConfigured(
            "HYGIE_TASKS_BACKEND=django_tasks_rq.RQBackend needs HYGIE_REDIS_URL "
            "(redis://:password@host:6379/0)."
        )
    INSTALLED_APPS += ["django_rq", "django_tasks_rq"]
    RQ_QUEUES = {queue: {"URL": _redis_url} for queue in TASK_QUEUES}

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "hygie.accounts.api_auth.ApiTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": [
        "rest_framework.permissions.IsAuthenticated",
        "hygie.accounts.api_auth.TokenScopePermission",
    ],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_PAGINATION_CLASS": "hygie.core.pagination.HygiePagination",
    "PAGE_SIZE": 100,
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Hygie API",
    "DESCRIPTION": _(
        "API REST de Hygie. Authentification par jeton : `Authorization: Bearer <jeton>`."
    ),
    "VERSION": "0.1.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SERVE_PERMISSIONS": ["rest_framework.permissions.IsAuthenticated"],
    # Swagger UI assets come from the drf-spectacular-sidecar package: nothing from a CDN.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
}

# OpenID Connect single sign-on (hospital identity provider, Pro Santé Connect); docs/oidc.md.
OIDC_ENABLED = env_bool("HYGIE_OIDC_ENABLED", False)
OIDC_PROVIDER_NAME = env_str("HYGIE_OIDC_PROVIDER_NAME", "SSO")
OIDC_RP_CLIENT_ID = env_str("HYGIE_OIDC_CLIENT_ID")
OIDC_RP_CLIENT_SECRET = env_str("HYGIE_OIDC_CLIENT_SECRET")
OIDC_RP_SIGN_ALGO = env_choice(
    "HYGIE_OIDC_SIGN_ALGO", ("RS256", "PS256", "ES256", "EdDSA", "HS256"), "RS256"
)
# Either the discovery document (fetched on first use, cached) or the endpoints one by one;
# an endpoint given explicitly wins over the discovered one.
OIDC_DISCOVERY_URL = env_str("HYGIE_OIDC_DISCOVERY_URL")
OIDC_OP_ISSUER = env_str("HYGIE_OIDC_ISSUER")
OIDC_OP_AUTHORIZATION_ENDPOINT = env_str("HYGIE_OIDC_AUTHORIZATION_ENDPOINT")
OIDC_OP_TOKEN_ENDPOINT = env_str("HYGIE_OIDC_TOKEN_ENDPOINT")
OIDC_OP_USER_ENDPOINT = env_str("HYGIE_OIDC_USERINFO_ENDPOINT")
OIDC_OP_JWKS_ENDPOINT = env_str("HYGIE_OIDC_JWKS_ENDPOINT")
OIDC_OP_END_SESSION_ENDPOINT = env_str("HYGIE_OIDC_END_SESSION_ENDPOINT")
OIDC_RP_SCOPES = env_str("HYGIE_OIDC_SCOPES", "openid email profile")
# Sent as acr_values (Pro Santé Connect: eidas1).
OIDC_ACR_VALUES = env_str("HYGIE_OIDC_ACR_VALUES")
OIDC_TOKEN_USE_BASIC_AUTH = (
    env_choice(
        "HYGIE_OIDC_TOKEN_AUTH_METHOD",
        ("client_secret_basic", "client_secret_post"),
        "client_secret_basic",
    )
    == "client_secret_basic"
)
# Users must exist in Hygie (matched by e-mail) unless this is on.
OIDC_CREATE_USER = env_bool("HYGIE_OIDC_CREATE_USERS", False)
# Refuse providers that do not say email_verified=true (an explicit false is always refused).
OIDC_REQUIRE_VERIFIED_EMAIL = env_bool("HYGIE_OIDC_REQUIRE_VERIFIED_EMAIL", False)
# amr values (RFC 8176) and acr values in the ID token that count as a second factor
# done at the identity provider.
OIDC_MFA_AMR = env_list("HYGIE_OIDC_MFA_AMR", ["mfa", "otp", "hwk", "swk", "sc", "pop"])
OIDC_MFA_ACR = env_list("HYGIE_OIDC_MFA_ACR", [])
# Log the user out of the identity provider too (RP-initiated logout), when it has an
# end_session_endpoint.
OIDC_PROVIDER_LOGOUT = env_bool("HYGIE_OIDC_PROVIDER_LOGOUT", False)
OIDC_USE_PKCE = True
OIDC_USE_NONCE = True
OIDC_RP_IDP_SIGN_KEY = None
OIDC_VERIFY_SSL = env_bool("HYGIE_OIDC_VERIFY_SSL", True)
OIDC_TIMEOUT = env_int("HYGIE_OIDC_TIMEOUT_SECONDS", 10, minimum=1)
if OIDC_ENABLED:
    _required = {
        "HYGIE_OIDC_CLIENT_ID": OIDC_RP_CLIENT_ID,
        "HYGIE_OIDC_CLIENT_SECRET": OIDC_RP_CLIENT_SECRET,
    }
    if not OIDC_DISCOVERY_URL:
        _required.update(
            {
                "HYGIE_OIDC_ISSUER": OIDC_OP_ISSUER,
                "HYGIE_OIDC_AUTHORIZATION_ENDPOINT": OIDC_OP_AUTHORIZATION_ENDPOINT,
                "HYGIE_OIDC_TOKEN_ENDPOINT": OIDC_OP_TOKEN_ENDPOINT,
            }
        )
        if OIDC_RP_SIGN_ALGO != "HS256":
            _required["HYGIE_OIDC_JWKS_ENDPOINT"] = OIDC_OP_JWKS_ENDPOINT
    _missing = [name for name, value in _required.items() if not value]
    if _missing:
        raise ImproperlyConfigured(
            f"HYGIE_OIDC_ENABLED is on but {', '.join(_missing)} missing "
            "(or set HYGIE_OIDC_DISCOVERY_URL); see docs/oidc.md."
        )

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env_str("HYGIE_LOG_LEVEL", "INFO")},
    "loggers": {"django.db.backends": {"level": "WARNING"}},
}

FILE_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
DATA_UPLOAD_MAX_MEMORY_SIZE = 10 * 1024 * 1024

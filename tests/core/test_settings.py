"""Settings from HYGIE_* variables: strict parsing, clear errors, secure production defaults.

Settings are module-level, so each case imports them in a fresh interpreter with a controlled
environment (nothing inherited from the test run's own HYGIE_* variables).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PRODUCTION_KEY = "p" * 20 + "r0d-k3y_" * 5 + "z" * 4  # 64 characters
assert len(PRODUCTION_KEY) == 64


@pytest.fixture
def run(tmp_path):
    def run(code: str = "import hygie.settings", **variables):
        env = {
            "PATH": os.environ["PATH"],
            "PYTHONPATH": str(ROOT),
            "HYGIE_DATA_DIR": str(tmp_path / "data"),
        }
        env.update({name: str(value) for name, value in variables.items()})
        return subprocess.run(
            [sys.executable, "-c", code], env=env, cwd=tmp_path, capture_output=True, text=True
        )

    return run


def production(**extra):
    return {
        "HYGIE_SECRET_KEY": PRODUCTION_KEY,
        "HYGIE_ALLOWED_HOSTS": "hygie.chu-valmont.example",
        "HYGIE_DEBUG": "false",
        **extra,
    }


def refused(result) -> str:
    """The ImproperlyConfigured message the start-up stopped on."""
    assert result.returncode != 0, result.stdout
    last = result.stderr.strip().splitlines()[-1]
    prefix = "django.core.exceptions.ImproperlyConfigured: "
    assert last.startswith(prefix), result.stderr
    return last[len(prefix) :]


def loaded(result) -> dict:
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


SHOW = "import json, hygie.settings as s; print(json.dumps({names}, default=str))"


def show(*names):
    return SHOW.format(names="{" + ", ".join(f"{n!r}: s.{n}" for n in names) + "}")


def test_missing_secret_key_in_production_names_the_variable(run):
    message = refused(run(HYGIE_ALLOWED_HOSTS="hygie.example", HYGIE_DEBUG="false"))
    assert "HYGIE_SECRET_KEY is not set" in message


def test_short_secret_key_is_refused(run):
    message = refused(run(**production(HYGIE_SECRET_KEY="too-short")))
    assert "HYGIE_SECRET_KEY must be at least 50 characters" in message


@pytest.mark.parametrize(
    ("name", "value"),
    [("HYGIE_DEBUG", "yes"), ("HYGIE_SECURE", "vrai"), ("HYGIE_OIDC_ENABLED", "enabled")],
)
def test_bad_boolean_names_the_variable_and_the_accepted_values(run, name, value):
    message = refused(run(**production(**{name: value})))
    assert message.startswith(f"{name}={value!r} is not a boolean")
    assert "'true'" in message and "'false'" in message


@pytest.mark.parametrize(
    ("name", "value", "expected"),
    [
        ("HYGIE_EMAIL_PORT", "25a", "HYGIE_EMAIL_PORT='25a' is not an integer."),
        (
            "HYGIE_SESSION_IDLE_MINUTES",
            "1",
            "HYGIE_SESSION_IDLE_MINUTES=1 is below the minimum of 5.",
        ),
        (
            "HYGIE_PASSWORD_MIN_LENGTH",
            "6",
            "HYGIE_PASSWORD_MIN_LENGTH=6 is below the minimum of 8.",
        ),
    ],
)
def test_bad_integer_is_refused(run, name, value, expected):
    assert refused(run(**production(**{name: value}))) == expected


def test_empty_list_item_is_refused(run):
    message = refused(run(**production(HYGIE_ALLOWED_HOSTS="hygie.example,,intranet.example")))
    assert message.startswith("HYGIE_ALLOWED_HOSTS=") and "empty item" in message


def test_list_is_split_and_trimmed(run):
    result = run(show("ALLOWED_HOSTS"), **production(HYGIE_ALLOWED_HOSTS=" a.example , b.example"))
    assert loaded(result)["ALLOWED_HOSTS"] == ["a.example", "b.example"]


def test_bad_choice_lists_the_choices(run):
    message = refused(run(**production(HYGIE_OIDC_SIGN_ALGO="none")))
    assert (
        message == "HYGIE_OIDC_SIGN_ALGO='none' must be one of RS256, PS256, ES256, EdDSA, HS256."
    )


def test_secret_from_a_file(run, tmp_path):
    secret_file = tmp_path / "secret_key"
    secret_file.write_text(PRODUCTION_KEY[::-1] + "\n")
    variables = production(HYGIE_SECRET_KEY_FILE=secret_file)
    del variables["HYGIE_SECRET_KEY"]
    result = run(
        f"import hygie.settings as s; print(s.SECRET_KEY == {PRODUCTION_KEY[::-1]!r})", **variables
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "True"


def test_unreadable_secret_file_names_the_variable(run, tmp_path):
    variables = production(HYGIE_SECRET_KEY_FILE=tmp_path / "missing")
    del variables["HYGIE_SECRET_KEY"]
    message = refused(run(**variables))
    assert message.startswith(f"HYGIE_SECRET_KEY_FILE: cannot read {tmp_path / 'missing'}")


def test_value_and_file_together_are_refused(run, tmp_path):
    secret_file = tmp_path / "secret_key"
    secret_file.write_text(PRODUCTION_KEY)
    message = refused(run(**production(HYGIE_SECRET_KEY_FILE=secret_file)))
    assert message == "HYGIE_SECRET_KEY and HYGIE_SECRET_KEY_FILE are both set; keep only one."


def test_development_mode_needs_no_variable_and_keeps_its_key_private(run, tmp_path):
    result = run(show("DEBUG", "SECRET_KEY", "DATABASES"), HYGIE_DEBUG="true")
    settings = loaded(result)
    assert settings["DEBUG"] is True
    assert settings["DATABASES"]["default"]["ENGINE"] == "django.db.backends.sqlite3"
    assert settings["DATABASES"]["default"]["NAME"] == str(tmp_path / "data" / "hygie.sqlite3")
    key_file = tmp_path / "data" / "secret_key"
    assert key_file.read_text() == settings["SECRET_KEY"]
    assert key_file.stat().st_mode & 0o077 == 0
    again = loaded(run(show("SECRET_KEY"), HYGIE_DEBUG="true"))
    assert again["SECRET_KEY"] == settings["SECRET_KEY"], "sessions survive a restart"


def test_postgresql_database_url_is_parsed(run):
    url = "postgres://hygie:s3cr%40t@db.chu-valmont.example:5433/hygie_prod"
    database = loaded(run(show("DATABASES"), **production(HYGIE_DATABASE_URL=url)))["DATABASES"][
        "default"
    ]
    assert database["ENGINE"] == "django.db.backends.postgresql"
    assert (database["NAME"], database["USER"], database["PASSWORD"]) == (
        "hygie_prod",
        "hygie",
        "s3cr@t",
    )
    assert (database["HOST"], database["PORT"]) == ("db.chu-valmont.example", 5433)
    assert database["CONN_HEALTH_CHECKS"] is True


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("mysql://hygie:pw@db/hygie", "must point to PostgreSQL"),
        ("postgres://", "names no database"),
        ("db.example/hygie", "is not a valid database URL"),
    ],
)
def test_bad_database_url_is_refused_without_echoing_it(run, url, expected):
    message = refused(run(**production(HYGIE_DATABASE_URL=url)))
    assert message.startswith("HYGIE_DATABASE_URL") and expected in message
    assert "pw@" not in message


def test_broker_backend_needs_its_redis_url(run):
    message = refused(run(**production(HYGIE_TASKS_BACKEND="django_tasks_rq.RQBackend")))
    assert message.startswith("HYGIE_TASKS_BACKEND=django_tasks_rq.RQBackend needs HYGIE_REDIS_URL")
    message = refused(run(**production(HYGIE_TASKS_BACKEND="celery")))
    assert message.startswith("HYGIE_TASKS_BACKEND='celery' must be one of")


def test_starttls_and_ssl_are_exclusive(run):
    message = refused(run(**production(HYGIE_EMAIL_STARTTLS="true", HYGIE_EMAIL_SSL="true")))
    assert "mutually exclusive" in message


def test_oidc_without_endpoints_lists_what_is_missing(run):
    message = refused(run(**production(HYGIE_OIDC_ENABLED="true", HYGIE_OIDC_CLIENT_ID="hygie")))
    assert "HYGIE_OIDC_AUTHORIZATION_ENDPOINT" in message
    assert "HYGIE_OIDC_TOKEN_ENDPOINT" in message


def hygie(run, *args, **variables):
    code = f"import sys; sys.argv = ['hygie', *{list(args)!r}]; from hygie.cli import main; main()"
    return run(code, **variables)


def test_production_settings_pass_the_deploy_check(run):
    result = hygie(run, "check", "--deploy", "--fail-level", "WARNING", **production())
    assert result.returncode == 0, result.stderr
    assert "System check identified no issues" in result.stdout


def test_deploy_check_catches_an_insecure_production(run):
    result = hygie(
        run, "check", "--deploy", "--fail-level", "WARNING", **production(HYGIE_SECURE="false")
    )
    assert result.returncode != 0
    assert "SESSION_COOKIE_SECURE" in result.stderr


def test_misspelt_variable_is_pointed_out(run):
    result = hygie(
        run, "check", "--deploy", "--fail-level", "WARNING", **production(HYGIE_ALOWED_HOSTS="x")
    )
    assert result.returncode != 0
    assert "HYGIE_ALOWED_HOSTS is set but Hygie reads no such variable" in result.stderr
    assert "Did you mean HYGIE_ALLOWED_HOSTS?" in result.stderr

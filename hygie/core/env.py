"""Strict parsing of HYGIE_* environment variables.

A typo in a deployment variable must stop the start-up with a message naming the
variable, never silently fall back to a default.
"""

from __future__ import annotations

import difflib
import os
from pathlib import Path

from django.core.exceptions import ImproperlyConfigured

PREFIX = "HYGIE_"
TRUE_VALUES = {"1", "true", "on"}
# Every variable the settings asked for, so `unknown_variables` can point out typos.
READ: set[str] = set()
FALSE_VALUES = {"0", "false", "off"}


def _raw(name: str) -> str | None:
    """Value of NAME, or the content of the file named by NAME_FILE (Docker/systemd secrets)."""
    READ.add(name)
    value = os.environ.get(name)
    file_name = os.environ.get(f"{name}_FILE")
    if value is not None and file_name:
        raise ImproperlyConfigured(f"{name} and {name}_FILE are both set; keep only one.")
    if file_name:
        try:
            return Path(file_name).read_text(encoding="utf-8").strip()
        except OSError as exc:
            raise ImproperlyConfigured(f"{name}_FILE: cannot read {file_name}: {exc}") from exc
    return value


def env_str(name: str, default: str = "") -> str:
    value = _raw(name)
    return default if value is None else value


def env_bool(name: str, default: bool = False) -> bool:
    value = _raw(name)
    if value is None or value == "":
        return default
    lowered = value.strip().lower()
    if lowered in TRUE_VALUES:
        return True
    if lowered in FALSE_VALUES:
        return False
    raise ImproperlyConfigured(
        f"{name}={value!r} is not a boolean; use one of {sorted(TRUE_VALUES | FALSE_VALUES)}."
    )


def env_int(name: str, default: int, minimum: int | None = None) -> int:
    value = _raw(name)
    if value is None or value == "":
        return default
    try:
        number = int(value)
    except ValueError:
        raise ImproperlyConfigured(f"{name}={value!r} is not an integer.") from None
    if minimum is not None and number < minimum:
        raise ImproperlyConfigured(f"{name}={number} is below the minimum of {minimum}.")
    return number


def env_list(name: str, default: list[str] | None = None) -> list[str]:
    value = _raw(name)
    if value is None:
        return list(default or [])
    items = [item.strip() for item in value.split(",")]
    if any(not item for item in items) and value.strip():
        raise ImproperlyConfigured(f"{name}={value!r} contains an empty item (check the commas).")
    return [item for item in items if item]


def env_choice(name: str, choices: tuple[str, ...], default: str) -> str:
    value = _raw(name)
    if value is None or value == "":
        return default
    if value not in choices:
        raise ImproperlyConfigured(f"{name}={value!r} must be one of {', '.join(choices)}.")
    return value


def unknown_variables(environ=None) -> list[tuple[str, str | None]]:
    """HYGIE_* variables that no setting reads (a typo?), each with the closest known name."""
    environ = os.environ if environ is None else environ
    found = []
    for key in sorted(environ):
        if not key.startswith(PREFIX):
            continue
        name = key[: -len("_FILE")] if key.endswith("_FILE") else key
        if name in READ:
            continue
        close = difflib.get_close_matches(name, sorted(READ), n=1, cutoff=0.8)
        found.append((key, close[0] if close else None))
    return found

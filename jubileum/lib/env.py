"""Typed readers for settings from the environment that fail loudly on a bad value.

A typo in production configuration must stop the process at start-up, not fall back to a default
that quietly does something else.

Secrets (`env_secret`) may also come from a file: `SECRET_KEY_FILE=/run/secrets/secret_key`
instead of `SECRET_KEY=...`, as Docker secrets and systemd credentials provide them, so that the
value never shows in the process environment (`ps e`, `/proc/<pid>/environ`, crash reports).
"""

from __future__ import annotations

import os
from pathlib import Path

from django.core.exceptions import ImproperlyConfigured

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


def env_str(name: str, default: str = "") -> str:
    return os.environ.get(name, default).strip()


def env_bool(name: str, default: bool = False) -> bool:
    raw = os.environ.get(name)
    if raw is None:
        return default
    value = raw.strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise ImproperlyConfigured(
        f"{name} must be one of 1/0, true/false, yes/no, on/off; got {raw!r}."
    )


def env_int(name: str, default: int, *, minimum: int | None = None) -> int:
    raw = os.environ.get(name)
    if raw is None or not raw.strip():
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be a whole number; got {raw!r}.") from None
    if minimum is not None and value < minimum:
        raise ImproperlyConfigured(f"{name} must be at least {minimum}; got {value}.")
    return value


def env_list(name: str, default: list[str] | None = None) -> list[str]:
    raw = os.environ.get(name)
    if raw is None:
        return list(default or [])
    return [item.strip() for item in raw.split(",") if item.strip()]


FILE_SUFFIX = "_FILE"


def env_secret(name: str, default: str = "") -> str:
    """`name` from the environment, or the contents of the file `<name>_FILE` names.

    Setting both is refused: which of two different values wins would be a guess. A file that
    cannot be read, or is empty, stops the start-up with its name rather than running with no
    secret. Surrounding white space (the newline `echo` leaves) is dropped.
    """
    file_variable = name + FILE_SUFFIX
    value = env_str(name)
    path = env_str(file_variable)
    if value and path:
        raise ImproperlyConfigured(
            f"Both {name} and {file_variable} are set; set only one of them."
        )
    if not path:
        return value or default
    try:
        contents = Path(path).read_text(encoding="utf-8").strip()
    except (OSError, UnicodeDecodeError) as error:
        reason = getattr(error, "strerror", None) or str(error)
        raise ImproperlyConfigured(
            f"{file_variable} names {path!r}, which cannot be read: {reason}."
        ) from None
    if not contents:
        raise ImproperlyConfigured(f"{file_variable} names {path!r}, which is empty.")
    return contents


def env_prefixed(prefix: str) -> dict[str, str]:
    """All variables starting with `prefix`, keyed by the rest of their name.

    Each may be given as a file too (`ANYMAIL_POSTMARK_SERVER_TOKEN_FILE`; see `env_secret`).
    """
    names = {
        key.removesuffix(FILE_SUFFIX) if key.endswith(FILE_SUFFIX) else key
        for key in os.environ
        if key.startswith(prefix)
    }
    return {
        name.removeprefix(prefix): env_secret(name)
        for name in sorted(names)
        if name.startswith(prefix) and name != prefix
    }

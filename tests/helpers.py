"""Small helpers several test modules share."""

from __future__ import annotations

import os
import runpy
import sqlite3
from collections.abc import Iterator
from contextlib import closing, contextmanager
from pathlib import Path
from typing import Any
from unittest import mock

from django.db import connection, connections

SETTINGS_FILE = Path(__file__).resolve().parents[1] / "jubileum" / "settings.py"


def signup_form(**overrides: str) -> dict[str, str]:
    """A valid sign-up form for a resident, Anna de Vries, party of 2; `overrides` change fields."""
    data = {
        "contact_name": "Anna de Vries",
        "email": "anna@example.org",
        "phone": "",
        "party_size": "2",
        "kind": "resident",
        "brigade": "",
        "years_of_service": "",
        "consent": "on",
        "website": "",
    }
    data.update(overrides)
    return data


@contextmanager
def sqlite_test_database_in_file(path: Path, **options: Any) -> Iterator[Path]:
    """The migrated in-memory SQLite test database copied into the file `path`, and the default
    alias pointed at it (its OPTIONS plus `options`) for the block: an in-memory database lives
    and dies with one connection, while threads and subprocesses each need their own."""
    connection.ensure_connection()
    with closing(sqlite3.connect(path)) as copy:
        connection.connection.backup(copy)
    in_memory = connections["default"]
    settings_dict = in_memory.settings_dict
    name, previous = settings_dict["NAME"], settings_dict["OPTIONS"]
    settings_dict["NAME"] = str(path)
    settings_dict["OPTIONS"] = {**previous, **options}
    connections["default"] = connections.create_connection("default")
    try:
        yield path
    finally:
        connections["default"].close()
        settings_dict["NAME"], settings_dict["OPTIONS"] = name, previous
        connections["default"] = in_memory


def settings_from(env: dict[str, str], var_dir: Path) -> dict[str, Any]:
    """jubileum/settings.py evaluated afresh in this process with `env` as the whole environment
    and var/ in `var_dir`: its names and values, or what it raises (ImproperlyConfigured).

    Nothing is inherited (DJANGO_DEBUG=1 from the Makefile, DATABASE_URL from the PostgreSQL
    step), and the running test's own settings stay as they are. Much cheaper than a process.
    """
    with mock.patch.dict(os.environ, {"JUBILEUM_VAR_DIR": str(var_dir), **env}, clear=True):
        return runpy.run_path(str(SETTINGS_FILE))

"""A test database that other connections and other processes can reach.

On PostgreSQL that is the test database itself, committed for real. pytest-django's SQLite test
database lives in memory and dies with its one connection, so for SQLite it is copied into a
file under `<tmp>/var/`, the default alias is pointed at the copy with the production options,
and a subprocess finds it through `JUBILEUM_VAR_DIR`, exactly where production settings look.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from django.db import connection

from tests.helpers import sqlite_test_database_in_file


@dataclass
class SharedDatabase:
    vendor: str
    # The environment a `manage.py` subprocess needs to use this database.
    env: dict[str, str] = field(default_factory=dict)
    path: Path | None = None  # the SQLite file

    def subprocess_env(self, **extra: str) -> dict[str, str]:
        env = {key: value for key, value in os.environ.items() if key != "DATABASE_URL"}
        env.update(DJANGO_DEBUG="1", PYTHONUNBUFFERED="1", **self.env, **extra)
        return env


def _postgres_url(settings_dict: dict) -> str:
    user = settings_dict["USER"] or ""
    password = f":{settings_dict['PASSWORD']}" if settings_dict["PASSWORD"] else ""
    host = settings_dict["HOST"] or "127.0.0.1"
    port = f":{settings_dict['PORT']}" if settings_dict["PORT"] else ""
    return f"postgres://{user}{password}@{host}{port}/{settings_dict['NAME']}"


@pytest.fixture(
    params=[
        pytest.param("postgresql", marks=[pytest.mark.postgres, pytest.mark.engine_dependent]),
        pytest.param("sqlite", marks=[pytest.mark.sqlite, pytest.mark.engine_dependent]),
    ]
)
def shared_database(request, transactional_db, tmp_path) -> Iterator[SharedDatabase]:
    vendor = request.param
    if vendor == "postgresql":
        # The `postgres` and `sqlite` markers skip the run whose database is not the test's.
        yield SharedDatabase(vendor, {"DATABASE_URL": _postgres_url(connection.settings_dict)})
        return
    var = tmp_path / "var"
    var.mkdir()
    with sqlite_test_database_in_file(var / "jubileum.sqlite3") as path:
        yield SharedDatabase(vendor, {"JUBILEUM_VAR_DIR": str(var)}, path)

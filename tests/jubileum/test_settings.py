"""Settings read the environment at start-up, so each case starts a fresh process with a clean one.

Nothing here may inherit the developer's or CI's variables (DJANGO_DEBUG=1 from the Makefile,
DATABASE_URL from the PostgreSQL step): every test names exactly what the process sees.
"""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def production_env(tmp_path) -> dict[str, str]:
    """What an operator sets in production, with a throwaway SQLite database."""
    return {
        "SECRET_KEY": secrets.token_urlsafe(64),
        "ALLOWED_HOSTS": "jubileum.example.nl",
        "SITE_URL": "https://jubileum.example.nl",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'jubileum.sqlite3'}",
        "MAIL_BACKEND": "anymail.backends.test.EmailBackend",
    }


def manage(*args: str, env: dict[str, str], var_dir: Path) -> subprocess.CompletedProcess[str]:
    clean = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": os.environ.get("HOME", str(var_dir)),
        "LANG": "C.UTF-8",
        "JUBILEUM_VAR_DIR": str(var_dir),
        **env,
    }
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=REPO,
        env=clean,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_production_settings_pass_the_deploy_check(production_env, tmp_path):
    result = manage(
        "check", "--deploy", "--fail-level", "WARNING", env=production_env, var_dir=tmp_path
    )

    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout


def test_development_starts_with_nothing_but_debug_set(tmp_path):
    result = manage("check", env={"DJANGO_DEBUG": "1"}, var_dir=tmp_path)

    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize(
    ("variable", "message"),
    [
        ("SECRET_KEY", "SECRET_KEY is not set"),
        ("ALLOWED_HOSTS", "ALLOWED_HOSTS is not set"),
        ("MAIL_BACKEND", "MAIL_BACKEND is not set"),
        ("SITE_URL", "SITE_URL is not set"),
    ],
)
def test_production_refuses_to_start_without_required_variable(
    production_env, tmp_path, variable, message
):
    del production_env[variable]

    result = manage("check", env=production_env, var_dir=tmp_path)

    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert message in result.stderr


@pytest.mark.parametrize("debug", ["0", "false", ""])
def test_debug_off_by_any_spelling_still_needs_a_secret_key(production_env, tmp_path, debug):
    del production_env["SECRET_KEY"]

    result = manage("check", env={**production_env, "DJANGO_DEBUG": debug}, var_dir=tmp_path)

    assert result.returncode != 0
    assert "SECRET_KEY is not set" in result.stderr


def test_unreadable_debug_value_fails_loudly(production_env, tmp_path):
    result = manage("check", env={**production_env, "DJANGO_DEBUG": "maybe"}, var_dir=tmp_path)

    assert result.returncode != 0
    assert "DJANGO_DEBUG must be one of" in result.stderr
    assert "'maybe'" in result.stderr


@pytest.mark.parametrize("debug", ["0", "1"])
def test_demo_payments_refuse_to_run_beside_a_stripe_key(production_env, tmp_path, debug):
    env = {
        **production_env,
        "DJANGO_DEBUG": debug,
        "PAYMENTS_DEMO_MODE": "1",
        "STRIPE_SECRET_KEY": "sk_test_" + secrets.token_hex(12),
        "STRIPE_WEBHOOK_SECRET": "whsec_" + secrets.token_hex(12),
    }

    result = manage("check", env=env, var_dir=tmp_path)

    assert result.returncode != 0
    assert "PAYMENTS_DEMO_MODE cannot be on while STRIPE_SECRET_KEY is set" in result.stderr


def test_development_with_a_stripe_key_leaves_demo_payments_off(tmp_path):
    env = {
        "DJANGO_DEBUG": "1",
        "STRIPE_SECRET_KEY": "sk_test_" + secrets.token_hex(12),
        "STRIPE_WEBHOOK_SECRET": "whsec_" + secrets.token_hex(12),
    }

    result = manage(
        "shell",
        "-c",
        "from django.conf import settings; print(settings.PAYMENTS_DEMO_MODE)",
        env=env,
        var_dir=tmp_path,
    )

    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[-1] == "False"


@pytest.mark.postgres
def test_database_url_selects_postgresql(db):
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SHOW server_version_num")
        (version,) = cursor.fetchone()

    assert connection.vendor == "postgresql"
    assert int(version) >= 150000


def test_prepared_statements_are_a_choice_for_postgresql_only(tmp_path):
    script = (
        "from django.conf import settings; "
        "print(settings.DATABASES['default'].get('OPTIONS', {}).get('prepare_threshold'))"
    )
    base = {"DJANGO_DEBUG": "1", "DATABASE_PREPARE_THRESHOLD": "5"}
    postgres = manage(
        "shell",
        "--no-imports",
        "-c",
        script,
        env={**base, "DATABASE_URL": "postgres://postgres@127.0.0.1:5432/none"},
        var_dir=tmp_path,
    )
    sqlite = manage(
        "shell",
        "--no-imports",
        "-c",
        script,
        env={**base, "DATABASE_URL": f"sqlite:///{tmp_path / 'x.sqlite3'}"},
        var_dir=tmp_path,
    )
    default = manage(
        "shell",
        "--no-imports",
        "-c",
        script,
        env={"DJANGO_DEBUG": "1", "DATABASE_URL": "postgres://postgres@127.0.0.1:5432/none"},
        var_dir=tmp_path,
    )

    assert postgres.stdout.split() == ["5"], postgres.stderr
    assert sqlite.stdout.split() == ["None"], sqlite.stderr
    assert default.stdout.split() == ["None"], default.stderr

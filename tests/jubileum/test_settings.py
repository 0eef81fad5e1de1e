"""Settings read the environment at start-up. Each case evaluates jubileum/settings.py afresh
with exactly the environment it names (`settings_from`); the deploy check starts a real process.

Nothing here may inherit the developer's or CI's variables (DJANGO_DEBUG=1 from the Makefile,
DATABASE_URL from the PostgreSQL step): every test names exactly what the settings see.
"""

from __future__ import annotations

import os
import re
import secrets
import subprocess
import sys
from pathlib import Path

import pytest
import stripe
from django.core.exceptions import ImproperlyConfigured
from django.core.management import call_command

from tests.helpers import settings_from

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


def test_development_needs_nothing_but_debug_set(tmp_path):
    settings = settings_from({"DJANGO_DEBUG": "1"}, tmp_path)

    assert settings["DEBUG"] is True
    assert settings["DATABASES"]["default"]["NAME"] == tmp_path / "jubileum.sqlite3"
    assert settings["PAYMENTS_DEMO_MODE"] is True
    assert settings["MAIL_BACKEND"] == "django.core.mail.backends.console.EmailBackend"


@pytest.mark.django_db
def test_development_passes_the_system_checks():
    # The test run is the development shape (DJANGO_DEBUG=1, nothing else needed). Some checks
    # read the database (the first to touch it makes the connection), so the test may too:
    # alone it failed with "Database access not allowed", in the suite it passed.
    call_command("check", fail_level="WARNING")


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

    with pytest.raises(ImproperlyConfigured, match=re.escape(message)):
        settings_from(production_env, tmp_path)


@pytest.mark.parametrize("debug", ["0", "false", ""])
def test_debug_off_by_any_spelling_still_needs_a_secret_key(production_env, tmp_path, debug):
    del production_env["SECRET_KEY"]

    with pytest.raises(ImproperlyConfigured, match="SECRET_KEY is not set"):
        settings_from({**production_env, "DJANGO_DEBUG": debug}, tmp_path)


def test_unreadable_debug_value_fails_loudly(production_env, tmp_path):
    with pytest.raises(ImproperlyConfigured, match=r"DJANGO_DEBUG must be one of.*'maybe'"):
        settings_from({**production_env, "DJANGO_DEBUG": "maybe"}, tmp_path)


@pytest.mark.parametrize("debug", ["0", "1"])
def test_demo_payments_refuse_to_run_beside_a_stripe_key(production_env, tmp_path, debug):
    env = {
        **production_env,
        "DJANGO_DEBUG": debug,
        "PAYMENTS_DEMO_MODE": "1",
        "STRIPE_SECRET_KEY": "sk_test_" + secrets.token_hex(12),
        "STRIPE_WEBHOOK_SECRET": "whsec_" + secrets.token_hex(12),
    }

    with pytest.raises(
        ImproperlyConfigured, match="PAYMENTS_DEMO_MODE cannot be on while STRIPE_SECRET_KEY is set"
    ):
        settings_from(env, tmp_path)


@pytest.mark.parametrize(
    "sender",
    [
        "Jubileum <noreply@localhost>",
        "noreply@localhost",
        "noreply@mailhost",
        "Jubileum",
        "noreply@jubileum.local",
        "noreply@mail.localhost",
        "noreply@jubileum.test",
        "noreply@jubileum.invalid",
        "noreply@soest.example",
        "noreply@LOCALHOST.",
    ],
)
def test_a_real_mail_backend_refuses_a_sender_mail_cannot_come_from(
    production_env, tmp_path, sender
):
    env = {
        **production_env,
        "MAIL_BACKEND": "django.core.mail.backends.smtp.EmailBackend",
        "DEFAULT_FROM_EMAIL": sender,
    }

    with pytest.raises(ImproperlyConfigured, match=r"DEFAULT_FROM_EMAIL is .* delivers real mail"):
        settings_from(env, tmp_path)


def test_the_default_sender_must_be_replaced_for_an_esp(production_env, tmp_path):
    env = {
        **production_env,
        "MAIL_BACKEND": "anymail.backends.postmark.EmailBackend",
        "ANYMAIL_WEBHOOK_SECRET": "postmark:Zeer-geheim-42",
    }

    with pytest.raises(ImproperlyConfigured, match="'Jubileum <noreply@localhost>'"):
        settings_from(env, tmp_path)

    env["DEFAULT_FROM_EMAIL"] = "Jubileum <noreply@jubileum.soest.nl>"
    assert settings_from(env, tmp_path)["SERVER_EMAIL"] == "Jubileum <noreply@jubileum.soest.nl>"


def test_an_error_mail_sender_mail_cannot_come_from_is_refused_too(production_env, tmp_path):
    env = {
        **production_env,
        "MAIL_BACKEND": "django.core.mail.backends.smtp.EmailBackend",
        "DEFAULT_FROM_EMAIL": "noreply@jubileum.soest.nl",
        "SERVER_EMAIL": "root@localhost",
    }

    with pytest.raises(ImproperlyConfigured, match="SERVER_EMAIL is 'root@localhost'"):
        settings_from(env, tmp_path)


@pytest.mark.parametrize(
    "backend",
    [
        "django.core.mail.backends.console.EmailBackend",
        "django.core.mail.backends.filebased.EmailBackend",
        "django.core.mail.backends.locmem.EmailBackend",
        "anymail.backends.test.EmailBackend",
    ],
)
def test_a_backend_that_delivers_nothing_takes_the_development_sender(
    production_env, tmp_path, backend
):
    env = {**production_env, "MAIL_BACKEND": backend}

    assert settings_from(env, tmp_path)["DEFAULT_FROM_EMAIL"] == "Jubileum <noreply@localhost>"


def test_development_with_a_stripe_key_leaves_demo_payments_off(tmp_path):
    env = {
        "DJANGO_DEBUG": "1",
        "STRIPE_SECRET_KEY": "sk_test_" + secrets.token_hex(12),
        "STRIPE_WEBHOOK_SECRET": "whsec_" + secrets.token_hex(12),
    }

    assert settings_from(env, tmp_path)["PAYMENTS_DEMO_MODE"] is False


@pytest.mark.postgres
def test_database_url_selects_postgresql(db):
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SHOW server_version_num")
        (version,) = cursor.fetchone()

    assert connection.vendor == "postgresql"
    assert int(version) >= 150000


def test_prepared_statements_are_a_choice_for_postgresql_only(tmp_path):
    def prepare_threshold(env: dict[str, str]) -> int | None:
        options = settings_from(env, tmp_path)["DATABASES"]["default"].get("OPTIONS", {})
        return options.get("prepare_threshold")

    base = {"DJANGO_DEBUG": "1", "DATABASE_PREPARE_THRESHOLD": "5"}
    postgres_url = "postgres://postgres@127.0.0.1:5432/none"

    assert prepare_threshold({**base, "DATABASE_URL": postgres_url}) == 5
    assert (
        prepare_threshold({**base, "DATABASE_URL": f"sqlite:///{tmp_path / 'x.sqlite3'}"}) is None
    )
    assert prepare_threshold({"DJANGO_DEBUG": "1", "DATABASE_URL": postgres_url}) is None


def test_redis_gets_short_timeouts_that_the_environment_may_change(tmp_path):
    base = {"DJANGO_DEBUG": "1", "REDIS_URL": "redis://127.0.0.1:6379/0"}

    def cache(env: dict[str, str]) -> dict:
        return settings_from({**base, **env}, tmp_path)["CACHES"]["default"]

    assert cache({})["OPTIONS"] == {
        "socket_connect_timeout": 0.25,
        "socket_timeout": 0.25,
        "RETRY_AFTER": 5,
    }
    changed = cache({"REDIS_TIMEOUT_MS": "300", "REDIS_RETRY_AFTER": "10"})["OPTIONS"]
    assert changed["socket_timeout"] == changed["socket_connect_timeout"] == 0.3
    assert changed["RETRY_AFTER"] == 10
    with pytest.raises(ImproperlyConfigured, match="REDIS_TIMEOUT_MS must be at least 1"):
        cache({"REDIS_TIMEOUT_MS": "0"})
    assert settings_from({"DJANGO_DEBUG": "1"}, tmp_path)["READY_MAX_TASK_WAIT"].seconds == 300


def test_stripe_api_base_and_version_default_to_stripes_own(tmp_path):
    settings = settings_from({"DJANGO_DEBUG": "1"}, tmp_path)

    assert settings["STRIPE_API_BASE"] == ""
    assert settings["STRIPE_API_VERSION"] == stripe.api_version


def test_stripe_api_base_and_version_are_read_from_the_environment(production_env, tmp_path):
    env = {
        **production_env,
        "STRIPE_API_BASE": "https://stripe-proxy.example.nl:8443/",
        "STRIPE_API_VERSION": "2026-10-28.endive",
    }

    settings = settings_from(env, tmp_path)

    assert settings["STRIPE_API_BASE"] == "https://stripe-proxy.example.nl:8443"
    assert settings["STRIPE_API_VERSION"] == "2026-10-28.endive"


@pytest.mark.parametrize("debug", ["0", "1"])
@pytest.mark.parametrize(
    "base", ["ftp://stripe.example.nl", "127.0.0.1:12111", "https://", "file:///tmp/stripe"]
)
def test_a_stripe_api_base_that_is_not_http_is_refused(production_env, tmp_path, debug, base):
    env = {**production_env, "DJANGO_DEBUG": debug, "STRIPE_API_BASE": base}

    with pytest.raises(ImproperlyConfigured, match="STRIPE_API_BASE must be an http"):
        settings_from(env, tmp_path)


def test_plain_http_to_a_stripe_api_base_is_refused_outside_debug(production_env, tmp_path):
    env = {**production_env, "STRIPE_API_BASE": "http://127.0.0.1:12111"}

    with pytest.raises(ImproperlyConfigured, match="STRIPE_API_BASE must use https outside DEBUG"):
        settings_from(env, tmp_path)


def test_plain_http_to_a_local_stripe_api_base_is_allowed_in_debug(tmp_path):
    env = {"DJANGO_DEBUG": "1", "STRIPE_API_BASE": "http://127.0.0.1:12111"}

    assert settings_from(env, tmp_path)["STRIPE_API_BASE"] == "http://127.0.0.1:12111"

"""Secrets come from the environment or from a file named by `<NAME>_FILE`, never both."""

from __future__ import annotations

import os
import secrets
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured

from jubileum.lib.env import env_prefixed, env_secret
from tests.helpers import settings_from


@pytest.fixture
def secret_file(tmp_path):
    def write(contents: str, name: str = "secret") -> Path:
        path = tmp_path / name
        path.write_text(contents, encoding="utf-8")
        return path

    return write


def test_secret_from_the_variable(monkeypatch):
    monkeypatch.setenv("JUB_TEST_SECRET", "  geheim  ")

    assert env_secret("JUB_TEST_SECRET") == "geheim"


def test_secret_from_the_file_its_file_variable_names(monkeypatch, secret_file):
    monkeypatch.delenv("JUB_TEST_SECRET", raising=False)
    monkeypatch.setenv("JUB_TEST_SECRET_FILE", str(secret_file("uit-een-bestand\n")))

    assert env_secret("JUB_TEST_SECRET") == "uit-een-bestand"


def test_neither_set_gives_the_default(monkeypatch):
    monkeypatch.delenv("JUB_TEST_SECRET", raising=False)
    monkeypatch.delenv("JUB_TEST_SECRET_FILE", raising=False)

    assert env_secret("JUB_TEST_SECRET") == ""
    assert env_secret("JUB_TEST_SECRET", "standaard") == "standaard"


def test_both_set_is_refused(monkeypatch, secret_file):
    monkeypatch.setenv("JUB_TEST_SECRET", "een")
    monkeypatch.setenv("JUB_TEST_SECRET_FILE", str(secret_file("twee")))

    with pytest.raises(ImproperlyConfigured, match="Both JUB_TEST_SECRET and JUB_TEST_SECRET_FILE"):
        env_secret("JUB_TEST_SECRET")


def test_an_empty_variable_beside_a_file_is_not_a_conflict(monkeypatch, secret_file):
    # Compose files often pass `SECRET_KEY=` through empty; the file then decides.
    monkeypatch.setenv("JUB_TEST_SECRET", "")
    monkeypatch.setenv("JUB_TEST_SECRET_FILE", str(secret_file("twee")))

    assert env_secret("JUB_TEST_SECRET") == "twee"


def test_missing_file_is_refused_with_its_name(monkeypatch, tmp_path):
    monkeypatch.delenv("JUB_TEST_SECRET", raising=False)
    monkeypatch.setenv("JUB_TEST_SECRET_FILE", str(tmp_path / "bestaat-niet"))

    with pytest.raises(ImproperlyConfigured, match=r"bestaat-niet.*cannot be read"):
        env_secret("JUB_TEST_SECRET")


def test_empty_file_is_refused(monkeypatch, secret_file):
    monkeypatch.delenv("JUB_TEST_SECRET", raising=False)
    monkeypatch.setenv("JUB_TEST_SECRET_FILE", str(secret_file("\n")))

    with pytest.raises(ImproperlyConfigured, match="which is empty"):
        env_secret("JUB_TEST_SECRET")


def test_prefixed_variables_may_come_from_files(monkeypatch, secret_file):
    for key in list(os.environ):
        if key.startswith("JUBTEST_"):
            monkeypatch.delenv(key)
    monkeypatch.setenv("JUBTEST_POSTMARK_SERVER_TOKEN_FILE", str(secret_file("token\n")))
    monkeypatch.setenv("JUBTEST_IGNORE_UNSUPPORTED_FEATURES", "true")

    assert env_prefixed("JUBTEST_") == {
        "POSTMARK_SERVER_TOKEN": "token",
        "IGNORE_UNSUPPORTED_FEATURES": "true",
    }


def test_prefixed_variable_and_its_file_together_are_refused(monkeypatch, secret_file):
    monkeypatch.setenv("JUBTEST_WEBHOOK_SECRET", "a:b")
    monkeypatch.setenv("JUBTEST_WEBHOOK_SECRET_FILE", str(secret_file("c:d")))

    with pytest.raises(ImproperlyConfigured, match="JUBTEST_WEBHOOK_SECRET_FILE"):
        env_prefixed("JUBTEST_")


# --- Settings read every secret this way -----------------------------------------------------


@pytest.fixture
def production_env(tmp_path, secret_file) -> dict[str, str]:
    """Production with every secret in a file, as Docker secrets or systemd credentials give
    them."""
    return {
        "SECRET_KEY_FILE": str(secret_file(secrets.token_urlsafe(64), "secret_key")),
        "DATABASE_URL_FILE": str(
            secret_file(f"sqlite:///{tmp_path / 'uit-bestand.sqlite3'}\n", "database_url")
        ),
        "STRIPE_SECRET_KEY_FILE": str(secret_file("sk_test_uitbestand", "stripe_key")),
        "STRIPE_WEBHOOK_SECRET_FILE": str(secret_file("whsec_uitbestand", "stripe_webhook")),
        "ANYMAIL_POSTMARK_SERVER_TOKEN_FILE": str(secret_file("postmark-token", "postmark")),
        "ANYMAIL_WEBHOOK_SECRET_FILE": str(secret_file("jubileum:webhook", "anymail_webhook")),
        "MAIL_BACKEND": "anymail.backends.postmark.EmailBackend",
        "DEFAULT_FROM_EMAIL": "Jubileum <noreply@jubileum.example.nl>",
        "ALLOWED_HOSTS": "jubileum.example.nl",
        "SITE_URL": "https://jubileum.example.nl",
    }


def test_production_reads_every_secret_from_its_file(production_env, tmp_path):
    seen = settings_from(production_env, tmp_path)

    assert seen["SECRET_KEY"] == Path(production_env["SECRET_KEY_FILE"]).read_text()
    assert seen["STRIPE_SECRET_KEY"] == "sk_test_uitbestand"
    assert seen["STRIPE_WEBHOOK_SECRET"] == "whsec_uitbestand"
    assert seen["DATABASES"]["default"]["NAME"] == str(tmp_path / "uit-bestand.sqlite3")
    assert seen["ANYMAIL"]["POSTMARK_SERVER_TOKEN"] == "postmark-token"
    assert seen["ANYMAIL"]["WEBHOOK_SECRET"] == "jubileum:webhook"


@pytest.mark.parametrize(
    "name", ["SECRET_KEY", "DATABASE_URL", "STRIPE_SECRET_KEY", "STRIPE_WEBHOOK_SECRET"]
)
def test_production_refuses_a_secret_given_twice(production_env, tmp_path, name):
    env = {**production_env, name: "ook-in-de-omgeving"}

    with pytest.raises(ImproperlyConfigured, match=f"Both {name} and {name}_FILE are set"):
        settings_from(env, tmp_path)


def test_production_refuses_an_unreadable_secret_file(production_env, tmp_path):
    env = {**production_env, "SECRET_KEY_FILE": str(tmp_path / "weg")}

    with pytest.raises(ImproperlyConfigured, match=r"SECRET_KEY_FILE names .*cannot be read"):
        settings_from(env, tmp_path)

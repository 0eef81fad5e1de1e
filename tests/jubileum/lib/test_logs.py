"""No personal-link token in Django's log lines (jubileum/lib/logs.py, settings.LOGGING)."""

from __future__ import annotations

import io
import logging

import pytest

from jubileum.lib.logs import RedactSecrets, redact_path

TOKEN = "AbCdEfGhIjKlMnOpQrStUvWxYz0123456789_-abcd"


@pytest.fixture
def console():
    """What the site's console handler writes, while the test runs."""
    handler = next(
        h
        for h in logging.getLogger().handlers
        if any(isinstance(f, RedactSecrets) for f in h.filters)
    )
    stream = io.StringIO()
    previous = handler.setStream(stream)
    yield stream
    handler.setStream(previous)


@pytest.mark.django_db
def test_a_missed_personal_link_is_logged_without_its_token(client, console):
    response = client.get(f"/aanmelding/{TOKEN}/annuleren/")

    assert response.status_code == 404
    logged = console.getvalue()
    assert "Not Found: /aanmelding/[token]/annuleren/" in logged
    assert TOKEN not in logged


def test_arguments_are_masked_too():
    record = logging.LogRecord(
        "django.request",
        logging.WARNING,
        __file__,
        1,
        "Not Found: %s",
        (f"/api/v1/registrations/{TOKEN}",),
        None,
    )

    assert RedactSecrets().filter(record) is True
    assert record.getMessage() == "Not Found: /api/v1/registrations/[token]"


@pytest.mark.parametrize(
    ("text", "logged"),
    [
        (f'"GET /aanmelding/{TOKEN}/ HTTP/1.1" 404', '"GET /aanmelding/[token]/ HTTP/1.1" 404'),
        (f"/en/aanmelding/{TOKEN}", "/en/aanmelding/[token]"),
        (
            "Internal Server Error: /programma/brandweer-100/",
            "Internal Server Error: /programma/brandweer-100/",
        ),
    ],
)
def test_tokens_are_masked_wherever_they_stand(text, logged):
    assert redact_path(text) == logged

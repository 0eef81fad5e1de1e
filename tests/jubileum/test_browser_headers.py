"""Headers every page carries: organiser pages (/beheer/, the budget, /admin/) are never stored,
and Permissions-Policy switches the camera on only for the scanner (/scan/), geolocation, the
microphone and payment nowhere, error pages included."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.db import ProgrammingError, connection
from django.test import Client

from budget.models import Budget

OFF = "camera=(), geolocation=(), microphone=(), payment=()"
SCANNER = "camera=(self), geolocation=(), microphone=(), payment=()"


@pytest.fixture
def organiser_client(client, organiser):
    client.force_login(organiser)
    return client


@pytest.fixture
def budget(programme) -> Budget:
    return Budget.objects.create(programme=programme, total=Decimal("8000.00"))


def never_stored(response) -> bool:
    directives = {part.strip() for part in response.get("Cache-Control", "").split(",")}
    return {"no-store", "no-cache", "private"} <= directives


@pytest.mark.parametrize(
    "path",
    [
        "/beheer/",
        "/en/beheer/",
        "/beheer/brandweer-100/",
        "/beheer/brandweer-100/budget/",
        "/beheer/brandweer-100/budget/uitgaven/",
        "/beheer/brandweer-100/verantwoording/",
        "/beheer/brandweer-100/scanners/",
    ],
)
def test_organiser_pages_are_never_stored(organiser_client, budget, path):
    response = organiser_client.get(path)

    assert response.status_code == 200
    assert never_stored(response), response.get("Cache-Control")
    assert response["Permissions-Policy"] == OFF


@pytest.mark.parametrize("path", ["/admin/", "/admin/events/activity/", "/en/admin/"])
def test_admin_pages_are_never_stored(admin_client, path):
    response = admin_client.get(path)

    assert response.status_code == 200
    assert never_stored(response)
    assert response["Permissions-Policy"] == OFF


def test_an_organiser_404_is_never_stored(organiser_client, make_programme):
    other = make_programme()

    response = organiser_client.get(f"/beheer/{other.slug}/")

    assert response.status_code == 404
    assert never_stored(response)
    assert response["Permissions-Policy"] == OFF


def test_an_organiser_500_page_is_never_stored_and_carries_the_policy(organiser, programme):
    client = Client(raise_request_exception=False)
    client.force_login(organiser)

    def broken(execute, sql, params, many, context):
        if "events_activity" in sql:
            raise ProgrammingError("a bug")
        return execute(sql, params, many, context)

    with connection.execute_wrapper(broken):
        response = client.get(f"/beheer/{programme.slug}/")

    assert response.status_code == 500
    assert response["Content-Type"].startswith("text/html")
    assert never_stored(response)
    assert response["Permissions-Policy"] == OFF


@pytest.mark.parametrize("path", ["/scan/", "/en/scan/", "/scan/sw.js"])
def test_the_scanner_may_use_the_camera(client, db, path):
    response = client.get(path)

    assert response.status_code == 200
    assert response["Permissions-Policy"] == SCANNER


def test_public_pages_are_not_made_uncacheable_and_have_no_camera(client, activity):
    for path in [
        "/",
        f"/programma/{activity.programme.slug}/",
        f"/programma/{activity.programme.slug}/activiteit/{activity.slug}/",
        "/api/v1/programmes",
        "/robots.txt",
    ]:
        response = client.get(path)
        assert response.status_code == 200, path
        assert response["Permissions-Policy"] == OFF, path
        assert "no-store" not in response.get("Cache-Control", ""), path


@pytest.mark.parametrize(
    ("method", "path", "status"),
    [
        ("get", "/bestaat-niet/echt-niet/", 404),
        ("get", "/scan/bestaat-niet/", 404),
        ("get", "/api/v1/bestaat-niet", 404),
        ("delete", "/", 405),
    ],
)
def test_error_pages_carry_the_policy(client, db, method, path, status):
    response = getattr(client, method)(path)

    assert response.status_code == status
    assert response["Permissions-Policy"] == OFF


def test_the_login_page_is_never_stored(client, db):
    response = client.get("/admin/login/")

    assert never_stored(response)
    assert response["Permissions-Policy"] == OFF

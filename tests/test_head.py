"""Whatever answers GET answers HEAD the same way, without a body (RFC 9110, 9.3.2): every URL
pattern of the site and every GET operation of the API, filled with one programme's objects and
asked for by its organiser (pages) or with the token the operation takes (API).

A view that takes GET but not HEAD (`require_GET` where `require_safe` belongs) answers 405
before it looks anything up, so the statuses differ whatever the view would have said.
"""

from __future__ import annotations

import dataclasses

import pytest
from django.test import Client
from django.urls import reverse

from jubileum.lib.apitokens import create_token
from tests.walk import (
    URL_KWARGS,
    World,
    all_routes,
    api_operations,
    build_world,
    read,
    rows_of,
)

pytestmark = pytest.mark.usefixtures("private_media", "tasks")

# Patterns made by libraries (the admin's and anymail's answer HEAD as Django's views do), the
# API's (walked operation by operation below) and the media files DEBUG serves.
SKIPPED_NAMESPACES = {"admin", "anymail", "api"}
SKIPPED_PREFIXES = ("admin/", "^media/")
# The API's own pages beside its operations.
API_PAGES = ("api:openapi-json", "api:openapi-view")


@pytest.fixture
def world(programme, django_user_model, settings) -> World:
    # Two requests for every pattern from one address: the limits are not what is tested.
    settings.RATE_LIMITS = {name: (100_000, 600) for name in settings.RATE_LIMITS}
    return build_world(programme, "head", django_user_model)


def page_urls(world: World) -> dict[str, str]:
    values = {key: fill(world) for key, fill in URL_KWARGS.items()}
    values |= {
        "token": world.registration.manage_token,
        "slug": world.programme.slug,
        "session_id": "cs_demo_onbekend",
    }
    urls = {name: reverse(name) for name in API_PAGES}
    for route in all_routes():
        if route.namespace.split(":")[0] in SKIPPED_NAMESPACES or route.name in (None, *API_PAGES):
            assert route.name or route.route.startswith(SKIPPED_PREFIXES), route
            continue
        urls[str(route)] = reverse(route.name, kwargs={key: values[key] for key in route.kwargs})
    return urls


def test_every_page_answers_head_as_it_answers_get(world):
    client = Client(raise_request_exception=False)
    client.force_login(world.organiser)
    urls = page_urls(world)
    assert len(urls) > 50

    differing = {}
    for name, url in urls.items():
        get = client.get(url)
        read(get)
        before = rows_of(world)
        head = client.head(url)
        body = read(head)
        if head.status_code != get.status_code or body:
            differing[name] = (get.status_code, head.status_code, len(body))
        # HEAD is as safe as GET: a confirmation page must not do what it asks to confirm.
        assert rows_of(world) == before, name

    assert differing == {}


def test_every_api_read_answers_head_as_it_answers_get(world):
    _row, organiser_token = create_token(world.organiser, "head")
    tokens = {"OrganiserAuth": organiser_token, "DeviceAuth": world.device_token}
    reads = [operation for operation in api_operations() if operation.method == "GET"]
    assert len(reads) > 10

    differing, answered = {}, []
    for operation in reads:
        scheme = next((name for name in operation.schemes if name in tokens), None)
        headers = {"Authorization": f"Bearer {tokens[scheme]}"} if scheme else {}
        client = Client(raise_request_exception=False)
        get = operation.request(client, world, **headers)
        read(get)
        head = dataclasses.replace(operation, method="HEAD").request(client, world, **headers)
        body = read(head)
        answered.append(get.status_code)
        if head.status_code != get.status_code or body:
            differing[str(operation)] = (get.status_code, head.status_code, len(body))

    assert differing == {}
    assert answered.count(200) > 10  # the requests reached the operations


def test_head_on_the_api_is_left_out_of_its_document(client, db):
    document = client.get("/api/v1/openapi.json").json()

    assert not any("head" in methods for methods in document["paths"].values())

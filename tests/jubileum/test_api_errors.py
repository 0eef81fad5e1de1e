"""Every API error is `{"code", "message", "details"}` with its status, in the client's language."""

from __future__ import annotations

import json

import pytest
from django.core.exceptions import ObjectDoesNotExist
from django.http import Http404, HttpResponse
from django.test import RequestFactory
from django.utils import translation
from django.utils.translation import gettext_lazy as _
from ninja.errors import AuthenticationError, AuthorizationError, HttpError, Throttled

from jubileum.api import api
from jubileum.lib.errors import DomainError
from jubileum.middleware import ApiLanguageMiddleware

API = "/api/v1"


class ActivityFull(DomainError):
    code = "activity_full"
    status = 409
    message = _("Dit botst met de huidige stand van zaken.")


def render(exc: Exception, language: str = "nl") -> tuple[HttpResponse, dict]:
    request = RequestFactory().get(f"{API}/anything")
    with translation.override(language):
        response = api.on_exception(request, exc)
    return response, json.loads(response.content)


@pytest.mark.parametrize(
    ("exc", "status", "code"),
    [
        (Http404("No Activity matches the given query."), 404, "not_found"),
        (ObjectDoesNotExist(), 404, "not_found"),
        (AuthenticationError(), 401, "not_authenticated"),
        (AuthorizationError(), 403, "permission_denied"),
        (Throttled(wait=None), 429, "throttled"),
        (HttpError(400, "Cannot parse request body"), 400, "bad_request"),
        (HttpError(409, "Conflict"), 409, "conflict"),
        (DomainError(), 400, "domain_error"),
    ],
)
def test_errors_map_to_status_and_code(exc, status, code):
    response, body = render(exc)

    assert response.status_code == status
    assert response["Content-Type"] == "application/json; charset=utf-8"
    assert body == {"code": code, "message": body["message"], "details": {}}
    assert body["message"]


def test_not_found_does_not_leak_model_names():
    _, body = render(Http404("No Activity matches the given query."))

    assert body["message"] == "Dit bestaat niet of is niet openbaar."


def test_unauthenticated_names_the_scheme():
    response, _ = render(AuthenticationError())

    assert response["WWW-Authenticate"] == "Bearer"


def test_throttled_says_when_to_retry():
    response, body = render(Throttled(wait=30))

    assert response["Retry-After"] == "30"
    assert body["details"] == {"retry_after": 30}


def test_other_http_errors_keep_their_status():
    response, body = render(HttpError(418, "I'm a teapot"))

    assert response.status_code == 418
    assert body == {"code": "error", "message": "I'm a teapot", "details": {}}


def test_domain_error_carries_its_code_status_and_details():
    response, body = render(ActivityFull(details={"places_left": 0}), language="en")

    assert response.status_code == 409
    assert body == {
        "code": "activity_full",
        "message": "This conflicts with the current state.",
        "details": {"places_left": 0},
    }


def test_domain_error_instance_may_refine_its_class():
    exc = DomainError(_("Hier heb je geen toegang toe."), code="closed", status=403)

    response, body = render(exc)

    assert response.status_code == 403
    assert body["code"] == "closed"
    assert str(exc) == body["message"] == "Hier heb je geen toegang toe."


def test_validation_error_message_follows_accept_language(client, programme):
    url = f"{API}/programmes/{programme.slug}/activities?month=2026-13"

    dutch = client.get(url)
    english = client.get(url, headers={"accept-language": "en-GB,en;q=0.9"})

    assert dutch.status_code == english.status_code == 422
    assert dutch.json()["message"] == "De invoer klopt niet; zie de details."
    assert english.json()["message"] == "The input is not valid; see the details."
    assert english.json()["details"] == dutch.json()["details"]
    assert dutch["Content-Language"] == "nl"
    assert english["Content-Language"] == "en"
    assert "Accept-Language" in english["Vary"]


def test_not_found_message_in_english(client, db):
    response = client.get(f"{API}/activities/12345", headers={"accept-language": "en"})

    assert response.status_code == 404
    assert response.json() == {
        "code": "not_found",
        "message": "This does not exist or is not public.",
        "details": {},
    }


def test_language_cookie_also_chooses_english(client, db):
    client.cookies["django_language"] = "en"

    response = client.get(f"{API}/activities/12345")

    assert response.json()["message"] == "This does not exist or is not public."


def test_unsupported_language_falls_back_to_dutch(client, db):
    response = client.get(f"{API}/activities/12345", headers={"accept-language": "fr"})

    assert response["Content-Language"] == "nl"
    assert response.json()["message"] == "Dit bestaat niet of is niet openbaar."


def test_language_middleware_leaves_pages_alone():
    seen = []

    def page(request):
        seen.append(translation.get_language())
        return HttpResponse()

    middleware = ApiLanguageMiddleware(page)
    request = RequestFactory().get("/programma/brandweer-100/", headers={"accept-language": "en"})
    with translation.override("nl"):
        response = middleware(request)

    assert seen == ["nl"]
    assert "Content-Language" not in response


def test_unknown_api_path_answers_json_404(client):
    response = client.get("/api/v1/does-not-exist")
    assert response.status_code == 404
    assert response.json() == {
        "code": "not_found",
        "message": "Dit bestaat niet of is niet openbaar.",
        "details": {},
    }


def test_unknown_page_still_gets_the_html_404(client, db):
    response = client.get("/bestaat-niet/")
    assert response.status_code == 404
    assert response["Content-Type"].startswith("text/html")


def test_api_server_error_answers_json(rf):
    from jubileum.views import server_error

    response = server_error(rf.get("/api/v1/programmes"))
    assert response.status_code == 500
    assert json.loads(response.content)["code"] == "server_error"

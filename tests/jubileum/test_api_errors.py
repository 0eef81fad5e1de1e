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
from jubileum.lib.validation import translated
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
    class Refused(DomainError):
        status = 403

    exc = Refused(_("Hier heb je geen toegang toe."), code="closed")

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
    # The same problems, each in the request's language.
    assert [{**d, "msg": ""} for d in english.json()["details"]] == [
        {**d, "msg": ""} for d in dutch.json()["details"]
    ]
    assert dutch.json()["details"][0]["msg"] == "Heeft niet de vorm die hier hoort."
    assert english.json()["details"][0]["msg"] == "Does not have the form required here."
    assert dutch["Content-Language"] == "nl"
    assert english["Content-Language"] == "en"
    assert "Accept-Language" in english["Vary"]


SIGN_UP_MISTAKES = {
    "contact_name": "x" * 201,
    "email": "geen-adres",
    "party_size": 0,
    "kind": "inwoner",
    "consent": False,
    "website": "spam",
}
# (field, type): the problem's msg in Dutch and in English.
SIGN_UP_PROBLEMS = {
    ("contact_name", "string_too_long"): (
        "Te lang: hoogstens 200 tekens.",
        "Too long: at most 200 characters.",
    ),
    ("email", "value_error"): (
        "Dit is geen geldig e-mailadres.",
        "This is not a valid e-mail address.",
    ),
    ("party_size", "greater_than_equal"): ("Moet 1 of meer zijn.", "Must be 1 or more."),
    ("kind", "enum"): (
        "Moet een van deze waarden zijn: 'resident', 'member', 'former_member', 'guest'.",
        "Must be one of these values: 'resident', 'member', 'former_member', 'guest'.",
    ),
    ("consent", "value_error"): (
        "Zonder toestemming (true) kunnen we niemand aanmelden.",
        "Without consent (true) we cannot sign anyone up.",
    ),
    ("website", "extra_forbidden"): (
        "Dit veld kennen we hier niet.",
        "This field is not known here.",
    ),
}


@pytest.mark.parametrize(("language", "column"), [("nl", 0), ("en", 1)])
def test_validation_details_speak_the_requests_language(client, activity, language, column):
    response = client.post(
        f"{API}/activities/{activity.pk}/registrations",
        json.dumps(SIGN_UP_MISTAKES),
        content_type="application/json",
        headers={"accept-language": language},
    )

    assert response.status_code == 422
    problems = {
        (problem["loc"][-1], problem["type"]): problem for problem in response.json()["details"]
    }
    assert {key: problem["msg"] for key, problem in problems.items()} == {
        key: messages[column] for key, messages in SIGN_UP_PROBLEMS.items()
    }
    # What a program reads stays as pydantic has it.
    assert all(problem["loc"][:2] == ["body", "payload"] for problem in problems.values())
    assert problems["contact_name", "string_too_long"]["ctx"] == {"max_length": 200}


@pytest.mark.parametrize(
    ("language", "message"),
    [("nl", "Dit veld kennen we hier niet."), ("en", "This field is not known here.")],
)
def test_an_unknown_query_parameter_is_named_in_the_requests_language(
    client, programme, language, message
):
    response = client.get(
        f"{API}/programmes/{programme.slug}/activities?audiense=members",
        headers={"accept-language": language},
    )

    assert response.json()["details"] == [
        {"type": "extra_forbidden", "loc": ["query", "audiense"], "msg": message}
    ]


@pytest.mark.parametrize(
    ("problem", "dutch", "english"),
    [
        (
            {"type": "missing", "loc": ["body", "x"]},
            "Dit veld is verplicht.",
            "This field is required.",
        ),
        (
            {"type": "string_too_short", "loc": ["body", "x"], "ctx": {"min_length": 1}},
            "Te kort: minstens 1 teken.",
            "Too short: at least 1 character.",
        ),
        (
            {
                "type": "datetime_parsing",
                "loc": ["query", "since"],
                "ctx": {"error": "input is too short"},
            },
            "Moet een tijdstip zijn in ISO 8601, bijvoorbeeld 2027-04-10T14:00:00+02:00.",
            "Must be a moment in ISO 8601, for example 2027-04-10T14:00:00+02:00.",
        ),
        (
            {"type": "url_scheme", "loc": ["body", "x"], "ctx": {"expected_schemes": "'https'"}},
            "Deze waarde is ongeldig.",
            "This value is not valid.",
        ),
    ],
)
def test_every_problem_type_has_a_message_in_both_languages(problem, dutch, english):
    problem = {**problem, "msg": "pydantic's English"}
    for language, expected in (("nl", dutch), ("en", english)):
        with translation.override(language):
            [result] = translated([problem])
        assert result == {**problem, "msg": expected}


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

"""The OpenAPI document describes every operation's input, answers and errors, and every API path
answers errors as JSON, a wrong method included."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.urls import resolve
from openapi_schema_validator import OAS31Validator
from openapi_spec_validator import validate

from jubileum.api import api

ERROR_REF = "#/components/schemas/ErrorOut"
UNSAFE = {"post", "put", "patch", "delete"}


@pytest.fixture(scope="module")
def document() -> dict:
    from django.test import Client

    response = Client().get("/api/v1/openapi.json")
    assert response.status_code == 200
    return response.json()


def operations(document: dict):
    for path, methods in document["paths"].items():
        for method, operation in methods.items():
            yield f"{method.upper()} {path}", method, operation


def schemes(operation: dict) -> set[str]:
    return {name for requirement in operation.get("security", []) for name in requirement}


def test_the_document_has_the_operations_of_every_router(document):
    names = {name for name, _method, _operation in operations(document)}

    assert "GET /programmes" in names
    assert "POST /activities/{id}/registrations" in names
    assert "GET /programmes/{slug}/budget" in names
    assert "POST /checkin/redeem" in names


def test_the_document_is_valid_openapi(document):
    # What a client generator or a gateway checks first; ninja wrote a parameter's examples as a
    # JSON Schema list, which OpenAPI does not allow there.
    validate(document)


def test_the_paths_are_relative_to_the_sites_api(document, settings):
    assert document["servers"] == [
        {"url": f"{settings.SITE_URL}/api/v1", "description": "This site."}
    ]
    server_path = urlsplit(document["servers"][0]["url"]).path
    assert resolve(server_path + "/programmes").url_name == "programmes"


def test_every_tag_is_described_and_every_operation_has_one(document):
    described = {tag["name"] for tag in document["tags"] if tag.get("description")}
    used = {tag for _n, _m, operation in operations(document) for tag in operation["tags"]}

    assert used == described == {tag["name"] for tag in document["tags"]}


def resolved(document: dict, schema: dict) -> dict:
    while "$ref" in schema:
        schema = document["components"]["schemas"][schema["$ref"].rsplit("/", 1)[1]]
    return schema


def examples_of(document: dict, schema: dict) -> list:
    """The examples a reader is shown for a body: the schema's own or, for a list or a page of
    a list, its items'."""
    schema = resolved(document, schema)
    if "examples" in schema:
        return schema["examples"]
    if schema.get("type") == "array":
        return [[example] for example in examples_of(document, schema["items"])]
    if set(schema.get("properties", ())) == {"items", "count"}:  # a page
        items = schema["properties"]["items"]
        return [{"items": example, "count": 1} for example in examples_of(document, items)]
    return []


def test_every_operation_shows_an_example_of_its_request_and_of_its_answer(document):
    without = []
    for name, _method, operation in operations(document):
        if "requestBody" in operation:
            body = operation["requestBody"]["content"]["application/json"]["schema"]
            if not examples_of(document, body):
                without.append(f"{name} request body")
        for parameter in operation["parameters"]:
            if parameter["required"] and not parameter.get("examples"):
                without.append(f"{name} {parameter['in']} {parameter['name']}")
        for status, response in operation["responses"].items():
            schema = response.get("content", {}).get("application/json", {}).get("schema")
            if status.startswith("2") and not examples_of(document, schema):
                without.append(f"{name} {status}")

    assert without == []


def test_every_example_matches_its_schema(document):
    wrong, checked = {}, 0
    for name, schema in document["components"]["schemas"].items():
        checker = OAS31Validator({"$ref": f"#/components/schemas/{name}", **document})
        for example in schema.get("examples", []):
            checked += 1
            errors = [error.message for error in checker.iter_errors(example)]
            if errors:
                wrong[name] = errors
    for name, _method, operation in operations(document):
        for parameter in operation["parameters"]:
            checker = OAS31Validator(parameter["schema"])
            for example in parameter.get("examples", {}).values():
                if not checker.is_valid(example["value"]):
                    wrong[f"{name} {parameter['name']}"] = example

    assert wrong == {}
    assert checked >= 20


def test_every_operation_declares_the_errors_it_can_answer_with(document):
    missing = {}
    for name, method, operation in operations(document):
        expected = {"422", "503"}  # 503: the database did not answer for a moment
        if "requestBody" in operation:
            expected.update({"400", "415"})  # a body that is not JSON, or not sent as JSON
        if operation.get("security"):
            expected.add("401")
        if "OrganiserAuth" in schemes(operation) and method in UNSAFE:
            expected.add("403")  # a viewer, or the session without its CSRF token
        if any(parameter["in"] == "path" for parameter in operation.get("parameters", [])):
            expected.add("404")  # the path names something that may not exist
        absent = expected - set(operation["responses"])
        if absent:
            missing[name] = sorted(absent)

    assert missing == {}


def test_every_error_response_is_the_error_body(document):
    wrong = {}
    for name, _method, operation in operations(document):
        for status, response in operation["responses"].items():
            if int(status) < 400:
                continue
            schema = response.get("content", {}).get("application/json", {}).get("schema")
            if schema != {"$ref": ERROR_REF}:
                wrong[f"{name} {status}"] = schema

    assert wrong == {}
    assert document["components"]["schemas"]["ErrorOut"]["required"] == [
        "code",
        "message",
        "details",
    ]


def test_every_operation_describes_its_success_and_its_input(document):
    for name, method, operation in operations(document):
        successes = {status for status in operation["responses"] if status.startswith("2")}
        assert successes, name
        for status in successes:
            assert "schema" in operation["responses"][status]["content"]["application/json"]
        assert operation["summary"], name
        if method in {"post", "put", "patch"} and "requestBody" in operation:
            body = operation["requestBody"]["content"]["application/json"]["schema"]
            assert body.get("$ref", "").startswith("#/components/schemas/"), name


def test_choices_of_different_models_keep_their_own_names(document):
    schemas = document["components"]["schemas"]

    registration_status = schemas["RegistrationOut"]["properties"]["status"]
    expense_status = schemas["ExpenseOut"]["properties"]["status"]

    assert registration_status == {"$ref": "#/components/schemas/RegistrationStatus"}
    assert expense_status == {"$ref": "#/components/schemas/ExpenseStatus"}
    assert "confirmed" in schemas["RegistrationStatus"]["enum"]
    assert schemas["ExpenseStatus"]["enum"] == ["planned", "committed", "invoiced", "paid"]
    assert "Status" not in schemas
    assert "Kind" not in schemas


def test_two_different_definitions_under_one_name_are_refused():
    document = api.get_openapi_schema(path_prefix="/api/v1/")

    with pytest.raises(ImproperlyConfigured, match="'ErrorOut'"):
        document.add_schema_definitions({"ErrorOut": {"type": "string"}})


# --- Errors outside any endpoint -------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "path", "allowed"),
    [
        ("put", "/api/v1/programmes", "GET, HEAD"),
        ("delete", "/api/v1/activities/1", "GET, HEAD, PATCH"),
        ("get", "/api/v1/checkin/redeem", "POST"),
        ("post", "/api/v1/openapi.json", "GET, HEAD"),
        ("post", "/api/v1/docs", "GET, HEAD"),
    ],
)
def test_wrong_method_answers_json_405_with_allow(client, db, method, path, allowed):
    response = getattr(client, method)(path)

    assert response.status_code == 405
    assert response["Content-Type"] == "application/json; charset=utf-8"
    assert response["Allow"] == allowed
    assert response.json() == {
        "code": "method_not_allowed",
        "message": "Deze methode is hier niet toegestaan.",
        "details": {},
    }


def test_wrong_method_message_follows_accept_language(client, db):
    response = client.put("/api/v1/programmes", headers={"accept-language": "en"})

    assert response.status_code == 405
    assert response.json()["message"] == "This method is not allowed here."


def test_request_django_refuses_answers_json_400(client, db):
    response = client.get("/api/v1/programmes", headers={"host": "elders.example"})

    assert response.status_code == 400
    assert response.json()["code"] == "bad_request"


def test_pages_keep_their_html_errors(client, db):
    response = client.put("/")

    assert response.status_code == 405
    assert not response["Content-Type"].startswith("application/json")

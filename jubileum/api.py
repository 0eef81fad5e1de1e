"""The one NinjaAPI, at /api/v1/: each app adds its router, and every error leaves as
`{"code", "message", "details"}` with a fitting status and a message in the request's language.

The OpenAPI document names every error an operation can answer with. Routers declare the ones
their rules produce (404, 409, 429, ...); `ApiSchema` adds those the framework produces whatever
the operation: 400 for a body that is not JSON, 401 without a valid token, 403 for a change
through the organiser session without its CSRF token, 422 for input the schema refuses, and 503
when the database does not answer for a moment.

A database gone for a moment is 503 `unavailable` with Retry-After wherever it shows, also while
a token is looked up (ninja routes what an auth class raises to these handlers): a client must
be able to trust that 401 means only "this token is unknown, revoked or expired". A scanner
forgets its pairing on a 401.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from functools import wraps
from typing import Any

import ninja.openapi.schema
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured, ObjectDoesNotExist
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBase
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_safe
from ninja import NinjaAPI, Schema, Swagger
from ninja.errors import AuthenticationError, AuthorizationError, HttpError, Throttled
from ninja.errors import ValidationError as NinjaValidationError
from ninja.openapi.schema import BODY_CONTENT_TYPES, OpenAPISchema
from ninja.operation import Operation
from ninja.router import BoundRouter
from ninja.schema import NinjaGenerateJsonSchema
from pydantic.json_schema import CoreModeRef, DefsRef

import budget.api
import events.api
import events.backoffice.api
import registrations.api
import registrations.checkin.api
from jubileum.lib.apitokens import OrganiserAuth
from jubileum.lib.apitools import ErrorOut, refuses_unknown_query
from jubileum.lib.errors import HTTP_ERRORS, DomainError, error_body
from jubileum.lib.validation import translated
from jubileum.middleware import DATABASE_GONE, database_unavailable

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def _owner_qualified_name(core_ref: str) -> str | None:
    """`ExpenseStatus` for the core ref of `budget.models.Expense.Status`; None for a class
    that is not nested (or is generic, or local to a function)."""
    if "[" in core_ref:
        return None
    parts = core_ref.rsplit(":", 1)[0].split(".")
    for split in range(len(parts) - 1, 0, -1):
        if ".".join(parts[:split]) in sys.modules:
            qualname = parts[split:]
            break
    else:
        return None
    if len(qualname) < 2 or "<locals>" in qualname:
        return None
    return "".join(qualname)


class OwnerQualifiedNames(NinjaGenerateJsonSchema):
    """Names the definition of a nested class after its owner too: `Expense.Status` becomes
    `ExpenseStatus`, `Registration.Status` `RegistrationStatus`.

    Django's choices live inside their model, so several are called `Status` or `Kind`. ninja
    merges the definitions of every operation into one `components/schemas` by name; under
    pydantic's short names the last `Status` silently replaced the others, and the document
    promised a registration the statuses of an expense.
    """

    def get_defs_ref(self, core_mode_ref: CoreModeRef) -> DefsRef:
        defs_ref = super().get_defs_ref(core_mode_ref)
        name = _owner_qualified_name(core_mode_ref[0])
        if name is not None:
            # The first two choices are the short name and the short name with the mode.
            choices = self._prioritized_defsref_choices[defs_ref]
            mode_suffix = choices[1].removeprefix(choices[0])
            name = self.normalize_name(name)
            choices[0:2] = [DefsRef(name), DefsRef(name + mode_suffix)]
        return defs_ref


# ninja's OpenAPI code names its generator as a module global (no setting or argument for it);
# the document is the only thing this module makes with it.
ninja.openapi.schema.NinjaGenerateJsonSchema = OwnerQualifiedNames


class _ErrorResponse(Schema):
    # The shape ninja wraps each declared response model in; its schema is a $ref to ErrorOut.
    response: ErrorOut


class ApiSchema(OpenAPISchema):
    """ninja's OpenAPI document, plus the errors every operation of a kind can answer with,
    and refusing two different definitions under one name (ninja would keep the last)."""

    def add_schema_definitions(self, definitions: dict[str, Any]) -> None:
        for name, definition in definitions.items():
            if self.schemas.get(name, definition) != definition:
                raise ImproperlyConfigured(
                    f"Two different schemas are called {name!r} in the OpenAPI document; "
                    "give one of the classes another name."
                )
        super().add_schema_definitions(definitions)

    def _extract_parameters(self, model: Any) -> list[dict[str, Any]]:
        parameters = super()._extract_parameters(model)
        for parameter in parameters:
            # ninja copies a field's JSON Schema `examples` (a list) onto the parameter, whose
            # `examples` is a map of Example Objects in OpenAPI; the list made the document
            # invalid. The schema keeps its list.
            examples = parameter.get("examples")
            if isinstance(examples, list):
                parameter["examples"] = {str(value): {"value": value} for value in examples}
        return parameters

    def methods(self, operations: list[Operation]) -> dict[str, Any]:
        # HEAD is implied by GET; listed apart it would be a second operation under the same
        # operationId, which the document may not have.
        result = super().methods(operations)
        result.pop("head", None)
        return result

    def responses(self, operation: Operation) -> dict[int, Any]:
        result = super().responses(operation)
        missing = {
            status: description
            for status, description in self._framework_errors(operation).items()
            if status not in result
        }
        if missing:
            schema, _required = self._create_schema_from_model(_ErrorResponse, mode="serialization")
            for status, description in missing.items():
                result[status] = {
                    "description": description,
                    "content": {self.api.renderer.media_type: {"schema": dict(schema)}},
                }
        return dict(sorted(result.items()))

    @staticmethod
    def _framework_errors(operation: Operation) -> dict[int, str]:
        sources = {model.__ninja_param_source__ for model in operation.models}
        errors = {}
        if sources & BODY_CONTENT_TYPES.keys():
            errors[400] = "`bad_request`: the body could not be read (not JSON, or not UTF-8)."
            errors[415] = (
                "`unsupported_media_type`: a body sent with another `Content-Type` than "
                "`application/json` (optionally with `charset=utf-8`)."
            )
        if operation.auth_callbacks:
            errors[401] = "`not_authenticated`: no valid token in `Authorization: Bearer <token>`."
        session_auth = any(isinstance(auth, OrganiserAuth) for auth in operation.auth_callbacks)
        if session_auth and set(operation.methods) - SAFE_METHODS:
            errors[403] = (
                "`permission_denied`: a change through the organiser session without the CSRF "
                "token, or by a viewer."
            )
        if sources or refuses_unknown_query(operation):
            errors[422] = (
                "`validation_error`: the input does not match the schema (or names an unknown "
                "query parameter); `details` lists the problems."
            )
        errors[503] = (
            "`unavailable`: the database did not answer for a moment (also while checking a "
            "token: that is never a 401); try again after `Retry-After` seconds."
        )
        return errors


class JubileumAPI(NinjaAPI):
    def _get_bound_routers(self) -> list[BoundRouter]:
        # Every GET operation answers HEAD too (RFC 9110: a server that answers GET should),
        # as the pages do with `require_safe`. ninja routes by the operation's own list of
        # methods and has no such option; the routers are bound once, to copies of the
        # operations, so adding HEAD here leaves the apps' routers as they are.
        fresh = self._bound_routers_cache is None
        routers = super()._get_bound_routers()
        if fresh:
            for router in routers:
                for path_view in router.path_operations.values():
                    for operation in path_view.operations:
                        if "GET" in operation.methods and "HEAD" not in operation.methods:
                            operation.methods.append("HEAD")
        return routers

    def get_openapi_schema(
        self, *, path_prefix: str | None = None, path_params: dict[str, Any] | None = None
    ) -> OpenAPISchema:
        """The document's paths are relative to its server, SITE_URL + /api/v1 (so
        `/programmes`); `path_prefix="/api/v1/"` gives the paths as the site serves them."""
        root = self.get_root_path(path_params or {})
        document = ApiSchema(api=self, path_prefix=path_prefix or "")
        if path_prefix is None:
            server = {"url": settings.SITE_URL + root.rstrip("/"), "description": "This site."}
            document["servers"] = [server]
        return document


api = JubileumAPI(
    title="Jubileum API",
    version="1",
    description=(
        "Public programmes and activities of Jubileum. Errors are JSON "
        '`{"code", "message", "details"}`; messages follow `Accept-Language` (nl, en).'
    ),
    urls_namespace="api",
    # Each app describes the tags its router's operations carry.
    openapi_extra={
        "tags": [
            *events.api.TAGS,
            *events.backoffice.api.TAGS,
            *registrations.api.TAGS,
            *budget.api.TAGS,
            *registrations.checkin.api.TAGS,
        ]
    },
    # Swagger UI from ninja's own static files; no validator badge, which would call
    # validator.swagger.io from the reader's browser.
    docs=Swagger(settings={"validatorUrl": None}),
    # The document and its page are read, never posted to (405 like any other wrong method).
    docs_decorator=require_safe,
)

JSON_CHARSETS = frozenset({"utf-8", "utf8"})


def _json_or_no_body(request: HttpRequest) -> bool:
    """Whether the request has no body or a JSON one (`application/json`, charset UTF-8 if
    named)."""
    if not request.body:
        return True
    charset = request.content_params.get("charset", "utf-8").lower()
    return request.content_type == "application/json" and charset in JSON_CHARSETS


def json_bodies_only(
    run: Callable[..., HttpResponseBase],
) -> Callable[..., HttpResponseBase]:
    """A body that is not JSON is refused with 415 before anything runs: token, rate limit,
    endpoint.

    ninja reads every body as JSON whatever its Content-Type, and a browser sends a form's
    `text/plain` or `multipart/form-data` to any site without asking first (no CORS preflight):
    a page elsewhere could have its visitors sign people up here. `application/json` from
    another site needs a preflight, which this API does not grant. No operation takes files or
    forms.
    """

    @wraps(run)
    def checked(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        if not _json_or_no_body(request):
            code, message = HTTP_ERRORS[415]
            details = {"content_type": request.content_type, "accepted": ["application/json"]}
            return error_response(request, 415, code, message, details)
        return run(request, *args, **kwargs)

    return checked


# "view": around the whole operation, before authentication and the input are looked at.
api.add_decorator(json_bodies_only, mode="view")

# events.backoffice.api adds the organisers' operations to this router: they share its paths.
api.add_router("/", events.api.router)
api.add_router("/", registrations.api.router)
api.add_router("/", budget.api.router)
api.add_router("/", registrations.checkin.api.router)


def error_response(
    request: HttpRequest,
    status: int,
    code: str,
    message: str | Promise,
    details: dict[str, Any] | list[Any] | None = None,
) -> HttpResponse:
    return api.create_response(request, error_body(code, message, details), status=status)


def _http_error(request: HttpRequest, status: int) -> HttpResponse:
    code, message = HTTP_ERRORS[status]
    return error_response(request, status, code, message)


@api.exception_handler(NinjaValidationError)
def _validation_error(request: HttpRequest, exc: NinjaValidationError) -> HttpResponse:
    message = _("De invoer klopt niet; zie de details.")
    return error_response(request, 422, "validation_error", message, translated(exc.errors))


@api.exception_handler(Http404)
@api.exception_handler(ObjectDoesNotExist)
def _not_found(request: HttpRequest, exc: Exception) -> HttpResponse:
    return _http_error(request, 404)


@api.exception_handler(AuthenticationError)
def _not_authenticated(request: HttpRequest, exc: AuthenticationError) -> HttpResponse:
    response = _http_error(request, 401)
    response.headers["WWW-Authenticate"] = "Bearer"
    return response


@api.exception_handler(AuthorizationError)
def _permission_denied(request: HttpRequest, exc: AuthorizationError) -> HttpResponse:
    return _http_error(request, 403)


@api.exception_handler(Throttled)
def _throttled(request: HttpRequest, exc: Throttled) -> HttpResponse:
    code, message = HTTP_ERRORS[429]
    details = {} if exc.wait is None else {"retry_after": exc.wait}
    response = error_response(request, 429, code, message, details)
    if exc.wait is not None:
        response.headers["Retry-After"] = str(exc.wait)
    return response


@api.exception_handler(HttpError)
def _other_http_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
    if exc.status_code in HTTP_ERRORS:
        return _http_error(request, exc.status_code)
    return error_response(request, exc.status_code, "error", exc.message)


@api.exception_handler(DomainError)
def _domain_error(request: HttpRequest, exc: DomainError) -> HttpResponse:
    return error_response(request, exc.status, exc.code, exc.message, exc.details)


def _database_gone(request: HttpRequest, exc: Exception) -> HttpResponseBase:
    # Left to ninja, the error would be re-raised to DatabaseUnavailableMiddleware, but with
    # DEBUG on answered as a 500 with the traceback; the same 503 either way.
    return database_unavailable(request, exc)


for _error in DATABASE_GONE:
    api.add_exception_handler(_error, _database_gone)

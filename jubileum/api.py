"""The one NinjaAPI, at /api/v1/: each app adds its router, and every error leaves as
`{"code", "message", "details"}` with a fitting status and a message in the request's language.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ObjectDoesNotExist
from django.http import Http404, HttpRequest, HttpResponse
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _
from ninja import NinjaAPI, Swagger
from ninja.errors import AuthenticationError, AuthorizationError, HttpError, Throttled
from ninja.errors import ValidationError as NinjaValidationError

import budget.api
import events.api
import registrations.api
import registrations.checkin_api
from jubileum.errors import DomainError

api = NinjaAPI(
    title="Jubileum API",
    version="1",
    description=(
        "Public programmes and activities of Jubileum. Errors are JSON "
        '`{"code", "message", "details"}`; messages follow `Accept-Language` (nl, en).'
    ),
    urls_namespace="api",
    # Swagger UI from ninja's own static files; no validator badge, which would call
    # validator.swagger.io from the reader's browser.
    docs=Swagger(settings={"validatorUrl": None}),
)

api.add_router("/", events.api.router)
api.add_router("/", registrations.api.router)
api.add_router("/", budget.api.router)
api.add_router("/", registrations.checkin_api.router)

# Statuses an HttpError raised by ninja itself (or by our code) may carry, with the code and
# message clients see.
_HTTP_ERRORS: dict[int, tuple[str, Promise]] = {
    400: ("bad_request", _("Het verzoek kon niet worden gelezen.")),
    401: ("not_authenticated", _("Inloggen is nodig: stuur een geldig token mee.")),
    403: ("permission_denied", _("Hier heb je geen toegang toe.")),
    404: ("not_found", _("Dit bestaat niet of is niet openbaar.")),
    405: ("method_not_allowed", _("Deze methode is hier niet toegestaan.")),
    409: ("conflict", _("Dit botst met de huidige stand van zaken.")),
    429: ("throttled", _("Te veel verzoeken; probeer het straks opnieuw.")),
}


def error_response(
    request: HttpRequest,
    status: int,
    code: str,
    message: str | Promise,
    details: dict[str, Any] | list[Any] | None = None,
) -> HttpResponse:
    body = {"code": code, "message": str(message), "details": {} if details is None else details}
    return api.create_response(request, body, status=status)


def _http_error(request: HttpRequest, status: int) -> HttpResponse:
    code, message = _HTTP_ERRORS[status]
    return error_response(request, status, code, message)


@api.exception_handler(NinjaValidationError)
def _validation_error(request: HttpRequest, exc: NinjaValidationError) -> HttpResponse:
    message = _("De invoer klopt niet; zie de details.")
    return error_response(request, 422, "validation_error", message, exc.errors)


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
    code, message = _HTTP_ERRORS[429]
    details = {} if exc.wait is None else {"retry_after": exc.wait}
    response = error_response(request, 429, code, message, details)
    if exc.wait is not None:
        response.headers["Retry-After"] = str(exc.wait)
    return response


@api.exception_handler(HttpError)
def _other_http_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
    if exc.status_code in _HTTP_ERRORS:
        return _http_error(request, exc.status_code)
    return error_response(request, exc.status_code, "error", exc.message)


@api.exception_handler(DomainError)
def _domain_error(request: HttpRequest, exc: DomainError) -> HttpResponse:
    return error_response(request, exc.status, exc.code, exc.message, exc.details)

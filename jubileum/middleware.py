"""Middleware of our own."""

from __future__ import annotations

from collections.abc import Callable

from django.db import InterfaceError, OperationalError
from django.http import HttpRequest, HttpResponse, HttpResponseBase, JsonResponse
from django.template.loader import render_to_string
from django.utils import translation
from django.utils.cache import add_never_cache_headers, patch_vary_headers
from django.utils.log import log_response
from ninja.errors import Throttled

from jubileum.lib.errors import HTTP_ERRORS, error_body
from jubileum.lib.ratelimit import too_many_requests

API_PREFIX = "/api/"


# The URL namespaces of the organiser area: all under /beheer/, the budget pages, the admin.
ORGANISER_NAMESPACES = frozenset({"organiser", "budget", "admin"})
SCANNER_NAMESPACE = "scanner"
PERMISSIONS_POLICY = "camera=(), geolocation=(), microphone=(), payment=()"
SCANNER_PERMISSIONS_POLICY = "camera=(self), geolocation=(), microphone=(), payment=()"


def _namespaces(request: HttpRequest) -> list[str]:
    # Set once the URL resolved; a path that resolves nowhere (its 404 page) has none.
    match = getattr(request, "resolver_match", None)
    return match.namespaces if match else []


class OrganiserNoStoreMiddleware:
    """Organiser pages are never stored by a browser or a proxy (`never_cache`'s headers, as
    the personal pages have them): they show attendees' data and the budget, and a shared
    computer's back button or history must not show them after logging out. Keyed on the URL
    namespace, so a new organiser page is covered without remembering a decorator; also its
    error pages (a 404 for a programme that is not yours, a 500)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        response = self.get_response(request)
        if ORGANISER_NAMESPACES.intersection(_namespaces(request)):
            add_never_cache_headers(response)
        return response


class PermissionsPolicyMiddleware:
    """Every response switches off the browser features the site does not use: the camera
    only the scanner pages (/scan/) may ask for, geolocation, the microphone and the Payment
    Request API nobody (paying happens on Stripe's own pages). A script injected anywhere else
    cannot ask for them."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        response = self.get_response(request)
        scanner = SCANNER_NAMESPACE in _namespaces(request)
        response.headers["Permissions-Policy"] = (
            SCANNER_PERMISSIONS_POLICY if scanner else PERMISSIONS_POLICY
        )
        return response


class ApiLanguageMiddleware:
    """Answer API requests in the language the client asks for.

    LocaleMiddleware takes the language from the URL prefix and, because Dutch pages have no
    prefix, settles on Dutch for every unprefixed path, /api/ included: an API client could never
    get English. API URLs carry no language, so here the Accept-Language header (or the language
    cookie a browser on the docs page sends) decides. Must come right after LocaleMiddleware.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        if not request.path_info.startswith(API_PREFIX):
            return self.get_response(request)
        language = translation.get_language_from_request(request, check_path=False)
        translation.activate(language)
        request.LANGUAGE_CODE = translation.get_language()
        response = self.get_response(request)
        patch_vary_headers(response, ("Accept-Language", "Cookie"))
        response.headers["Content-Language"] = request.LANGUAGE_CODE
        return response


class ApiErrorMiddleware:
    """Errors on API paths leave as JSON `{"code", "message", "details"}`, also those that ninja
    or Django answer with plain text or HTML before any endpoint runs: 405 for a method a path
    does not take (with its `Allow` header), 400 for a request Django refuses.

    Must come right after ApiLanguageMiddleware, so the message is in the client's language.
    """

    KEPT_HEADERS = ("Allow", "Retry-After", "WWW-Authenticate", "Vary")

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        response = self.get_response(request)
        if (
            request.path_info.startswith(API_PREFIX)
            and response.status_code in HTTP_ERRORS
            and not response.get("Content-Type", "").startswith("application/json")
        ):
            code, message = HTTP_ERRORS[response.status_code]
            replacement = JsonResponse(
                error_body(code, message),
                status=response.status_code,
                content_type="application/json; charset=utf-8",
            )
            for header in self.KEPT_HEADERS:
                if header in response:
                    replacement[header] = response[header]
            if "Allow" in response:
                # ninja lists a path's methods from a set: the same order on every answer.
                methods = response["Allow"].split(",")
                replacement["Allow"] = ", ".join(sorted(method.strip() for method in methods))
            return replacement
        return response


class RateLimitMiddleware:
    """A page view over a rate limit (`jubileum.lib.ratelimit.limit` raises ninja's Throttled)
    gets the friendly 429 page with Retry-After. The API answers its own."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if isinstance(exception, Throttled):
            return too_many_requests(request, exception.wait or 60)
        return None


DATABASE_GONE = (OperationalError, InterfaceError)
RETRY_AFTER_DATABASE_GONE = 60


def database_unavailable(request: HttpRequest, exception: Exception) -> HttpResponseBase:
    """The 503 for a database that is gone for a moment: the page "even niet bereikbaar" or, on
    the API, `{"code": "unavailable"}`, with Retry-After, logged once here with the error.

    The page is rendered without the request (its context processors and the user would ask
    the database again)."""
    response: HttpResponseBase
    if request.path_info.startswith(API_PREFIX):
        code, message = HTTP_ERRORS[503]
        response = JsonResponse(
            error_body(code, message),
            status=503,
            content_type="application/json; charset=utf-8",
        )
    else:
        response = HttpResponse(render_to_string("503.html"), status=503)
    response.headers["Retry-After"] = str(RETRY_AFTER_DATABASE_GONE)
    add_never_cache_headers(response)
    # The view's name, not the path: a personal link's path is its secret.
    match = getattr(request, "resolver_match", None)
    log_response(
        "Database unavailable (answered 503): %s %s",
        request.method,
        match.view_name if match else "?",
        response=response,
        request=request,
        exception=exception,
    )
    return response


class DatabaseUnavailableMiddleware:
    """The database gone for a moment (restarted, failed over, a dropped connection, a lock
    waited on too long) answers 503 with Retry-After instead of the 500 of a bug.

    Nothing is left half-written: every service writes in one transaction, which the error
    has rolled back. This sees what the view raised; what a middleware raises (the session
    saved after the view, say) reaches the 500 handler, which answers the same
    (`jubileum.views.server_error`).
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        return self.get_response(request)

    def process_exception(
        self, request: HttpRequest, exception: Exception
    ) -> HttpResponseBase | None:
        if isinstance(exception, DATABASE_GONE):
            return database_unavailable(request, exception)
        return None

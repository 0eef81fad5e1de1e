"""Middleware of our own."""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponseBase, JsonResponse
from django.utils import translation
from django.utils.cache import patch_vary_headers

from jubileum.errors import HTTP_ERRORS, error_body

API_PREFIX = "/api/"


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
            return replacement
        return response

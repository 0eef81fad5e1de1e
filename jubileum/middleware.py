"""Middleware of our own."""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponseBase
from django.utils import translation
from django.utils.cache import patch_vary_headers

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

"""Building blocks every app's API router uses: the error body, bounded pages, strict input."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from functools import wraps
from typing import Any

from django.http import HttpRequest, HttpResponseBase
from ninja import Field, Schema
from ninja.decorators import decorate_view
from ninja.errors import ValidationError
from ninja.pagination import PageNumberPagination
from pydantic import ConfigDict

PAGE_SIZE = 50
MAX_PAGE_SIZE = 200
# Far beyond any real listing; the bound keeps the SQL offset a sane number.
MAX_PAGE = 10_000


def example(value: dict[str, Any]) -> ConfigDict:
    """A schema's config with one example for the OpenAPI document, as JSON (the tests check it
    against the schema). A subclass names its own: pydantic hands the config down."""
    return ConfigDict(json_schema_extra={"examples": [value]})


class ErrorOut(Schema):
    code: str = Field(description="Machine-readable reason, e.g. `not_found`, `validation_error`.")
    message: str = Field(description="Explanation for people, in the request's language.")
    details: dict[str, Any] | list[dict[str, Any]] = Field(
        description="For `validation_error` the list of problems (`loc`, `type`, sometimes "
        "`ctx`, and `msg` in the request's language); otherwise an object with whatever helps "
        "the client, often empty."
    )


class PageInput(Schema):
    page: int = Field(1, ge=1, le=MAX_PAGE)
    page_size: int = Field(PAGE_SIZE, ge=1, le=MAX_PAGE_SIZE)


class Pagination(PageNumberPagination):
    """Page-numbered lists: `{"items": [...], "count": n}`, at most MAX_PAGE_SIZE per page."""

    # Ninja reads the query parameters from whichever Schema this names, not only a subclass.
    Input = PageInput  # type: ignore[assignment]

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(page_size=PAGE_SIZE, max_page_size=MAX_PAGE_SIZE, **kwargs)


NUL = "\x00"


def nul_paths(value: Any, path: tuple[str | int, ...] = ()) -> Iterator[tuple[str | int, ...]]:
    """Where a NUL character sits in decoded JSON: the path of each string (or key) holding one."""
    if isinstance(value, str):
        if NUL in value:
            yield path
    elif isinstance(value, dict):
        for key, item in value.items():
            if NUL in key:
                yield (*path, key)
            else:
                yield from nul_paths(item, (*path, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from nul_paths(item, (*path, index))


def _nul_errors(
    request: HttpRequest, path_params: dict[str, Any], body_name: str | None
) -> list[dict[str, Any]]:
    """A pydantic-style error for each input that holds a NUL character, as ninja locates them:
    `["query", name]`, `["path", name]`, `["body", <parameter>, field, ...]`.

    No text column takes NUL (PostgreSQL refuses it outright, a 500), and no person types it.
    Checked here for every operation, before any schema or query sees the input, rather than
    on each schema's text fields, so that no field, filter or path segment can be forgotten.
    """
    locations: list[tuple[str | int, ...]] = [
        ("query", name)
        for name, values in request.GET.lists()
        if NUL in name or any(NUL in value for value in values)
    ]
    locations += [
        ("path", name)
        for name, value in path_params.items()
        if isinstance(value, str) and NUL in value
    ]
    # The raw body holds a NUL only as the JSON escape (a bare control character is not JSON
    # and is ninja's 400); decoding it a second time is left to the rare body that has one.
    if body_name is not None and b"\\u0000" in request.body:
        try:
            data = json.loads(request.body)
        except ValueError:
            data = None  # ninja answers 400 for it
        locations += [("body", body_name, *path) for path in nul_paths(data)]
    return [
        {
            "type": "string_nul",
            "loc": list(location),
            "msg": "The text may not contain NUL (\\u0000) characters",
        }
        for location in locations
    ]


def _refuse_bad_input(run: Callable[..., HttpResponseBase]) -> Callable[..., HttpResponseBase]:
    # Ninja drops query parameters an operation does not declare, so a misspelt filter
    # (`?audiense=members`) would silently return everything. Refuse them as pydantic would.
    operation = run.__self__  # type: ignore[attr-defined]
    operation.jubileum_strict_query = True
    allowed = frozenset(
        name
        for model in operation.models
        if model.__ninja_param_source__ == "query"
        for name in getattr(model, "__ninja_flatten_map__", model.model_fields)
    )
    # The name ninja gives the body in an error's `loc` (the view's parameter, e.g. `payload`).
    body_name = next(
        (
            name
            for model in operation.models
            if model.__ninja_param_source__ == "body"
            for name in model.model_fields
        ),
        None,
    )

    @wraps(run)
    def strict_run(request: HttpRequest, **kwargs: Any) -> HttpResponseBase:
        errors = [
            {
                "type": "extra_forbidden",
                "loc": ["query", name],
                "msg": "Extra inputs are not permitted",
            }
            for name in sorted(set(request.GET) - allowed)
        ]
        errors += _nul_errors(request, kwargs, body_name)
        if errors:
            return operation.api.on_exception(request, ValidationError(errors))
        return run(request, **kwargs)

    return strict_run


strict_query = decorate_view(_refuse_bad_input)
strict_query.__doc__ = (
    "Answer 422 to query parameters the operation does not declare, and to a NUL character "
    "anywhere in its query, path or JSON body."
)


def refuses_unknown_query(operation: Any) -> bool:
    """Whether `strict_query` guards this ninja operation (so it may answer 422)."""
    return getattr(operation, "jubileum_strict_query", False)

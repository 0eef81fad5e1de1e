"""Building blocks every app's API router uses: the error body, bounded pages, strict queries."""

from __future__ import annotations

from collections.abc import Callable
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


def _refuse_unknown_query(run: Callable[..., HttpResponseBase]) -> Callable[..., HttpResponseBase]:
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

    @wraps(run)
    def strict_run(request: HttpRequest, **kwargs: Any) -> HttpResponseBase:
        unknown = sorted(set(request.GET) - allowed)
        if unknown:
            errors = [
                {
                    "type": "extra_forbidden",
                    "loc": ["query", name],
                    "msg": "Extra inputs are not permitted",
                }
                for name in unknown
            ]
            return operation.api.on_exception(request, ValidationError(errors))
        return run(request, **kwargs)

    return strict_run


strict_query = decorate_view(_refuse_unknown_query)
strict_query.__doc__ = "Answer 422 to query parameters the operation does not declare."


def refuses_unknown_query(operation: Any) -> bool:
    """Whether `strict_query` guards this ninja operation (so it may answer 422)."""
    return getattr(operation, "jubileum_strict_query", False)

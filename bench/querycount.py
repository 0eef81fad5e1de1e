"""Counts the database queries of a request, for bench/scale.py only (bench/scale_settings.py).

A request that carries `X-Bench-Tag` has its queries counted through an execute wrapper on the
connection; when the response is closed (after a streamed body too: `request_finished`), the
line `<tag> <queries>` is appended to the file `BENCH_QUERY_LOG`, where the client reads it.
gunicorn's sync workers serve one request at a time, so one counter per process is enough.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable
from typing import Any

from django.core.signals import request_finished
from django.db import connection
from django.http import HttpRequest, HttpResponseBase


class _Counter:
    def __init__(self, tag: str) -> None:
        self.tag = tag
        self.queries = 0

    def __call__(self, execute: Callable, sql: str, params: Any, many: bool, context: Any) -> Any:
        self.queries += 1
        return execute(sql, params, many, context)


_counting: list[_Counter] = []


def count_queries(
    get_response: Callable[[HttpRequest], HttpResponseBase],
) -> Callable[[HttpRequest], HttpResponseBase]:
    def middleware(request: HttpRequest) -> HttpResponseBase:
        tag = request.headers.get("X-Bench-Tag")
        if tag:
            counter = _Counter(tag)
            connection.execute_wrappers.append(counter)
            _counting.append(counter)
        return get_response(request)

    return middleware


def _report(sender: object, **kwargs: object) -> None:
    while _counting:
        counter = _counting.pop()
        if counter in connection.execute_wrappers:
            connection.execute_wrappers.remove(counter)
        # A response closed after the benchmark went (a worker stopped mid-request) has no
        # reader left, nor a directory for its line.
        with (
            contextlib.suppress(FileNotFoundError),
            open(os.environ["BENCH_QUERY_LOG"], "a", encoding="utf-8") as log,
        ):
            log.write(f"{counter.tag} {counter.queries}\n")


request_finished.connect(_report)

"""Plain SQL for the few requests where building a query costs more than running it.

A door scanner's redeem is one of them: the ORM spends about a millisecond of CPU compiling each
of its queries, several times what the database needs to answer them (bench/checkin.py). Those
queries are written out here instead. Everything else uses the ORM.

On PostgreSQL the statements of a transaction can go out together (`pipeline`, `send`): a scan
then costs three round trips instead of six. Works on PostgreSQL and SQLite. A plain cursor
bypasses the model: `insert` neither fills defaults nor sends signals, and datetimes read back
from SQLite are naive (`aware` fixes them).
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import psycopg
from django.db import DEFAULT_DB_ALIAS, connection
from django.db.backends.utils import CursorWrapper
from django.db.models import Model


def _cursor() -> CursorWrapper:
    """Django's cursor, except on PostgreSQL: there one that binds parameters on the server, as
    pipeline mode wants and as psycopg needs to prepare statements. With prepared statements
    switched on (the `prepare_threshold` database option) a statement is parsed and planned once
    per connection instead of on every scan.

    Django leaves preparing off by default because a transaction-pooling PgBouncer before 1.21
    cannot keep prepared statements; the rest of the site uses Django's client-side binding,
    which never prepares, either way."""
    connection.close_if_health_check_failed()
    connection.ensure_connection()
    if connection.vendor != "postgresql":
        return connection.cursor()
    connection.validate_thread_sharing()
    with connection.wrap_database_errors:
        raw = psycopg.Cursor(connection.connection)
    if connection.queries_logged:
        return connection.make_debug_cursor(raw)
    return connection.make_cursor(raw)


@contextmanager
def pipeline() -> Iterator[None]:
    """Send the statements of the block to PostgreSQL together (psycopg's pipeline mode).

    Each statement is queued; the queue goes out in one round trip when a result is first read
    (`Rows.one`, `Rows.all`) or when the block ends. PostgreSQL still runs them one after the
    other, each with its own snapshot, so a statement sent behind a `FOR UPDATE` sees what was
    committed before that lock was granted. Use it inside `transaction.atomic()`: the block
    ends first, so an error of a queued statement is raised (as Django's exception, e.g.
    IntegrityError) before Django rolls back. Only plain SQL belongs in the block; the ORM reads
    row counts at once, which pipeline mode has not yet received. Elsewhere than PostgreSQL the
    statements simply run one by one."""
    if connection.vendor != "postgresql":
        yield
        return
    connection.close_if_health_check_failed()
    connection.ensure_connection()
    with connection.wrap_database_errors, connection.connection.pipeline():
        yield


class Rows:
    """The result of a statement from `send`, read when first asked for."""

    def __init__(self, cursor: CursorWrapper) -> None:
        self._cursor = cursor

    def one(self) -> tuple | None:
        with self._cursor as cursor:
            return cursor.fetchone()

    def all(self) -> list[tuple]:
        with self._cursor as cursor:
            return cursor.fetchall()


def send(sql: str, params: Sequence[Any]) -> Rows:
    """Run a query; in a `pipeline()` block only queue it, so that several go out together."""
    cursor = _cursor()
    cursor.execute(sql, params)
    return Rows(cursor)


def fetch_all(sql: str, params: Sequence[Any]) -> list[tuple]:
    return send(sql, params).all()


def fetch_one(sql: str, params: Sequence[Any]) -> tuple | None:
    return send(sql, params).one()


def execute(sql: str, params: Sequence[Any]) -> None:
    """Run a statement whose result is not needed (queued in a `pipeline()` block)."""
    with _cursor() as cursor:
        cursor.execute(sql, params)


def for_update_of(alias: str) -> str:
    """Lock only the rows of `alias` (PostgreSQL). SQLite has no row locks: there the
    IMMEDIATE transaction (settings) serialises writers instead."""
    if connection.features.has_select_for_update_of:
        return f" FOR UPDATE OF {alias}"
    return ""


def db_datetime(value: dt.datetime) -> Any:
    """An aware datetime as the database takes it as a parameter."""
    return connection.ops.adapt_datetimefield_value(value)


def aware(value: dt.datetime | None) -> dt.datetime | None:
    """A datetime read with a plain cursor: SQLite returns it naive, in UTC."""
    if value is None or value.tzinfo is not None:
        return value
    return value.replace(tzinfo=dt.UTC)


def instance[M: Model](model: type[M], **values: Any) -> M:
    """A model instance from the values of a plain query, by attribute name, as the ORM loads
    one: the fields not given are deferred (read from the database when first used)."""
    names = [f.attname for f in model._meta.concrete_fields if f.attname in values]
    if len(names) != len(values):
        raise TypeError(f"{model.__name__} has no field {', '.join(values.keys() - names)}")
    return model.from_db(DEFAULT_DB_ALIAS, names, [values[name] for name in names])


@functools.cache
def _columns(model: type[Model]) -> frozenset[str]:
    return frozenset(f.attname for f in model._meta.concrete_fields if not f.primary_key)


@functools.cache
def _insert_sql(model: type[Model], columns: tuple[str, ...]) -> str:
    name = connection.ops.quote_name
    return "INSERT INTO {} ({}) VALUES ({})".format(
        name(model._meta.db_table),
        ", ".join(name(column) for column in columns),
        ", ".join(["%s"] * len(columns)),
    )


def insert(model: type[Model], **values: Any) -> None:
    """INSERT one row of `model`, every column given by attribute name (`registration_id`);
    each value is prepared by its model field, as `save()` would."""
    missing = _columns(model) - values.keys()
    if missing:
        raise TypeError(f"insert into {model.__name__} lacks {', '.join(sorted(missing))}")
    fields = [model._meta.get_field(name) for name in values]
    params = [
        field.get_db_prep_save(value, connection)
        for field, value in zip(fields, values.values(), strict=True)
    ]
    execute(_insert_sql(model, tuple(field.column for field in fields)), params)

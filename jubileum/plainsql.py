"""Plain SQL for the few requests where building a query costs more than running it.

A door scanner's redeem is one of them: the ORM spends about a millisecond of CPU compiling each
of its queries, several times what the database needs to answer them (bench/checkin.py). Those
queries are written out here instead. Everything else uses the ORM.

Works on PostgreSQL and SQLite. A plain cursor bypasses the model: `insert` neither fills
defaults nor sends signals, and datetimes read back from SQLite are naive (`aware` fixes them).
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Sequence
from typing import Any

import psycopg
from django.db import DEFAULT_DB_ALIAS, connection
from django.db.backends.utils import CursorWrapper
from django.db.models import Model


def _cursor() -> CursorWrapper:
    """Django's cursor, or on PostgreSQL with prepared statements switched on (the
    `prepare_threshold` database option) one that binds parameters on the server, the only kind
    psycopg prepares. A prepared statement is parsed and planned once per connection instead of
    on every scan: that roughly halves what a redeem costs the database (bench/README.md).

    Django leaves preparing off by default because a transaction-pooling PgBouncer before 1.21
    cannot keep prepared statements; the rest of the site uses Django's client-side binding,
    which never prepares, either way."""
    connection.close_if_health_check_failed()
    connection.ensure_connection()
    if connection.vendor != "postgresql" or connection.connection.prepare_threshold is None:
        return connection.cursor()
    connection.validate_thread_sharing()
    with connection.wrap_database_errors:
        raw = psycopg.Cursor(connection.connection)
    if connection.queries_logged:
        return connection.make_debug_cursor(raw)
    return connection.make_cursor(raw)


def fetch_all(sql: str, params: Sequence[Any]) -> list[tuple]:
    with _cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


def fetch_one(sql: str, params: Sequence[Any]) -> tuple | None:
    with _cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchone()


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
    sql = _insert_sql(model, tuple(field.column for field in fields))
    with _cursor() as cursor:
        cursor.execute(sql, params)

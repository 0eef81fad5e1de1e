"""The database going away for a moment: a clean 503 page (or the API's `unavailable`) with
Retry-After, logged once, and no half-written registration.

The failure is injected where the ORM talks to the database (`connection.execute_wrapper`) at
the statement that matters; on PostgreSQL a second test really kills the request's backend
with `pg_terminate_backend` in the middle of the sign-up.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

import pytest
from django.db import (
    IntegrityError,
    InterfaceError,
    OperationalError,
    ProgrammingError,
    connection,
    connections,
)
from django.test import Client
from django.urls import reverse
from django_tasks_db.models import DBTaskResult

from events.models import Activity, Question
from jubileum.middleware import DatabaseUnavailableMiddleware
from registrations.models import Answer, Registration
from tests.helpers import signup_form

# Committed for real, so that what runs after the commit (the mail task) would be enqueued.
# Engine-dependent, so CI runs it on SQLite too: what a dropped connection raises, and the
# rollback after it, differ per engine.
pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.engine_dependent]

MAIL_TASK = "registrations.tasks.send_registration_mail"
REGISTRATIONS = Registration._meta.db_table
ANSWERS = Answer._meta.db_table
TASKS = DBTaskResult._meta.db_table


def signup_url(activity: Activity) -> str:
    return reverse(
        "registrations:signup",
        kwargs={"programme_slug": activity.programme.slug, "slug": activity.slug},
    )


form = signup_form


def fail_on_insert(table: str, error: Exception) -> Callable[..., Any]:
    """An execute wrapper: the INSERT into `table` raises `error`, everything else runs."""

    def wrapper(execute, sql, params, many, context):
        if sql.startswith(f'INSERT INTO "{table}"'):
            raise error
        return execute(sql, params, many, context)

    return wrapper


def gone() -> OperationalError:
    return OperationalError("server closed the connection unexpectedly")


def mail_tasks() -> list[dict]:
    return [r.args_kwargs["kwargs"] for r in DBTaskResult.objects.filter(task_path=MAIL_TASK)]


def assert_unavailable_page(response) -> str:
    assert response.status_code == 503
    assert response["Retry-After"] == "60"
    assert "no-store" in response["Cache-Control"]
    assert response["Content-Type"].startswith("text/html")
    page = response.content.decode()
    assert '<html lang="nl">' in page
    assert "<h1>De site is even niet bereikbaar</h1>" in page
    assert "Dat is tijdelijk: probeer het over een minuut opnieuw." in page
    assert 'href="/"' in page
    return page


def unavailable_records(caplog) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.levelno >= logging.ERROR]


def test_database_gone_at_the_sign_up_shows_the_503_page_and_saves_nothing(
    client, activity, caplog
):
    with connection.execute_wrapper(fail_on_insert(REGISTRATIONS, gone())):
        response = client.post(signup_url(activity), form())

    assert_unavailable_page(response)
    assert not Registration.objects.exists()
    assert mail_tasks() == []
    # Logged once, with the error; not a second time as Django's "Service Unavailable".
    [record] = unavailable_records(caplog)
    assert record.getMessage() == ("Database unavailable (answered 503): POST registrations:signup")
    assert record.exc_info[1] is not None
    assert "server closed the connection" in str(record.exc_info[1])


def test_database_gone_after_the_registration_was_written_rolls_it_back(client, make_activity):
    dinner = make_activity(title="Jubileumdiner", slug="jubileumdiner")
    diet = Question.objects.create(
        activity=dinner,
        label="Wat eet je?",
        kind=Question.Kind.CHOICE,
        choices="Alles\nVegetarisch",
        required=True,
    )
    data = form(**{f"question_{diet.pk}": "Vegetarisch"})

    # The registration's INSERT has gone through; the answers' INSERT meets the dead database.
    with connection.execute_wrapper(fail_on_insert(ANSWERS, gone())):
        response = client.post(signup_url(dinner), data)

    assert_unavailable_page(response)
    assert not Registration.objects.exists()
    assert not Registration.history.exists()
    assert not Answer.objects.exists()
    assert mail_tasks() == []

    # A minute later, sending the same form again (as the page says) signs up once.
    response = client.post(signup_url(dinner), data)
    assert response.status_code == 303
    registration = Registration.objects.get()
    assert registration.answers.get().value == "Vegetarisch"


def test_database_gone_right_after_the_commit_loses_nothing_when_sent_again(client, activity):
    # The registration is committed; enqueueing its e-mail afterwards fails.
    with connection.execute_wrapper(fail_on_insert(TASKS, gone())):
        response = client.post(signup_url(activity), form())

    assert_unavailable_page(response)
    registration = Registration.objects.get()
    assert mail_tasks() == []

    # Sending the form again finds the registration (no second one) and mails its link. The
    # page is the one every sign-up gets: the link goes by e-mail only.
    response = client.post(signup_url(activity), form())

    assert response.status_code == 303
    assert registration.manage_token not in response["Location"]
    assert Registration.objects.get() == registration
    assert mail_tasks() == [
        {"registration_id": registration.pk, "kind": "already_signed_up", "force": False}
    ]


def test_signing_up_saves_no_session_that_a_gone_database_could_fail(activity, caplog):
    # The page after a sign-up is the same for everyone, so the browser is told nothing to
    # keep: no session is written after the view, outside DatabaseUnavailableMiddleware's reach.
    browser = Client(raise_request_exception=False)
    with connection.execute_wrapper(fail_on_insert("django_session", gone())):
        response = browser.post(signup_url(activity), form())

    assert response.status_code == 303
    assert unavailable_records(caplog) == []
    assert Registration.objects.count() == 1


def test_api_sign_up_answers_503_unavailable(client, activity):
    url = f"/api/v1/activities/{activity.pk}/registrations"
    body = {"contact_name": "Anna de Vries", "email": "anna@example.org", "party_size": 2}
    body["consent"] = True

    with connection.execute_wrapper(fail_on_insert(REGISTRATIONS, gone())):
        response = client.post(url, body, content_type="application/json")

    assert response.status_code == 503
    assert response["Retry-After"] == "60"
    assert response.json() == {
        "code": "unavailable",
        "message": "De dienst is even niet bereikbaar; probeer het over een minuut opnieuw.",
        "details": {},
    }
    assert not Registration.objects.exists()


def test_a_connection_closed_under_the_request_is_unavailable_too(client, activity):
    broken = InterfaceError("connection already closed")
    with connection.execute_wrapper(fail_on_insert(REGISTRATIONS, broken)):
        response = client.post(signup_url(activity), form())

    assert_unavailable_page(response)
    assert not Registration.objects.exists()


@pytest.mark.parametrize(
    "error",
    [ProgrammingError('no such column: "email"'), IntegrityError("NOT NULL constraint failed")],
)
def test_other_database_errors_are_bugs_and_stay_500(activity, error):
    with connection.execute_wrapper(fail_on_insert(REGISTRATIONS, error)):
        response = Client(raise_request_exception=False).post(signup_url(activity), form())

    assert response.status_code == 500
    assert "Retry-After" not in response
    assert not Registration.objects.exists()


def test_the_503_page_asks_nothing_of_the_database(rf, django_assert_num_queries):
    middleware = DatabaseUnavailableMiddleware(lambda request: None)

    with django_assert_num_queries(0):
        response = middleware.process_exception(rf.get("/"), gone())

    assert response is not None
    page = assert_unavailable_page(response)
    assert '<a class="skip-link" href="#main">' in page
    assert '<main id="main" tabindex="-1">' in page
    assert middleware.process_exception(rf.get("/"), ValueError("a bug")) is None


@pytest.mark.postgres
def test_postgres_backend_killed_mid_sign_up(client, activity, caplog):
    """The real thing: the request's own PostgreSQL backend is terminated just before the
    registration is written; the sign-up is answered 503 and the next one succeeds."""
    connection.ensure_connection()
    backend_pid = connection.connection.info.backend_pid

    def kill_backend(execute, sql, params, many, context):
        if sql.startswith(f'INSERT INTO "{REGISTRATIONS}"'):
            other = connections.create_connection("default")
            try:
                with other.cursor() as cursor:
                    # Waits (up to 5 s) until the backend is gone.
                    cursor.execute("SELECT pg_terminate_backend(%s, 5000)", [backend_pid])
            finally:
                other.close()
        return execute(sql, params, many, context)

    with connection.execute_wrapper(kill_backend):
        response = client.post(signup_url(activity), form())

    assert_unavailable_page(response)
    [record] = unavailable_records(caplog)
    assert "terminating connection due to administrator command" in str(record.exc_info[1])
    # The test client does not tidy connections between requests as a server does.
    connection.close()
    assert not Registration.objects.exists()
    assert mail_tasks() == []
    assert client.post(signup_url(activity), form()).status_code == 303
    assert Registration.objects.count() == 1

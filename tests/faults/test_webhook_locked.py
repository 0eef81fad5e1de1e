"""A Stripe webhook arriving while the database is locked by someone else: it answers 503, so
Stripe delivers the event again, and the next delivery confirms the payment, once.

The lock is real: on SQLite another connection holds the write lock (the webhook gives up after
its busy timeout); on PostgreSQL another transaction holds the activity's row (the webhook gives
up after `lock_timeout`). `tests/registrations/test_webhooks.py` has the same story with the
lock patched in.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager

from django.db import connection, connections
from django.test import Client
from django_tasks_db.models import DBTaskResult

from events.models import Activity
from registrations import services
from registrations.models import Payment, Registration, StripeEvent
from registrations.payments import services as payments
from registrations.services import SignUp
from tests.faults.conftest import SharedDatabase
from tests.fixtures.stripe.helpers import event, paid_session, post_event

pytest_plugins = ["tests.fixtures.stripe.helpers"]

MAIL_TASK = "registrations.tasks.send_registration_mail"


@contextmanager
def locked(database: SharedDatabase, activity: Activity) -> Iterator[None]:
    """Another connection holds the lock the webhook needs, until the block ends."""
    if database.vendor == "sqlite":
        assert database.path is not None
        options = connection.settings_dict["OPTIONS"]
        previous = options["timeout"]
        connection.close()
        options["timeout"] = 0.5  # the webhook's wait for the write lock, in seconds
        holder = sqlite3.connect(database.path, isolation_level=None)
        holder.execute("BEGIN IMMEDIATE")
        try:
            yield
        finally:
            holder.rollback()
            holder.close()
            connection.close()
            options["timeout"] = previous
        return
    holder = connections.create_connection("default")
    with connection.cursor() as cursor:
        cursor.execute("SET lock_timeout = '500ms'")
    try:
        with holder.cursor() as cursor:
            cursor.execute("BEGIN")
            cursor.execute("SELECT id FROM events_activity WHERE id = %s FOR UPDATE", [activity.pk])
        yield
    finally:
        holder.close()  # ends its transaction
        with connection.cursor() as cursor:
            cursor.execute("RESET lock_timeout")


def confirmations(registration: Registration) -> int:
    return sum(
        1
        for result in DBTaskResult.objects.filter(task_path=MAIL_TASK)
        if result.args_kwargs["kwargs"]
        == {"registration_id": registration.pk, "kind": "confirmation", "force": False}
    )


def test_a_webhook_meeting_a_lock_answers_503_and_the_next_delivery_confirms_once(
    shared_database, paid_activity, stripe_api, income
):
    sign_up = SignUp(contact_name="Anna de Vries", email="anna@example.org", party_size=2)
    registration = services.register(paid_activity.pk, sign_up).registration
    payment = payments.start_payment(registration.pk)
    body = event("checkout.session.completed", paid_session(payment))

    with locked(shared_database, paid_activity):
        response = post_event(Client(), body)

    assert response.status_code == 503
    assert response["Retry-After"] == "60"
    assert not StripeEvent.objects.exists()
    assert Payment.objects.get().status == Payment.Status.OPEN
    assert Registration.objects.get().status == Registration.Status.PENDING_PAYMENT
    assert income == []

    # Stripe delivers the same signed event again; the lock is gone by then.
    again = post_event(Client(), body)
    assert again.status_code == 200
    assert again.json()["outcome"] == "confirmed"
    # And once more (Stripe delivers at least once): nothing changes.
    assert post_event(Client(), body).json()["outcome"] == "duplicate"

    payment.refresh_from_db()
    assert payment.status == Payment.Status.PAID
    assert Registration.objects.get().status == Registration.Status.CONFIRMED
    assert StripeEvent.objects.get().event_id == body["id"]
    assert [kind for kind, _details in income] == ["received"]
    assert confirmations(registration) == 1

"""The Stripe webhook: signed events built from Stripe's own fixtures, verified by the production
code on the raw body, handled once, in any order."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.db import OperationalError
from django.test import Client
from django_tasks_db.models import DBTaskResult

from registrations import capacity, locking, services
from registrations.models import Payment, Registration, StripeEvent
from registrations.payments import refunds
from registrations.payments import services as payments
from registrations.services import SignUp
from tests.fixtures.stripe.helpers import (
    WEBHOOK_URL,
    charge,
    checkout_session,
    event,
    paid_session,
    post_event,
    refund,
    signed,
)

pytest_plugins = ["tests.fixtures.stripe.helpers"]
# What runs after a commit (mail and refund tasks) is enqueued when the code's transaction ends.
pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("commit_hooks")]

Status = Registration.Status
MAIL_TASK = "registrations.tasks.send_registration_mail"
REFUND_TASK = "registrations.tasks.refund_payment"


def mails(registration: Registration) -> list[str]:
    return [
        result.args_kwargs["kwargs"]["kind"]
        for result in DBTaskResult.objects.filter(task_path=MAIL_TASK).order_by("enqueued_at")
        if result.args_kwargs["kwargs"]["registration_id"] == registration.pk
    ]


def refund_tasks() -> list[int]:
    return [
        result.args_kwargs["kwargs"]["payment_id"]
        for result in DBTaskResult.objects.filter(task_path=REFUND_TASK)
    ]


def sign_up(activity, party_size: int = 2, email: str = "anna@example.org") -> Registration:
    sign = SignUp(contact_name="Anna de Vries", email=email, party_size=party_size)
    return services.register(activity.pk, sign).registration


@pytest.fixture
def pending(paid_activity, stripe_api) -> Payment:
    """A party of two for the € 27,50 dinner, on Stripe Checkout now."""
    registration = sign_up(paid_activity)
    return payments.start_payment(registration.pk)


def reload(obj):
    return type(obj).objects.get(pk=obj.pk)


# --- Money in ---------------------------------------------------------------------------------


def test_paid_session_confirms_and_only_then_sends_the_ticket(client, pending, income):
    registration = pending.registration
    assert mails(registration) == ["pending_payment"]

    response = post_event(client, event("checkout.session.completed", paid_session(pending)))

    assert response.status_code == 200
    assert response.json()["outcome"] == "confirmed"
    registration = reload(registration)
    assert registration.status == Status.CONFIRMED
    assert registration.hold_expires_at is None
    payment = reload(pending)
    assert payment.status == Payment.Status.PAID
    assert payment.payment_intent_id == f"pi_test_{payment.pk}"
    assert payment.amount == Decimal("55.00")
    assert mails(registration) == ["pending_payment", "confirmation"]
    assert [(kind, kw["amount"], kw["source"]) for kind, kw in income] == [
        ("received", Decimal("55.00"), f"payment:{payment.pk}")
    ]
    assert income[0][1]["activity"] == registration.activity
    assert StripeEvent.objects.get().type == "checkout.session.completed"


def test_a_second_delivery_is_acknowledged_and_changes_nothing(client, pending, income):
    body = event("checkout.session.completed", paid_session(pending))
    assert post_event(client, body).status_code == 200
    registration = reload(pending.registration)

    again = post_event(client, body)

    assert again.status_code == 200
    assert again.json()["outcome"] == "duplicate"
    assert StripeEvent.objects.count() == 1
    assert len(income) == 1
    assert mails(registration) == ["pending_payment", "confirmation"]
    assert reload(registration).updated_at == registration.updated_at


def test_expired_after_completed_changes_nothing(client, pending):
    post_event(client, event("checkout.session.completed", paid_session(pending)))

    late = checkout_session(pending, status="expired", payment_status="unpaid")
    response = post_event(client, event("checkout.session.expired", late))

    assert response.status_code == 200
    assert reload(pending).status == Payment.Status.PAID
    assert reload(pending.registration).status == Status.CONFIRMED


def test_expired_session_closes_the_attempt_and_keeps_the_hold(client, pending):
    expired = checkout_session(pending, status="expired", payment_status="unpaid")

    post_event(client, event("checkout.session.expired", expired))

    assert reload(pending).status == Payment.Status.EXPIRED
    registration = reload(pending.registration)
    assert registration.status == Status.PENDING_PAYMENT
    assert registration.holds_places()


def test_async_payment_waits_then_confirms(client, pending):
    unpaid = checkout_session(pending, status="complete", payment_status="unpaid")
    post_event(client, event("checkout.session.completed", unpaid))
    assert reload(pending).status == Payment.Status.PROCESSING
    assert reload(pending.registration).status == Status.PENDING_PAYMENT

    post_event(client, event("checkout.session.async_payment_succeeded", paid_session(pending)))

    assert reload(pending).status == Payment.Status.PAID
    assert reload(pending.registration).status == Status.CONFIRMED


def test_async_payment_failure_lets_the_person_try_again(client, pending, stripe_api):
    unpaid = checkout_session(pending, status="complete", payment_status="unpaid")
    post_event(client, event("checkout.session.async_payment_failed", unpaid))

    assert reload(pending).status == Payment.Status.FAILED
    registration = reload(pending.registration)
    assert registration.status == Status.PENDING_PAYMENT
    second = payments.start_payment(registration.pk)
    assert second.attempt == 2
    assert second.idempotency_key != pending.idempotency_key


# --- Refused and ignored ----------------------------------------------------------------------


@pytest.mark.parametrize(
    "tamper",
    ["missing header", "other secret", "changed body", "stale timestamp", "not json"],
)
def test_a_bad_signature_is_refused_and_changes_nothing(client, pending, income, tamper):
    body = event("checkout.session.completed", paid_session(pending))
    payload, header = signed(body)
    if tamper == "other secret":
        payload, header = signed(body, secret="whsec_someone_else")
    elif tamper == "changed body":
        payload = payload.replace('"amount_total": 5500', '"amount_total": 1')
    elif tamper == "stale timestamp":
        payload, header = signed(body, timestamp=int(dt.datetime(2020, 1, 1).timestamp()))
    elif tamper == "not json":
        payload, header = signed("{not json")
    headers = {} if tamper == "missing header" else {"HTTP_STRIPE_SIGNATURE": header}

    response = client.post(WEBHOOK_URL, data=payload, content_type="application/json", **headers)

    assert response.status_code == 400
    assert StripeEvent.objects.count() == 0
    assert reload(pending.registration).status == Status.PENDING_PAYMENT
    assert reload(pending).status == Payment.Status.OPEN
    assert income == []


def test_an_unknown_event_type_is_acknowledged_and_logged(client, pending, caplog):
    body = event("customer.created", {"id": "cus_123", "object": "customer"})

    response = post_event(client, body)

    assert response.status_code == 200
    assert response.json()["outcome"] == "ignored: customer.created"
    assert StripeEvent.objects.get().event_id == body["id"]
    assert "customer.created ignored" in caplog.text


def test_a_session_we_do_not_know_is_acknowledged(client, pending):
    stranger = checkout_session(status="complete", payment_status="paid")  # Stripe's fixture

    response = post_event(client, event("checkout.session.completed", stranger))

    assert response.status_code == 200
    assert response.json()["outcome"] == "ignored: unknown object"
    assert reload(pending).status == Payment.Status.OPEN


def test_a_locked_database_answers_503_so_stripe_retries(pending, monkeypatch, income):
    body = event("checkout.session.completed", paid_session(pending))

    def locked(*args, **kwargs):
        raise OperationalError("database is locked")

    with monkeypatch.context() as patch:
        patch.setattr(locking, "lock_registration", locked)
        response = post_event(Client(raise_request_exception=False), body)

    assert response.status_code == 503
    assert StripeEvent.objects.count() == 0
    assert reload(pending).status == Payment.Status.OPEN
    assert income == []
    # Stripe delivers the same event again later, and this time it goes through.
    assert post_event(Client(), body).json()["outcome"] == "confirmed"
    assert reload(pending.registration).status == Status.CONFIRMED


def test_the_webhook_is_off_in_demo_mode(client, settings):
    settings.PAYMENTS_DEMO_MODE = True
    settings.STRIPE_SECRET_KEY = ""
    settings.STRIPE_WEBHOOK_SECRET = ""

    response = post_event(client, event("checkout.session.completed", checkout_session()))

    assert response.status_code == 404


def test_only_post_is_accepted(client, stripe_settings):
    assert client.get(WEBHOOK_URL).status_code == 405


# --- Late, doubled and unwanted payments ------------------------------------------------------


def test_late_payment_is_confirmed_when_places_are_free(client, pending, time_machine):
    time_machine.move_to(pending.registration.hold_expires_at + dt.timedelta(minutes=1))

    response = post_event(client, event("checkout.session.completed", paid_session(pending)))

    assert response.json()["outcome"] == "confirmed after the hold expired"
    registration = reload(pending.registration)
    assert registration.status == Status.CONFIRMED
    assert mails(registration)[-1] == "confirmation"
    assert refund_tasks() == []


def test_late_payment_without_a_free_place_is_refunded_with_an_email(
    client, pending, paid_activity, time_machine, income, stripe_api
):
    time_machine.move_to(pending.registration.hold_expires_at + dt.timedelta(minutes=1))
    # The places went to others meanwhile (held while they pay): the activity is full.
    paid_activity.capacity = 8
    paid_activity.save()
    sign_up(paid_activity, party_size=4, email="b@example.org")
    sign_up(paid_activity, party_size=4, email="c@example.org")

    response = post_event(client, event("checkout.session.completed", paid_session(pending)))

    assert response.json()["outcome"].startswith("refunded: paid after the hold expired")
    registration = reload(pending.registration)
    assert registration.status == Status.EXPIRED
    payment = reload(pending)
    assert payment.is_paid
    assert payment.refund_reason == Payment.RefundReason.LATE_NO_PLACE
    assert mails(registration)[-1] == "late_payment_refunded"
    assert refund_tasks() == [payment.pk]
    assert capacity.places_free(paid_activity, payment.paid_at) == 0

    # The refund task runs: Stripe refunds the whole amount, the budget hears it once, and
    # Stripe's own charge.refunded event afterwards changes nothing more.
    refunds.execute_refund(payment.pk)
    refund = stripe_api.made("POST", "/v1/refunds")[0]
    assert refund.params["amount"] == "5500"
    assert refund.params["payment_intent"] == payment.payment_intent_id
    assert refund.headers["Idempotency-Key"] == f"{payment.idempotency_key}-refund-0"
    payment = reload(payment)
    assert payment.status == Payment.Status.REFUNDED
    assert payment.refunded_amount == Decimal("55.00")
    post_event(client, event("charge.refunded", charge(payment, amount_refunded=5500)))
    assert [(kind, kw["amount"]) for kind, kw in income] == [
        ("received", Decimal("55.00")),
        ("refunded", Decimal("55.00")),
    ]


def test_payment_for_a_cancelled_registration_is_refunded(client, pending):
    services.cancel(pending.registration_id)

    response = post_event(client, event("checkout.session.completed", paid_session(pending)))

    assert response.json()["outcome"] == "refunded: registration no longer active"
    assert reload(pending.registration).status == Status.CANCELLED
    assert reload(pending).refund_reason == Payment.RefundReason.NOT_ADMITTED
    assert refund_tasks() == [pending.pk]


def test_a_second_payment_for_the_same_registration_is_refunded(client, pending, stripe_api):
    # The first session is given up, a second one is paid; then the first is paid all the same.
    payments.cancel_payment(pending.registration_id)
    second = payments.start_payment(pending.registration_id)
    post_event(client, event("checkout.session.completed", paid_session(second)))

    response = post_event(client, event("checkout.session.completed", paid_session(pending)))

    assert response.json()["outcome"] == "refunded: paid twice"
    assert reload(pending).refund_reason == Payment.RefundReason.DUPLICATE
    assert reload(second).refund_requested_at is None
    assert reload(pending.registration).status == Status.CONFIRMED


def test_a_refund_made_in_the_stripe_dashboard_is_recorded(client, pending, income, stripe_api):
    post_event(client, event("checkout.session.completed", paid_session(pending)))
    payment = reload(pending)

    # The charge lists its refunds (API versions before 2022-11-15)...
    first = refund(payment.payment_intent_id, 2000)
    listed = {"object": "list", "data": [first], "has_more": False}
    post_event(
        client, event("charge.refunded", charge(payment, amount_refunded=2000, refunds=listed))
    )
    # ... or not, and they are asked of Stripe.
    stripe_api.refunds += [first, refund(payment.payment_intent_id, 3500)]
    post_event(client, event("charge.refunded", charge(payment, amount_refunded=5500)))

    payment = reload(payment)
    assert payment.refunded_amount == Decimal("55.00")
    assert payment.status == Payment.Status.REFUNDED
    assert [kw["amount"] for kind, kw in income if kind == "refunded"] == [
        Decimal("20.00"),
        Decimal("35.00"),
    ]
    sources = [kw["source"] for kind, kw in income]
    assert len(set(sources)) == len(sources)


def test_a_refund_of_a_charge_we_do_not_know_is_acknowledged(client, stripe_settings):
    body = event("charge.refunded", {"id": "ch_1", "object": "charge", "payment_intent": "pi_x"})

    response = post_event(client, body)

    assert response.status_code == 200
    assert response.json()["outcome"] == "ignored: unknown object"


# --- Signed but malformed -----------------------------------------------------------------


def _malformed(pending, case: str) -> dict:
    body = event("checkout.session.completed", paid_session(pending))
    session = body["data"]["object"]
    if case == "object not a dict":
        body["data"]["object"] = ["cs_test"]
    elif case == "data not a dict":
        body["data"] = "cs_test"
    elif case == "no id":
        del body["id"]
    elif case == "no type":
        del body["type"]
    elif case == "type not a string":
        body["type"] = ["checkout.session.completed"]
    elif case == "amount a string":
        session["amount_total"] = "5500"
    elif case == "amount beyond the column":
        session["amount_total"] = 10**12
    elif case == "amount a boolean":
        session["amount_total"] = True
    elif case == "payment_intent a list":
        session["payment_intent"] = ["pi_1"]
    elif case == "metadata a string":
        session["metadata"] = "payment_id=1"
    elif case == "id with NUL":
        body["id"] = "evt_\x00"
    elif case == "not an object":
        return ["evt"]  # type: ignore[return-value]
    return body


@pytest.mark.parametrize(
    "case",
    [
        "object not a dict",
        "data not a dict",
        "no id",
        "no type",
        "type not a string",
        "amount a string",
        "amount beyond the column",
        "amount a boolean",
        "payment_intent a list",
        "metadata a string",
        "id with NUL",
        "not an object",
    ],
)
def test_a_signed_but_malformed_event_is_a_400_and_changes_nothing(client, pending, income, case):
    response = post_event(client, _malformed(pending, case))

    assert response.status_code == 400
    assert StripeEvent.objects.count() == 0
    assert reload(pending.registration).status == Status.PENDING_PAYMENT
    assert reload(pending).status == Payment.Status.OPEN
    assert income == []


def test_a_malformed_refund_event_is_a_400(client, pending):
    body = event("charge.refunded", charge(pending, amount_refunded=5500))
    body["data"]["object"]["refunds"] = {"data": "re_1"}

    response = post_event(client, body)

    assert response.status_code == 400
    assert StripeEvent.objects.count() == 0

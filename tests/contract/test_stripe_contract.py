"""Paying and refunding against a Stripe-compatible server over real HTTP: localstripe with our
extension (conftest.py, localstripe_ext.py). Nothing of ours is patched: the SDK talks to
localstripe through `STRIPE_API_BASE`, localstripe signs its events and posts them to the
webhook endpoint on the live server, and the worker carries out what was enqueued.

The tests go through the public entry points (the sign-up form, "Betalen", "Betaling afbreken",
"Annuleren", the webhook, the task worker, `reconcile_payments`) and check what people see: the
registration, its e-mails and the activity's ticket income in the budget.
"""

from __future__ import annotations

import io
import time
import urllib.error
from collections.abc import Callable
from decimal import Decimal
from urllib.parse import urlsplit

import pytest
from django.core.management import call_command
from django.urls import reverse
from django_tasks_db.models import DBTaskResult

from budget.models import Income
from events.models import Activity
from registrations.models import Registration
from tests.contract.conftest import LocalStripe
from tests.helpers import signup_form

pytestmark = pytest.mark.stripe_contract

Status = Registration.Status
MAIL_TASK = "registrations.tasks.send_registration_mail"
EMAIL = "anna@example.org"
# localstripe waits a second before it sends an event; a little more for the round trip.
DELIVERY_TIMEOUT = 15.0


@pytest.fixture
def paid_activity(make_activity) -> Activity:
    return make_activity(
        title="Reüniediner", slug="reuniediner", price=Decimal("27.50"), capacity=10
    )


def sign_up(client, activity: Activity) -> Registration:
    """The sign-up form for a party of two, as a resident fills it in."""
    url = reverse(
        "registrations:signup",
        kwargs={"programme_slug": activity.programme.slug, "slug": activity.slug},
    )
    response = client.post(url, signup_form(email=EMAIL, party_size="2"))
    assert response.status_code == 303, response.content.decode()[:500]
    return Registration.objects.get(activity=activity, email=EMAIL)


def personal(registration: Registration, name: str) -> str:
    return reverse(f"registrations:{name}", kwargs={"token": registration.manage_token})


def press_pay(client, registration: Registration) -> str:
    """ "Betalen" sends the person to Checkout; returns the session's id."""
    response = client.post(personal(registration, "pay"))
    assert response.status_code == 303
    location = urlsplit(response.headers["Location"])
    assert (location.scheme, location.netloc) == ("https", "checkout.stripe.com"), location
    return location.path.rsplit("/", 1)[-1]


def wait_for(condition: Callable[[], bool], what: str) -> None:
    deadline = time.monotonic() + DELIVERY_TIMEOUT
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"gave up waiting for {what}")
        time.sleep(0.05)


def delivered(localstripe: LocalStripe, event_type: str) -> dict:
    """The one event of a type localstripe sent, once our endpoint has answered it (and so
    finished all it does for it) with a 2xx."""
    [event] = localstripe.events(event_type)
    path = f"/_test/events/{event['id']}/deliveries"
    wait_for(lambda: localstripe.call("GET", path)["deliveries"], f"{event_type} to be delivered")
    assert localstripe.call("GET", path)["deliveries"] == [
        f'webhook "{event_type}" successfully delivered'
    ]
    return event


def pay_and_deliver(client, localstripe: LocalStripe, registration: Registration) -> dict:
    session_id = press_pay(client, registration)
    localstripe.call("POST", f"/_test/checkout/sessions/{session_id}/pay")
    return delivered(localstripe, "checkout.session.completed")


def run_worker() -> None:
    call_command(
        "db_worker", "--batch", "--no-reload", "--no-startup-delay", "--interval", "0", "-v", "0"
    )


def ticket_income(activity: Activity) -> list[Decimal]:
    return list(
        Income.objects.filter(activity=activity, kind=Income.Kind.TICKETS)
        .order_by("pk")
        .values_list("amount", flat=True)
    )


def mails(registration: Registration) -> list[str]:
    return [
        result.args_kwargs["kwargs"]["kind"]
        for result in DBTaskResult.objects.filter(task_path=MAIL_TASK).order_by("enqueued_at")
        if result.args_kwargs["kwargs"]["registration_id"] == registration.pk
    ]


def test_a_paid_sign_up_is_confirmed_once_with_its_income(client, localstripe, paid_activity):
    registration = sign_up(client, paid_activity)
    assert registration.status == Status.PENDING_PAYMENT

    session_id = press_pay(client, registration)
    session = localstripe.call("GET", f"/v1/checkout/sessions/{session_id}")
    assert (session["status"], session["currency"]) == ("open", "eur")
    assert session["amount_total"] == 5500  # 2 x EUR 27.50, in cents
    localstripe.call("POST", f"/_test/checkout/sessions/{session_id}/pay")
    delivered(localstripe, "checkout.session.completed")

    registration.refresh_from_db()
    assert registration.status == Status.CONFIRMED
    assert mails(registration).count("confirmation") == 1
    assert ticket_income(paid_activity) == [Decimal("55.00")]
    page = client.get(personal(registration, "manage")).content.decode()
    assert "Bevestigd" in page


def test_the_same_event_delivered_twice_changes_nothing_the_second_time(
    client, localstripe, paid_activity
):
    registration = sign_up(client, paid_activity)
    event = pay_and_deliver(client, localstripe, registration)
    registration.refresh_from_db()
    before = (registration.status, registration.updated_at, mails(registration))

    resent = localstripe.call("POST", f"/_test/events/{event['id']}/resend")

    ok = 'webhook "checkout.session.completed" successfully delivered'
    assert resent["deliveries"] == [ok, ok]

    registration.refresh_from_db()
    assert (registration.status, registration.updated_at, mails(registration)) == before
    assert ticket_income(paid_activity) == [Decimal("55.00")]


def test_a_cancelled_registration_is_refunded_and_its_income_netted(
    client, localstripe, paid_activity
):
    registration = sign_up(client, paid_activity)
    pay_and_deliver(client, localstripe, registration)

    response = client.post(personal(registration, "cancel"))
    assert response.status_code == 303
    run_worker()  # the refund task asks localstripe for the refund
    [charge_refunded] = localstripe.events("charge.refunded")
    charge = charge_refunded["data"]["object"]
    assert (charge["amount_refunded"], charge["refunded"]) == (5500, True)
    delivered(localstripe, "charge.refunded")

    registration.refresh_from_db()
    assert registration.status == Status.CANCELLED
    assert ticket_income(paid_activity) == [Decimal("55.00"), Decimal("-55.00")]
    [refund] = localstripe.call("GET", f"/v1/refunds?charge={charge['id']}")["data"]
    assert (refund["amount"], refund["status"]) == (5500, "succeeded")


def test_reconcile_confirms_a_payment_whose_webhook_never_came(client, localstripe, paid_activity):
    localstripe.reset(webhook_url=None)  # no endpoint: the event reaches nobody
    registration = sign_up(client, paid_activity)
    session_id = press_pay(client, registration)
    localstripe.call("POST", f"/_test/checkout/sessions/{session_id}/pay")
    registration.refresh_from_db()
    assert registration.status == Status.PENDING_PAYMENT

    out = io.StringIO()
    call_command("reconcile_payments", stdout=out)

    registration.refresh_from_db()
    assert registration.status == Status.CONFIRMED, out.getvalue()
    assert ticket_income(paid_activity) == [Decimal("55.00")]


def test_a_payment_given_up_can_no_longer_be_paid_at_checkout(client, localstripe, paid_activity):
    registration = sign_up(client, paid_activity)
    session_id = press_pay(client, registration)

    client.post(personal(registration, "cancel_payment"))
    run_worker()  # the task that closes the session at Stripe
    delivered(localstripe, "checkout.session.expired")

    session = localstripe.call("GET", f"/v1/checkout/sessions/{session_id}")
    assert session["status"] == "expired"
    with pytest.raises(urllib.error.HTTPError) as refused:
        localstripe.call("POST", f"/_test/checkout/sessions/{session_id}/pay")
    assert refused.value.code == 400
    refused.value.close()
    registration.refresh_from_db()
    assert registration.status == Status.PENDING_PAYMENT
    assert ticket_income(paid_activity) == []

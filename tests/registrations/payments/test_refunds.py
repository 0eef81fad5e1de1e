"""Refunds as Stripe reports them, per refund: partial ones stay partial, one that comes before
its payment is delivered again, a pending one shows as pending, a failed one restores the
budget income, tells the organisers and is asked for again by `reconcile_payments`."""

from __future__ import annotations

import io
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.urls import reverse
from django_tasks_db.models import DBTaskResult

from registrations import emails, services
from registrations.models import Payment, Refund, Registration, StripeEvent
from registrations.payments import refunds
from registrations.payments import services as payments
from registrations.services import SignUp
from tests.fixtures.stripe.helpers import charge, event, paid_session, post_event, refund

pytest_plugins = ["tests.fixtures.stripe.helpers"]
pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("commit_hooks")]

Status = Registration.Status
FAILED_MAIL_TASK = "registrations.tasks.send_refund_failed_mail"


def run() -> str:
    out = io.StringIO()
    call_command("reconcile_payments", stdout=out)
    return out.getvalue()


def reload(obj):
    return type(obj).objects.get(pk=obj.pk)


def net(income) -> list[tuple[str, Decimal]]:
    return [(kind, kw["amount"]) for kind, kw in income]


def failed_mail_tasks() -> list[int]:
    return [
        result.args_kwargs["kwargs"]["refund_id"]
        for result in DBTaskResult.objects.filter(task_path=FAILED_MAIL_TASK)
    ]


@pytest.fixture
def pending(paid_activity, stripe_api) -> Payment:
    """A party of two for the € 27,50 dinner, on Stripe Checkout now."""
    sign = SignUp(contact_name="Anna de Vries", email="anna@example.org", party_size=2)
    registration = services.register(paid_activity.pk, sign).registration
    return payments.start_payment(registration.pk)


@pytest.fixture
def paid(client, pending) -> Payment:
    """The € 55 paid, as Stripe's webhook reports it."""
    post_event(client, event("checkout.session.completed", paid_session(pending)))
    return reload(pending)


@pytest.fixture
def pending_refunds(stripe_api):
    """Stripe answers a refund request with a pending refund (a bank that takes its time)."""
    created = stripe_api.routes["POST /v1/refunds"]

    def create(request):
        status, obj = created(request)
        obj["status"] = "pending"
        return status, obj

    stripe_api.routes["POST /v1/refunds"] = create
    return stripe_api


# --- Case 3: a partial refund in the Dashboard stays partial ------------------------------------


def test_a_partial_dashboard_refund_stays_partial_and_reconcile_refunds_nothing_more(
    income, client, paid, stripe_api
):
    # An organiser gives € 20 back in Stripe's Dashboard; the charge no longer lists its refunds
    # (API versions since 2022-11-15), so they are asked of Stripe.
    stripe_api.refunds.append(refund(paid.payment_intent_id, 2000))

    response = post_event(client, event("charge.refunded", charge(paid, amount_refunded=2000)))

    assert response.status_code == 200
    output = run()

    assert stripe_api.made("POST", "/v1/refunds") == []
    payment = reload(paid)
    assert payment.status == Payment.Status.PAID
    assert payment.refunded_amount == Decimal("20.00")
    assert payment.refund_requested_amount == Decimal("0")
    assert reload(payment.registration).status == Status.CONFIRMED
    assert net(income) == [("received", Decimal("55.00")), ("refunded", Decimal("20.00"))]
    assert output == (
        "Everything matches Stripe: 1 payment(s) and 1 refund(s) checked; nothing changed.\n"
    )


def test_reconcile_records_a_dashboard_refund_it_never_heard_of(income, paid, stripe_api):
    made = refund(paid.payment_intent_id, 2000)
    stripe_api.refunds.append(made)

    output = run()

    assert f"payment {paid.pk}: refund {made['id']} recorded: succeeded" in output
    payment = reload(paid)
    assert (payment.status, payment.refunded_amount) == (Payment.Status.PAID, Decimal("20.00"))
    assert Refund.objects.get().reason == ""  # not asked for by our rules
    assert stripe_api.made("POST", "/v1/refunds") == []
    assert net(income) == [("received", Decimal("55.00")), ("refunded", Decimal("20.00"))]


def test_cancelling_after_a_partial_refund_asks_only_for_the_rest(income, paid, stripe_api):
    stripe_api.refunds.append(refund(paid.payment_intent_id, 2000))
    run()

    services.cancel(paid.registration_id)  # the refund task never ran (worker down)
    run()

    [asked] = stripe_api.made("POST", "/v1/refunds")
    assert asked.params["amount"] == "3500"
    payment = reload(paid)
    assert (payment.status, payment.refunded_amount) == (Payment.Status.REFUNDED, Decimal("55"))
    assert net(income) == [
        ("received", Decimal("55.00")),
        ("refunded", Decimal("20.00")),
        ("refunded", Decimal("35.00")),
    ]


# --- Case 4: an event before its payment ---------------------------------------------------------


def test_a_refund_before_its_payment_is_refused_and_handled_when_delivered_again(
    income, client, pending, stripe_api
):
    intent = f"pi_test_{pending.pk}"
    made = refund(intent, 5500)
    stripe_api.refunds.append(made)
    # The PaymentIntent's metadata (ours) is copied onto its charge.
    body = event(
        "charge.refunded",
        charge(
            pending, amount_refunded=5500, payment_intent=intent, metadata=pending.stripe_metadata()
        ),
    )

    early = post_event(client, body)

    assert early.status_code == 409
    assert not StripeEvent.objects.exists()  # not stored: Stripe delivers it again
    assert income == []

    post_event(client, event("checkout.session.completed", paid_session(pending)))
    again = post_event(client, body)

    assert again.status_code == 200
    payment = reload(pending)
    assert payment.status == Payment.Status.REFUNDED
    assert payment.refunded_amount == Decimal("55.00")
    assert Refund.objects.get().stripe_refund_id == made["id"]
    assert net(income) == [("received", Decimal("55.00")), ("refunded", Decimal("55.00"))]


def test_our_refund_event_before_its_payment_is_refused(client, pending):
    obj = refund(f"pi_test_{pending.pk}", 5500, metadata=pending.stripe_metadata())

    response = post_event(client, event("refund.created", obj))

    assert response.status_code == 409
    assert not StripeEvent.objects.exists()
    assert not Refund.objects.exists()


def test_a_refund_of_another_installation_is_acknowledged(client, pending):
    metadata = {**pending.stripe_metadata(), "installation_id": "test.jubileum.example.org"}
    obj = refund(f"pi_test_{pending.pk}", 5500, metadata=metadata)

    response = post_event(client, event("refund.created", obj))

    assert response.status_code == 200
    assert response.json()["outcome"] == "ignored: another installation"
    assert not Refund.objects.exists()


# --- Case 5: refunds can fail ------------------------------------------------------------------


def test_a_pending_refund_shows_as_pending(
    income, client, paid, pending_refunds, organiser, paid_activity
):
    payments.refund(paid.pk)  # an organiser gives the money back; the party stays
    refunds.execute_refund(paid.pk)

    payment = reload(paid)
    assert payment.status == Payment.Status.PAID  # not back yet
    assert (payment.refunded_amount, payment.refund_pending_amount) == (
        Decimal("55"),
        Decimal("55"),
    )
    assert net(income) == [("received", Decimal("55.00")), ("refunded", Decimal("55.00"))]
    token = payment.registration.manage_token
    page = client.get(reverse("registrations:manage", kwargs={"token": token})).content.decode()
    assert "We betalen € 55,00 aan je terug" in page
    assert "Terugbetaald:" not in page
    client.force_login(organiser)
    kwargs = {"programme_slug": paid_activity.programme.slug, "activity_slug": paid_activity.slug}
    page = client.get(reverse("organiser:activity", kwargs=kwargs)).content.decode()
    assert "terugbetaling van € 55,00 onderweg" in page


def test_a_failed_refund_restores_the_income_tells_the_organisers_and_is_asked_again(
    income, client, paid, pending_refunds
):
    services.cancel(paid.registration_id)
    refunds.execute_refund(paid.pk)
    [made] = pending_refunds.refunds
    failed = {**made, "status": "failed", "failure_reason": "expired_or_canceled_card"}

    response = post_event(client, event("refund.failed", failed))
    post_event(client, event("refund.updated", failed))  # the same news again
    post_event(client, event("charge.refund.updated", {**failed, "status": "pending"}))  # older

    assert response.status_code == 200
    payment = reload(paid)
    assert payment.refunded_amount == Decimal("0")
    assert payment.refund_outstanding == Decimal("55.00")
    assert payment.refund_failure == "expired_or_canceled_card"
    assert net(income) == [
        ("received", Decimal("55.00")),
        ("refunded", Decimal("55.00")),
        ("received", Decimal("55.00")),  # the failed refund given back to the budget
    ]
    assert [kw["source"] for _kind, kw in income][1:] == [
        f"refund:{made['id']}",
        f"refund-failed:{made['id']}",
    ]
    first = Refund.objects.get()
    assert (first.stripe_refund_id, first.status) == (made["id"], Refund.Status.FAILED)
    assert first.failure_reason == "expired_or_canceled_card"
    assert failed_mail_tasks() == [first.pk]

    # Reconciling asks again, with a new idempotency key, for no more than was asked.
    output = run()

    retry = pending_refunds.made("POST", "/v1/refunds")[-1]
    assert retry.params["amount"] == "5500"
    assert retry.headers["Idempotency-Key"] == f"{paid.idempotency_key}-refund-0-retry-1"
    assert f"payment {paid.pk}: refund asked" in output
    assert reload(paid).refunded_amount == Decimal("55.00")
    assert Refund.objects.count() == 2
    assert run().startswith("Everything matches Stripe: 1 payment(s) and 2 refund(s) checked")


def test_a_refund_that_stripe_answers_failed_is_recorded(income, paid, stripe_api):
    stripe_api.routes["POST /v1/refunds"] = lambda request: (
        200,
        refund(paid.payment_intent_id, 5500, status="failed", failure_reason="unknown"),
    )
    services.cancel(paid.registration_id)

    assert refunds.execute_refund(paid.pk).endswith("recorded: failed")

    row = Refund.objects.get()
    assert (row.status, row.reason) == (Refund.Status.FAILED, Payment.RefundReason.CANCELLED)
    assert reload(paid).refund_outstanding == Decimal("55.00")
    assert net(income) == [("received", Decimal("55.00"))]  # never counted
    assert failed_mail_tasks() == [row.pk]


def test_a_succeeded_refund_that_fails_later_makes_the_payment_paid_again(
    income, client, paid, stripe_api
):
    services.cancel(paid.registration_id)
    refunds.execute_refund(paid.pk)
    assert reload(paid).status == Payment.Status.REFUNDED
    [made] = stripe_api.refunds

    post_event(client, event("refund.failed", {**made, "status": "failed"}))

    payment = reload(paid)
    assert (payment.status, payment.refunded_amount) == (Payment.Status.PAID, Decimal("0"))
    assert net(income)[-1] == ("received", Decimal("55.00"))


def test_the_organisers_mail_says_which_refund_failed_once(
    paid, stripe_api, organiser, mailoutbox, settings
):
    organiser.email = "organisator@example.org"
    organiser.save()
    stripe_api.routes["POST /v1/refunds"] = lambda request: (
        200,
        refund(paid.payment_intent_id, 5500, status="failed", failure_reason="lost_or_stolen_card"),
    )
    services.cancel(paid.registration_id)
    refunds.execute_refund(paid.pk)
    row = Refund.objects.get()

    assert emails.send_refund_failed(row.pk) is True
    assert emails.send_refund_failed(row.pk) is False  # once

    [message] = mailoutbox
    assert message.to == ["organisator@example.org"]
    assert message.subject == "Terugbetaling van € 55,00 aan Anna de Vries mislukt"
    assert "lost_or_stolen_card" in message.body
    assert "opnieuw teruggevraagd" in message.body
    html = message.alternatives[0].content
    assert "lost_or_stolen_card" in html and "Reüniediner" in html

    settings.LANGUAGE_CODE = "en"
    english = emails.refund_failed(row, ["organisator@example.org"])
    assert english.subject == "Refund of €55.00 to Anna de Vries failed"


def test_a_refund_recorded_without_its_id_before_is_named_not_counted_twice(
    income, paid, stripe_api
):
    # What migration 0010 makes of a refund the old code recorded without Stripe's id.
    Refund.objects.create(payment=paid, amount=Decimal("20.00"), status=Refund.Status.SUCCEEDED)
    Payment.objects.filter(pk=paid.pk).update(refunded_amount=Decimal("20.00"))
    made = refund(paid.payment_intent_id, 2000)
    stripe_api.refunds.append(made)

    run()

    assert Refund.objects.get().stripe_refund_id == made["id"]
    assert reload(paid).refunded_amount == Decimal("20.00")
    assert net(income) == [("received", Decimal("55.00"))]  # the budget heard it back then

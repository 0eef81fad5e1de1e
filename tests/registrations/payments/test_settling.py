"""A payment settles only what it asked for (issue 15): a session that is not the attempt's own,
another installation's or another mode's event, a wrong amount or currency, an old session paid
after the party or the price changed, events out of order, a retried half-created attempt, a
refusal by Stripe, and return addresses that carry no secret."""

from __future__ import annotations

import datetime as dt
import json
import logging
from decimal import Decimal
from types import SimpleNamespace

import pytest
import stripe
from django.contrib import admin
from django.contrib.auth.models import User
from django.test import Client, RequestFactory
from django.urls import reverse
from django.utils import translation
from django_tasks_db.models import DBTaskResult

from events.models import Activity, ProgrammeRole
from registrations import services, tasks
from registrations.models import Payment, Registration
from registrations.payments import gateway, refunds
from registrations.payments import services as payments
from tests.fixtures.stripe.helpers import (
    FakeStripe,
    checkout_session,
    event,
    paid_session,
    post_event,
    session_created,
)
from tests.registrations.payments.test_payments import (
    mails,
    manage_url,
    refund_tasks,
    reload,
    sign_up,
)

pytest_plugins = ["tests.fixtures.stripe.helpers"]
pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("commit_hooks")]

Status = Registration.Status
PaymentStatus = Payment.Status
Reason = Payment.RefundReason
EXPIRE_TASK = "registrations.tasks.expire_checkout_session"


@pytest.fixture
def pending(paid_activity, stripe_api) -> Payment:
    """A party of two for the € 27,50 dinner (€ 55,00), on Stripe Checkout now."""
    return payments.start_payment(sign_up(paid_activity).pk)


def ours(payment: Payment, **fields) -> dict:
    """The session we created for an attempt, as Stripe reports it, with our metadata."""
    return paid_session(payment, metadata=payment.stripe_metadata(), **fields)


def expire_tasks() -> list[int]:
    return [
        result.args_kwargs["kwargs"]["payment_id"]
        for result in DBTaskResult.objects.filter(task_path=EXPIRE_TASK).order_by("enqueued_at")
    ]


# --- 1. Only the attempt's own session settles it ---------------------------------------------


def test_a_session_that_is_not_the_attempts_own_settles_nothing_and_is_refunded(
    client, pending, income, stripe_api, caplog
):
    """A 1-cent session naming another attempt confirmed a € 55 party and recorded € 0,01."""
    stray = ours(pending, id="cs_test_someone_else", amount_total=1, payment_intent="pi_stray")

    response = post_event(client, event("checkout.session.completed", stray))

    assert response.status_code == 200
    assert response.json()["outcome"] == "refunded: not_its_session"
    attempt = reload(pending)
    assert attempt.status == PaymentStatus.OPEN
    assert attempt.amount == Decimal("55.00")
    assert attempt.paid_at is None
    assert reload(pending.registration).status == Status.PENDING_PAYMENT
    assert "names payment" in caplog.text
    assert any(record.levelno == logging.ERROR for record in caplog.records)
    refund = pending.registration.payments.get(refund_reason=Reason.NOT_ITS_SESSION)
    assert (refund.amount, refund.payment_intent_id) == (Decimal("0.01"), "pi_stray")
    assert refund_tasks() == [refund.pk]
    assert "refunded" not in mails(pending.registration)  # who paid it is not known

    # The real payment afterwards confirms the party and nothing of it is refunded.
    real = post_event(client, event("checkout.session.completed", ours(pending)))

    assert real.json()["outcome"] == "confirmed"
    assert reload(pending).amount == Decimal("55.00")
    assert reload(pending).refund_requested_at is None
    assert reload(pending.registration).status == Status.CONFIRMED
    refunds.execute_refund(refund.pk)
    assert stripe_api.made("POST", "/v1/refunds")[0].params["amount"] == "1"
    assert [(kind, kw["amount"]) for kind, kw in income] == [
        ("received", Decimal("0.01")),
        ("received", Decimal("55.00")),
        ("refunded", Decimal("0.01")),
    ]


def test_a_session_naming_an_attempt_without_our_installation_id_is_only_logged(
    client, pending, income, caplog
):
    # Another database sharing the account, running code from before installation ids.
    stray = paid_session(pending, id="cs_test_older_code", amount_total=1)

    response = post_event(client, event("checkout.session.completed", stray))

    assert response.json()["outcome"] == "ignored: not the attempt's own session"
    assert reload(pending).status == PaymentStatus.OPEN
    assert pending.registration.payments.count() == 1
    assert income == []
    assert "names payment" in caplog.text


def test_metadata_finds_an_attempt_whose_session_answer_never_came(
    client, paid_activity, stripe_api
):
    registration = sign_up(paid_activity)
    unanswered = Payment.objects.create(
        registration=registration,
        amount=Decimal("55.00"),
        idempotency_key="jubileum-checkout-unanswered",
        expires_at=registration.hold_expires_at,
    )
    session = checkout_session(
        unanswered,
        id="cs_test_lost_answer",
        metadata=unanswered.stripe_metadata(),
        status="complete",
        payment_status="paid",
    )

    response = post_event(client, event("checkout.session.completed", session))

    assert response.json()["outcome"] == "confirmed"
    assert reload(unanswered).checkout_session_id == "cs_test_lost_answer"


@pytest.mark.parametrize(
    ("change", "why"),
    [
        ({"metadata": {"installation_id": "staging.example.org"}}, "another installation"),
        ({"livemode": True}, "livemode does not match our key"),
    ],
)
def test_events_meant_for_another_installation_change_nothing(client, pending, income, change, why):
    session = ours(pending)
    body = event("checkout.session.completed", session)
    if "metadata" in change:
        body["data"]["object"]["metadata"].update(change["metadata"])
    else:
        body.update(change)

    response = post_event(client, body)

    assert response.status_code == 200
    assert response.json()["outcome"] == f"ignored: {why}"
    assert reload(pending).status == PaymentStatus.OPEN
    assert reload(pending.registration).status == Status.PENDING_PAYMENT
    assert income == []


def test_live_events_are_ours_with_a_live_key(client, pending, settings):
    settings.STRIPE_SECRET_KEY = "sk_live_jubileum"
    body = event("checkout.session.completed", ours(pending))
    body["livemode"] = True

    assert post_event(client, body).json()["outcome"] == "confirmed"


# --- 1. Never confirm an underpayment or another currency -------------------------------------


@pytest.fixture
def organiser_client(programme):
    user = User.objects.create_user("organiser", password="x", is_staff=True)
    ProgrammeRole.objects.create(user=user, programme=programme, role=ProgrammeRole.Role.ORGANISER)
    organiser = Client()
    organiser.force_login(user)
    return organiser


@pytest.mark.parametrize(
    ("fields", "shown"),
    [({"amount_total": 1}, "€ 0,01"), ({"currency": "usd"}, "55,00 USD")],
)
def test_a_wrong_amount_or_currency_is_refunded_and_settles_nothing(
    client, organiser_client, pending, income, stripe_api, fields, shown
):
    registration = pending.registration

    response = post_event(client, event("checkout.session.completed", ours(pending, **fields)))

    assert response.json()["outcome"] == "refunded: wrong_amount"
    assert reload(registration).status == Status.PENDING_PAYMENT
    attempt = reload(pending)
    assert attempt.amount == Decimal("55.00")  # never lowered to what arrived
    assert attempt.paid_at is None
    assert attempt.status == PaymentStatus.FAILED
    refund = registration.payments.get(refund_reason=Reason.WRONG_AMOUNT)
    assert refund.is_paid and refund.refund_requested_at is not None
    assert refund_tasks() == [refund.pk]
    assert mails(registration)[-1] == "refunded"
    assert [kind for kind, _kw in income] == ["received"]

    page = client.get(manage_url(registration)).content.decode()
    assert f"We ontvingen {shown}, en dat is niet het bedrag dat we vroegen" in page
    assert ">Betalen (€ 55,00)<" in page
    assert "Er is niets afgeschreven" not in page
    with translation.override("en"):
        english = client.get(manage_url(registration)).content.decode()
    assert "is not the amount we asked for" in english
    activity_page = reverse(
        "organiser:activity",
        kwargs={
            "programme_slug": registration.activity.programme.slug,
            "activity_slug": "reuniediner",
        },
    )
    organiser_page = organiser_client.get(activity_page).content.decode()
    assert (
        f"Niet geteld: {shown} ontvangen (ander bedrag of andere valuta betaald)" in organiser_page
    )

    # The same report again changes nothing; paying the right amount afterwards confirms.
    again = post_event(client, event("checkout.session.completed", ours(pending, **fields)))
    assert again.json()["outcome"] == "unchanged: refunded before"
    second = payments.start_payment(registration.pk)
    assert second.amount == Decimal("55.00")
    assert (
        post_event(client, event("checkout.session.completed", ours(second))).json()["outcome"]
        == "confirmed"
    )


# --- 2. An old session paid after the party or the price changed ------------------------------


def test_an_old_session_paid_after_the_party_grew_does_not_confirm_the_larger_party(
    client, paid_activity, stripe_api
):
    registration = sign_up(paid_activity, party_size=1)
    old = payments.start_payment(registration.pk)
    payments.cancel_payment(registration.pk)
    services.change_party_size(registration.pk, 4)

    response = post_event(client, event("checkout.session.completed", ours(old)))

    assert response.json()["outcome"] == "refunded: paid less than is owed now"
    registration = reload(registration)
    assert registration.status == Status.PENDING_PAYMENT
    assert registration.party_size == 4
    assert reload(old).refund_reason == Reason.OUTDATED
    assert refund_tasks() == [old.pk]
    page = client.get(manage_url(registration)).content.decode()
    assert "Je betaalde € 27,50 voor je aanmelding zoals die eerder was" in page
    assert ">Betalen (€ 110,00)<" in page
    assert payments.start_payment(registration.pk).amount == Decimal("110.00")


def test_a_change_of_party_size_closes_an_attempt_still_being_made(
    client, paid_activity, stripe_api
):
    registration = sign_up(paid_activity, party_size=1)
    unanswered = Payment.objects.create(
        registration=registration,
        amount=Decimal("27.50"),
        idempotency_key="jubileum-checkout-unanswered",
        expires_at=registration.hold_expires_at,
    )

    services.change_party_size(registration.pk, 2)

    assert reload(unanswered).status == PaymentStatus.EXPIRED
    late = checkout_session(
        unanswered,
        id="cs_test_made_after_all",
        metadata=unanswered.stripe_metadata(),
        status="complete",
        payment_status="paid",
    )
    outcome = post_event(client, event("checkout.session.completed", late)).json()["outcome"]
    assert outcome == "refunded: paid less than is owed now"
    assert reload(registration).status == Status.PENDING_PAYMENT


def test_a_new_price_closes_the_sessions_under_way(client, pending, paid_activity, admin_user):
    model_admin = admin.site._registry[Activity]
    request = RequestFactory().post("/admin/")
    request.user = admin_user
    paid_activity.price = Decimal("30.00")

    model_admin.save_model(request, paid_activity, SimpleNamespace(changed_data=["price"]), True)

    assert reload(pending).status == PaymentStatus.EXPIRED
    assert expire_tasks() == [pending.pk]
    response = post_event(client, event("checkout.session.completed", ours(pending)))
    assert response.json()["outcome"] == "refunded: paid less than is owed now"
    assert reload(pending.registration).status == Status.PENDING_PAYMENT


def test_an_old_session_that_covers_what_is_owed_is_accepted(client, pending, paid_activity):
    payments.cancel_payment(pending.registration_id)
    services.change_party_size(pending.registration_id, 1)

    response = post_event(client, event("checkout.session.completed", ours(pending)))

    assert response.json()["outcome"] == "confirmed"


def test_closing_a_session_retries_until_stripe_confirms(pending, stripe_api):
    payments.cancel_payment(pending.registration_id)
    stripe_api.down = True

    with pytest.raises(gateway.StripeError):
        tasks.expire_checkout_session.call(payment_id=pending.pk)
    assert expire_tasks() == [pending.pk, pending.pk]  # the retry is queued

    stripe_api.down = False
    assert tasks.expire_checkout_session.call(payment_id=pending.pk, attempt=2) is True
    assert expire_tasks() == [pending.pk, pending.pk]


@pytest.mark.parametrize("status", ["expired", "complete"])
def test_a_session_stripe_closed_already_is_done(pending, stripe_api, status):
    stripe_api.routes["POST /v1/checkout/sessions/*/expire"] = lambda request: (
        400,
        {"error": {"type": "invalid_request_error", "message": "Session is not open."}},
    )
    stripe_api.routes["GET /v1/checkout/sessions/*"] = lambda request: (
        200,
        checkout_session(pending, status=status),
    )
    payments.cancel_payment(pending.registration_id)

    assert tasks.expire_checkout_session.call(payment_id=pending.pk) is True
    assert expire_tasks() == [pending.pk]  # no retry


# --- 6. Events out of order -------------------------------------------------------------------


def test_completed_unpaid_after_the_async_failure_stays_failed_and_the_person_pays_again(
    client, pending, stripe_api
):
    registration = pending.registration
    unpaid = checkout_session(
        pending, metadata=pending.stripe_metadata(), status="complete", payment_status="unpaid"
    )
    post_event(client, event("checkout.session.async_payment_failed", unpaid))

    response = post_event(client, event("checkout.session.completed", unpaid))

    assert response.json()["outcome"] == "unchanged: the payment failed before"
    assert reload(pending).status == PaymentStatus.FAILED
    page = client.post(manage_url(registration, "pay"))
    assert page["Location"].startswith("https://checkout.stripe.com/")
    assert registration.payments.order_by("attempt").last().attempt == 2


# --- 7. A retried attempt and Stripe's refusals ----------------------------------------------


def strict_session_created(request):
    """Stripe's own rule: a session lives at least 30 minutes from now."""
    from django.utils import timezone

    if int(request.params["expires_at"]) < timezone.now().timestamp() + 30 * 60:
        return 400, {
            "error": {
                "type": "invalid_request_error",
                "param": "expires_at",
                "message": "The `expires_at` timestamp must be at least 30 minutes from now.",
            }
        }
    return session_created(request)


def test_a_half_created_attempt_retried_later_gets_a_fresh_expiry(
    paid_activity, stripe_api, now, time_machine
):
    stripe_api.routes["POST /v1/checkout/sessions"] = strict_session_created
    registration = sign_up(paid_activity)
    unanswered = Payment.objects.create(
        registration=registration,
        amount=Decimal("55.00"),
        idempotency_key="jubileum-checkout-unanswered",
        expires_at=registration.hold_expires_at + dt.timedelta(minutes=1),
    )
    time_machine.shift(dt.timedelta(minutes=5))

    payment = payments.start_payment(registration.pk)

    assert payment.status == PaymentStatus.OPEN
    [request] = stripe_api.made("POST", "/v1/checkout/sessions")
    assert request.headers["Idempotency-Key"] != unanswered.idempotency_key
    assert reload(unanswered).status == PaymentStatus.EXPIRED


class RefusingStripe(FakeStripe):
    """Stripe answering a session create with a real 400 body and its request id."""

    def request(self, method, url, headers, post_data=None, *, _usage=None):
        super().request(method, url, headers, post_data)
        body = {
            "error": {
                "type": "invalid_request_error",
                "code": "parameter_invalid_integer",
                "param": "line_items[0][price_data][unit_amount]",
                "message": "Invalid integer: -1",
                "request_log_url": "https://dashboard.stripe.com/test/logs/req_refused_1",
            }
        }
        return json.dumps(body), 400, {"request-id": "req_refused_1"}


@pytest.mark.parametrize(
    ("language", "message"),
    [
        ("nl", "Betalen lukt nu niet door een fout bij ons; de organisatie is ingelicht"),
        ("en", "Paying is not possible right now because of a fault on our side"),
    ],
)
def test_a_refusal_by_stripe_is_an_error_with_its_request_id_and_its_own_message(
    client, paid_activity, stripe_api, monkeypatch, caplog, language, message
):
    monkeypatch.setattr(gateway, "HTTP_CLIENT", RefusingStripe())
    registration = sign_up(paid_activity, language=language)
    with translation.override(language):
        pay_url = manage_url(registration, "pay")

    response = client.post(pay_url, follow=True)

    page = response.content.decode()
    assert message in page
    assert "betaaldienst niet bereiken" not in page
    [record] = [r for r in caplog.records if "refused" in r.getMessage()]
    assert record.levelno == logging.ERROR
    assert "req_refused_1" in record.getMessage()
    assert registration.payments.get().status == PaymentStatus.FAILED


def test_a_connection_error_is_still_an_outage(paid_activity, stripe_api, caplog):
    stripe_api.down = True
    registration = sign_up(paid_activity)

    with pytest.raises(payments.PaymentUnavailable):
        payments.start_payment(registration.pk)
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]


def test_stripe_refusal_kinds():
    assert gateway.is_refusal(stripe.CardError("declined", "card", "card_declined"))
    assert gateway.is_refusal(stripe.PermissionError("no"))
    assert gateway.is_refusal(stripe.IdempotencyError("reused"))
    assert not gateway.is_refusal(stripe.RateLimitError("slow down"))
    assert not gateway.is_refusal(stripe.APIError("500"))


# --- 8. Return addresses carry no secret ------------------------------------------------------


def test_no_manage_token_travels_to_stripe(client, paid_activity, stripe_api):
    registration = sign_up(paid_activity)

    client.post(manage_url(registration, "pay"))

    [request] = stripe_api.made("POST", "/v1/checkout/sessions")
    sent = json.dumps([request.path, request.params, request.headers])
    assert registration.manage_token not in sent


@pytest.mark.parametrize(
    ("language", "processing"),
    [("nl", "We verwerken je betaling"), ("en", "We are processing your payment")],
)
def test_the_way_back_from_stripe_leads_only_the_browser_that_paid(
    client, paid_activity, stripe_api, language, processing
):
    registration = sign_up(paid_activity, language=language)
    with translation.override(language):
        client.post(manage_url(registration, "pay"))
        personal = manage_url(registration)
    [request] = stripe_api.made("POST", "/v1/checkout/sessions")
    back = request.params["success_url"].removeprefix("https://jubileum.example.org")
    cancelled = request.params["cancel_url"].removeprefix("https://jubileum.example.org")

    response = client.get(back)

    assert response.status_code == 303
    assert response["Location"] == personal + "?betaling=klaar"
    assert processing in client.get(response["Location"]).content.decode()
    assert client.get(cancelled)["Location"] == personal + "?betaling=afgebroken"

    stranger = Client().get(back)
    assert stranger.status_code == 200
    assert registration.manage_token not in stranger.content.decode()
    assert stranger["X-Robots-Tag"] == "noindex, nofollow"

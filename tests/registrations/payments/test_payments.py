"""Paying for a registration: the Checkout Session we ask Stripe for, the personal page, Stripe
being down, refunds on cancellation, cancelling an activity, the organiser's view, demo mode and
the race for the last place."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.conf import settings
from django.contrib.auth.models import User
from django.db.models import Sum
from django.urls import reverse
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from events.models import Activity, ProgrammeRole
from registrations import capacity, emails, services, tasks
from registrations.models import Payment, Registration, StripeEvent
from registrations.payments import gateway, stripe_events
from registrations.payments import services as payments
from registrations.payments.demo import demo_event
from registrations.services import SignUp
from tests.fixtures.stripe.helpers import event, paid_session, post_event
from tests.registrations.test_concurrency import database, run_at_once  # noqa: F401

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
        for result in DBTaskResult.objects.filter(task_path=REFUND_TASK).order_by("enqueued_at")
    ]


def sign_up(activity, party_size=2, email="anna@example.org", language="nl") -> Registration:
    sign = SignUp(
        contact_name="Anna de Vries", email=email, party_size=party_size, language=language
    )
    return services.register(activity.pk, sign).registration


def reload(obj):
    return type(obj).objects.get(pk=obj.pk)


def manage_url(registration: Registration, name: str = "manage") -> str:
    return reverse(f"registrations:{name}", kwargs={"token": registration.manage_token})


def pay(client, registration: Registration) -> Payment:
    """Through the personal page's "Betalen" button, and Stripe's webhook afterwards."""
    client.post(manage_url(registration, "pay"))
    payment = registration.payments.get()
    post_event(client, event("checkout.session.completed", paid_session(payment)))
    return reload(payment)


# --- The Checkout Session ---------------------------------------------------------------------


@pytest.mark.parametrize(("language", "locale"), [("nl", "nl"), ("en", "en")])
def test_checkout_session_asks_for_the_total_in_eur_by_ideal_or_card(
    paid_activity, stripe_api, now, language, locale
):
    registration = sign_up(paid_activity, party_size=2, language=language)

    payment = payments.start_payment(registration.pk)

    [request] = stripe_api.made("POST", "/v1/checkout/sessions")
    params = request.params
    assert params["mode"] == "payment"
    assert params["line_items[0][price_data][currency]"] == "eur"
    assert params["line_items[0][price_data][unit_amount]"] == "2750"
    assert params["line_items[0][quantity]"] == "2"
    assert params["line_items[0][price_data][product_data][name]"] == "Reüniediner"
    assert request.keys("allowed_payment_method_types") == [
        "allowed_payment_method_types[0]",
        "allowed_payment_method_types[1]",
    ]
    assert [params[key] for key in request.keys("allowed_payment_method_types")] == [
        "card",
        "ideal",
    ]
    assert request.keys("payment_method_types") == []
    # The idempotency key travels as a header (request options), never as a parameter.
    assert request.headers["Idempotency-Key"] == payment.idempotency_key
    assert request.keys("idempotency") == []
    assert int(params["expires_at"]) == int((now + dt.timedelta(minutes=31)).timestamp())
    assert int(params["expires_at"]) - int(now.timestamp()) >= 30 * 60
    assert params["locale"] == locale
    assert params["client_reference_id"] == f"registration-{registration.pk}"
    assert params["metadata[registration_id]"] == str(registration.pk)
    assert params["metadata[payment_id]"] == str(payment.pk)
    assert params["payment_intent_data[metadata][registration_id]"] == str(registration.pk)
    assert params["customer_email"] == "anna@example.org"
    prefix = "/en" if language == "en" else ""
    back = f"https://jubileum.example.org{prefix}/betaling/{payment.public_id}/terug/"
    assert params["success_url"] == back + "?betaling=klaar"
    assert params["cancel_url"] == back + "?betaling=afgebroken"
    assert params["metadata[installation_id]"] == settings.INSTALLATION_ID
    assert request.headers["Authorization"] == "Bearer sk_test_jubileum"
    assert payment.status == Payment.Status.OPEN
    assert payment.checkout_url.startswith("https://checkout.stripe.com/")
    assert payment.amount == Decimal("55.00")
    # The hold is what it was: paying does not buy time.
    assert reload(registration).hold_expires_at == now + capacity.PAYMENT_HOLD


def test_a_second_click_returns_the_open_session(paid_activity, stripe_api):
    registration = sign_up(paid_activity)

    first = payments.start_payment(registration.pk)
    second = payments.start_payment(registration.pk)

    assert second.pk == first.pk
    assert second.checkout_url == first.checkout_url
    assert len(stripe_api.made("POST", "/v1/checkout/sessions")) == 1


def test_an_unanswered_attempt_is_asked_again_with_the_same_key(paid_activity, stripe_api, now):
    """A click whose answer from Stripe never arrived (a crash, a concurrent click): the next
    one sends the same request with the same idempotency key, so Stripe hands back the same
    session instead of making a second."""
    registration = sign_up(paid_activity)
    waiting = Payment.objects.create(
        registration=registration,
        amount=Decimal("55.00"),
        idempotency_key="jubileum-checkout-unanswered",
        expires_at=now + payments.CHECKOUT_EXPIRY,
    )

    payment = payments.start_payment(registration.pk)

    assert payment.pk == waiting.pk
    [request] = stripe_api.made("POST", "/v1/checkout/sessions")
    assert request.headers["Idempotency-Key"] == "jubileum-checkout-unanswered"
    assert payment.status == Payment.Status.OPEN


def test_stripe_down_keeps_the_hold_and_leaves_a_failed_attempt(paid_activity, stripe_api, now):
    registration = sign_up(paid_activity)
    stripe_api.down = True

    with pytest.raises(payments.PaymentUnavailable):
        payments.start_payment(registration.pk)

    attempt = registration.payments.get()
    assert attempt.status == Payment.Status.FAILED
    assert attempt.checkout_session_id is None
    registration = reload(registration)
    assert registration.status == Status.PENDING_PAYMENT
    assert registration.hold_expires_at == now + capacity.PAYMENT_HOLD

    stripe_api.down = False
    retry = payments.start_payment(registration.pk)
    assert retry.attempt == 2
    assert retry.status == Payment.Status.OPEN
    assert retry.idempotency_key != attempt.idempotency_key


def test_stripe_down_shows_a_clear_message_on_the_personal_page(client, paid_activity, stripe_api):
    registration = sign_up(paid_activity)
    stripe_api.down = True

    response = client.post(manage_url(registration, "pay"), follow=True)

    assert response.redirect_chain[-1][0] == manage_url(registration)
    assert "we kunnen de betaaldienst niet bereiken" in response.content.decode()
    assert "Je plaatsen blijven vastgehouden" in response.content.decode()


def test_no_payment_after_the_hold_expired(paid_activity, stripe_api, time_machine):
    registration = sign_up(paid_activity)
    time_machine.move_to(registration.hold_expires_at + dt.timedelta(seconds=1))

    with pytest.raises(payments.HoldExpired):
        payments.start_payment(registration.pk)
    assert stripe_api.requests == []


def test_a_changed_party_size_needs_the_open_payment_cancelled_first(paid_activity, stripe_api):
    registration = sign_up(paid_activity, party_size=2)
    first = payments.start_payment(registration.pk)

    with pytest.raises(services.InvalidState):
        services.change_party_size(registration.pk, 3)

    payments.cancel_payment(registration.pk)
    assert reload(first).status == Payment.Status.EXPIRED
    services.change_party_size(registration.pk, 3)
    second = payments.start_payment(registration.pk)
    assert second.amount == Decimal("82.50")
    assert second.pk != first.pk


# --- The personal page ------------------------------------------------------------------------


def test_personal_page_shows_the_total_and_goes_to_checkout(client, paid_activity, stripe_api):
    registration = sign_up(paid_activity, party_size=2)

    page = client.get(manage_url(registration)).content.decode()
    assert "€ 55,00" in page
    assert ">Betalen (€ 55,00)<" in page
    assert "Betaling afbreken" not in page

    response = client.post(manage_url(registration, "pay"))
    assert response.status_code == 303
    assert response["Location"].startswith("https://checkout.stripe.com/c/pay/cs_test_")

    page = client.get(manage_url(registration)).content.decode()
    assert ">Verder met betalen (€ 55,00)<" in page
    assert "Betaling afbreken" in page
    again = client.post(manage_url(registration, "pay"))
    assert again["Location"] == response["Location"]


def test_personal_page_after_paying_says_betaald_and_shows_the_ticket(
    client, paid_activity, stripe_api
):
    registration = sign_up(paid_activity, party_size=2)
    pay(client, registration)

    page = client.get(manage_url(registration) + "?betaling=klaar").content.decode()

    assert "Betaald" in page
    assert "€ 55,00 ontvangen op" in page
    assert "QR-code van je toegangsbewijs" in page
    assert ">Betalen" not in page
    assert "aantal-personen" not in page  # what was paid is for this party size


def test_back_from_checkout_before_the_webhook_says_the_payment_is_processed(
    client, paid_activity, stripe_api
):
    registration = sign_up(paid_activity)
    client.post(manage_url(registration, "pay"))

    page = client.get(manage_url(registration) + "?betaling=klaar").content.decode()

    assert "We verwerken je betaling" in page


def test_cancelling_the_payment_closes_the_stripe_session(client, paid_activity, stripe_api):
    registration = sign_up(paid_activity)
    client.post(manage_url(registration, "pay"))
    payment = registration.payments.get()

    response = client.post(manage_url(registration, "cancel_payment"), follow=True)

    assert "De betaling is afgebroken" in response.content.decode()
    assert reload(payment).status == Payment.Status.EXPIRED
    assert reload(registration).status == Status.PENDING_PAYMENT
    [task] = DBTaskResult.objects.filter(task_path="registrations.tasks.expire_checkout_session")
    assert task.args_kwargs["kwargs"] == {"payment_id": payment.pk}
    tasks.expire_checkout_session.call(payment_id=payment.pk)
    assert stripe_api.made("POST", f"/v1/checkout/sessions/{payment.checkout_session_id}/expire")


# --- Refunds ----------------------------------------------------------------------------------


def test_cancelling_a_paid_registration_refunds_it_in_full(
    client, paid_activity, stripe_api, income
):
    registration = sign_up(paid_activity, party_size=2)
    payment = pay(client, registration)

    response = client.post(manage_url(registration, "cancel"), follow=True)

    assert "Je krijgt € 55,00 terug" in response.content.decode()
    assert reload(registration).status == Status.CANCELLED
    assert mails(registration)[-1] == "cancelled"
    assert refund_tasks() == [payment.pk]
    message = emails.cancelled(reload(registration))
    assert "je krijgt € 55,00 terug" in message.body

    tasks.refund_payment.call(payment_id=payment.pk)

    [refund] = stripe_api.made("POST", "/v1/refunds")
    assert refund.params["amount"] == "5500"
    assert refund.params["payment_intent"] == payment.payment_intent_id
    assert refund.headers["Idempotency-Key"]
    payment = reload(payment)
    assert payment.status == Payment.Status.REFUNDED
    assert payment.refund_reason == Payment.RefundReason.CANCELLED
    assert [(kind, kw["amount"]) for kind, kw in income] == [
        ("received", Decimal("55.00")),
        ("refunded", Decimal("55.00")),
    ]
    # Running the task again refunds nothing more.
    tasks.refund_payment.call(payment_id=payment.pk)
    assert len(stripe_api.made("POST", "/v1/refunds")) == 1


def test_a_refund_waits_while_stripe_is_down(client, paid_activity, stripe_api):
    registration = sign_up(paid_activity)
    payment = pay(client, registration)
    services.cancel(registration.pk)
    stripe_api.down = True

    with pytest.raises(gateway.StripeError):
        tasks.refund_payment.call(payment_id=payment.pk)

    assert reload(payment).refunded_amount == 0
    assert refund_tasks() == [payment.pk, payment.pk]  # the retry is queued


def test_cancelling_the_activity_cancels_everyone_and_refunds_the_paid(
    client, paid_activity, stripe_api
):
    paid_one = sign_up(paid_activity, party_size=2, email="a@example.org")
    paid_two = sign_up(paid_activity, party_size=1, email="b@example.org")
    paying = sign_up(paid_activity, party_size=1, email="c@example.org")
    one, two = pay(client, paid_one), pay(client, paid_two)
    client.post(manage_url(paying, "pay"))

    cancelled = services.cancel_activity(paid_activity.pk, reason="De zaal is afgebrand.")

    assert {r.pk for r in cancelled} == {paid_one.pk, paid_two.pk, paying.pk}
    assert reload(paid_activity).status == Activity.Status.CANCELLED
    for registration in (paid_one, paid_two, paying):
        assert reload(registration).status == Status.CANCELLED
        assert mails(registration)[-1] == "activity_cancelled"
    assert sorted(refund_tasks()) == sorted([one.pk, two.pk])
    assert paying.payments.get().status == Payment.Status.EXPIRED
    assert "volledig terug" in emails.activity_cancelled(reload(paid_one)).body
    # Again: nobody is left to cancel, nothing is refunded twice, the first reason stays.
    assert services.cancel_activity(paid_activity.pk, reason="Iets anders") == []
    assert reload(paid_activity).cancellation_reason == "De zaal is afgebrand."
    assert len(refund_tasks()) == 2


# --- The organiser ----------------------------------------------------------------------------


@pytest.fixture
def organiser_client(client, programme):
    user = User.objects.create_user("organiser", password="x", is_staff=True)
    ProgrammeRole.objects.create(user=user, programme=programme, role=ProgrammeRole.Role.ORGANISER)
    client.force_login(user)
    return client


def test_organiser_sees_payments_and_refunds_by_hand(
    client, organiser_client, paid_activity, stripe_api
):
    registration = sign_up(paid_activity)
    payment = pay(client, registration)
    page_url = reverse(
        "organiser:activity",
        kwargs={"programme_slug": paid_activity.programme.slug, "activity_slug": "reuniediner"},
    )
    page = organiser_client.get(page_url).content.decode()
    assert "Betaling: betaald, € 55,00" in page
    refund_url = reverse(
        "organiser:refund",
        kwargs={"programme_slug": paid_activity.programme.slug, "registration_id": registration.pk},
    )
    assert refund_url in page

    confirm = organiser_client.get(refund_url)
    assert "Wil je € 55,00 terugbetalen aan Anna de Vries?" in confirm.content.decode()
    assert reload(payment).refund_requested_at is None

    done = organiser_client.post(refund_url, follow=True)

    assert "€ 55,00 wordt terugbetaald aan Anna de Vries" in done.content.decode()
    assert reload(payment).refund_reason == Payment.RefundReason.ORGANISER
    assert reload(registration).status == Status.CONFIRMED
    assert mails(registration)[-1] == "refunded"
    assert refund_tasks() == [payment.pk]
    assert "terugbetaling loopt" in organiser_client.get(page_url).content.decode()


def test_a_viewer_cannot_refund_or_cancel_the_activity(client, programme, paid_activity):
    user = User.objects.create_user("viewer", password="x", is_staff=True)
    ProgrammeRole.objects.create(user=user, programme=programme, role=ProgrammeRole.Role.VIEWER)
    client.force_login(user)
    registration = sign_up(paid_activity)
    kwargs = {"programme_slug": programme.slug}

    refund = reverse("organiser:refund", kwargs={**kwargs, "registration_id": 1})
    cancel = reverse("organiser:cancel_activity", kwargs={**kwargs, "activity_slug": "reuniediner"})
    assert client.post(refund).status_code == 403
    assert client.post(cancel).status_code == 403
    assert reload(paid_activity).status == Activity.Status.PUBLISHED
    assert reload(registration).status == Status.PENDING_PAYMENT


def test_an_unrelated_organiser_gets_404(client, make_programme, programme, paid_activity):
    other = make_programme()
    user = User.objects.create_user("other", password="x", is_staff=True)
    ProgrammeRole.objects.create(user=user, programme=other, role=ProgrammeRole.Role.ORGANISER)
    client.force_login(user)
    cancel = reverse(
        "organiser:cancel_activity",
        kwargs={"programme_slug": programme.slug, "activity_slug": "reuniediner"},
    )
    assert client.post(cancel).status_code == 404


def test_organiser_cancels_the_activity_after_a_confirm_step(organiser_client, paid_activity):
    registration = sign_up(paid_activity)
    url = reverse(
        "organiser:cancel_activity",
        kwargs={"programme_slug": paid_activity.programme.slug, "activity_slug": "reuniediner"},
    )

    confirm = organiser_client.get(url).content.decode()
    assert "Wil je Reüniediner annuleren? 1 aanmelding wordt geannuleerd" in confirm
    assert reload(paid_activity).status == Activity.Status.PUBLISHED

    done = organiser_client.post(url, {"reason": "De kok is ziek."}, follow=True)

    assert "Reüniediner is geannuleerd; 1 aanmelding is geannuleerd en gemaild." in (
        done.content.decode()
    )
    assert reload(registration).status == Status.CANCELLED


# --- E-mails ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "language", "phrase"),
    [
        ("refunded", "nl", "We betalen € 55,00 terug"),
        ("refunded", "en", "€55.00"),
        ("late_payment_refunded", "nl", "Je bent daarom helaas niet aangemeld"),
        ("late_payment_refunded", "en", "€55.00"),
    ],
)
def test_refund_emails(client, paid_activity, stripe_api, kind, language, phrase):
    registration = sign_up(paid_activity, language=language)
    payment = pay(client, registration)
    Payment.objects.filter(pk=payment.pk).update(refund_requested_at=timezone.now())

    message = emails.PAYMENT_MAILS[kind](reload(registration))

    html = next(content for content, mimetype in message.alternatives if mimetype == "text/html")
    assert phrase in message.body
    assert phrase in html
    assert "Reüniediner" in message.subject


# --- Demo mode --------------------------------------------------------------------------------


@pytest.fixture
def demo(settings):
    settings.PAYMENTS_DEMO_MODE = True
    settings.STRIPE_SECRET_KEY = ""
    settings.STRIPE_WEBHOOK_SECRET = ""


@pytest.mark.parametrize(
    ("outcome", "status", "payment_status"),
    [
        ("paid", Status.CONFIRMED, Payment.Status.PAID),
        ("failed", Status.PENDING_PAYMENT, Payment.Status.FAILED),
        ("expired", Status.PENDING_PAYMENT, Payment.Status.EXPIRED),
    ],
)
def test_demo_payment_goes_through_the_webhook_handler(
    client, demo, paid_activity, income, outcome, status, payment_status, monkeypatch
):
    monkeypatch.setattr(gateway, "_client", None)  # no Stripe call at all
    registration = sign_up(paid_activity)

    to_demo = client.post(manage_url(registration, "pay"))
    assert to_demo.status_code == 303
    demo_url = to_demo["Location"]
    assert demo_url.startswith("/betalen/demo/cs_demo_")
    page = client.get(demo_url).content.decode()
    assert "Demo-betaling — er wordt niets afgeschreven" in page
    assert "€ 55,00" in page

    back = client.post(demo_url, {"outcome": outcome})

    assert back["Location"] == manage_url(registration)
    assert reload(registration).status == status
    payment = registration.payments.get()
    assert payment.status == payment_status
    assert payment.demo
    assert len(income) == (1 if outcome == "paid" else 0)
    assert StripeEvent.objects.get().event_id.startswith("evt_demo_")


def test_demo_page_is_gone_when_demo_mode_is_off(client, demo, paid_activity, settings):
    registration = sign_up(paid_activity)
    payment = payments.start_payment(registration.pk)
    settings.PAYMENTS_DEMO_MODE = False

    assert client.get(payment.checkout_url).status_code == 404
    assert client.post(payment.checkout_url, {"outcome": "paid"}).status_code == 404
    assert reload(registration).status == Status.PENDING_PAYMENT


def test_demo_refund_needs_no_stripe(client, demo, paid_activity, income):
    registration = sign_up(paid_activity)
    client.post(manage_url(registration, "pay"))
    client.post(registration.payments.get().checkout_url, {"outcome": "paid"})
    services.cancel(registration.pk)

    tasks.refund_payment.call(payment_id=registration.payments.get().pk)

    assert registration.payments.get().status == Payment.Status.REFUNDED
    assert [kind for kind, _kw in income] == ["received", "refunded"]


# --- The last place ---------------------------------------------------------------------------


@pytest.mark.usefixtures("database")
def test_a_late_payment_and_a_new_sign_up_never_overbook(make_activity, settings):
    """A payment arriving after its hold lapsed races a newcomer for the same places: whoever
    comes second finds them taken (the late payer is refunded; the newcomer waits or is
    refused), never both in."""
    settings.PAYMENTS_DEMO_MODE = True
    settings.STRIPE_SECRET_KEY = ""
    activity = make_activity(price=Decimal("10.00"), capacity=4, waitlist_enabled=True)
    taken = sign_up(activity, party_size=2, email="first@example.org")
    Registration.objects.filter(pk=taken.pk).update(status=Status.CONFIRMED)
    late = sign_up(activity, party_size=2, email="late@example.org")
    payment = payments.start_payment(late.pk)
    Registration.objects.filter(pk=late.pk).update(
        hold_expires_at=timezone.now() - dt.timedelta(minutes=1)
    )
    body = demo_event(payment, "paid")

    results = run_at_once(
        [
            lambda: stripe_events.process_event(body),
            lambda: sign_up(activity, party_size=2, email="new@example.org").status,
        ]
    )

    holding = Registration.objects.filter(activity=activity, status=Status.CONFIRMED)
    confirmed = holding.aggregate(persons=Sum("party_size"))["persons"]
    held = Registration.objects.filter(
        activity=activity, status=Status.PENDING_PAYMENT, hold_expires_at__gt=timezone.now()
    ).aggregate(persons=Sum("party_size"))["persons"]
    assert (confirmed or 0) + (held or 0) <= 4
    payment = reload(payment)
    late = reload(late)
    if results[0] == "confirmed after the hold expired":
        assert late.status == Status.CONFIRMED
        assert results[1] == Status.WAITLISTED
    else:
        assert results[0].startswith("refunded: paid after the hold expired")
        assert results[1] == Status.PENDING_PAYMENT
        assert late.status == Status.EXPIRED
        assert payment.refund_reason == Payment.RefundReason.LATE_NO_PLACE

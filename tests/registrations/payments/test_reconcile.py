"""`manage.py reconcile_payments`: asks Stripe about payments a missed webhook left open here."""

from __future__ import annotations

import datetime as dt
import io
from decimal import Decimal

import pytest
from django.core.management import call_command

from registrations import services
from registrations.models import Payment, Registration
from registrations.payments import services as payments
from registrations.services import SignUp
from tests.fixtures.stripe.helpers import checkout_session, paid_session

pytest_plugins = ["tests.fixtures.stripe.helpers"]
pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("commit_hooks")]

Status = Registration.Status


def run() -> str:
    out = io.StringIO()
    call_command("reconcile_payments", stdout=out)
    return out.getvalue()


def sign_up(activity, email: str = "anna@example.org") -> Registration:
    sign = SignUp(contact_name="Anna de Vries", email=email, party_size=2)
    return services.register(activity.pk, sign).registration


def reload(obj):
    return type(obj).objects.get(pk=obj.pk)


@pytest.fixture
def sessions(stripe_api):
    """What Stripe reports for each session id when asked (retrieve)."""
    reported: dict[str, dict] = {}

    def retrieve(request):
        session_id = request.path.rsplit("/", 1)[-1]
        return 200, reported[session_id]

    stripe_api.routes["GET /v1/checkout/sessions/*"] = retrieve
    return reported


def test_demo_mode_has_nothing_to_reconcile(settings):
    settings.PAYMENTS_DEMO_MODE = True
    settings.STRIPE_SECRET_KEY = ""

    assert run() == "Payments run in demo mode: there is nothing to reconcile.\n"


def test_a_missed_payment_is_brought_in_and_printed(paid_activity, sessions, income, stripe_api):
    registration = sign_up(paid_activity)
    payment = payments.start_payment(registration.pk)
    sessions[payment.checkout_session_id] = paid_session(payment)

    output = run()

    assert (
        f"payment {payment.pk} (registration {registration.pk}): payment open -> paid, "
        "registration pending_payment -> confirmed"
    ) in output
    assert reload(registration).status == Status.CONFIRMED
    assert [(kind, kw["amount"]) for kind, kw in income] == [("received", Decimal("55.00"))]
    [asked] = stripe_api.made("GET", "/v1/checkout/sessions/")
    assert asked.path == f"/v1/checkout/sessions/{payment.checkout_session_id}"
    # A second run finds everything in line.
    assert run() == (
        "Everything matches Stripe: 1 payment(s) and 0 refund(s) checked; nothing changed.\n"
    )


def test_an_expired_session_is_closed_here_too(paid_activity, sessions):
    registration = sign_up(paid_activity)
    payment = payments.start_payment(registration.pk)
    sessions[payment.checkout_session_id] = checkout_session(
        payment, status="expired", payment_status="unpaid"
    )

    output = run()

    assert "payment open -> expired" in output
    assert reload(payment).status == Payment.Status.EXPIRED
    assert reload(registration).status == Status.PENDING_PAYMENT


def test_an_open_session_is_left_alone(paid_activity, sessions):
    registration = sign_up(paid_activity)
    payment = payments.start_payment(registration.pk)
    sessions[payment.checkout_session_id] = checkout_session(payment, status="open")

    assert run() == (
        "Everything matches Stripe: 1 payment(s) and 0 refund(s) checked; nothing changed.\n"
    )
    assert reload(payment).status == Payment.Status.OPEN


def test_a_late_payment_found_by_reconciling_takes_the_same_path(
    paid_activity, sessions, time_machine
):
    registration = sign_up(paid_activity)
    payment = payments.start_payment(registration.pk)
    sessions[payment.checkout_session_id] = paid_session(payment)
    time_machine.move_to(registration.hold_expires_at + dt.timedelta(hours=1))

    run()

    assert reload(registration).status == Status.CONFIRMED  # places were free


def test_stripe_unreachable_is_reported_and_changes_nothing(paid_activity, sessions, stripe_api):
    registration = sign_up(paid_activity)
    payment = payments.start_payment(registration.pk)
    stripe_api.down = True

    output = run()

    assert f"payment {payment.pk}: Stripe did not answer (APIConnectionError)" in output
    assert reload(payment).status == Payment.Status.OPEN


def test_a_refund_that_never_went_out_is_made(paid_activity, sessions, stripe_api, income):
    registration = sign_up(paid_activity)
    payment = payments.start_payment(registration.pk)
    sessions[payment.checkout_session_id] = paid_session(payment)
    run()
    services.cancel(registration.pk)  # the refund task never ran (worker down)

    output = run()

    assert "payment paid -> refunded" in output
    [refund] = stripe_api.made("POST", "/v1/refunds")
    assert refund.params["amount"] == "5500"
    assert reload(payment).refunded_amount == Decimal("55.00")
    assert [kind for kind, _kw in income] == ["received", "refunded"]

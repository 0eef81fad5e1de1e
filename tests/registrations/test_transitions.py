"""The guarded status transitions of the models: every allowed one sets the fields that belong
to it (and saves nothing), every forbidden one raises and leaves the instance as it was."""

from __future__ import annotations

import datetime as dt
import itertools
from decimal import Decimal

import pytest
from django.forms.models import model_to_dict
from django.utils import timezone

from events.models import Activity, CancellationReasonInvalid
from events.models import InvalidTransition as ActivityTransitionError
from registrations.errors import InvalidState, InvalidTransition, RegistrationError
from registrations.models import Message, MessageRecipient, Payment, Refund, Registration

Status = Registration.Status
PaymentStatus = Payment.Status
Delivery = MessageRecipient.Status

NOW = timezone.make_aware(dt.datetime(2027, 1, 15, 12, 0))
EARLIER = NOW - dt.timedelta(hours=3)
UNTIL = NOW + dt.timedelta(minutes=30)


def _state(instance) -> dict:
    return {**model_to_dict(instance), "status": instance.status}


# --- Registration ------------------------------------------------------------------------------

# What each target status is reached by, and what the fields it sets must then hold.
REGISTRATION_MOVES = {
    Status.PENDING_APPROVAL: (lambda r: r.await_approval(), {}),
    Status.CONFIRMED: (lambda r: r.confirm(NOW), {"confirmed_at": NOW, "hold_expires_at": None}),
    Status.PENDING_PAYMENT: (lambda r: r.hold_for_payment(UNTIL), {"hold_expires_at": UNTIL}),
    Status.WAITLISTED: (
        lambda r: r.waitlist(NOW),
        {"waitlisted_at": NOW, "hold_expires_at": None, "approved_at": None},
    ),
    Status.OFFERED: (lambda r: r.offer(UNTIL), {"hold_expires_at": UNTIL}),
    # The hold's end stays (the test sees it untouched): it says when the offer or hold ran out.
    Status.EXPIRED: (lambda r: r.expire(), {}),
    Status.CANCELLED: (lambda r: r.cancel(NOW), {"cancelled_at": NOW, "hold_expires_at": None}),
}
REGISTRATION_ALLOWED = [
    (source, target)
    for source, targets in Registration.TRANSITIONS.items()
    for target in sorted(targets)
]
REGISTRATION_FORBIDDEN = [
    (source, target)
    for source, target in itertools.product(Registration.TRANSITIONS, REGISTRATION_MOVES)
    if target not in Registration.TRANSITIONS[source]
]


def _registration(status: str) -> Registration:
    return Registration(
        status=status,
        contact_name="Inwoner",
        email="inwoner@example.org",
        party_size=2,
        consent_at=EARLIER,
        hold_expires_at=EARLIER,
    )


def test_the_registration_table_follows_the_design():
    assert Registration.TRANSITIONS[Status.PENDING_APPROVAL] >= {
        Status.CONFIRMED,
        Status.PENDING_PAYMENT,
    }
    assert Registration.TRANSITIONS[Status.WAITLISTED] >= {Status.OFFERED}
    assert Registration.TRANSITIONS[Status.OFFERED] >= {Status.CONFIRMED, Status.PENDING_PAYMENT}
    assert Status.EXPIRED in Registration.TRANSITIONS[Status.PENDING_PAYMENT]
    for active in Registration.ACTIVE_STATUSES:
        assert Status.CANCELLED in Registration.TRANSITIONS[active]
    assert set(Registration.TRANSITIONS) == {"", *Status.values}


@pytest.mark.parametrize(("source", "target"), REGISTRATION_ALLOWED)
def test_an_allowed_registration_transition_sets_its_fields(source, target):
    registration = _registration(source)
    before = _state(registration)
    move, expected = REGISTRATION_MOVES[target]

    fields = move(registration)

    assert registration.status == target
    assert set(fields) == {"status", *expected}
    for name, value in expected.items():
        assert getattr(registration, name) == value
    after = _state(registration)
    untouched = set(before) - set(fields)
    assert {name: after[name] for name in untouched} == {name: before[name] for name in untouched}
    assert registration.pk is None  # nothing saved


def test_approval_keeps_the_places_until_the_deadline_and_says_when_it_was_given():
    registration = _registration(Status.PENDING_APPROVAL)

    fields = registration.approve(NOW, UNTIL)

    assert set(fields) == {"status", "approved_at", "hold_expires_at"}
    assert (registration.status, registration.approved_at, registration.hold_expires_at) == (
        Status.OFFERED,
        NOW,
        UNTIL,
    )
    assert registration.is_approval_offer


@pytest.mark.parametrize("status", [s for s in Status if s != Status.PENDING_APPROVAL])
def test_only_a_pending_registration_is_approved(status):
    registration = _registration(status)

    with pytest.raises(InvalidTransition):
        registration.approve(NOW, UNTIL)

    assert registration.approved_at is None


@pytest.mark.parametrize(("source", "target"), REGISTRATION_FORBIDDEN)
def test_a_forbidden_registration_transition_raises_and_changes_nothing(source, target):
    registration = _registration(source)
    before = _state(registration)
    move, _expected = REGISTRATION_MOVES[target]

    with pytest.raises(InvalidTransition) as raised:
        move(registration)

    assert _state(registration) == before
    assert raised.value.details == {"model": "registration", "from": source, "to": target}


def test_a_cancelled_registration_cannot_be_confirmed():
    registration = _registration(Status.CANCELLED)

    with pytest.raises(InvalidTransition):
        registration.confirm(NOW)

    assert registration.status == Status.CANCELLED
    assert registration.confirmed_at is None


def test_a_forbidden_transition_is_the_invalid_state_the_views_and_api_know():
    with pytest.raises(InvalidState) as raised:
        _registration(Status.CANCELLED).waitlist(NOW)

    error = raised.value
    assert isinstance(error, RegistrationError)
    assert (error.code, error.status) == ("invalid_state", 409)
    assert str(error) == "Dat kan niet meer met deze aanmelding."


@pytest.mark.django_db
def test_expire_lapsed_expires_only_offers_and_holds_whose_time_has_passed(
    activity, make_registration
):
    lapsed_offer = make_registration(status=Status.OFFERED, hold_expires_at=EARLIER)
    lapsed_hold = make_registration(status=Status.PENDING_PAYMENT, hold_expires_at=NOW)
    running = make_registration(status=Status.OFFERED, hold_expires_at=UNTIL)
    confirmed = make_registration(status=Status.CONFIRMED, hold_expires_at=EARLIER)

    assert activity.registrations.expire_lapsed(NOW) == 2

    statuses = dict(activity.registrations.values_list("pk", "status"))
    assert statuses == {
        lapsed_offer.pk: Status.EXPIRED,
        lapsed_hold.pk: Status.EXPIRED,
        running.pk: Status.OFFERED,
        confirmed.pk: Status.CONFIRMED,
    }


# --- Payment -----------------------------------------------------------------------------------


def _refund(amount: str, status: str = Refund.Status.SUCCEEDED, **fields) -> Refund:
    return Refund(amount=Decimal(amount), status=status, created_at=EARLIER, **fields)


PAYMENT_MOVES = {
    PaymentStatus.OPEN: (lambda p: p.mark_open(), {"failure": ""}),
    PaymentStatus.PROCESSING: (lambda p: p.mark_processing(), {}),
    PaymentStatus.PAID: (
        lambda p: p.mark_paid(NOW, "pi_123"),
        {"paid_at": NOW, "payment_intent_id": "pi_123"},
    ),
    PaymentStatus.FAILED: (
        lambda p: p.mark_failed("payment failed"),
        {"failure": "payment failed"},
    ),
    PaymentStatus.EXPIRED: (
        lambda p: p.mark_expired("session expired"),
        {"failure": "session expired"},
    ),
    PaymentStatus.REFUNDED: (
        lambda p: p.settle_refunds([_refund("25.00")], NOW),
        {
            "refunded_amount": Decimal("25.00"),
            "refund_pending_amount": Decimal("0"),
            "refund_failure": "",
            "refunded_at": NOW,
        },
    ),
}
# A refunded payment is paid again when its refund fails afterwards.
BACK_TO_PAID = (
    lambda p: p.settle_refunds(
        [_refund("25.00", Refund.Status.FAILED, failure_reason="lost")], NOW
    ),
    {
        "refunded_amount": Decimal("0"),
        "refund_pending_amount": Decimal("0"),
        "refund_failure": "lost",
    },
)
PAYMENT_ALLOWED = [
    (source, target)
    for source, targets in Payment.TRANSITIONS.items()
    for target in sorted(targets)
]
PAYMENT_FORBIDDEN = [
    (source, target)
    for source, target in itertools.product(Payment.TRANSITIONS, PAYMENT_MOVES)
    # Settling the refunds of a refunded payment again is a recount, not a move.
    if target not in Payment.TRANSITIONS[source]
    and (source, target) != (PaymentStatus.REFUNDED, PaymentStatus.REFUNDED)
]


def _move(source: str, target: str):
    if (source, target) == (PaymentStatus.REFUNDED, PaymentStatus.PAID):
        return BACK_TO_PAID
    return PAYMENT_MOVES[target]


def _payment(status: str) -> Payment:
    paid = status in (PaymentStatus.PAID, PaymentStatus.REFUNDED)
    return Payment(
        status=status,
        amount=Decimal("25.00"),
        idempotency_key="jubileum-checkout-test",
        failure="session not created: APIConnectionError",
        paid_at=EARLIER if paid else None,
        refunded_amount=Decimal("25.00") if status == PaymentStatus.REFUNDED else Decimal("0"),
        refunded_at=EARLIER if status == PaymentStatus.REFUNDED else None,
        # Asked for by an organiser.
        refund_requested_at=EARLIER if paid else None,
        refund_requested_amount=Decimal("25.00") if paid else Decimal("0"),
        refund_reason=Payment.RefundReason.ORGANISER if paid else "",
    )


def test_the_payment_table_ends_in_money_or_nothing():
    assert Payment.TRANSITIONS[PaymentStatus.PAID] == {PaymentStatus.REFUNDED}
    # Only a refund that fails after it succeeded makes a refunded payment paid again.
    assert Payment.TRANSITIONS[PaymentStatus.REFUNDED] == {PaymentStatus.PAID}
    # Stripe may report a payment for a session we closed: the late payment is still money.
    assert PaymentStatus.PAID in Payment.TRANSITIONS[PaymentStatus.EXPIRED]
    assert set(Payment.TRANSITIONS) == set(PaymentStatus.values)


@pytest.mark.parametrize(("source", "target"), PAYMENT_ALLOWED)
def test_an_allowed_payment_transition_sets_its_fields(source, target):
    payment = _payment(source)
    before = _state(payment)
    move, expected = _move(source, target)

    fields = move(payment)

    assert payment.status == target
    assert set(fields) == {"status", *expected}
    for name, value in expected.items():
        assert getattr(payment, name) == value
    after = _state(payment)
    untouched = set(before) - set(fields)
    assert {name: after[name] for name in untouched} == {name: before[name] for name in untouched}


@pytest.mark.parametrize(("source", "target"), PAYMENT_FORBIDDEN)
def test_a_forbidden_payment_transition_raises_and_changes_nothing(source, target):
    payment = _payment(source)
    before = _state(payment)
    move, _expected = PAYMENT_MOVES[target]

    with pytest.raises(InvalidTransition):
        move(payment)

    assert _state(payment) == before


def test_a_paid_payment_cannot_be_opened_again():
    payment = _payment(PaymentStatus.PAID)

    with pytest.raises(InvalidTransition) as raised:
        payment.mark_open()

    assert payment.status == PaymentStatus.PAID
    assert raised.value.details == {"model": "payment", "from": "paid", "to": "open"}


def test_a_refunded_payment_is_not_paid_a_second_time():
    payment = _payment(PaymentStatus.REFUNDED)

    with pytest.raises(InvalidTransition):
        payment.mark_paid(NOW, "pi_other")

    assert (payment.status, payment.paid_at) == (PaymentStatus.REFUNDED, EARLIER)


def test_the_failure_is_cut_to_what_the_column_holds():
    payment = _payment(PaymentStatus.CREATED)

    payment.mark_failed("x" * 300)

    assert payment.failure == "x" * 200


def test_a_partial_refund_keeps_the_payment_paid_and_pending_counts_until_it_succeeds():
    payment = _payment(PaymentStatus.PAID)

    fields = payment.settle_refunds([_refund("10.00", Refund.Status.PENDING)], NOW)

    assert payment.status == PaymentStatus.PAID
    assert (payment.refunded_amount, payment.refund_pending_amount) == (
        Decimal("10.00"),
        Decimal("10.00"),
    )
    assert payment.refunded_at is None  # nothing is back yet
    assert set(fields) == {"refunded_amount", "refund_pending_amount", "refund_failure"}

    payment.settle_refunds([_refund("10.00"), _refund("15.00", Refund.Status.PENDING)], NOW)

    assert payment.status == PaymentStatus.PAID
    assert (payment.refund_succeeded_amount, payment.refund_to_come) == (
        Decimal("10.00"),
        Decimal("15.00"),
    )

    fields = payment.settle_refunds([_refund("10.00"), _refund("15.00")], NOW)

    assert payment.status == PaymentStatus.REFUNDED
    assert "status" in fields
    assert payment.refund_outstanding == Decimal("0")


def test_a_failed_refund_leaves_what_was_asked_outstanding():
    payment = _payment(PaymentStatus.PAID)

    payment.settle_refunds([_refund("25.00", Refund.Status.FAILED, failure_reason="lost")], NOW)

    assert payment.status == PaymentStatus.PAID
    assert payment.refunded_amount == Decimal("0")
    assert payment.refund_outstanding == Decimal("25.00")
    assert payment.refund_failure == "lost"


def test_a_refund_made_in_stripes_dashboard_is_not_asked_for_by_us():
    payment = _payment(PaymentStatus.PAID)
    payment.refund_requested_at, payment.refund_reason = None, ""
    payment.refund_requested_amount = Decimal("0")

    payment.settle_refunds([_refund("10.00")], NOW)

    assert payment.refund_requested_at is None
    assert payment.refund_requested_amount == Decimal("0")
    assert payment.refund_outstanding == Decimal("0")


@pytest.mark.parametrize(
    ("status", "refunds"),
    [
        (PaymentStatus.OPEN, ["25.00"]),  # never paid
        (PaymentStatus.EXPIRED, ["25.00"]),
        (PaymentStatus.PAID, ["20.00", "5.01"]),  # more than was paid
    ],
)
def test_refunds_that_cannot_be_raise_and_change_nothing(status, refunds):
    payment = _payment(status)
    before = _state(payment)

    with pytest.raises(InvalidTransition):
        payment.settle_refunds([_refund(amount) for amount in refunds], NOW)

    assert _state(payment) == before


def test_a_refund_is_requested_once_and_only_of_money_that_came_in():
    payment = _payment(PaymentStatus.PAID)
    payment.refund_requested_at, payment.refund_reason = None, ""
    payment.refund_requested_amount = Decimal("0")

    fields = payment.request_refund(Payment.RefundReason.CANCELLED, NOW)

    assert (payment.refund_reason, payment.refund_requested_at) == ("cancelled", NOW)
    assert payment.refund_requested_amount == Decimal("25.00")
    assert set(fields) == {"refund_reason", "refund_requested_at", "refund_requested_amount"}
    with pytest.raises(InvalidTransition):
        payment.request_refund(Payment.RefundReason.DUPLICATE, NOW)
    assert payment.refund_reason == "cancelled"

    unpaid = _payment(PaymentStatus.OPEN)
    with pytest.raises(InvalidTransition):
        unpaid.request_refund(Payment.RefundReason.CANCELLED, NOW)
    assert unpaid.refund_requested_at is None


# --- Refund ------------------------------------------------------------------------------------

REFUND_ALLOWED = [
    (source, target) for source, targets in Refund.TRANSITIONS.items() for target in sorted(targets)
]
REFUND_FORBIDDEN = [
    (source, target)
    for source, target in itertools.product(Refund.Status.values, Refund.Status.values)
    if source != target and target not in Refund.TRANSITIONS[source]
]


@pytest.mark.parametrize(("source", "target"), REFUND_ALLOWED)
def test_an_allowed_refund_transition_follows_stripe(source, target):
    refund = _refund("5.00", source)

    fields = refund.follow(target, "expired_or_canceled_card")

    assert refund.status == target
    assert set(fields) == {"status", "failure_reason"}
    expected = "" if refund.counts else "expired_or_canceled_card"
    assert refund.failure_reason == expected


@pytest.mark.parametrize(("source", "target"), REFUND_FORBIDDEN)
def test_a_forbidden_refund_transition_raises_and_changes_nothing(source, target):
    refund = _refund("5.00", source)
    before = _state(refund)

    with pytest.raises(InvalidTransition):
        refund.follow(target)

    assert _state(refund) == before


def test_the_same_refund_status_again_changes_nothing():
    refund = _refund("5.00", Refund.Status.PENDING)

    assert refund.follow(Refund.Status.PENDING) == []


# --- Activity ----------------------------------------------------------------------------------


@pytest.mark.parametrize("status", [Activity.Status.DRAFT, Activity.Status.PUBLISHED])
def test_an_activity_is_called_off_from_draft_or_published(status):
    activity = Activity(status=status)

    assert activity.cancel(" De spreker is ziek. ", "Op 14 maart") == [
        "status",
        "cancellation_reason",
        "cancellation_alternative",
    ]
    assert activity.status == Activity.Status.CANCELLED
    assert (activity.cancellation_reason, activity.cancellation_alternative) == (
        "De spreker is ziek.",
        "Op 14 maart",
    )


@pytest.mark.parametrize(
    ("reason", "alternative"),
    [("", ""), ("   ", "Op 14 maart"), ("x" * 501, ""), ("Ziek", "x" * 301)],
)
def test_an_activity_is_not_called_off_without_a_bounded_reason(reason, alternative):
    activity = Activity(status=Activity.Status.PUBLISHED)

    with pytest.raises(CancellationReasonInvalid) as raised:
        activity.cancel(reason, alternative)

    assert activity.status == Activity.Status.PUBLISHED
    assert activity.cancellation_reason == ""
    assert (raised.value.code, raised.value.status) == ("cancellation_reason_invalid", 422)


def test_a_cancelled_activity_cannot_be_cancelled_again():
    activity = Activity(status=Activity.Status.CANCELLED)

    with pytest.raises(ActivityTransitionError) as raised:
        activity.cancel("Nog een keer")

    assert activity.status == Activity.Status.CANCELLED
    assert (raised.value.code, raised.value.status) == ("invalid_state", 409)


# --- Message recipients (compare-and-set) ------------------------------------------------------


@pytest.fixture
def recipient(activity, make_registration) -> MessageRecipient:
    message = Message.objects.create(
        activity=activity, audience=Message.Audience.CONFIRMED, subject="Parkeren", body="..."
    )
    return MessageRecipient.objects.create(message=message, registration=make_registration())


MESSAGE_ALLOWED = [
    (source, target)
    for source, targets in MessageRecipient.TRANSITIONS.items()
    for target in sorted(targets)
]


@pytest.mark.django_db
@pytest.mark.parametrize(("source", "target"), MESSAGE_ALLOWED)
def test_an_allowed_recipient_move_changes_the_row(recipient, source, target):
    MessageRecipient.objects.filter(pk=recipient.pk).update(status=source)

    moved = MessageRecipient.objects.filter(pk=recipient.pk).move(source, target, detail="x")

    assert moved == 1
    recipient.refresh_from_db()
    assert (recipient.status, recipient.detail) == (target, "x")


@pytest.mark.django_db
def test_a_recipient_that_moved_on_is_left_alone(recipient):
    claimed = MessageRecipient.objects.filter(pk=recipient.pk)

    assert claimed.move(Delivery.QUEUED, Delivery.SENDING) == 1
    assert claimed.move(Delivery.QUEUED, Delivery.SENDING) == 0  # another worker had it
    recipient.refresh_from_db()
    assert recipient.status == Delivery.SENDING


@pytest.mark.django_db
@pytest.mark.parametrize("target", [Delivery.QUEUED, Delivery.SENDING, Delivery.SENT])
def test_a_possibly_sent_recipient_is_never_sent_again(recipient, target):
    """Whether the provider took it is unknown: sending it again might mail someone twice."""
    MessageRecipient.objects.filter(pk=recipient.pk).update(status=Delivery.POSSIBLY_SENT)

    with pytest.raises(InvalidTransition):
        MessageRecipient.objects.filter(pk=recipient.pk).move(Delivery.POSSIBLY_SENT, target)

    recipient.refresh_from_db()
    assert recipient.status == Delivery.POSSIBLY_SENT


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("sources", "target"),
    [
        (Delivery.SENT, Delivery.QUEUED),  # sent is never sent again
        (Delivery.SKIPPED, Delivery.SENDING),
        ({Delivery.SENT, Delivery.BOUNCED}, Delivery.DELIVERED),  # a late delivery
    ],
)
def test_a_forbidden_recipient_move_raises_and_changes_nothing(recipient, sources, target):
    MessageRecipient.objects.filter(pk=recipient.pk).update(status=Delivery.SENT)

    with pytest.raises(InvalidTransition):
        MessageRecipient.objects.filter(pk=recipient.pk).move(sources, target)

    recipient.refresh_from_db()
    assert recipient.status == Delivery.SENT

"""Every state change of the registration workflows in `registrations.services`."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.utils import timezone

from events.models import Activity
from registrations import capacity, notify, services
from registrations.models import Invitation, Registration, RosterEntry
from registrations.services import SignUp
from tests.registrations.conftest import MAIL_TASK

Status = Registration.Status


# Engine-dependent, so CI runs it on SQLite too: places are summed and holds expire in SQL; e-mail
# addresses match case-insensitively (iexact) there.
pytestmark = [pytest.mark.usefixtures("tasks"), pytest.mark.engine_dependent]


def mails(tasks) -> list[tuple[int, str]]:
    """(registration id, kind) of every registration e-mail enqueued so far."""
    return [
        (result.kwargs["registration_id"], result.kwargs["kind"])
        for result in tasks.results
        if result.task.module_path == MAIL_TASK
    ]


def sign_up(**fields) -> SignUp:
    values = {"contact_name": "Anna de Vries", "email": "anna@example.org", "party_size": 2}
    values.update(fields)
    return SignUp(**values)


def register(activity: Activity, capture, **fields) -> services.SignUpResult:
    with capture(execute=True):
        return services.register(activity.pk, sign_up(**fields))


def status_of(registration: Registration) -> str:
    registration.refresh_from_db()
    return registration.status


def places_taken(activity: Activity) -> int:
    return Activity.objects.with_places_taken().get(pk=activity.pk).places_taken


# --- register ----------------------------------------------------------------------------


def test_free_activity_with_room_confirms_party_and_mails_confirmation(
    activity, now, tasks, django_capture_on_commit_callbacks
):
    result = register(activity, django_capture_on_commit_callbacks, phone=" 06 12345678 ")

    registration = result.registration
    assert result.created is True
    assert registration.status == Status.CONFIRMED
    assert registration.confirmed_at == now
    assert registration.consent_at == now
    assert registration.hold_expires_at is None
    assert registration.phone == "06 12345678"
    assert registration.manage_token != registration.ticket_code
    assert places_taken(activity) == 2
    assert mails(tasks) == [(registration.pk, "confirmation")]


def test_paid_activity_holds_places_for_thirty_minutes(
    make_activity, now, tasks, django_capture_on_commit_callbacks
):
    paid = make_activity(price=Decimal("12.50"))

    registration = register(paid, django_capture_on_commit_callbacks).registration

    assert registration.status == Status.PENDING_PAYMENT
    assert registration.hold_expires_at == now + dt.timedelta(minutes=30)
    assert registration.confirmed_at is None
    assert places_taken(paid) == 2
    assert mails(tasks) == [(registration.pk, "pending_payment")]


def test_full_activity_puts_party_on_waitlist(
    make_activity, make_registration, now, tasks, django_capture_on_commit_callbacks
):
    small = make_activity(capacity=5, max_party_size=4)
    make_registration(activity=small, party_size=4)

    registration = register(small, django_capture_on_commit_callbacks, party_size=2).registration

    assert registration.status == Status.WAITLISTED
    assert registration.waitlisted_at == now
    assert places_taken(small) == 4
    assert mails(tasks) == [(registration.pk, "waitlisted")]


def test_party_that_fits_exactly_takes_the_last_places(
    make_activity, make_registration, django_capture_on_commit_callbacks
):
    small = make_activity(capacity=5, max_party_size=4)
    make_registration(activity=small, party_size=3)

    registration = register(small, django_capture_on_commit_callbacks, party_size=2).registration

    assert registration.status == Status.CONFIRMED
    assert places_taken(small) == 5


def test_unlimited_activity_always_confirms(make_activity, django_capture_on_commit_callbacks):
    unlimited = make_activity(capacity=None, max_party_size=50)

    registration = register(unlimited, django_capture_on_commit_callbacks, party_size=50)

    assert registration.registration.status == Status.CONFIRMED


@pytest.fixture
def members_activity(make_activity, programme) -> Activity:
    RosterEntry.objects.create(
        programme=programme, name="Jan Bos", email="Jan.Bos@Example.org", brigade="soest"
    )
    return make_activity(audience=Activity.Audience.MEMBERS)


def test_members_activity_confirms_roster_email_whatever_its_case(
    members_activity, django_capture_on_commit_callbacks
):
    registration = register(
        members_activity,
        django_capture_on_commit_callbacks,
        email="jan.bos@EXAMPLE.org",
        kind=Registration.Kind.FORMER_MEMBER,
        brigade="soest",
        years_of_service=31,
    ).registration

    assert registration.status == Status.CONFIRMED
    assert registration.years_of_service == 31


def test_members_activity_sends_unknown_email_to_approval(
    members_activity, tasks, django_capture_on_commit_callbacks
):
    registration = register(members_activity, django_capture_on_commit_callbacks).registration

    assert registration.status == Status.PENDING_APPROVAL
    assert places_taken(members_activity) == 0
    assert mails(tasks) == [(registration.pk, "pending_approval")]


def test_roster_of_another_programme_does_not_count(
    members_activity, make_programme, django_capture_on_commit_callbacks
):
    RosterEntry.objects.create(
        programme=make_programme(), name="Anna", email="anna@example.org", brigade="soest"
    )

    registration = register(members_activity, django_capture_on_commit_callbacks).registration

    assert registration.status == Status.PENDING_APPROVAL


def test_invitation_only_activity_without_code_waits_for_approval(
    make_activity, django_capture_on_commit_callbacks
):
    invitation_only = make_activity(audience=Activity.Audience.INVITATION)

    registration = register(invitation_only, django_capture_on_commit_callbacks).registration

    assert registration.status == Status.PENDING_APPROVAL


@pytest.mark.parametrize("audience", list(Activity.Audience))
def test_approval_required_holds_every_sign_up_for_an_organiser(
    make_activity, audience, django_capture_on_commit_callbacks
):
    checked = make_activity(audience=audience, approval_required=True)
    RosterEntry.objects.create(
        programme=checked.programme, name="Anna", email="anna@example.org", brigade="soest"
    )

    registration = register(checked, django_capture_on_commit_callbacks).registration

    assert registration.status == Status.PENDING_APPROVAL
    assert places_taken(checked) == 0


@pytest.mark.parametrize("audience", list(Activity.Audience))
def test_valid_invitation_code_confirms(
    make_activity, audience, django_capture_on_commit_callbacks
):
    invited = make_activity(audience=audience, approval_required=True)
    invitation = Invitation.objects.create(activity=invited, name="Anna", email="anna@example.org")

    registration = register(
        invited, django_capture_on_commit_callbacks, invitation_code=f" {invitation.code.lower()} "
    ).registration

    assert registration.status == Status.CONFIRMED
    assert registration.invitation == invitation


def test_same_email_in_any_case_changes_nothing_and_mails_the_owner_the_link(
    activity, tasks, django_capture_on_commit_callbacks, now
):
    first = register(activity, django_capture_on_commit_callbacks).registration

    again = register(
        activity, django_capture_on_commit_callbacks, email=" ANNA@example.ORG ", party_size=5
    )
    once_more = register(activity, django_capture_on_commit_callbacks)

    assert again.created is once_more.created is False
    assert again.registration.pk == first.pk
    assert again.registration.party_size == 2
    assert Registration.objects.count() == 1
    # One "you were already signed up" however many repeats within the hour.
    assert mails(tasks) == [(first.pk, "confirmation"), (first.pk, "already_signed_up")]
    assert Registration.objects.get().repeat_mailed_at == now


def test_same_email_after_a_lapsed_payment_hold_is_a_new_registration(
    make_activity, now, django_capture_on_commit_callbacks
):
    dinner = make_activity(price=Decimal("27.50"))
    first = register(dinner, django_capture_on_commit_callbacks).registration
    assert first.status == Status.PENDING_PAYMENT

    later = now + capacity.PAYMENT_HOLD + dt.timedelta(seconds=1)
    with django_capture_on_commit_callbacks(execute=True):
        result = services.register(dinner.pk, sign_up(), now=later)

    assert result.created is True
    assert status_of(first) == Status.EXPIRED


def test_expired_registration_has_no_mail_to_resend(make_registration, now):
    lapsed = make_registration(status=Status.OFFERED, hold_expires_at=now - dt.timedelta(seconds=1))
    assert lapsed.current_status(now) == Status.EXPIRED
    assert notify.mail_kind(lapsed) is None


def test_personal_data_can_be_deleted_only_once_it_no_longer_serves(
    activity, make_registration, now
):
    coming = make_registration(email="anna@example.org")
    with pytest.raises(services.InvalidState):
        services.delete_personal_data(coming.pk)
    coming.refresh_from_db()
    assert coming.email == "anna@example.org"

    services.delete_personal_data(coming.pk, now=activity.ends_at)

    coming.refresh_from_db()
    assert (coming.email, coming.contact_name, coming.anonymised_at) == ("", "", activity.ends_at)
    assert coming.status == Status.CONFIRMED  # counts stay


def test_same_email_may_sign_up_again_after_cancelling(
    activity, make_registration, django_capture_on_commit_callbacks
):
    make_registration(email="anna@example.org", status=Status.CANCELLED)

    result = register(activity, django_capture_on_commit_callbacks)

    assert result.created is True
    assert Registration.objects.count() == 2


def test_same_email_for_another_activity_is_a_new_registration(
    activity, make_activity, django_capture_on_commit_callbacks
):
    register(activity, django_capture_on_commit_callbacks)

    result = register(make_activity(), django_capture_on_commit_callbacks)

    assert result.created is True


def _closed_window(make_activity) -> Activity:
    return make_activity(registration_closes_at=timezone.now() - dt.timedelta(minutes=1))


def _not_yet_open(make_activity) -> Activity:
    return make_activity(registration_opens_at=timezone.now() + dt.timedelta(days=1))


def _draft(make_activity) -> Activity:
    return make_activity(status=Activity.Status.DRAFT)


def _cancelled(make_activity) -> Activity:
    return make_activity(status=Activity.Status.CANCELLED)


def _no_registration_needed(make_activity) -> Activity:
    return make_activity(registration_required=False)


def _started(make_activity) -> Activity:
    return make_activity(starts_at=timezone.now() - dt.timedelta(minutes=5))


@pytest.mark.parametrize(
    "make_closed",
    [_closed_window, _not_yet_open, _draft, _cancelled, _no_registration_needed, _started],
)
def test_closed_registration_is_refused_and_changes_nothing(
    make_activity, make_closed, tasks, django_capture_on_commit_callbacks
):
    closed = make_closed(make_activity)

    with pytest.raises(services.RegistrationClosed) as error:
        register(closed, django_capture_on_commit_callbacks)

    assert error.value.code == "registration_closed"
    assert error.value.status == 409
    assert Registration.objects.count() == 0
    assert mails(tasks) == []


@pytest.mark.parametrize("party_size", [0, 7])
def test_party_outside_the_limits_is_refused_and_changes_nothing(
    activity, party_size, tasks, django_capture_on_commit_callbacks
):
    with pytest.raises(services.PartyTooLarge) as error:
        register(activity, django_capture_on_commit_callbacks, party_size=party_size)

    assert error.value.code == "party_too_large"
    assert error.value.details == {"max_party_size": 6}
    assert "per aanmelding 6" in str(error.value)
    assert Registration.objects.count() == 0
    assert mails(tasks) == []


def test_unknown_invitation_code_is_refused_and_changes_nothing(
    make_activity, activity, tasks, django_capture_on_commit_callbacks
):
    other = Invitation.objects.create(activity=make_activity(), name="B", email="b@example.org")

    for code in ["NIETBESTAAND", other.code]:  # another activity's code is unknown here too
        with pytest.raises(services.UnknownInvitation):
            register(activity, django_capture_on_commit_callbacks, invitation_code=code)

    assert Registration.objects.count() == 0
    assert mails(tasks) == []


def test_full_activity_without_waitlist_is_refused_and_changes_nothing(
    make_activity, make_registration, tasks, django_capture_on_commit_callbacks
):
    full = make_activity(capacity=4, max_party_size=4, waitlist_enabled=False)
    make_registration(activity=full, party_size=3)

    with pytest.raises(services.ActivityFull) as error:
        register(full, django_capture_on_commit_callbacks, party_size=2)

    assert error.value.details == {"places_left": 1}
    assert Registration.objects.count() == 1
    assert mails(tasks) == []


# --- cancel ------------------------------------------------------------------------------


def test_attendee_cancels_before_deadline_and_places_go_to_waitlist(
    make_activity, make_registration, now, tasks, django_capture_on_commit_callbacks
):
    small = make_activity(capacity=4, max_party_size=4)
    leaving = make_registration(activity=small, party_size=4)
    waiting = make_registration(activity=small, party_size=3, status=Status.WAITLISTED)

    with django_capture_on_commit_callbacks(execute=True):
        services.cancel(leaving.pk)

    leaving.refresh_from_db()
    assert leaving.status == Status.CANCELLED
    assert leaving.cancelled_at == now
    assert status_of(waiting) == Status.OFFERED
    assert places_taken(small) == 3
    assert mails(tasks) == [(leaving.pk, "cancelled"), (waiting.pk, "offer")]


def test_attendee_cannot_cancel_after_deadline(
    make_activity, make_registration, tasks, django_capture_on_commit_callbacks
):
    strict = make_activity(cancellation_closes_at=timezone.now() - dt.timedelta(hours=1))
    registration = make_registration(activity=strict)

    with (
        pytest.raises(services.CancellationClosed),
        django_capture_on_commit_callbacks(execute=True),
    ):
        services.cancel(registration.pk)

    assert status_of(registration) == Status.CONFIRMED
    assert mails(tasks) == []


def test_organiser_may_cancel_after_deadline(
    make_activity, make_registration, django_capture_on_commit_callbacks
):
    started = make_activity(starts_at=timezone.now() - dt.timedelta(minutes=30))
    registration = make_registration(activity=started)

    with django_capture_on_commit_callbacks(execute=True):
        services.cancel(registration.pk, by_organiser=True)

    assert status_of(registration) == Status.CANCELLED


def test_cancelling_twice_is_harmless(make_registration, tasks, django_capture_on_commit_callbacks):
    registration = make_registration()
    with django_capture_on_commit_callbacks(execute=True):
        services.cancel(registration.pk)
        again = services.cancel(registration.pk)

    assert again.status == Status.CANCELLED
    assert mails(tasks) == [(registration.pk, "cancelled")]


def test_expired_registration_cannot_be_cancelled(make_registration):
    registration = make_registration(status=Status.EXPIRED)

    with pytest.raises(services.InvalidState):
        services.cancel(registration.pk)


# --- change_party_size -------------------------------------------------------------------


def test_party_grows_while_places_allow(
    make_activity, make_registration, tasks, django_capture_on_commit_callbacks
):
    small = make_activity(capacity=6)
    registration = make_registration(activity=small, party_size=2)
    make_registration(activity=small, party_size=2)

    with django_capture_on_commit_callbacks(execute=True):
        services.change_party_size(registration.pk, 4)

    registration.refresh_from_db()
    assert registration.party_size == 4
    assert places_taken(small) == 6
    assert mails(tasks) == [(registration.pk, "confirmation")]


def test_party_cannot_grow_beyond_places_left(
    make_activity, make_registration, tasks, django_capture_on_commit_callbacks
):
    small = make_activity(capacity=6)
    registration = make_registration(activity=small, party_size=2)
    make_registration(activity=small, party_size=3)

    with pytest.raises(services.NotEnoughPlaces) as error:
        services.change_party_size(registration.pk, 4)

    assert error.value.details == {"places_left": 1}
    registration.refresh_from_db()
    assert registration.party_size == 2
    assert mails(tasks) == []


def test_party_cannot_grow_beyond_maximum_party_size(make_registration):
    registration = make_registration(party_size=2)

    with pytest.raises(services.PartyTooLarge):
        services.change_party_size(registration.pk, 7)

    registration.refresh_from_db()
    assert registration.party_size == 2


def test_waitlisted_party_may_grow_without_free_places(make_activity, make_registration):
    full = make_activity(capacity=2, max_party_size=2)
    make_registration(activity=full, party_size=2)
    waiting = make_registration(activity=full, party_size=1, status=Status.WAITLISTED)

    services.change_party_size(waiting.pk, 2)

    waiting.refresh_from_db()
    assert (waiting.party_size, waiting.status) == (2, Status.WAITLISTED)


def test_smaller_party_frees_places_for_the_waitlist(
    make_activity, make_registration, tasks, django_capture_on_commit_callbacks
):
    full = make_activity(capacity=5)
    registration = make_registration(activity=full, party_size=5)
    waiting = make_registration(activity=full, party_size=2, status=Status.WAITLISTED)

    with django_capture_on_commit_callbacks(execute=True):
        services.change_party_size(registration.pk, 3)

    assert status_of(waiting) == Status.OFFERED
    assert places_taken(full) == 5
    assert (waiting.pk, "offer") in mails(tasks)


def test_party_size_cannot_change_after_deadline(make_activity, make_registration):
    strict = make_activity(cancellation_closes_at=timezone.now() - dt.timedelta(hours=1))
    registration = make_registration(activity=strict, party_size=2)

    with pytest.raises(services.CancellationClosed):
        services.change_party_size(registration.pk, 1)

    registration.refresh_from_db()
    assert registration.party_size == 2


def test_same_party_size_changes_nothing_and_mails_nothing(
    make_registration, tasks, django_capture_on_commit_callbacks
):
    registration = make_registration(party_size=2)

    with django_capture_on_commit_callbacks(execute=True):
        services.change_party_size(registration.pk, 2)

    assert mails(tasks) == []


def test_cancelled_party_size_cannot_change(make_registration):
    registration = make_registration(status=Status.CANCELLED)

    with pytest.raises(services.InvalidState):
        services.change_party_size(registration.pk, 1)


# --- approve / decline -------------------------------------------------------------------


def test_approval_with_room_confirms(
    make_registration, now, tasks, django_capture_on_commit_callbacks
):
    pending = make_registration(status=Status.PENDING_APPROVAL)

    with django_capture_on_commit_callbacks(execute=True):
        services.approve(pending.pk)

    pending.refresh_from_db()
    assert (pending.status, pending.confirmed_at) == (Status.CONFIRMED, now)
    assert mails(tasks) == [(pending.pk, "confirmation")]


def test_approval_without_room_puts_party_on_waitlist(
    make_activity, make_registration, tasks, django_capture_on_commit_callbacks
):
    full = make_activity(capacity=2, max_party_size=2)
    make_registration(activity=full, party_size=2)
    pending = make_registration(activity=full, party_size=1, status=Status.PENDING_APPROVAL)

    with django_capture_on_commit_callbacks(execute=True):
        services.approve(pending.pk)

    assert status_of(pending) == Status.WAITLISTED
    assert pending.waitlisted_at is not None
    assert mails(tasks) == [(pending.pk, "waitlisted")]


def test_only_pending_registrations_can_be_approved_or_declined(make_registration):
    confirmed = make_registration()

    with pytest.raises(services.InvalidState):
        services.approve(confirmed.pk)
    with pytest.raises(services.InvalidState):
        services.decline(confirmed.pk)
    assert status_of(confirmed) == Status.CONFIRMED


def test_decline_cancels_and_mails_the_person(
    make_registration, tasks, django_capture_on_commit_callbacks
):
    pending = make_registration(status=Status.PENDING_APPROVAL)

    with django_capture_on_commit_callbacks(execute=True):
        services.decline(pending.pk)

    pending.refresh_from_db()
    assert pending.status == Status.CANCELLED
    assert pending.cancelled_at is not None
    assert mails(tasks) == [(pending.pk, "declined")]


# --- move --------------------------------------------------------------------------------


def test_move_to_activity_with_room_keeps_places_and_frees_the_source(
    make_activity, make_registration, tasks, django_capture_on_commit_callbacks
):
    source = make_activity(capacity=3, max_party_size=3)
    target = make_activity(capacity=10)
    moving = make_registration(activity=source, party_size=3)
    waiting = make_registration(activity=source, party_size=2, status=Status.WAITLISTED)

    with django_capture_on_commit_callbacks(execute=True):
        services.move(moving.pk, target.pk)

    moving.refresh_from_db()
    assert (moving.activity, moving.status) == (target, Status.CONFIRMED)
    assert places_taken(target) == 3
    assert status_of(waiting) == Status.OFFERED
    assert places_taken(source) == 2
    assert mails(tasks) == [(moving.pk, "confirmation"), (waiting.pk, "offer")]


def test_move_to_full_activity_joins_its_waitlist(make_activity, make_registration):
    source = make_activity(capacity=10)
    target = make_activity(capacity=2, max_party_size=2)
    make_registration(activity=target, party_size=2)
    moving = make_registration(activity=source, party_size=2)

    services.move(moving.pk, target.pk)

    moving.refresh_from_db()
    assert (moving.activity, moving.status) == (target, Status.WAITLISTED)
    assert places_taken(target) == 2
    assert places_taken(source) == 0


def test_move_to_full_activity_without_waitlist_is_refused(make_activity, make_registration):
    source = make_activity(capacity=10)
    target = make_activity(capacity=2, max_party_size=2, waitlist_enabled=False)
    make_registration(activity=target, party_size=2)
    moving = make_registration(activity=source, party_size=2)

    with pytest.raises(services.NotEnoughPlaces):
        services.move(moving.pk, target.pk)

    moving.refresh_from_db()
    assert (moving.activity, moving.status) == (source, Status.CONFIRMED)


def test_move_to_another_programme_is_refused(make_activity, make_programme, make_registration):
    registration = make_registration()
    elsewhere = make_activity(programme=make_programme())

    with pytest.raises(services.InvalidState):
        services.move(registration.pk, elsewhere.pk)

    registration.refresh_from_db()
    assert registration.activity != elsewhere
    assert registration.status == Status.CONFIRMED


def test_move_of_cancelled_registration_is_refused(make_activity, make_registration):
    registration = make_registration(status=Status.CANCELLED)

    with pytest.raises(services.InvalidState):
        services.move(registration.pk, make_activity().pk)


# --- claim_offer -------------------------------------------------------------------------


@pytest.fixture
def offer(make_activity, make_registration, now):
    """A party of 2 offered the last 2 places of a 4-place activity, offer valid 48 hours."""

    def make(**activity_fields) -> Registration:
        full = make_activity(capacity=4, max_party_size=4, **activity_fields)
        make_registration(activity=full, party_size=2)
        return make_registration(
            activity=full,
            party_size=2,
            status=Status.OFFERED,
            waitlisted_at=now - dt.timedelta(days=1),
            hold_expires_at=now + dt.timedelta(hours=48),
        )

    return make


def test_claim_in_time_confirms(offer, now, tasks, django_capture_on_commit_callbacks):
    offered = offer()

    with django_capture_on_commit_callbacks(execute=True):
        claimed = services.claim_offer(offered.pk)

    assert claimed.status == Status.CONFIRMED
    assert claimed.confirmed_at == now
    assert claimed.hold_expires_at is None
    assert places_taken(offered.activity) == 4
    assert mails(tasks) == [(offered.pk, "confirmation")]


def test_claim_for_paid_activity_holds_places_for_payment(offer, now):
    offered = offer(price=Decimal("7.50"))

    claimed = services.claim_offer(offered.pk)

    assert claimed.status == Status.PENDING_PAYMENT
    assert claimed.hold_expires_at == now + capacity.PAYMENT_HOLD


@pytest.mark.parametrize("price", [Decimal("0"), Decimal("7.50")])
def test_second_claim_is_idempotent(offer, price, tasks, django_capture_on_commit_callbacks):
    offered = offer(price=price)

    with django_capture_on_commit_callbacks(execute=True):
        first = services.claim_offer(offered.pk)
        second = services.claim_offer(offered.pk)

    assert (second.status, second.hold_expires_at) == (first.status, first.hold_expires_at)
    assert len(mails(tasks)) == 1


def test_claim_after_expiry_fails_and_offers_the_places_to_the_next_party(
    offer, make_registration, now, time_machine, tasks, django_capture_on_commit_callbacks
):
    offered = offer()
    next_in_line = make_registration(
        activity=offered.activity, party_size=2, status=Status.WAITLISTED, waitlisted_at=now
    )
    time_machine.move_to(now + dt.timedelta(hours=48), tick=False)

    with (
        pytest.raises(services.OfferExpired) as error,
        django_capture_on_commit_callbacks(execute=True),
    ):
        services.claim_offer(offered.pk)

    assert error.value.code == "offer_expired"
    assert status_of(offered) == Status.EXPIRED
    assert status_of(next_in_line) == Status.OFFERED
    assert mails(tasks) == [(next_in_line.pk, "offer")]
    # Clicking the old link again says the same, and changes nothing.
    with pytest.raises(services.OfferExpired):
        services.claim_offer(offered.pk)
    assert status_of(next_in_line) == Status.OFFERED


def test_waitlisted_party_without_offer_cannot_claim(make_registration):
    waiting = make_registration(status=Status.WAITLISTED)

    with pytest.raises(services.InvalidState):
        services.claim_offer(waiting.pk)

    assert status_of(waiting) == Status.WAITLISTED


# --- anonymise ---------------------------------------------------------------------------


def test_anonymise_removes_personal_data_but_keeps_the_counts(make_registration):
    registration = make_registration(phone="0612345678", years_of_service=12, party_size=3)

    services.anonymise(registration)

    registration.refresh_from_db()
    assert (registration.contact_name, registration.email, registration.phone) == ("", "", "")
    assert registration.years_of_service is None
    assert registration.anonymised_at is not None
    assert (registration.status, registration.party_size) == (Status.CONFIRMED, 3)
    assert not registration.history.exclude(email="").exists()


@pytest.mark.parametrize(
    "target_fields",
    [
        {"status": Activity.Status.CANCELLED},
        {"status": Activity.Status.DRAFT},
        {"starts_at": timezone.now() - dt.timedelta(days=1)},
    ],
    ids=["cancelled", "draft", "past"],
)
def test_move_refuses_targets_nobody_can_attend(
    activity, make_activity, make_registration, target_fields
):
    party = make_registration()
    target = make_activity(**target_fields)

    with pytest.raises(services.InvalidState):
        services.move(party.pk, target.pk)

    party.refresh_from_db()
    assert party.activity == activity


def test_move_refuses_a_payment_in_progress_to_another_price(make_activity, make_registration, now):
    dinner = make_activity(price=Decimal("27.50"))
    party = make_registration(
        activity=dinner, status=Status.PENDING_PAYMENT, hold_expires_at=now + capacity.PAYMENT_HOLD
    )
    with pytest.raises(services.InvalidState):
        services.move(party.pk, make_activity(price=Decimal("30.00")).pk)


def test_invitation_admits_one_party_only(make_activity, django_capture_on_commit_callbacks):
    reception = make_activity(audience=Activity.Audience.INVITATION)
    invitation = Invitation.objects.create(
        activity=reception, name="Jan Smit", email="jan@example.org"
    )
    register(reception, django_capture_on_commit_callbacks, invitation_code=invitation.code)

    with pytest.raises(services.InvitationUsed):
        register(
            reception,
            django_capture_on_commit_callbacks,
            email="iemand.anders@example.org",
            invitation_code=invitation.code.lower(),
        )
    assert Registration.objects.filter(activity=reception).count() == 1


def test_offer_ends_when_sign_up_closes(activity, make_registration, now):
    activity.capacity = 2
    activity.starts_at = now + dt.timedelta(hours=5)
    activity.ends_at = now + dt.timedelta(hours=7)
    activity.save()
    confirmed = make_registration(party_size=2)
    waiting = make_registration(party_size=2, status=Status.WAITLISTED, waitlisted_at=now)

    services.cancel(confirmed.pk, by_organiser=True)

    waiting.refresh_from_db()
    assert waiting.status == Status.OFFERED
    assert waiting.hold_expires_at == activity.starts_at

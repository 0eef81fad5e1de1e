"""The waitlist: offers in order, skipping parties that do not fit; offers and payment holds that
expire by the clock, and the tidy-up that passes their places on."""

from __future__ import annotations

import datetime as dt
import io
from decimal import Decimal

import pytest
from django.core.management import call_command

from events.models import Activity
from registrations import services
from registrations.models import Registration
from registrations.services import SignUp
from tests.registrations.conftest import MAIL_TASK

Status = Registration.Status


# Engine-dependent, so CI runs it on SQLite too: offers expire by times compared in SQL, places
# are summed there.
pytestmark = [pytest.mark.usefixtures("tasks"), pytest.mark.engine_dependent]


def offer_mails(tasks) -> list[int]:
    return [
        result.kwargs["registration_id"]
        for result in tasks.results
        if result.task.module_path == MAIL_TASK and result.kwargs["kind"] == "offer"
    ]


def places_taken(activity: Activity) -> int:
    return Activity.objects.with_places_taken().get(pk=activity.pk).places_taken


def statuses(*registrations: Registration) -> list[str]:
    return [Registration.objects.get(pk=r.pk).status for r in registrations]


@pytest.fixture
def full_activity(make_activity, make_registration, now):
    """A full activity of 10 places (a party of 3 and one of 7) with a waitlist of the given
    party sizes, first come first in line."""

    def make(*waiting_sizes: int, **fields) -> tuple[Activity, Registration, list[Registration]]:
        activity = make_activity(capacity=10, max_party_size=7, **fields)
        three = make_registration(activity=activity, party_size=3)
        make_registration(activity=activity, party_size=7)
        waiting = [
            make_registration(
                activity=activity,
                party_size=size,
                status=Status.WAITLISTED,
                waitlisted_at=now - dt.timedelta(hours=len(waiting_sizes) - position),
            )
            for position, size in enumerate(waiting_sizes)
        ]
        return activity, three, waiting

    return make


def test_freed_places_go_in_waitlist_order_skipping_parties_that_do_not_fit(
    full_activity, now, tasks, django_capture_on_commit_callbacks
):
    activity, three, (four, two, one, last_two) = full_activity(4, 2, 1, 2)

    with django_capture_on_commit_callbacks(execute=True):
        services.cancel(three.pk)

    assert statuses(four, two, one, last_two) == [
        Status.WAITLISTED,
        Status.OFFERED,
        Status.OFFERED,
        Status.WAITLISTED,
    ]
    assert places_taken(activity) == 10
    assert offer_mails(tasks) == [two.pk, one.pk]


def test_waitlist_order_is_by_time_on_the_list_not_by_id(
    make_activity, make_registration, now, django_capture_on_commit_callbacks
):
    activity = make_activity(capacity=2, max_party_size=2)
    leaving = make_registration(activity=activity, party_size=2)
    later = make_registration(activity=activity, party_size=2, status=Status.WAITLISTED)
    later.waitlisted_at = now
    later.save()
    earlier = make_registration(
        activity=activity,
        party_size=2,
        status=Status.WAITLISTED,
        waitlisted_at=now - dt.timedelta(minutes=1),
    )

    services.cancel(leaving.pk)

    assert statuses(earlier, later) == [Status.OFFERED, Status.WAITLISTED]


def test_offer_is_valid_for_the_programmes_offer_hours(full_activity, programme, now):
    programme.offer_valid_hours = 12
    programme.save()
    _activity, three, (waiting,) = full_activity(2)

    services.cancel(three.pk)

    waiting.refresh_from_db()
    assert waiting.status == Status.OFFERED
    assert waiting.hold_expires_at == now + dt.timedelta(hours=12)


def test_offer_mail_is_enqueued_only_after_commit(
    full_activity, tasks, django_capture_on_commit_callbacks
):
    _activity, three, (waiting,) = full_activity(3)

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        services.cancel(three.pk)

    assert offer_mails(tasks) == []
    for callback in callbacks:
        callback()
    assert offer_mails(tasks) == [waiting.pk]
    (offer_result,) = [r for r in tasks.results if r.kwargs.get("kind") == "offer"]
    assert offer_result.kwargs == {"registration_id": waiting.pk, "kind": "offer", "force": False}


def test_no_offers_for_a_cancelled_activity(full_activity):
    activity, three, (waiting,) = full_activity(2)
    Activity.objects.filter(pk=activity.pk).update(status=Activity.Status.CANCELLED)

    services.cancel(three.pk, by_organiser=True)

    assert statuses(waiting) == [Status.WAITLISTED]


def test_unclaimed_offer_stops_holding_places_when_it_expires_and_tidy_passes_them_on(
    full_activity, now, time_machine, tasks, django_capture_on_commit_callbacks
):
    activity, three, (first, second) = full_activity(3, 3)
    services.cancel(three.pk)
    assert statuses(first, second) == [Status.OFFERED, Status.WAITLISTED]
    expires = now + dt.timedelta(hours=48)

    time_machine.move_to(expires - dt.timedelta(seconds=1), tick=False)
    assert places_taken(activity) == 10

    # The moment it expires the places are free, though no job has run and the row still says
    # "offered".
    time_machine.move_to(expires, tick=False)
    assert places_taken(activity) == 7
    assert Activity.objects.with_places_left().filter(pk=activity.pk).exists()
    assert statuses(first) == [Status.OFFERED]

    out = io.StringIO()
    with django_capture_on_commit_callbacks(execute=True):
        call_command("tidy_registrations", stdout=out)

    assert "Looked at 1 activities" in out.getvalue()
    assert statuses(first, second) == [Status.EXPIRED, Status.OFFERED]
    assert places_taken(activity) == 10
    second.refresh_from_db()
    assert second.hold_expires_at == expires + dt.timedelta(hours=48)
    assert offer_mails(tasks)[-1] == second.pk

    # Safe to repeat: nothing lapsed any more, nothing changes.
    out = io.StringIO()
    call_command("tidy_registrations", stdout=out)
    assert "Looked at 0 activities" in out.getvalue()
    assert statuses(first, second) == [Status.EXPIRED, Status.OFFERED]


def test_expired_payment_hold_frees_places_the_same_way(
    make_activity, make_registration, now, time_machine, django_capture_on_commit_callbacks
):
    paid = make_activity(capacity=4, max_party_size=4, price=Decimal("10.00"))
    with django_capture_on_commit_callbacks(execute=True):
        holding = services.register(
            paid.pk, SignUp(contact_name="Piet", email="piet@example.org", party_size=4)
        ).registration
        waiting = services.register(
            paid.pk, SignUp(contact_name="Kees", email="kees@example.org", party_size=2)
        ).registration
    assert (holding.status, waiting.status) == (Status.PENDING_PAYMENT, Status.WAITLISTED)

    time_machine.move_to(holding.hold_expires_at, tick=False)
    assert places_taken(paid) == 0

    call_command("tidy_registrations", stdout=io.StringIO())

    assert statuses(holding, waiting) == [Status.EXPIRED, Status.OFFERED]
    assert places_taken(paid) == 2


def test_newcomer_does_not_jump_the_waitlist_for_places_an_expired_offer_left(
    full_activity, now, time_machine, django_capture_on_commit_callbacks
):
    activity, three, (first, second) = full_activity(3, 3)
    services.cancel(three.pk)
    time_machine.move_to(now + dt.timedelta(hours=48), tick=False)

    with django_capture_on_commit_callbacks(execute=True):
        newcomer = services.register(
            activity.pk, SignUp(contact_name="Nieuw", email="nieuw@example.org", party_size=3)
        ).registration

    assert newcomer.status == Status.WAITLISTED
    assert statuses(first, second) == [Status.EXPIRED, Status.OFFERED]


def test_newcomer_takes_places_no_waiting_party_fits_into(
    full_activity, django_capture_on_commit_callbacks
):
    activity, three, (big,) = full_activity(5)
    services.cancel(three.pk)

    with django_capture_on_commit_callbacks(execute=True):
        newcomer = services.register(
            activity.pk, SignUp(contact_name="Nieuw", email="nieuw@example.org", party_size=3)
        ).registration

    assert newcomer.status == Status.CONFIRMED
    assert statuses(big) == [Status.WAITLISTED]

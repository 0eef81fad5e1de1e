from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from events.models import Activity, Programme
from registrations.models import Registration

# Engine-dependent, so CI runs it on SQLite too: the database enforces the constraints.
pytestmark = pytest.mark.engine_dependent


def _errors(instance) -> dict[str, list[str]]:
    with pytest.raises(ValidationError) as excinfo:
        instance.full_clean()
    return excinfo.value.message_dict


def test_valid_activity_passes_validation(activity):
    activity.full_clean()


def test_activity_must_end_after_it_starts(activity):
    activity.ends_at = activity.starts_at
    assert _errors(activity)["ends_at"] == ["De activiteit moet eindigen na het begin."]


def test_database_refuses_activity_ending_before_start(activity):
    activity.ends_at = activity.starts_at - dt.timedelta(hours=1)
    with pytest.raises(IntegrityError), transaction.atomic():
        activity.save()


def test_registration_must_close_before_the_activity_ends(activity):
    activity.registration_closes_at = activity.ends_at + dt.timedelta(minutes=1)
    assert _errors(activity)["registration_closes_at"] == [
        "Aanmelden moet sluiten vóór de activiteit is afgelopen."
    ]


def test_registration_must_close_after_it_opens(activity):
    activity.registration_opens_at = activity.starts_at - dt.timedelta(days=1)
    activity.registration_closes_at = activity.starts_at - dt.timedelta(days=2)
    assert "registration_closes_at" in _errors(activity)


def test_registration_must_open_before_the_activity_ends(activity):
    activity.registration_opens_at = activity.ends_at
    assert _errors(activity)["registration_opens_at"] == [
        "Aanmelden moet opengaan vóór de activiteit is afgelopen."
    ]


def test_capacity_must_be_at_least_one_or_empty(activity):
    activity.capacity = 0
    assert _errors(activity)["capacity"] == ["Het aantal plaatsen moet minstens 1 zijn."]
    activity.capacity = None
    activity.full_clean()


def test_price_must_not_be_negative(activity):
    activity.price = Decimal("-0.01")
    assert _errors(activity)["price"] == ["De prijs mag niet negatief zijn."]


def test_party_size_must_be_at_least_one(activity):
    activity.max_party_size = 0
    assert _errors(activity)["max_party_size"] == ["Een aanmelding is voor minstens 1 persoon."]


def test_party_size_cannot_exceed_capacity(activity):
    activity.capacity = 4
    activity.max_party_size = 5
    assert _errors(activity)["max_party_size"] == [
        "Een aanmelding kan niet meer personen hebben dan er plaatsen zijn (4)."
    ]


def test_activity_without_registration_cannot_cost_money(activity):
    activity.registration_required = False
    activity.price = Decimal("5.00")
    assert "price" in _errors(activity)


def test_activity_slug_is_unique_within_its_programme(activity, make_activity):
    with pytest.raises(IntegrityError), transaction.atomic():
        make_activity(slug=activity.slug)


def test_programme_must_not_end_before_it_starts(programme):
    programme.ends_on = programme.starts_on - dt.timedelta(days=1)
    assert _errors(programme)["ends_on"] == ["De einddatum mag niet vóór de begindatum liggen."]


@pytest.mark.parametrize("colour", ["red", "#12345", "#GGGGGG"])
def test_theme_colour_must_be_hex(programme, colour):
    programme.theme_colour = colour
    assert _errors(programme)["theme_colour"] == [
        "Geef een kleur als #RRGGBB, bijvoorbeeld #B41E1E."
    ]


def test_theme_colour_needs_contrast_with_white_text(programme):
    programme.theme_colour = "#FFD700"  # gold: white text on it is unreadable
    [message] = _errors(programme)["theme_colour"]
    assert message.startswith("Witte tekst op deze kleur heeft een contrast van 1,")
    programme.theme_colour = "#B41E1E"
    programme.full_clean()


def test_places_left_counts_confirmed_offered_and_unexpired_holds(activity, make_registration):
    now = timezone.now()
    make_registration(party_size=3, status=Registration.Status.CONFIRMED)
    make_registration(
        party_size=2,
        status=Registration.Status.OFFERED,
        hold_expires_at=now + dt.timedelta(hours=47),
    )
    make_registration(
        party_size=4,
        status=Registration.Status.PENDING_PAYMENT,
        hold_expires_at=now + dt.timedelta(minutes=10),
    )
    # None of these hold a place:
    make_registration(
        party_size=7,
        status=Registration.Status.OFFERED,
        hold_expires_at=now - dt.timedelta(seconds=1),
    )
    make_registration(
        party_size=5,
        status=Registration.Status.PENDING_PAYMENT,
        hold_expires_at=now - dt.timedelta(seconds=1),
    )
    for status in ["waitlisted", "cancelled", "expired", "pending_approval"]:
        make_registration(party_size=1, status=status)

    assert activity.capacity == 20
    assert Activity.objects.get(pk=activity.pk).places_left == 20 - 3 - 2 - 4


def test_places_left_never_goes_below_zero(make_activity, make_registration):
    small = make_activity(capacity=2, max_party_size=2)
    make_registration(activity=small, party_size=2)
    small.capacity = 1
    small.save()
    assert Activity.objects.with_places_taken().get(pk=small.pk).places_left == 0


def test_unlimited_activity_has_no_places_left_figure(make_activity):
    assert make_activity(capacity=None).places_left is None


def test_hold_stops_counting_the_moment_it_expires(activity, make_registration, time_machine):
    time_machine.move_to(timezone.now(), tick=False)
    expires = timezone.now() + dt.timedelta(minutes=30)
    make_registration(party_size=6, status="pending_payment", hold_expires_at=expires)
    assert (
        Activity.objects.with_places_taken(now=expires - dt.timedelta(seconds=1)).get().places_left
        == 14
    )
    time_machine.move_to(expires, tick=False)
    assert Activity.objects.with_places_taken().get().places_left == 20


def test_registration_is_open_until_the_activity_starts(activity):
    assert activity.registration_is_open()
    assert not activity.registration_is_open(now=activity.starts_at)


def test_registration_respects_window_status_and_need(activity):
    activity.registration_opens_at = timezone.now() + dt.timedelta(days=1)
    assert not activity.registration_is_open()
    activity.registration_opens_at = None
    activity.status = Activity.Status.CANCELLED
    assert not activity.registration_is_open()
    activity.status = Activity.Status.PUBLISHED
    activity.registration_required = False
    assert not activity.registration_is_open()


def test_featured_programme_is_the_one_running_or_starting_next(programme, make_programme):
    # `programme` runs from 1 December 2026 to 31 March 2027.
    make_programme(starts_on=dt.date(2026, 11, 1), ends_on=dt.date(2026, 12, 20), is_public=False)
    make_programme(starts_on=dt.date(2027, 10, 4), ends_on=dt.date(2027, 10, 10))
    earlier = make_programme(starts_on=dt.date(2023, 9, 1), ends_on=dt.date(2023, 10, 14))

    # Announced a year ahead, the fire-safety week does not take over while the centenary runs.
    assert Programme.objects.featured(today=dt.date(2026, 11, 26)) == programme
    assert Programme.objects.featured(today=dt.date(2027, 2, 1)) == programme
    # Once no public programme runs or is coming, the one that ended last.
    programme.is_public = False
    programme.save()
    assert Programme.objects.featured(today=dt.date(2028, 1, 1)).ends_on == dt.date(2027, 10, 10)
    assert Programme.objects.public().past(dt.date(2028, 1, 1)).last() == earlier

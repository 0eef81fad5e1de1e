"""`manage.py purge_personal_data`: personal data goes after the retention period; counts stay."""

from __future__ import annotations

import datetime as dt
import io

import pytest
from django.core.management import call_command
from django.db.models import Count, Sum

from registrations import retention
from registrations.models import Brigade, Invitation, Registration, RosterEntry

Status = Registration.Status
TODAY = dt.date(2027, 10, 1)


@pytest.fixture(autouse=True)
def today(time_machine):
    time_machine.move_to(dt.datetime(2027, 10, 1, 12, 0, tzinfo=dt.UTC), tick=False)


@pytest.fixture
def expired(programme):
    """Ended 31 March 2027, kept 180 days: until 27 September 2027, so purged on 1 October."""
    assert retention.retention_ends_on(programme) == dt.date(2027, 9, 27)
    return programme


@pytest.fixture
def current(make_programme):
    """Ended 31 March 2027 as well, but kept a year."""
    return make_programme(ends_on=dt.date(2027, 3, 31), retention_days=365)


def fill(programme, make_activity, make_registration) -> list[Registration]:
    activity = make_activity(programme=programme)
    registrations = [
        make_registration(
            activity=activity,
            kind=Registration.Kind.MEMBER,
            brigade=Brigade.SOEST,
            years_of_service=25,
            phone="06 12345678",
            party_size=2,
        ),
        make_registration(activity=activity, status=Status.CANCELLED, party_size=3),
        make_registration(activity=activity, status=Status.WAITLISTED, party_size=1),
    ]
    # A change, so the history holds an older copy of the personal data as well.
    registrations[0].contact_name = "Anna de Vries-Jansen"
    registrations[0].save()
    RosterEntry.objects.create(
        programme=programme, name="Anna de Vries", email="anna@example.org", brigade=Brigade.SOEST
    )
    Invitation.objects.create(activity=activity, name="Piet Brandsma", email="piet@example.org")
    return registrations


def counts(programme) -> dict:
    """What the programme report needs: parties and persons per status, kind and brigade."""
    return {
        (row["status"], row["kind"], row["brigade"]): (row["parties"], row["persons"])
        for row in Registration.objects.filter(activity__programme=programme)
        .values("status", "kind", "brigade")
        .annotate(parties=Count("pk"), persons=Sum("party_size"))
    }


def purge(*args: str) -> str:
    out = io.StringIO()
    call_command("purge_personal_data", *args, stdout=out)
    return out.getvalue()


def test_expired_programme_is_anonymised_and_counts_stay(
    expired, current, make_activity, make_registration
):
    old = fill(expired, make_activity, make_registration)
    kept = fill(current, make_activity, make_registration)
    before = counts(expired)

    output = purge()

    assert counts(expired) == before
    for registration in old:
        registration.refresh_from_db()
        assert (registration.contact_name, registration.email, registration.phone) == ("", "", "")
        assert registration.years_of_service is None
        assert registration.anonymised_at is not None
        assert not registration.history.exclude(contact_name="").exists()
        assert not registration.history.exclude(email="").exists()
    assert old[0].brigade == Brigade.SOEST
    assert old[0].kind == Registration.Kind.MEMBER
    assert not RosterEntry.objects.filter(programme=expired).exists()
    invitation = Invitation.objects.get(activity__programme=expired)
    assert (invitation.name, invitation.email) == ("", "")
    # The other programme is untouched.
    for registration in kept:
        registration.refresh_from_db()
        assert registration.email and registration.anonymised_at is None
    assert RosterEntry.objects.filter(programme=current).count() == 1
    assert Invitation.objects.get(activity__programme=current).email == "piet@example.org"
    assert (
        "Anonymised brandweer-100 (kept until 2027-09-27): 3 registrations, "
        "1 roster entries, 1 invitations." in output
    )
    assert "Anonymised 3 registrations in 1 programmes." in output


def test_programme_on_its_last_retention_day_is_kept(
    make_programme, make_activity, make_registration
):
    last_day = make_programme(ends_on=dt.date(2027, 9, 1), retention_days=30)
    registration = fill(last_day, make_activity, make_registration)[0]

    output = purge()

    registration.refresh_from_db()
    assert registration.email
    assert last_day.slug not in output


def test_nothing_to_purge_says_so(current):
    assert "No programme is past its retention period." in purge()


def test_purge_twice_changes_nothing_more(expired, make_activity, make_registration):
    fill(expired, make_activity, make_registration)
    purge()
    first = list(Registration.objects.values_list("pk", "anonymised_at", "updated_at"))

    output = purge()

    assert list(Registration.objects.values_list("pk", "anonymised_at", "updated_at")) == first
    assert "0 registrations, 0 roster entries, 0 invitations." in output


def test_dry_run_prints_and_changes_nothing(expired, make_activity, make_registration):
    registrations = fill(expired, make_activity, make_registration)
    before = list(Registration.objects.values())
    history_before = Registration.history.count()

    output = purge("--dry-run")

    assert (
        "Would anonymise brandweer-100 (kept until 2027-09-27): 3 registrations, "
        "1 roster entries, 1 invitations." in output
    )
    assert list(Registration.objects.values()) == before
    assert Registration.history.count() == history_before
    assert Registration.history.filter(contact_name=registrations[0].contact_name).exists()
    assert RosterEntry.objects.count() == 1
    assert Invitation.objects.get().email == "piet@example.org"

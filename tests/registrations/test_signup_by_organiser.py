"""`services.register(..., taken_by=...)`: an organiser signs someone up by phone or at the desk,
through the same service, lock and capacity rules as the website (the page is
tests/registrations/backoffice/test_desk.py)."""

from __future__ import annotations

import pytest

from registrations import services
from registrations.models import Registration
from registrations.services import SignUp, TakenBy
from tests.registrations.conftest import MAIL_TASK

Status = Registration.Status

pytestmark = [pytest.mark.usefixtures("tasks"), pytest.mark.engine_dependent]


def _sign_up(**fields) -> SignUp:
    values = {"contact_name": "Truus Hendriks", "email": "", "phone": "06 1234 5678"}
    values.update(fields)
    values.setdefault("party_size", 2)
    return SignUp(**values)


def _mails(tasks) -> list[tuple[int, str]]:
    return [
        (result.kwargs["registration_id"], result.kwargs["kind"])
        for result in tasks.results
        if result.task.module_path == MAIL_TASK
    ]


def test_a_sign_up_on_the_website_records_consent_given_there(activity):
    registration = services.register(
        activity.pk, _sign_up(email="anna@example.org", phone="")
    ).registration

    assert registration.consent_via == Registration.ConsentVia.WEB
    assert registration.consent_taken_by is None


def test_without_an_email_address_or_a_phone_number_nobody_is_signed_up(activity, organiser):
    with pytest.raises(services.ContactRequired):
        services.register(activity.pk, _sign_up(phone=" "), taken_by=TakenBy(organiser))
    # The website has no sign-up without an address either, whatever it is sent.
    with pytest.raises(services.ContactRequired):
        services.register(activity.pk, _sign_up())

    assert not Registration.objects.exists()


def test_the_organiser_does_not_jump_the_waitlist(
    make_activity, make_registration, organiser, django_capture_on_commit_callbacks
):
    small = make_activity(capacity=2, waitlist_enabled=True)
    make_registration(activity=small, party_size=2)
    waiting = make_registration(
        activity=small, party_size=1, status=Status.WAITLISTED, email="wacht@example.org"
    )
    Registration.objects.filter(activity=small, status=Status.CONFIRMED).update(party_size=1)

    # One place is free, but the party waiting for it gets it first.
    registration = services.register(
        small.pk,
        _sign_up(email="truus@example.org", party_size=1),
        taken_by=TakenBy(organiser),
    ).registration

    waiting.refresh_from_db()
    assert waiting.status == Status.OFFERED
    assert registration.status == Status.WAITLISTED


def test_a_repeat_by_the_organiser_changes_nothing_and_mails_nobody(
    activity, organiser, tasks, django_capture_on_commit_callbacks
):
    first = services.register(
        activity.pk, _sign_up(email="truus@example.org"), taken_by=TakenBy(organiser)
    )
    tasks.clear()

    with django_capture_on_commit_callbacks(execute=True):
        again = services.register(
            activity.pk,
            _sign_up(email="TRUUS@example.org", party_size=4),
            taken_by=TakenBy(organiser),
        )

    assert (again.created, again.registration.pk) == (False, first.registration.pk)
    assert again.registration.party_size == 2
    assert _mails(tasks) == []


def test_a_walk_in_of_the_same_name_is_no_repeat_of_a_phone_sign_up(
    activity, organiser, make_registration
):
    make_registration(contact_name="Truus Hendriks", email="", phone="")

    result = services.register(activity.pk, _sign_up(), taken_by=TakenBy(organiser))

    assert result.created is True
    assert result.registration.consent_taken_by == organiser
    assert Registration.objects.count() == 2

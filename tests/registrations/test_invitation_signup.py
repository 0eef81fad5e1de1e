"""Signing up from an invitation: the page opened from the e-mail fills in who the member is
(from the roster entry the invitation went to), the registration carries it, and the council
report counts the party among the members, not the residents."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from budget.report import programme_report
from events.models import Activity
from registrations import services
from registrations.models import Invitation, Registration, RosterEntry
from tests.helpers import signup_form

pytestmark = pytest.mark.usefixtures("tasks")


@pytest.fixture
def reunion(make_activity) -> Activity:
    return make_activity(title="Reünie", audience=Activity.Audience.MEMBERS)


@pytest.fixture
def former_member(programme) -> RosterEntry:
    return RosterEntry.objects.create(
        programme=programme,
        name="Kees Brandsma",
        email="kees@example.org",
        brigade="soesterberg",
        years_of_service=31,
        is_former=True,
    )


@pytest.fixture
def invitation(reunion, former_member) -> Invitation:
    # As the organiser's invitations make it: name and address from the roster entry.
    return Invitation.objects.create(
        activity=reunion, name=former_member.name, email="Kees@Example.org"
    )


def _tag(page: str, pattern: str) -> str:
    match = re.search(pattern, page)
    assert match, pattern
    return match[0]


def test_the_invitation_link_fills_in_who_the_member_is(client, reunion, invitation):
    page = client.get(f"{reunion.get_absolute_url()}?code={invitation.code}").content.decode()

    assert "checked" in _tag(page, r'<input[^>]*name="kind"[^>]*value="former_member"[^>]*>')
    assert "checked" not in _tag(page, r'<input[^>]*name="kind"[^>]*value="resident"[^>]*>')
    assert "selected" in _tag(page, r'<option value="soesterberg"[^>]*>')
    assert 'value="31"' in _tag(page, r'<input[^>]*name="years_of_service"[^>]*>')
    assert 'value="Kees Brandsma"' in _tag(page, r'<input[^>]*name="contact_name"[^>]*>')
    assert f'value="{invitation.code}"' in _tag(page, r'<input[^>]*name="invitation_code"[^>]*>')


def test_an_unknown_code_fills_in_nothing_but_the_code(client, reunion, invitation):
    page = client.get(f"{reunion.get_absolute_url()}?code=ONBEKEND").content.decode()

    assert "checked" in _tag(page, r'<input[^>]*name="kind"[^>]*value="resident"[^>]*>')
    assert "Kees" not in page


def test_signing_up_from_the_invitation_carries_kind_and_brigade_into_the_report(
    client, programme, reunion, invitation
):
    url = reverse(
        "registrations:signup",
        kwargs={"programme_slug": programme.slug, "slug": reunion.slug},
    )
    # The form as the invitation link filled it in.
    client.post(
        url,
        signup_form(
            contact_name="Kees Brandsma",
            email="kees@example.org",
            party_size="2",
            kind="former_member",
            brigade="soesterberg",
            years_of_service="31",
            invitation_code=invitation.code,
        ),
    )

    registration = Registration.objects.get(invitation=invitation)
    assert (registration.status, registration.kind, registration.brigade) == (
        Registration.Status.CONFIRMED,
        Registration.Kind.FORMER_MEMBER,
        "soesterberg",
    )
    kinds = {row.kind: row.registered for row in programme_report(programme).kinds}
    assert kinds == {"resident": 0, "member": 0, "former_member": 2, "guest": 0}


def test_the_roster_decides_even_when_the_form_said_resident(
    programme, reunion, programme_member_invitation
):
    sign_up = services.SignUp(
        contact_name="Jan",
        email="jan@example.org",
        party_size=3,
        invitation_code=programme_member_invitation.code,
    )  # kind left at its default, resident

    registration = services.register(reunion.pk, sign_up).registration

    assert (registration.kind, registration.brigade, registration.years_of_service) == (
        Registration.Kind.MEMBER,
        "soest",
        None,
    )
    kinds = {row.kind: row.registered for row in programme_report(programme).kinds}
    assert (kinds["member"], kinds["resident"]) == (3, 0)


def test_an_invitation_to_someone_no_longer_on_the_roster_keeps_what_they_filled_in(
    reunion, invitation, former_member
):
    former_member.delete()
    sign_up = services.SignUp(
        contact_name="Kees",
        email="kees@example.org",
        party_size=1,
        kind=Registration.Kind.GUEST,
        invitation_code=invitation.code,
    )

    registration = services.register(reunion.pk, sign_up).registration

    assert (registration.kind, registration.brigade) == (Registration.Kind.GUEST, "")


@pytest.fixture
def programme_member_invitation(programme, reunion) -> Invitation:
    RosterEntry.objects.create(
        programme=programme, name="Jan", email="jan@example.org", brigade="soest"
    )
    return Invitation.objects.create(activity=reunion, name="Jan", email="jan@example.org")

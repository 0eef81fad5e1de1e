"""The sign-up form on an activity page: rendering, validation, outcomes, honeypot, rate limit."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal
from functools import partial
from urllib.parse import urlsplit

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from django.utils.html import escape

from events.models import Activity
from registrations.models import Invitation, Registration, RosterEntry
from tests.helpers import signup_form

Status = Registration.Status


def page_url(activity: Activity) -> str:
    return activity.get_absolute_url()


def signup_url(activity: Activity) -> str:
    return reverse(
        "registrations:signup",
        kwargs={"programme_slug": activity.programme.slug, "slug": activity.slug},
    )


# The tests of this page sign up a party of three.
valid_data = partial(signup_form, party_size="3")


def html(response) -> str:
    return response.content.decode()


def input_tag(page: str, name: str) -> str:
    match = re.search(rf'<input[^>]*name="{name}"[^>]*>', page)
    assert match, f"no input named {name}"
    return match[0]


# --- The form as it is shown ------------------------------------------------------------------


def test_form_has_labels_hints_and_autocomplete(client, activity):
    page = html(client.get(page_url(activity)))

    assert f'action="{signup_url(activity)}"' in page
    for label in ("Naam", "E-mailadres", "Telefoonnummer (niet verplicht)", "Ik kom als"):
        assert label in page
    email = input_tag(page, "email")
    assert 'type="email"' in email
    assert 'autocomplete="email"' in email
    assert 'aria-describedby="id_email_helptext"' in email
    assert 'id="id_email_helptext"' in page
    assert 'autocomplete="tel"' in input_tag(page, "phone")
    assert 'autocomplete="name"' in input_tag(page, "contact_name")
    party = input_tag(page, "party_size")
    assert 'max="6"' in party and 'min="1"' in party
    assert "alleen voor leden en oud-leden" in page.lower()
    assert "Oud-lid" in page and "Gast" in page
    # Public activity: no invitation code.
    assert 'name="invitation_code"' not in page


def test_consent_links_to_the_privacy_statement(client, activity, programme):
    page = html(client.get(page_url(activity)))

    privacy = reverse("events:privacy", kwargs={"slug": programme.slug})
    assert f'<a href="{privacy}">privacyverklaring</a>' in page
    assert 'aria-describedby="id_consent_helptext"' in input_tag(page, "consent")


def test_honeypot_is_hidden_from_people_and_screen_readers(client, activity):
    page = html(client.get(page_url(activity)))

    trap = input_tag(page, "website")
    assert 'tabindex="-1"' in trap
    assert 'autocomplete="off"' in trap
    assert '<div class="field-trap" aria-hidden="true">' in page


def test_invitation_code_is_prefilled_from_the_link(client, make_activity):
    reunion = make_activity(audience=Activity.Audience.INVITATION)

    page = html(client.get(page_url(reunion) + "?code=abc123"))

    assert 'value="abc123"' in input_tag(page, "invitation_code")


def test_closed_registration_shows_no_form(client, make_activity):
    closed = make_activity(registration_closes_at=timezone.now() - dt.timedelta(hours=1))

    page = html(client.get(page_url(closed)))

    assert "Aanmelden is gesloten." in page
    assert '<form class="signup"' not in page


def test_full_activity_with_waitlist_offers_the_waitlist(client, make_activity, make_registration):
    full = make_activity(capacity=4, max_party_size=4)
    make_registration(activity=full, party_size=4)

    page = html(client.get(page_url(full)))

    assert "Zet me op de wachtlijst" in page
    assert ">Aanmelden</button>" not in page


def test_full_activity_without_waitlist_shows_no_form(client, make_activity, make_registration):
    full = make_activity(capacity=4, max_party_size=4, waitlist_enabled=False)
    make_registration(activity=full, party_size=4)

    page = html(client.get(page_url(full)))

    assert "Deze activiteit is vol." in page
    assert 'name="contact_name"' not in page


# --- Submitting -------------------------------------------------------------------------------


def signed_up_url(activity: Activity) -> str:
    return reverse(
        "registrations:signed_up",
        kwargs={"programme_slug": activity.programme.slug, "slug": activity.slug},
    )


CHECK_YOUR_EMAIL = "Kijk in je e-mail."


@pytest.fixture
def mailing(settings, django_capture_on_commit_callbacks):
    """Mail tasks run at once; `mailing(client.post, ...)` sends what the request enqueued when
    it commits (read it in `mailoutbox`)."""
    settings.TASKS = {"default": {"BACKEND": "django.tasks.backends.immediate.ImmediateBackend"}}

    def send(request, *args, **kwargs):
        with django_capture_on_commit_callbacks(execute=True):
            return request(*args, **kwargs)

    return send


def test_valid_sign_up_says_check_your_email_whose_link_opens_the_personal_page(
    client, activity, mailing, mailoutbox
):
    response = mailing(client.post, signup_url(activity), valid_data(), REMOTE_ADDR="10.0.0.1")

    registration = Registration.objects.get()
    assert response.status_code == 303
    assert response["Location"] == signed_up_url(activity)
    assert registration.status == Status.CONFIRMED
    assert registration.contact_name == "Anna de Vries"
    assert registration.party_size == 3
    assert registration.language == "nl"
    assert registration.consent_at is not None

    page = html(client.get(response["Location"]))
    assert CHECK_YOUR_EMAIL in page
    assert registration.manage_token not in page
    # The e-mail carries the personal link; it opens the personal page with the ticket.
    [mail] = mailoutbox
    link = re.search(r"https?://\S+/aanmelding/\S+/", mail.body)[0]
    personal = html(client.get(urlsplit(link).path))
    assert "Je bent aangemeld. Laat bij de ingang je toegangsbewijs zien." in personal
    assert registration.ticket_code in personal


def test_sign_up_in_english_records_the_language(client, activity):
    url = "/en" + signup_url(activity)

    response = client.post(url, valid_data())

    assert response.status_code == 303
    assert Registration.objects.get().language == "en"


def test_member_gives_brigade_and_years(client, activity):
    client.post(
        signup_url(activity),
        valid_data(kind="former_member", brigade="soesterberg", years_of_service="32"),
    )

    registration = Registration.objects.get()
    assert (registration.kind, registration.brigade, registration.years_of_service) == (
        "former_member",
        "soesterberg",
        32,
    )


def test_resident_brigade_is_dropped(client, activity):
    client.post(signup_url(activity), valid_data(brigade="soest", years_of_service="3"))

    registration = Registration.objects.get()
    assert (registration.brigade, registration.years_of_service) == ("", None)


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"contact_name": "  "}, "contact_name", "Vul je naam in."),
        ({"email": "anna@"}, "email", "Vul een geldig e-mailadres in, zoals naam@voorbeeld.nl."),
        (
            {"party_size": "7"},
            "party_size",
            "Voor deze activiteit is het grootste aantal personen per aanmelding 6.",
        ),
        ({"party_size": "0"}, "party_size", "Je komt met minstens 1 persoon: jezelf."),
        ({"consent": ""}, "consent", "Geef toestemming voor het gebruik van je gegevens"),
        ({"phone": "bel me"}, "phone", "Vul een telefoonnummer in met alleen cijfers"),
        ({"kind": "member"}, "brigade", "Kies bij welk korps je bent of was."),
    ],
)
def test_invalid_input_is_explained_and_changes_nothing(
    client, activity, overrides, field, message
):
    response = client.post(signup_url(activity), valid_data(**overrides))

    assert response.status_code == 200
    page = html(response)
    assert escape(message) in page
    # The summary links to the field; the field says what is wrong and points to it.
    assert 'id="error-summary" tabindex="-1" role="group"' in page
    assert re.search(rf'<a href="#id_{field}">{re.escape(escape(message))}', page)
    assert f'id="id_{field}_error"' in page
    assert "js/error-summary.js" in page
    # What was typed stays.
    assert "Anna de Vries" in page or overrides.get("contact_name")
    assert Registration.objects.count() == 0


@pytest.mark.engine_dependent
@pytest.mark.parametrize("field", ["contact_name", "email", "phone", "invitation_code"])
def test_a_nul_character_in_the_form_is_refused_at_its_field(client, make_activity, field):
    """Django's CharField refuses NUL (PostgreSQL would, with a 500); so does every field here."""
    reunion = make_activity(audience=Activity.Audience.INVITATION)

    response = client.post(signup_url(reunion), valid_data(**{field: "Anna\x00"}))

    assert response.status_code == 200
    assert "Null-tekens zijn niet toegestaan." in response.context["signup_form"].errors[field]
    assert Registration.objects.count() == 0


def test_unknown_invitation_code_is_shown_at_the_field(client, make_activity):
    reunion = make_activity(audience=Activity.Audience.INVITATION)
    Invitation.objects.create(activity=reunion, name="Piet", email="piet@example.org")

    response = client.post(signup_url(reunion), valid_data(invitation_code="NOPE"))

    assert response.status_code == 200
    page = html(response)
    assert "Deze uitnodigingscode kennen we niet voor deze activiteit." in page
    assert 'id="id_invitation_code_error"' in page
    assert Registration.objects.count() == 0


def test_valid_invitation_code_confirms_at_once(client, make_activity):
    reunion = make_activity(audience=Activity.Audience.INVITATION)
    invitation = Invitation.objects.create(activity=reunion, name="Piet", email="p@example.org")

    client.post(signup_url(reunion), valid_data(invitation_code=invitation.code.lower()))

    registration = Registration.objects.get()
    assert registration.status == Status.CONFIRMED
    assert registration.invitation == invitation


def test_closed_registration_is_refused_with_a_message(client, make_activity):
    closed = make_activity(registration_closes_at=timezone.now() - dt.timedelta(hours=1))

    response = client.post(signup_url(closed), valid_data())

    assert response.status_code == 200
    assert "Aanmelden voor deze activiteit is niet (meer) mogelijk." in html(response)
    assert Registration.objects.count() == 0


def test_full_without_waitlist_is_refused_with_a_message(client, make_activity, make_registration):
    small = make_activity(capacity=4, max_party_size=4, waitlist_enabled=False)
    make_registration(activity=small, party_size=3)

    response = client.post(signup_url(small), valid_data(party_size="2"))

    assert "Deze activiteit is vol en heeft geen wachtlijst." in html(response)
    assert Registration.objects.filter(activity=small).count() == 1


def test_draft_activity_has_no_sign_up(client, make_activity):
    draft = make_activity(status=Activity.Status.DRAFT)

    assert client.post(signup_url(draft), valid_data()).status_code == 404
    assert Registration.objects.count() == 0


def test_get_is_not_allowed(client, activity):
    assert client.get(signup_url(activity)).status_code == 405


def test_double_submit_creates_one_registration(client, activity):
    first = client.post(signup_url(activity), valid_data())
    second = client.post(signup_url(activity), valid_data(email="ANNA@example.org"))

    assert Registration.objects.count() == 1
    assert first["Location"] == second["Location"] == signed_up_url(activity)


def test_someone_else_typing_a_signed_up_address_sees_what_a_new_sign_up_sees(
    client, activity, mailing, mailoutbox
):
    """Issue 16: a repeat got a page of its own ("this address was already signed up")."""
    mailing(client.post, signup_url(activity), valid_data())
    registration = Registration.objects.get()

    stranger = Client()
    repeat = mailing(stranger.post, signup_url(activity), valid_data(contact_name="Iemand"))
    new = mailing(stranger.post, signup_url(activity), valid_data(email="bert@example.org"))

    assert (repeat.status_code, repeat["Location"]) == (new.status_code, new["Location"])
    page = html(stranger.get(repeat["Location"]))
    # The same page, but for the CSRF tokens, which are masked afresh on every page.
    unmasked = partial(re.sub, r"\b[A-Za-z0-9]{64}\b", "")
    assert unmasked(page) == unmasked(html(stranger.get(new["Location"])))
    assert registration.manage_token not in page
    assert "al aangemeld voor deze activiteit" not in page
    assert Registration.objects.filter(email="anna@example.org").get().contact_name == (
        "Anna de Vries"
    )
    # The owner of the address is told, and given the link; nobody else.
    assert [(mail.to, mail.subject.split(":")[0]) for mail in mailoutbox] == [
        (["anna@example.org"], "Je aanmelding is bevestigd"),
        (["anna@example.org"], "Je was al aangemeld"),
        (["bert@example.org"], "Je aanmelding is bevestigd"),
    ]


def test_a_repeat_on_an_invitation_only_activity_is_asked_the_questions_first(
    client, make_activity, make_registration
):
    """The radicalisation training of the demo: the address alone got the repeat's page."""
    training = make_activity(audience=Activity.Audience.INVITATION)
    question = training.questions.create(label="Organisatie", kind="text", required=True)
    make_registration(activity=training, email="anna@example.org", status=Status.PENDING_APPROVAL)

    response = client.post(signup_url(training), valid_data())

    assert response.status_code == 200
    assert response.context["signup_form"].errors[f"question_{question.pk}"]
    assert Registration.objects.count() == 1


@pytest.mark.parametrize(
    ("setup", "message"),
    [
        ("full", "Je staat als 1e op de wachtlijst."),
        ("members", "Een organisator bekijkt je aanmelding."),
        ("paid", "Je plaatsen worden vastgehouden tot"),
    ],
)
def test_the_personal_page_says_what_happened(
    client, make_activity, make_registration, setup, message
):
    if setup == "full":
        target = make_activity(capacity=4, max_party_size=4)
        make_registration(activity=target, party_size=4)
    elif setup == "members":
        target = make_activity(audience=Activity.Audience.MEMBERS)
    else:
        target = make_activity(price=Decimal("12.50"))

    response = client.post(signup_url(target), valid_data(party_size="2"))

    assert response["Location"] == signed_up_url(target)
    registration = Registration.objects.get(email="anna@example.org")
    manage = reverse("registrations:manage", kwargs={"token": registration.manage_token})
    assert message in html(client.get(manage))


def test_member_on_the_roster_is_confirmed(client, make_activity, programme):
    dinner = make_activity(audience=Activity.Audience.MEMBERS)
    RosterEntry.objects.create(
        programme=programme, name="Anna", email="anna@example.org", brigade="soest"
    )

    client.post(signup_url(dinner), valid_data(kind="member", brigade="soest"))

    assert Registration.objects.get().status == Status.CONFIRMED


# --- Bots and floods --------------------------------------------------------------------------


def test_filled_honeypot_pretends_success_and_stores_nothing(client, activity):
    response = client.post(signup_url(activity), valid_data(website="https://spam.example"))

    assert response.status_code == 303
    assert response["Location"] == signed_up_url(activity)
    page = html(client.get(response["Location"]))
    assert CHECK_YOUR_EMAIL in page
    assert "leeg" not in page.lower().split("<main", 1)[1]
    assert Registration.objects.count() == 0


def test_filled_honeypot_with_invalid_data_looks_the_same(client, activity):
    response = client.post(signup_url(activity), {"website": "x"})

    assert response["Location"] == signed_up_url(activity)
    assert Registration.objects.count() == 0


def test_eleventh_sign_up_from_one_address_gets_the_429_page(client, activity):
    for n in range(10):
        response = client.post(
            signup_url(activity), valid_data(email=f"p{n}@example.org"), REMOTE_ADDR="10.0.0.9"
        )
        assert response.status_code == 303

    response = client.post(
        signup_url(activity), valid_data(email="p10@example.org"), REMOTE_ADDR="10.0.0.9"
    )

    assert response.status_code == 429
    assert int(response["Retry-After"]) <= 600
    assert "Even wachten, alsjeblieft" in html(response)
    assert Registration.objects.count() == 10
    # Someone else is not held up.
    other = client.post(
        signup_url(activity), valid_data(email="q@example.org"), REMOTE_ADDR="10.0.0.10"
    )
    assert other.status_code == 303


def test_rate_limit_window_passes(client, activity, settings, time_machine):
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "signup": (1, 60)}
    start = timezone.now().replace(second=5, microsecond=0)
    time_machine.move_to(start, tick=False)
    assert client.post(signup_url(activity), valid_data()).status_code == 303
    assert client.post(signup_url(activity), valid_data()).status_code == 429

    time_machine.move_to(start + dt.timedelta(minutes=1), tick=False)

    assert client.post(signup_url(activity), valid_data()).status_code == 303

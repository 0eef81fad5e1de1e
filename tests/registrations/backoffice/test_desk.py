"""Sign-ups taken by phone or at the town-hall desk (registrations/backoffice/desk.py): an
organiser signs a person up through the same service as the website, and prints a ticket for
whoever has no e-mail address."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest
import zxingcpp
from django.contrib.messages import get_messages
from django.urls import reverse
from PIL import Image, ImageDraw

from budget.report import programme_report
from events.models import Activity, Question
from registrations.models import Answer, Registration
from registrations.tokens import ticket_qr_payload
from tests.registrations.conftest import MAIL_TASK

Status = Registration.Status


@pytest.fixture
def organiser_client(client, organiser):
    client.force_login(organiser)
    return client


def _desk_url(activity) -> str:
    return reverse(
        "organiser:desk_signup",
        kwargs={"programme_slug": activity.programme.slug, "activity_slug": activity.slug},
    )


def _ticket_url(registration) -> str:
    return reverse(
        "organiser:ticket",
        kwargs={
            "programme_slug": registration.activity.programme.slug,
            "registration_id": registration.pk,
        },
    )


def _activity_url(activity) -> str:
    return reverse(
        "organiser:activity",
        kwargs={"programme_slug": activity.programme.slug, "activity_slug": activity.slug},
    )


def _data(**overrides) -> dict[str, str]:
    data = {
        "consent_via": "phone",
        "contact_name": "Truus Hendriks",
        "email": "",
        "phone": "06-1234 5678",
        "party_size": "2",
        "kind": "resident",
        "brigade": "",
        "years_of_service": "",
        "language": "nl",
        "consent": "on",
    }
    data.update(overrides)
    return data


def _messages(response) -> list[str]:
    return [str(message) for message in get_messages(response.wsgi_request)]


def _mails(tasks) -> list[tuple[int, str]]:
    return [
        (result.kwargs["registration_id"], result.kwargs["kind"])
        for result in tasks.results
        if result.task.module_path == MAIL_TASK
    ]


def _decode_svg_qr(svg: str) -> str:
    """Read the page's QR with zxing-cpp: paint the SVG's modules (qrcode's path image draws
    each dark module as `Mx,yH..V..H..z`) onto a bitmap and decode that."""
    size = int(re.search(r'viewBox="0 0 (\d+) \d+"', svg)[1])
    scale = 8
    image = Image.new("L", (size * scale, size * scale), 255)
    draw = ImageDraw.Draw(image)
    modules = re.findall(r"M(\d+),(\d+)H", svg)
    assert modules
    for x, y in modules:
        left, top = int(x) * scale, int(y) * scale
        draw.rectangle([left, top, left + scale - 1, top + scale - 1], fill=0)
    (barcode,) = zxingcpp.read_barcodes(image)
    return barcode.text


# --- Signing up --------------------------------------------------------------------------------


def test_desk_signup_with_email_confirms_and_mails_the_personal_link(
    organiser_client, organiser, activity, tasks, now, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = organiser_client.post(
            _desk_url(activity), _data(email="truus@example.org", consent_via="desk")
        )

    assert response.status_code == 303
    assert response["Location"] == _activity_url(activity)
    registration = Registration.objects.get()
    assert registration.status == Status.CONFIRMED
    assert registration.email == "truus@example.org"
    assert registration.phone == "06-1234 5678"
    assert _mails(tasks) == [(registration.pk, "confirmation")]
    assert _messages(response) == [
        "Truus Hendriks is aangemeld. De bevestiging met de persoonlijke link gaat per e-mail "
        "naar truus@example.org."
    ]
    # Consent: when, how, and to whom it was given.
    assert registration.consent_at == now
    assert registration.consent_via == Registration.ConsentVia.DESK
    assert registration.consent_taken_by == organiser


def test_desk_signup_without_email_lands_on_a_ticket_whose_qr_reads_as_its_code(
    organiser_client, organiser, activity, tasks, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = organiser_client.post(_desk_url(activity), _data())

    registration = Registration.objects.get()
    assert registration.status == Status.CONFIRMED
    assert registration.email == ""
    assert registration.consent_via == Registration.ConsentVia.PHONE
    assert registration.consent_taken_by == organiser
    assert response.status_code == 303
    assert response["Location"] == _ticket_url(registration)

    page = organiser_client.get(response["Location"])

    assert page.status_code == 200
    assert "no-store" in page["Cache-Control"]
    html = page.content.decode()
    svg = re.search(r"<svg.*?</svg>", html, re.S)[0]
    assert 'aria-label="QR-code van je toegangsbewijs"' in svg
    assert _decode_svg_qr(svg) == ticket_qr_payload(registration.ticket_code)
    assert f'<span class="ticket__code">{registration.ticket_code}</span>' in html
    assert "Truus Hendriks" in html
    assert "Kinderbrandweermiddag" in html
    assert "Kazerne Soest, Birkstraat 1, 3768 HD Soest" in html
    assert "Het geldt voor 2 personen." in html
    assert "css/print.css" in html
    assert "Druk het kaartje af" in html  # the message, shown once on screen


def test_full_activity_puts_the_party_on_the_waitlist_and_says_so(
    organiser_client, make_activity, make_registration
):
    full = make_activity(capacity=2, waitlist_enabled=True)
    make_registration(activity=full, party_size=2)

    response = organiser_client.post(_desk_url(full), _data(email="truus@example.org"), follow=True)

    registration = Registration.objects.get(email="truus@example.org")
    assert registration.status == Status.WAITLISTED
    assert (
        "De activiteit is vol: Truus Hendriks staat als 1e op de wachtlijst. Komt er een plaats "
        "vrij, dan krijgt Truus Hendriks een e-mail op truus@example.org."
    ) in response.content.decode()


def test_full_activity_without_email_is_refused_and_nothing_is_saved(
    organiser_client, make_activity, make_registration
):
    full = make_activity(capacity=2, waitlist_enabled=True)
    make_registration(activity=full, party_size=2)

    response = organiser_client.post(_desk_url(full), _data())

    assert response.status_code == 200
    assert "Op de wachtlijst kan alleen iemand met een e-mailadres" in response.content.decode()
    assert "Er is niets opgeslagen." in response.content.decode()
    assert Registration.objects.filter(contact_name="Truus Hendriks").count() == 0


def test_paid_activity_without_email_is_refused_at_the_field_and_nothing_is_saved(
    organiser_client, make_activity
):
    paid = make_activity(price=Decimal("7.50"))

    response = organiser_client.post(_desk_url(paid), _data())

    assert response.status_code == 200
    form = response.context["form"]
    assert form.errors["email"] == [
        "Deze activiteit kost geld. Betalen gaat met een betaallink per e-mail, en aan de balie "
        "kunnen we geen betaling vastleggen: vul een e-mailadres in."
    ]
    assert not Registration.objects.exists()


def test_paid_activity_with_email_holds_places_and_mails_the_payment_link(
    organiser_client, make_activity, tasks, django_capture_on_commit_callbacks
):
    paid = make_activity(price=Decimal("7.50"))

    with django_capture_on_commit_callbacks(execute=True):
        response = organiser_client.post(_desk_url(paid), _data(email="truus@example.org"))

    registration = Registration.objects.get()
    assert registration.status == Status.PENDING_PAYMENT
    assert _mails(tasks) == [(registration.pk, "pending_payment")]
    assert "De betaallink gaat per e-mail naar truus@example.org" in _messages(response)[0]


def test_the_organiser_is_not_rate_limited(organiser_client, client, activity, settings):
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "signup": (1, 600)}

    statuses = [
        organiser_client.post(
            _desk_url(activity),
            _data(contact_name=f"Beller {n}", phone=f"06-1234 56{n:02}"),
            REMOTE_ADDR="10.0.0.7",
        ).status_code
        for n in range(6)
    ]

    assert statuses == [303] * 6
    assert Registration.objects.filter(consent_via=Registration.ConsentVia.PHONE).count() == 6


def test_an_invitation_only_activity_needs_no_approval(organiser_client, make_activity):
    closed = make_activity(audience=Activity.Audience.INVITATION)

    organiser_client.post(_desk_url(closed), _data(email="truus@example.org"))

    assert Registration.objects.get().status == Status.CONFIRMED


def test_a_members_activity_needs_no_approval_for_someone_off_the_roster(
    organiser_client, make_activity
):
    reunion = make_activity(audience=Activity.Audience.MEMBERS)

    organiser_client.post(
        _desk_url(reunion),
        _data(email="oud@example.org", kind="former_member", brigade="soesterberg"),
    )

    assert Registration.objects.get().status == Status.CONFIRMED


# --- Checks ------------------------------------------------------------------------------------


def test_a_phone_number_or_an_email_address_is_needed(organiser_client, activity):
    response = organiser_client.post(_desk_url(activity), _data(phone=""))

    assert response.context["form"].errors["phone"] == [
        "Vul een telefoonnummer of een e-mailadres in."
    ]
    assert not Registration.objects.exists()


def test_the_phone_number_is_checked_as_on_the_website(organiser_client, activity):
    response = organiser_client.post(_desk_url(activity), _data(phone="bel me maar"))

    assert response.context["form"].errors["phone"] == [
        "Vul een telefoonnummer in met alleen cijfers, spaties en eventueel een +."
    ]
    assert not Registration.objects.exists()


def test_consent_must_be_asked(organiser_client, activity):
    response = organiser_client.post(_desk_url(activity), _data(consent=""))

    assert "consent" in response.context["form"].errors
    assert not Registration.objects.exists()


def test_a_member_needs_a_brigade(organiser_client, activity):
    response = organiser_client.post(_desk_url(activity), _data(kind="member"))

    assert response.context["form"].errors["brigade"] == ["Kies bij welk korps je bent of was."]
    assert not Registration.objects.exists()


def test_the_extra_questions_are_asked_and_answered(organiser_client, activity):
    question = Question.objects.create(
        activity=activity, label="Leeftijden van de kinderen", kind="text", required=True
    )
    field = f"question_{question.pk}"

    refused = organiser_client.post(_desk_url(activity), _data())
    organiser_client.post(_desk_url(activity), _data(**{field: "4 en 7"}))

    assert refused.context["form"].errors[field] == [
        "Beantwoord de vraag “Leeftijden van de kinderen”."
    ]
    assert Answer.objects.get().value == "4 en 7"
    assert Answer.objects.get().registration.contact_name == "Truus Hendriks"


def test_the_party_size_is_limited_as_on_the_website(organiser_client, activity):
    response = organiser_client.post(_desk_url(activity), _data(party_size="7"))

    assert response.context["form"].errors["party_size"] == [
        "Voor deze activiteit is het grootste aantal personen per aanmelding 6."
    ]
    assert not Registration.objects.exists()


# --- Twice -------------------------------------------------------------------------------------


def test_sending_the_same_phone_signup_twice_makes_one_registration(organiser_client, activity):
    first = organiser_client.post(_desk_url(activity), _data())
    # The same person, the number typed differently.
    second = organiser_client.post(
        _desk_url(activity), _data(contact_name="truus hendriks", phone="0612345678")
    )

    registration = Registration.objects.get()
    assert second["Location"] == first["Location"] == _ticket_url(registration)
    # (The first sign-up's message is still waiting: nobody followed its redirect.)
    assert _messages(second)[-1] == (
        "Truus Hendriks stond al aangemeld voor deze activiteit (hetzelfde e-mailadres, of "
        "dezelfde naam en hetzelfde telefoonnummer). Er is niets dubbel opgeslagen."
    )


def test_sending_the_same_email_signup_twice_makes_one_registration(organiser_client, activity):
    organiser_client.post(_desk_url(activity), _data(email="truus@example.org"))
    second = organiser_client.post(_desk_url(activity), _data(email="Truus@Example.org"))

    assert Registration.objects.count() == 1
    assert "Truus Hendriks stond al aangemeld" in _messages(second)[-1]


def test_a_second_person_with_the_same_phone_but_another_name_is_signed_up(
    organiser_client, activity
):
    organiser_client.post(_desk_url(activity), _data())
    organiser_client.post(_desk_url(activity), _data(contact_name="Kees Hendriks"))

    assert Registration.objects.count() == 2


# --- Who may ------------------------------------------------------------------------------------


def test_a_viewer_may_not_sign_anyone_up_nor_print_a_ticket(
    client, viewer, activity, make_registration
):
    registration = make_registration()
    client.force_login(viewer)

    assert client.get(_desk_url(activity)).status_code == 403
    assert client.post(_desk_url(activity), _data()).status_code == 403
    assert client.get(_ticket_url(registration)).status_code == 403
    assert Registration.objects.count() == 1


def test_another_programmes_organiser_gets_404(client, stranger, activity, make_registration):
    registration = make_registration()
    client.force_login(stranger)

    assert client.get(_desk_url(activity)).status_code == 404
    assert client.post(_desk_url(activity), _data()).status_code == 404
    assert client.get(_ticket_url(registration)).status_code == 404
    assert Registration.objects.count() == 1


# --- Tickets on the activity page --------------------------------------------------------------


def test_the_activity_page_offers_a_ticket_for_every_confirmed_party_only(
    organiser_client, activity, make_registration
):
    confirmed = make_registration(contact_name="Bevestigd")
    waiting = make_registration(contact_name="Wachtend", status=Status.WAITLISTED)

    html = organiser_client.get(_activity_url(activity)).content.decode()

    assert f'href="{_ticket_url(confirmed)}"' in html
    assert _ticket_url(waiting) not in html
    assert f'href="{_desk_url(activity)}"' in html


def test_a_viewer_sees_neither_the_desk_nor_the_tickets(
    client, viewer, activity, make_registration
):
    confirmed = make_registration()
    client.force_login(viewer)

    html = client.get(_activity_url(activity)).content.decode()

    assert _ticket_url(confirmed) not in html
    assert _desk_url(activity) not in html


def test_a_party_that_is_not_confirmed_has_no_ticket_to_print(organiser_client, make_registration):
    waiting = make_registration(status=Status.WAITLISTED)

    html = organiser_client.get(_ticket_url(waiting)).content.decode()

    assert "<svg" not in html
    assert waiting.ticket_code not in html
    assert "Een kaartje is er alleen voor een bevestigde aanmelding." in html


# --- The council report ------------------------------------------------------------------------


def test_a_former_member_signed_up_by_phone_counts_as_a_former_member(
    organiser_client, programme, activity
):
    organiser_client.post(
        _desk_url(activity),
        _data(kind="former_member", brigade="soest", years_of_service="30", party_size="3"),
    )

    kinds = {row.kind: row.registered for row in programme_report(programme).kinds}
    assert kinds["former_member"] == 3
    assert kinds["resident"] == 0

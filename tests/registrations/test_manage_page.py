"""The personal page behind the link: status, ticket, and what a person can do there."""

from __future__ import annotations

import datetime as dt
import re

import icalendar
import pytest
from django.urls import reverse
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from events.models import Activity
from registrations.models import Registration

Status = Registration.Status
MAIL_TASK = "registrations.tasks.send_registration_mail"


@pytest.fixture
def registration(make_registration) -> Registration:
    return make_registration(contact_name="Anna de Vries", party_size=2)


def url(name: str, registration: Registration) -> str:
    return reverse(f"registrations:{name}", kwargs={"token": registration.manage_token})


def html(response) -> str:
    return response.content.decode()


def reload(registration: Registration) -> Registration:
    return Registration.objects.get(pk=registration.pk)


def mail_tasks() -> list[dict]:
    return [
        result.args_kwargs["kwargs"]
        for result in DBTaskResult.objects.filter(task_path=MAIL_TASK).order_by("enqueued_at")
    ]


# --- Looking at it ----------------------------------------------------------------------------


def test_confirmed_registration_shows_status_activity_and_ticket(client, registration):
    response = client.get(url("manage", registration))

    assert response.status_code == 200
    page = html(response)
    assert "Bevestigd" in page
    assert "Je bent aangemeld." in page
    assert registration.activity.title in page
    assert registration.activity.location_name in page
    assert "Anna de Vries" in page
    svg = re.search(r"<svg[^>]*>", page)[0]
    assert 'role="img"' in svg
    assert 'aria-label="QR-code van je toegangsbewijs"' in svg
    assert 'viewBox="0 0 ' in svg
    assert f'<span class="ticket__code">{registration.ticket_code}</span>' in page
    assert "Hij geldt voor 2 personen." in page


def test_personal_page_is_private(client, registration):
    response = client.get(url("manage", registration))

    assert "no-store" in response["Cache-Control"]
    assert response["Referrer-Policy"] == "same-origin"
    assert "noindex" in response["X-Robots-Tag"]


def test_personal_page_in_english(client, registration):
    response = client.get("/en" + url("manage", registration))

    assert response.status_code == 200
    assert 'lang="en"' in html(response)


@pytest.mark.parametrize(
    "token",
    [
        "A" * 20,  # the right shape, but nobody's
        "short",
        "x" * 21,
        "AAAAAAAAAAAAAAAAAAA!",
    ],
)
def test_unknown_or_tampered_token_is_our_404(client, registration, token):
    response = client.get(reverse("registrations:manage", kwargs={"token": token}))

    assert response.status_code == 404
    assert "Deze pagina bestaat niet (meer)" in html(response)


def test_a_changed_character_finds_nothing(client, registration):
    token = registration.manage_token
    tampered = token[:-1] + ("A" if token[-1] != "A" else "B")

    assert (
        client.get(reverse("registrations:manage", kwargs={"token": tampered})).status_code == 404
    )


def test_ticket_code_is_not_a_personal_link(client, registration):
    response = client.get(
        reverse("registrations:manage", kwargs={"token": registration.ticket_code})
    )

    assert response.status_code == 404


def test_page_query_count_is_bounded(client, registration, django_assert_max_num_queries):
    # The lookup with its activity and programme is one query; the rest is the session.
    with django_assert_max_num_queries(3):
        client.get(url("manage", registration))


@pytest.mark.parametrize(
    ("status", "sentence"),
    [
        (Status.WAITLISTED, "Je staat als 1e op de wachtlijst."),
        (Status.PENDING_APPROVAL, "Een organisator bekijkt je aanmelding."),
        (Status.CANCELLED, "Je aanmelding is geannuleerd."),
    ],
)
def test_other_statuses_in_plain_words_without_ticket(client, make_registration, status, sentence):
    registration = make_registration(status=status)

    page = html(client.get(url("manage", registration)))

    assert sentence in page
    assert "<svg" not in page
    assert registration.ticket_code not in page


def test_calendar_file_for_the_activity(client, registration):
    response = client.get(url("ics", registration))

    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/calendar")
    assert response["Referrer-Policy"] == "same-origin"
    calendar = icalendar.Calendar.from_ical(response.content)
    (event,) = calendar.walk("VEVENT")
    assert str(event["SUMMARY"]) == registration.activity.title


# --- Changing the party size ------------------------------------------------------------------


def test_change_party_size(client, registration):
    response = client.post(url("change_size", registration), {"party_size": "4"})

    assert response.status_code == 303
    assert response["Location"] == url("manage", registration)
    assert reload(registration).party_size == 4
    assert "Je aanmelding is nu voor 4 personen." in html(client.get(response["Location"]))


def test_change_party_size_beyond_the_maximum_is_refused(client, registration):
    response = client.post(url("change_size", registration), {"party_size": "9"})

    assert response.status_code == 200
    assert "het grootste aantal personen per aanmelding 6" in html(response)
    assert reload(registration).party_size == 2


def test_change_party_size_without_room_is_refused(client, make_activity, make_registration):
    small = make_activity(capacity=4, max_party_size=4)
    registration = make_registration(activity=small, party_size=2)
    make_registration(activity=small, party_size=2)

    response = client.post(url("change_size", registration), {"party_size": "3"})

    assert "Er zijn niet genoeg plaatsen vrij" in html(response)
    assert reload(registration).party_size == 2


def test_refused_change_is_told_at_the_top_linked_to_the_field(
    client, make_activity, make_registration
):
    small = make_activity(capacity=4, max_party_size=4)
    registration = make_registration(activity=small, party_size=2)
    make_registration(activity=small, party_size=2)

    page = html(client.post(url("change_size", registration), {"party_size": "3"}))

    summary = re.search(r'<div class="error-summary" id="size-errors".*?</div>', page, re.S)
    assert summary is not None
    assert "autofocus" in summary[0]
    assert '<h2 id="size-errors-title">' in summary[0]
    assert re.search(r'<a href="#id_party_size">Er zijn niet genoeg plaatsen vrij', summary[0])
    # Above the status and everything else the page says, right under the heading.
    assert page.index('id="size-errors"') < page.index('class="status-box')


def test_no_changes_after_the_deadline(client, make_activity, make_registration):
    soon = make_activity(cancellation_closes_at=timezone.now() - dt.timedelta(minutes=1))
    registration = make_registration(activity=soon)

    page = html(client.get(url("manage", registration)))
    assert "Aantal wijzigen" not in page
    assert url("cancel", registration) not in page

    client.post(url("change_size", registration), {"party_size": "3"})
    assert reload(registration).party_size == 2


# --- Cancelling -------------------------------------------------------------------------------


def test_cancel_goes_through_a_confirm_step(client, registration):
    page = html(client.get(url("manage", registration)))
    assert f'href="{url("cancel", registration)}"' in page

    confirm = client.get(url("cancel", registration))
    assert confirm.status_code == 200
    assert "Ja, annuleer mijn aanmelding" in html(confirm)
    assert confirm["Referrer-Policy"] == "same-origin"
    assert reload(registration).status == Status.CONFIRMED

    response = client.post(url("cancel", registration))

    assert response.status_code == 303
    assert reload(registration).status == Status.CANCELLED
    page = html(client.get(response["Location"]))
    assert "Je aanmelding is geannuleerd." in page
    assert "<svg" not in page
    assert "Je gegevens verwijderen" in page


def test_cancel_after_the_deadline_is_refused(client, make_activity, make_registration):
    soon = make_activity(cancellation_closes_at=timezone.now() - dt.timedelta(minutes=1))
    registration = make_registration(activity=soon)

    assert "kun je niet (meer) annuleren" in html(client.get(url("cancel", registration)))
    response = client.post(url("cancel", registration))

    assert reload(registration).status == Status.CONFIRMED
    assert "Annuleren kan niet meer" in html(client.get(response["Location"]))


def test_cancel_frees_places_for_the_waitlist(client, make_activity, make_registration):
    small = make_activity(capacity=2, max_party_size=2)
    registration = make_registration(activity=small, party_size=2)
    waiting = make_registration(
        activity=small, status=Status.WAITLISTED, waitlisted_at=timezone.now()
    )

    client.post(url("cancel", registration))

    assert reload(waiting).status == Status.OFFERED


# --- Claiming an offer ------------------------------------------------------------------------


@pytest.fixture
def offered(make_registration) -> Registration:
    return make_registration(
        status=Status.OFFERED,
        waitlisted_at=timezone.now() - dt.timedelta(days=1),
        hold_expires_at=timezone.now() + dt.timedelta(hours=48),
    )


def test_offer_shows_a_claim_button(client, offered):
    page = html(client.get(url("manage", offered)))

    assert "Er is een plaats voor je vrijgekomen." in page
    assert f'action="{url("claim", offered)}"' in page
    assert "Plaats claimen" in page


def test_claim_in_time_confirms(client, offered, time_machine):
    time_machine.move_to(offered.hold_expires_at - dt.timedelta(minutes=5), tick=False)

    response = client.post(url("claim", offered))

    assert response.status_code == 303
    assert reload(offered).status == Status.CONFIRMED
    page = html(client.get(response["Location"]))
    assert "De plaats is van jou." in page
    assert "QR-code van je toegangsbewijs" in page


def test_claim_after_expiry_explains_and_confirms_nothing(client, offered, time_machine):
    time_machine.move_to(offered.hold_expires_at + dt.timedelta(minutes=1), tick=False)

    page_before = html(client.get(url("manage", offered)))
    assert "Plaats claimen" not in page_before
    assert "Je aanmelding is verlopen" in page_before

    response = client.post(url("claim", offered))

    assert reload(offered).status == Status.EXPIRED
    page = html(client.get(response["Location"]))
    assert "Dit aanbod is verlopen" in page


def test_claim_link_asks_and_only_the_post_claims(client, offered):
    assert client.get(url("claim", offered)).status_code == 200
    offered.refresh_from_db()
    assert offered.status == Status.OFFERED


# --- Resending the e-mail ---------------------------------------------------------------------


def test_resend_enqueues_the_mail_for_the_current_status(client, registration):
    response = client.post(url("resend", registration))

    assert response.status_code == 303
    assert mail_tasks() == [
        {"registration_id": registration.pk, "kind": "confirmation", "force": True}
    ]
    assert "We hebben de e-mail opnieuw gestuurd" in html(client.get(response["Location"]))


def test_resend_for_the_waitlist_sends_the_waitlist_mail(client, make_registration):
    waiting = make_registration(status=Status.WAITLISTED, waitlisted_at=timezone.now())

    client.post(url("resend", waiting))

    assert mail_tasks() == [{"registration_id": waiting.pk, "kind": "waitlisted", "force": True}]


def test_resend_is_rate_limited(client, registration):
    for _ in range(3):
        assert client.post(url("resend", registration)).status_code == 303

    response = client.post(url("resend", registration))

    assert response.status_code == 429
    assert len(mail_tasks()) == 3


# --- Deleting one's data ----------------------------------------------------------------------


def test_delete_data_not_offered_before_the_activity(client, registration):
    page = html(client.get(url("manage", registration)))
    assert "Verwijder mijn gegevens" not in page

    response = client.post(url("delete_data", registration), {"confirm": "on"})

    assert response.status_code == 303
    assert reload(registration).anonymised_at is None
    assert reload(registration).email


def test_delete_data_after_cancelling_needs_the_checkbox(client, make_registration):
    registration = make_registration(status=Status.CANCELLED, cancelled_at=timezone.now())

    response = client.post(url("delete_data", registration))

    assert response.status_code == 200
    assert "Vink het vakje aan als je het zeker weet." in html(response)
    assert reload(registration).anonymised_at is None


def test_delete_data_after_cancelling(client, make_registration):
    registration = make_registration(
        status=Status.CANCELLED, cancelled_at=timezone.now(), contact_name="Anna de Vries"
    )

    response = client.post(url("delete_data", registration), {"confirm": "on"})

    assert response.status_code == 200
    assert "Je gegevens zijn verwijderd" in html(response)
    stored = reload(registration)
    assert (stored.contact_name, stored.email, stored.phone) == ("", "", "")
    assert stored.anonymised_at is not None
    # The link now only says the data is gone.
    page = html(client.get(url("manage", registration)))
    assert "Je gegevens zijn verwijderd" in page
    assert "Anna de Vries" not in page


def test_delete_data_after_the_activity(client, make_activity, make_registration, time_machine):
    past = make_activity(starts_at=timezone.now() - dt.timedelta(days=2))
    registration = make_registration(activity=past)

    page = html(client.get(url("manage", registration)))
    assert "Verwijder mijn gegevens" in page
    assert url("ics", registration) not in page

    client.post(url("delete_data", registration), {"confirm": "on"})

    assert reload(registration).anonymised_at is not None


def test_cancelled_activity_lets_people_delete_their_data(client, make_activity, make_registration):
    called_off = make_activity(status=Activity.Status.CANCELLED)
    registration = make_registration(activity=called_off, status=Status.CANCELLED)

    page = html(client.get(url("manage", registration)))

    assert "De activiteit is geannuleerd, en daarmee je aanmelding." in page
    assert "Verwijder mijn gegevens" in page


def test_unticked_delete_box_is_told_at_the_top(client, make_registration):
    registration = make_registration(status=Status.CANCELLED)

    page = html(client.post(url("delete_data", registration), {}))

    summary = re.search(r'<div class="error-summary" id="delete-errors".*?</div>', page, re.S)
    assert summary is not None
    assert re.search(r'<a href="#id_confirm">Vink het vakje aan', summary[0])
    assert page.index('id="delete-errors"') < page.index('class="status-box')
    assert reload(registration).anonymised_at is None

"""The registration's calendar file: offered only for a place that is the party's, and taken out
again (same UID, higher SEQUENCE, STATUS:CANCELLED, METHOD:CANCEL) when they cancel."""

from __future__ import annotations

import datetime as dt

import icalendar
import pytest
from django.urls import reverse
from django.utils import timezone

from registrations import emails, services
from registrations.models import Registration

pytestmark = pytest.mark.django_db

Status = Registration.Status


def url(name: str, registration: Registration) -> str:
    return reverse(f"registrations:{name}", kwargs={"token": registration.manage_token})


def only_event(ics: bytes) -> tuple[icalendar.Calendar, icalendar.Event]:
    calendar = icalendar.Calendar.from_ical(ics)
    (event,) = calendar.walk("VEVENT")
    return calendar, event


def attached_ics(message) -> bytes | None:
    """The calendar attached to an e-mail (a MIME part of its own, so that its content type can
    name the calendar's METHOD), as bytes."""
    files = [
        a
        for a in message.attachments
        if getattr(a, "get_content_type", lambda: "")() == "text/calendar"
    ]
    assert len(files) <= 1
    if not files:
        return None
    content = files[0].get_content()
    return content if isinstance(content, bytes) else content.encode()


@pytest.fixture
def confirmed(make_registration) -> Registration:
    return make_registration(status=Status.CONFIRMED, confirmed_at=timezone.now(), party_size=2)


def test_confirmed_party_is_offered_the_calendar_file(client, confirmed):
    page = client.get(url("manage", confirmed)).content.decode()
    assert url("ics", confirmed) in page

    response = client.get(url("ics", confirmed))

    assert response.status_code == 200
    assert response.content.startswith(b"BEGIN:VCALENDAR")
    calendar, event = only_event(response.content)
    assert str(calendar["method"]) == "PUBLISH"
    assert str(event["status"]) == "CONFIRMED"
    assert str(event["uid"]) == f"registration-{confirmed.pk}@testserver"


@pytest.mark.parametrize(
    "status",
    [
        Status.WAITLISTED,
        Status.PENDING_APPROVAL,
        Status.PENDING_PAYMENT,
        Status.OFFERED,
        Status.EXPIRED,
        Status.CANCELLED,
    ],
)
def test_no_calendar_link_without_a_place(client, make_registration, status):
    registration = make_registration(
        status=status, hold_expires_at=timezone.now() + dt.timedelta(hours=2)
    )

    page = client.get(url("manage", registration)).content.decode()

    assert url("ics", registration) not in page
    assert "Zet in je agenda" not in page


@pytest.mark.parametrize("status", [Status.WAITLISTED, Status.PENDING_PAYMENT, Status.EXPIRED])
def test_no_calendar_file_for_a_party_that_never_had_a_place(client, make_registration, status):
    registration = make_registration(
        status=status, hold_expires_at=timezone.now() + dt.timedelta(hours=2)
    )

    assert client.get(url("ics", registration)).status_code == 404


def test_cancelled_file_takes_the_same_event_out_with_a_higher_sequence(client, confirmed):
    _calendar, before = only_event(client.get(url("ics", confirmed)).content)

    services.cancel(confirmed.pk)
    response = client.get(url("ics", confirmed))

    assert response.status_code == 200
    assert b"METHOD:CANCEL\r\n" in response.content
    calendar, after = only_event(response.content)
    assert str(calendar["method"]) == "CANCEL"
    assert str(after["status"]) == "CANCELLED"
    assert str(after["uid"]) == str(before["uid"])
    assert int(after["sequence"]) > int(before["sequence"])
    # RFC 5546 3.2.5: a CANCEL names the organiser and the attendee it takes out.
    assert str(after["organizer"]) == f"mailto:{confirmed.activity.programme.organiser_email}"
    assert str(after["attendee"]) == f"mailto:{confirmed.email}"


def test_cancellation_mail_carries_the_cancelled_event(confirmed):
    _calendar, sent = only_event(attached_ics(emails.confirmation(confirmed)))

    services.cancel(confirmed.pk)
    message = emails.cancelled(Registration.objects.get(pk=confirmed.pk))

    ics = attached_ics(message)
    assert ics is not None
    calendar, cancelled = only_event(ics)
    assert str(calendar["method"]) == "CANCEL"
    # The part's content type names the same method (RFC 6047), so mail clients act on it.
    [part] = [a for a in message.attachments if getattr(a, "get_content_type", None)]
    assert (part.get_content_type(), part.get_param("method")) == ("text/calendar", "CANCEL")
    assert str(cancelled["status"]) == "CANCELLED"
    assert str(cancelled["uid"]) == str(sent["uid"])
    assert int(cancelled["sequence"]) > int(sent["sequence"])
    html = next(content for content, kind in message.alternatives if kind == "text/html")
    for body in (message.body, html):
        assert "Open het bijgevoegde agendabestand (.ics)" in body


def test_no_calendar_file_with_a_cancellation_that_never_held_a_place(make_registration):
    registration = make_registration(status=Status.WAITLISTED)

    services.cancel(registration.pk)

    message = emails.cancelled(Registration.objects.get(pk=registration.pk))

    assert attached_ics(message) is None
    assert "agendabestand" not in message.body

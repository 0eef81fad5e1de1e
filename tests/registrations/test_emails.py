"""The registration e-mails: content in both languages, the ticket, the calendar file, sending
once per state, and retrying when the mail server fails."""

from __future__ import annotations

import datetime as dt
import io
import smtplib
from decimal import Decimal
from zoneinfo import ZoneInfo

import icalendar
import pytest
import zxingcpp
from django.core import mail
from django.core.mail.backends.base import BaseEmailBackend
from django.core.management import call_command
from django.utils import translation
from django_tasks_db.models import DBTaskResult
from PIL import Image

from registrations import emails, services
from registrations.models import Invitation, MailKind, Registration, SentMail
from registrations.tasks import MAX_ATTEMPTS, send_invitation_mail, send_registration_mail

Status = Registration.Status
AMSTERDAM = ZoneInfo("Europe/Amsterdam")
NOW = dt.datetime(2026, 12, 1, 10, 0, tzinfo=AMSTERDAM)
STARTS = dt.datetime(2026, 12, 12, 14, 0, tzinfo=AMSTERDAM)
SITE = "https://jubileum.example.nl"

# What each language shows for the activity's time, place and a 48-hour offer's deadline.
WHEN = {
    "nl": "za 12 december 2026, 14:00\u201316:00",
    "en": "Sat 12 December 2026, 14:00\u201316:00",
}
OFFER_UNTIL = {"nl": "do 3 december 2026, 10:00", "en": "Thu 3 December 2026, 10:00"}
PREFIX = {"nl": "", "en": "/en"}


class FailingBackend(BaseEmailBackend):
    """A mail server that is down."""

    def send_messages(self, email_messages):
        raise smtplib.SMTPServerDisconnected("Connection unexpectedly closed")


@pytest.fixture(autouse=True)
def site(settings, time_machine):
    settings.SITE_URL = SITE
    time_machine.move_to(NOW, tick=False)


@pytest.fixture
def open_day(make_activity):
    return make_activity(
        title="Open dag & kazernetour",
        slug="open-dag",
        starts_at=STARTS,
        location_name="Kazerne Soesterberg",
        location_address="Kampweg 2, 3769 DJ Soesterberg",
    )


def registration_for(make_registration, activity, kind: str, language: str) -> Registration:
    """A registration in the state the `kind` e-mail reports."""
    fields = {
        "activity": activity,
        "contact_name": "Anna de Vries",
        "email": "anna@example.org",
        "party_size": 3,
        "language": language,
    }
    status = {
        "confirmation": Status.CONFIRMED,
        "reminder": Status.CONFIRMED,
        "waitlisted": Status.WAITLISTED,
        "offer": Status.OFFERED,
        "pending_approval": Status.PENDING_APPROVAL,
        "pending_payment": Status.PENDING_PAYMENT,
        "cancelled": Status.CANCELLED,
        "activity_cancelled": Status.CANCELLED,
        "declined": Status.CANCELLED,
        "already_signed_up": Status.WAITLISTED,
        "approved": Status.OFFERED,
        "approval_expired": Status.EXPIRED,
    }[kind]
    fields["status"] = status
    if kind in ("approved", "approval_expired"):
        fields["approved_at"] = NOW
        fields["hold_expires_at"] = NOW + dt.timedelta(hours=48)
    if kind == "offer":
        fields["hold_expires_at"] = NOW + dt.timedelta(hours=48)
    if kind == "pending_payment":
        fields["hold_expires_at"] = NOW + dt.timedelta(minutes=30)
    return make_registration(**fields)


def bodies(message) -> tuple[str, str]:
    html = next(content for content, mimetype in message.alternatives if mimetype == "text/html")
    return message.body, html


def related_image(message) -> tuple[str, bytes]:
    """The image in the multipart/related part beside the HTML: (Content-ID, PNG bytes)."""
    mime = message.message()
    related = next(part for part in mime.walk() if part.get_content_type() == "multipart/related")
    html, image = related.iter_parts()
    assert html.get_content_type() == "text/html"
    assert image.get_content_type() == "image/png"
    return image["Content-ID"].strip("<>"), image.get_content()


KINDS = list(emails.REGISTRATION_MAILS)


@pytest.mark.parametrize("language", ["nl", "en"])
@pytest.mark.parametrize("kind", KINDS)
def test_each_mail_tells_when_where_and_how_many_in_the_persons_language(
    make_registration, open_day, kind, language
):
    if kind == "pending_payment":
        open_day.price = Decimal("7.50")
        open_day.save()
    registration = registration_for(make_registration, open_day, kind, language)

    message = emails.REGISTRATION_MAILS[kind](registration)

    text, html = bodies(message)
    manage_url = f"{SITE}{PREFIX[language]}/aanmelding/{registration.manage_token}/"
    for body in (text, html):
        assert WHEN[language] in body
        assert "Kazerne Soesterberg" in body
        assert "Anna de Vries" in body
    assert "Kampweg 2, 3769 DJ Soesterberg" in text
    assert "Open dag & kazernetour" in text  # plain text is not HTML-escaped
    assert "Open dag &amp; kazernetour" in html
    assert "Open dag & kazernetour" in message.subject
    with translation.override(language):
        assert f"{translation.gettext('Aantal personen')}: 3" in text
    assert f'<html lang="{language}">' in html
    assert 'href="mailto:jubileum@example.org"' in html
    if kind != "declined":
        assert manage_url in text
        assert f'href="{manage_url}"' in html
    assert message.to == ["anna@example.org"]
    assert message.reply_to == ["jubileum@example.org"]
    assert message.from_email == "Jubileum <noreply@localhost>"
    assert "http://" not in html.replace(SITE, "")  # nothing remote: links to the site only
    assert "<img" not in html or 'src="cid:' in html


@pytest.mark.parametrize("language", ["nl", "en"])
def test_english_mail_uses_the_english_catalogue(make_registration, open_day, language):
    registration = registration_for(make_registration, open_day, "confirmation", language)

    message = emails.confirmation(registration)

    with translation.override(language):
        expected = translation.gettext("Wanneer")
    assert expected in message.body
    assert ("When" in message.body) is (language == "en")


@pytest.mark.parametrize("language", ["nl", "en"])
def test_offer_has_claim_link_and_deadline_in_amsterdam_time(make_registration, open_day, language):
    registration = registration_for(make_registration, open_day, "offer", language)

    text, html = bodies(emails.offer(registration))

    claim_url = f"{SITE}{PREFIX[language]}/aanmelding/{registration.manage_token}/plaats-claimen/"
    for body in (text, html):
        assert claim_url in body
        assert OFFER_UNTIL[language] in body


def test_pending_payment_gives_amount_and_hold(make_registration, open_day):
    open_day.price = Decimal("7.50")
    open_day.save()
    registration = registration_for(make_registration, open_day, "pending_payment", "nl")

    text, html = bodies(emails.pending_payment(registration))

    for body in (text, html):
        assert "€ 22,50" in body
        assert "di 1 december 2026, 10:30" in body


def test_cancelled_activity_says_it_does_not_go_ahead(make_registration, open_day):
    open_day.status = open_day.Status.CANCELLED
    open_day.save()
    registration = registration_for(make_registration, open_day, "cancelled", "nl")

    text, _html = bodies(emails.cancelled(registration))

    assert "gaat helaas niet door" in text


@pytest.mark.parametrize("language", ["nl", "en"])
def test_confirmation_attaches_calendar_file_with_the_activity(
    make_registration, open_day, language
):
    registration = registration_for(make_registration, open_day, "confirmation", language)

    message = emails.confirmation(registration)

    (ics,) = (part for part in message.message().walk() if part.get_filename() == "open-dag.ics")
    calendar = icalendar.Calendar.from_ical(ics.get_content())
    # The method travels in the content type, as it is in the file (RFC 6047, 2.4).
    assert ics.get_content_type() == "text/calendar"
    assert ics.get_param("method") == str(calendar["METHOD"]) == "PUBLISH"
    assert ics.get_content_charset() == "utf-8"
    assert ics.get_content_disposition() == "attachment"
    (event,) = calendar.walk("VEVENT")
    assert event.decoded("dtstart") == STARTS
    assert str(event["summary"]) == "Open dag & kazernetour"
    with translation.override(language):
        assert str(event["url"]) == SITE + open_day.get_absolute_url()
    text, html = bodies(message)
    ics_url = f"{SITE}{PREFIX[language]}/aanmelding/{registration.manage_token}/agenda.ics"
    assert ics_url in text
    assert ics_url in html


@pytest.mark.parametrize("kind", ["confirmation", "reminder"])
def test_ticket_qr_is_an_inline_image_that_decodes_to_the_ticket_code(
    make_registration, open_day, kind
):
    registration = registration_for(make_registration, open_day, kind, "nl")

    message = emails.REGISTRATION_MAILS[kind](registration)

    cid, png = related_image(message)
    text, html = bodies(message)
    assert f'src="cid:{cid}"' in html
    assert f"code {registration.ticket_code}" in html  # the image's alt text
    assert registration.ticket_code in text
    (barcode,) = zxingcpp.read_barcodes(Image.open(io.BytesIO(png)))
    assert barcode.text == "JUB1:" + registration.ticket_code
    # The same PNG once more as an ordinary attachment to save or print.
    attached = next(a for a in message.attachments if getattr(a, "filename", "") == "ticket.png")
    assert attached.mimetype == "image/png"
    assert attached.content == png
    mime = message.message()
    dispositions = {
        part.get_filename(): part.get_content_disposition()
        for part in mime.walk()
        if part.get_content_type() == "image/png"
    }
    assert list(dispositions.values()).count("attachment") == 1


def test_mails_without_ticket_have_no_images(make_registration, open_day):
    registration = registration_for(make_registration, open_day, "waitlisted", "nl")

    message = emails.waitlisted(registration)

    assert message.attachments == []
    assert "<img" not in bodies(message)[1]


def test_invitation_has_code_and_link_to_the_activity(open_day):
    invitation = Invitation.objects.create(
        activity=open_day, name="Piet Brandsma", email="piet@example.org"
    )

    message = emails.invitation(invitation)

    text, html = bodies(message)
    link = f"{SITE}{open_day.get_absolute_url()}?code={invitation.code}"
    for body in (text, html):
        assert "Piet Brandsma" in body
        assert invitation.code in body
        assert WHEN["nl"] in body
    assert link in text
    assert f'href="{link}"' in html
    assert message.to == ["piet@example.org"]
    assert message.reply_to == ["jubileum@example.org"]


# --- Sending once per state --------------------------------------------------------------------


def test_every_mail_kind_but_the_invitation_is_a_registration_or_payment_mail():
    sent_for_registrations = set(emails.REGISTRATION_MAILS) | set(emails.PAYMENT_MAILS)

    assert sent_for_registrations == set(MailKind) - {MailKind.INVITATION}


def test_send_delivers_once_for_the_same_state(make_registration, open_day):
    registration = registration_for(make_registration, open_day, "confirmation", "nl")

    assert emails.send(registration.pk, "confirmation") is True
    assert emails.send(registration.pk, "confirmation") is False

    assert len(mail.outbox) == 1
    entry = SentMail.objects.get()
    assert (entry.registration, entry.kind, entry.sent_at) == (registration, "confirmation", NOW)


@pytest.mark.parametrize("language", ["nl", "en"])
def test_already_signed_up_says_nothing_changed_and_gives_the_link(
    make_registration, open_day, language
):
    registration = registration_for(make_registration, open_day, "already_signed_up", language)

    message = emails.already_signed_up(registration)

    subject, changed = {
        "nl": ("Je was al aangemeld: Open dag & kazernetour", "er is niets veranderd"),
        "en": ("You were already signed up: Open dag & kazernetour", "nothing has changed"),
    }[language]
    assert message.subject == subject
    text, html = bodies(message)
    assert changed in text
    assert changed in html
    assert f"/aanmelding/{registration.manage_token}/" in text
    assert not message.attachments  # no ticket: the personal page has it


def test_already_signed_up_goes_once_per_repeat_that_claimed_it(
    make_registration, open_day, time_machine
):
    time_machine.move_to(NOW, tick=False)
    registration = make_registration(activity=open_day)
    assert registration.claim_repeat_mail(NOW)

    assert emails.send(registration.pk, "already_signed_up") is True
    assert emails.send(registration.pk, "already_signed_up") is False  # the task ran twice
    assert not registration.claim_repeat_mail(NOW + dt.timedelta(minutes=59))
    assert registration.claim_repeat_mail(NOW + dt.timedelta(hours=1))
    assert emails.send(registration.pk, "already_signed_up") is True
    assert len(mail.outbox) == 2


def test_forced_resend_sends_again(make_registration, open_day):
    registration = registration_for(make_registration, open_day, "confirmation", "nl")
    emails.send(registration.pk, "confirmation")

    assert emails.send(registration.pk, "confirmation", force=True) is True
    assert emails.send(registration.pk, "confirmation", force=True) is True

    assert len(mail.outbox) == 3


def test_a_new_state_is_news(make_registration, open_day, time_machine):
    registration = registration_for(make_registration, open_day, "confirmation", "nl")
    emails.send(registration.pk, "confirmation")
    time_machine.shift(dt.timedelta(minutes=5))

    services.change_party_size(registration.pk, 4)
    emails.send(registration.pk, "confirmation")

    assert len(mail.outbox) == 2
    assert "Aantal personen: 4" in mail.outbox[1].body


def test_stale_mail_is_not_sent(make_registration, open_day):
    registration = registration_for(make_registration, open_day, "confirmation", "nl")
    Registration.objects.filter(pk=registration.pk).update(status=Status.CANCELLED)

    assert emails.send(registration.pk, "confirmation") is False
    assert emails.send(registration.pk + 1000, "confirmation") is False

    assert mail.outbox == []


def test_anonymised_registration_gets_no_mail(make_registration, open_day):
    registration = registration_for(make_registration, open_day, "confirmation", "nl")
    services.anonymise(registration)

    assert emails.send(registration.pk, "confirmation", force=True) is False
    assert mail.outbox == []


def test_invitation_is_sent_once_and_recorded(open_day):
    invitation = Invitation.objects.create(
        activity=open_day, name="Piet Brandsma", email="piet@example.org"
    )

    send_invitation_mail.call(invitation_id=invitation.pk)
    send_invitation_mail.call(invitation_id=invitation.pk)

    assert len(mail.outbox) == 1
    invitation.refresh_from_db()
    assert invitation.sent_at == NOW


# --- Failures and retries ----------------------------------------------------------------------


@pytest.fixture
def run_worker(monkeypatch):
    """Run django-tasks-db's worker until the queue has nothing ready.

    The worker closes "old" connections between tasks; inside a test's transaction that would
    close the test's own connection on PostgreSQL, so that housekeeping is switched off here.
    """
    monkeypatch.setattr(
        "django_tasks_db.management.commands.db_worker.close_old_connections", lambda: None
    )
    return lambda: call_command("db_worker", "--batch", "--interval", "0", "-v", "0")


@pytest.fixture
def mail_server_down(settings):
    settings.MAILERS = {"default": {"BACKEND": f"{__name__}.FailingBackend"}}


@pytest.mark.engine_dependent  # the task worker claims per engine
def test_signup_survives_a_mail_server_failure_and_retries_later(
    settings,
    open_day,
    django_capture_on_commit_callbacks,
    time_machine,
    mail_server_down,
    run_worker,
):
    sign_up = services.SignUp(contact_name="Anna de Vries", email="anna@example.org", party_size=2)
    with django_capture_on_commit_callbacks(execute=True):
        registration = services.register(open_day.pk, sign_up).registration

    run_worker()

    registration.refresh_from_db()
    assert registration.status == Status.CONFIRMED
    assert mail.outbox == []
    assert SentMail.objects.count() == 0
    failed = DBTaskResult.objects.get(status="FAILED")
    assert "SMTPServerDisconnected" in failed.exception_class_path
    retry = DBTaskResult.objects.get(status="READY")
    assert retry.run_after == NOW + dt.timedelta(minutes=1)
    assert retry.args_kwargs["kwargs"] == {
        "registration_id": registration.pk,
        "kind": "confirmation",
        "force": False,
        "attempt": 2,
    }

    # The server is back; a minute later the worker picks the retry up.
    settings.MAILERS = {"default": {"BACKEND": "django.core.mail.backends.locmem.EmailBackend"}}
    time_machine.shift(dt.timedelta(minutes=1))
    run_worker()

    retry.refresh_from_db()
    assert retry.status == "SUCCESSFUL"
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == ["anna@example.org"]


def test_mail_task_gives_up_after_the_last_attempt(make_registration, open_day, mail_server_down):
    registration = registration_for(make_registration, open_day, "confirmation", "nl")

    with pytest.raises(smtplib.SMTPException):
        send_registration_mail.call(
            registration_id=registration.pk, kind="confirmation", attempt=MAX_ATTEMPTS
        )

    assert not DBTaskResult.objects.exists()
    assert Registration.objects.get(pk=registration.pk).status == Status.CONFIRMED


def test_invitation_task_retries_too(open_day, mail_server_down):
    invitation = Invitation.objects.create(
        activity=open_day, name="Piet Brandsma", email="piet@example.org"
    )

    with pytest.raises(smtplib.SMTPException):
        send_invitation_mail.call(invitation_id=invitation.pk)

    retry = DBTaskResult.objects.get()
    assert retry.args_kwargs["kwargs"]["attempt"] == 2
    invitation.refresh_from_db()
    assert invitation.sent_at is None


def test_a_bug_is_not_retried(make_registration, open_day, monkeypatch):
    registration = registration_for(make_registration, open_day, "confirmation", "nl")
    monkeypatch.setitem(emails.REGISTRATION_MAILS, "confirmation", lambda r: 1 / 0)

    with pytest.raises(ZeroDivisionError):
        send_registration_mail.call(registration_id=registration.pk, kind="confirmation")

    assert not DBTaskResult.objects.exists()


def test_broken_template_leaves_no_log_row_behind(make_registration, open_day, monkeypatch):
    registration = registration_for(make_registration, open_day, "confirmation", "nl")
    monkeypatch.setitem(emails.REGISTRATION_MAILS, "confirmation", lambda r: 1 / 0)
    with pytest.raises(ZeroDivisionError):
        emails.send(registration.pk, "confirmation")
    monkeypatch.undo()

    assert emails.send(registration.pk, "confirmation") is True
    assert len(mail.outbox) == 1


def test_invitation_for_a_cancelled_activity_is_not_sent(open_day):
    invitation = Invitation.objects.create(
        activity=open_day, name="Piet Brandsma", email="piet@example.org"
    )
    open_day.status = open_day.Status.CANCELLED
    open_day.save()

    assert emails.send_invitation(invitation.pk) is False
    assert mail.outbox == []


def test_english_registration_gets_the_english_title_and_the_dutch_place_marked(
    make_registration, open_day
):
    open_day.title_en = "Open day & station tour"
    open_day.save()
    english = registration_for(make_registration, open_day, "confirmation", "en")

    message = emails.confirmation(english)

    text, html = bodies(message)
    assert message.subject == "Your registration is confirmed: Open day & station tour"
    assert "Open day & station tour" in text
    assert "Open day &amp; station tour" in html
    assert '<span lang="nl">Kazerne Soesterberg</span>' in html
    assert "Kazerne Soesterberg" in text and "lang=" not in text


def test_dutch_registration_gets_the_dutch_title_without_marks(make_registration, open_day):
    open_day.title_en = "Open day & station tour"
    open_day.save()
    dutch = registration_for(make_registration, open_day, "confirmation", "nl")

    message = emails.confirmation(dutch)

    _text, html = bodies(message)
    assert message.subject == "Je aanmelding is bevestigd: Open dag & kazernetour"
    assert "station tour" not in html
    assert '<span lang="nl">' not in html

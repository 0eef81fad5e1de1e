"""Messages from organisers to attendees: who gets them, batches, sending once, retries,
the e-mail itself, the provider's tracking webhook (Postmark), and the organiser pages."""

from __future__ import annotations

import base64
import datetime as dt
import json
import secrets
import uuid

import pytest
from anymail.exceptions import AnymailAPIError, AnymailRecipientsRefused
from django.core import mail
from django.core.exceptions import ImproperlyConfigured
from django.core.mail.backends.base import BaseEmailBackend
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone, translation

from jubileum.lib import taskqueue
from registrations.backoffice import messaging
from registrations.models import Message, MessageRecipient, Registration
from registrations.tasks import MAX_ATTEMPTS, send_message_batch
from tests.helpers import settings_from

Status = Registration.Status
Delivery = MessageRecipient.Status
Audience = Message.Audience

SITE = "https://jubileum.example.nl"
ANYMAIL_TEST_BACKEND = "anymail.backends.test.EmailBackend"
WEBHOOK_SECRET = "postmark:Zeer-geheim-42"


class ProviderDown(BaseEmailBackend):
    """An ESP whose API answers with an error."""

    def send_messages(self, email_messages):
        raise AnymailAPIError("Postmark API response 503: Service Unavailable")


class AddressRefused(BaseEmailBackend):
    """An ESP that refuses the address (suppressed after earlier bounces)."""

    def send_messages(self, email_messages):
        raise AnymailRecipientsRefused("All message recipients were rejected: inactive")


@pytest.fixture(autouse=True)
def site(settings):
    settings.SITE_URL = SITE
    settings.MAILERS = {"default": {"BACKEND": ANYMAIL_TEST_BACKEND}}


@pytest.fixture
def attendees(make_registration, activity):
    """Two confirmed parties, one on the waitlist, and some who must never get a message."""
    return {
        "anna": make_registration(contact_name="Anna de Vries", email="anna@example.org"),
        "bert": make_registration(contact_name="Bert Jansen", email="bert@example.org"),
        "carla": make_registration(
            contact_name="Carla Smit", email="carla@example.org", status=Status.WAITLISTED
        ),
        "cancelled": make_registration(status=Status.CANCELLED),
        "anonymised": make_registration(contact_name="", email="", anonymised_at=timezone.now()),
        "pending": make_registration(status=Status.PENDING_APPROVAL),
    }


def _send(activity, audience=Audience.CONFIRMED, *, user=None, **fields) -> Message:
    values = {"subject": "Parkeren bij de kazerne", "body": "Parkeer op het plein."}
    values.update(fields)
    return messaging.send_message(activity, audience, values["subject"], values["body"], user)


def _run_batches(message: Message) -> None:
    ids = list(message.recipients.values_list("pk", flat=True))
    send_message_batch.call(message_id=message.pk, recipient_ids=ids)


def _url(name: str, activity, **kwargs) -> str:
    return reverse(
        f"organiser:{name}",
        kwargs={
            "programme_slug": activity.programme.slug,
            "activity_slug": activity.slug,
            **kwargs,
        },
    )


def _registration_bulk(activity, count: int) -> list[Registration]:
    return Registration.objects.bulk_create(
        Registration(
            activity=activity,
            status=Status.CONFIRMED,
            contact_name=f"Deelnemer {n}",
            email=f"deelnemer{n}@example.org",
            party_size=1,
            consent_at=timezone.now(),
        )
        for n in range(count)
    )


# --- Who gets it ---------------------------------------------------------------------------


def test_confirmed_audience_is_everyone_confirmed_with_an_email(activity, attendees):
    message = _send(activity, Audience.CONFIRMED)

    names = set(message.recipients.values_list("registration__contact_name", flat=True))
    assert names == {"Anna de Vries", "Bert Jansen"}
    assert set(message.recipients.values_list("status", flat=True)) == {Delivery.QUEUED}


def test_waitlisted_audience_is_only_the_waitlist(activity, attendees):
    message = _send(activity, Audience.WAITLISTED)

    assert list(message.recipients.values_list("registration__contact_name", flat=True)) == [
        "Carla Smit"
    ]


def test_audience_counts_match_who_would_get_it(activity, attendees):
    assert messaging.audience_counts(activity) == {
        "confirmed": 2,
        "waitlisted": 1,
        "registered": 4,  # the pending approval too
    }


def test_an_audience_without_anyone_is_refused_and_records_nothing(activity, attendees):
    attendees["carla"].status = Status.CANCELLED
    attendees["carla"].save()

    with pytest.raises(messaging.NoRecipients):
        _send(activity, Audience.WAITLISTED)

    assert not Message.objects.exists()


def test_the_same_key_twice_makes_one_message(activity, attendees, tasks):
    key = uuid.uuid4()
    first = messaging.send_message(
        activity, Audience.CONFIRMED, "Let op", "Tekst", None, idempotency_key=key
    )
    second = messaging.send_message(
        activity, Audience.CONFIRMED, "Let op", "Tekst", None, idempotency_key=key
    )

    assert second.pk == first.pk
    assert Message.objects.count() == 1
    assert MessageRecipient.objects.count() == 2


# --- Batches and sending once --------------------------------------------------------------


def test_batches_are_enqueued_after_the_commit_fifty_at_a_time(
    activity, tasks, django_capture_on_commit_callbacks
):
    _registration_bulk(activity, 120)

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        message = _send(activity)
    assert tasks.results == []
    for callback in callbacks:
        callback()

    batches = [result.kwargs["recipient_ids"] for result in tasks.results]
    assert [len(batch) for batch in batches] == [50, 50, 20]
    assert {result.kwargs["message_id"] for result in tasks.results} == {message.pk}
    all_ids = [pk for batch in batches for pk in batch]
    assert sorted(all_ids) == sorted(message.recipients.values_list("pk", flat=True))


def test_a_batch_run_twice_mails_everyone_once(activity, attendees, tasks):
    message = _send(activity)

    _run_batches(message)
    _run_batches(message)

    assert sorted(m.to[0] for m in mail.outbox) == ["anna@example.org", "bert@example.org"]
    recipients = list(message.recipients.all())
    assert {r.status for r in recipients} == {Delivery.SENT}
    assert all(r.provider_message_id and r.sent_at and r.attempts == 1 for r in recipients)
    assert tasks.results == []


def test_a_row_claimed_by_another_task_is_left_alone(activity, attendees):
    message = _send(activity)
    claimed = message.recipients.get(registration=attendees["anna"])
    MessageRecipient.objects.filter(pk=claimed.pk).update(status=Delivery.SENDING)

    _run_batches(message)

    assert [m.to for m in mail.outbox] == [["bert@example.org"]]
    claimed.refresh_from_db()
    assert claimed.status == Delivery.SENDING


def test_someone_who_cancelled_before_their_turn_is_skipped(activity, attendees, client, viewer):
    message = _send(activity)
    attendees["bert"].status = Status.CANCELLED
    attendees["bert"].save()

    _run_batches(message)

    assert [m.to for m in mail.outbox] == [["anna@example.org"]]
    bert = message.recipients.get(registration=attendees["bert"])
    assert bert.status == Delivery.SKIPPED
    client.force_login(viewer)
    page = client.get(_url("message", activity, message_id=message.pk)).content.decode()
    assert "Niet verstuurd" in page
    assert "De aanmelding is inmiddels geannuleerd of verlopen." in page


def test_a_provider_error_is_retried_later_then_failed_and_shown(
    activity, attendees, tasks, settings, now, client, organiser
):
    settings.MAILERS = {"default": {"BACKEND": f"{__name__}.ProviderDown"}}
    message = _send(activity)
    ids = sorted(message.recipients.values_list("pk", flat=True))

    send_message_batch.call(message_id=message.pk, recipient_ids=ids)

    assert set(message.recipients.values_list("status", "attempts")) == {(Delivery.QUEUED, 1)}
    [retry] = tasks.results
    assert retry.kwargs == {"message_id": message.pk, "recipient_ids": ids, "attempt": 2}
    assert retry.task.run_after == now + dt.timedelta(minutes=1)

    # Every later attempt fails too; the last one gives up instead of enqueuing another.
    for _attempt in range(2, MAX_ATTEMPTS + 1):
        retry = tasks.results[-1]
        tasks.clear()
        send_message_batch.call(**retry.kwargs)
    assert tasks.results == []

    assert mail.outbox == []
    recipients = list(message.recipients.all())
    assert {(r.status, r.attempts) for r in recipients} == {(Delivery.FAILED, MAX_ATTEMPTS)}
    assert "503: Service Unavailable" in recipients[0].detail

    client.force_login(organiser)
    page = client.get(_url("message", activity, message_id=message.pk)).content.decode()
    assert "Mislukt: 2" in page
    assert "503: Service Unavailable" in page


def test_an_address_the_provider_refuses_is_bounced_without_retry(
    activity, attendees, tasks, settings
):
    settings.MAILERS = {"default": {"BACKEND": f"{__name__}.AddressRefused"}}
    message = _send(activity)

    _run_batches(message)

    assert set(message.recipients.values_list("status", flat=True)) == {Delivery.BOUNCED}
    assert tasks.results == []


def test_the_provider_recovers_before_the_retry(activity, attendees, tasks, settings):
    settings.MAILERS = {"default": {"BACKEND": f"{__name__}.ProviderDown"}}
    message = _send(activity)
    _run_batches(message)
    [retry] = tasks.results

    settings.MAILERS = {"default": {"BACKEND": ANYMAIL_TEST_BACKEND}}
    send_message_batch.call(**retry.kwargs)

    assert len(mail.outbox) == 2
    assert set(message.recipients.values_list("status", "attempts")) == {(Delivery.SENT, 2)}


# --- The e-mail ----------------------------------------------------------------------------


def test_the_email_carries_the_text_escaped_and_a_footer_with_the_personal_link(
    activity, make_registration
):
    anna = make_registration(contact_name="Anna de Vries", email="anna@example.org")
    body = 'Neem <b>laarzen</b> mee & "zwemspullen".\nTot zaterdag!'
    message = _send(activity, subject="Wat mee te nemen <b>", body=body)

    _run_batches(message)

    [sent] = mail.outbox
    assert sent.subject == "Wat mee te nemen <b>"
    assert sent.to == ["anna@example.org"]
    assert sent.reply_to == [activity.programme.organiser_email]
    assert sent.from_email == "Jubileum <noreply@localhost>"
    manage_url = f"{SITE}{reverse('registrations:manage', kwargs={'token': anna.manage_token})}"
    assert body in sent.body
    assert manage_url in sent.body
    assert activity.title in sent.body
    assert activity.programme.name in sent.body

    html = sent.alternatives[0].content
    assert "<b>laarzen</b>" not in html
    assert (
        "Neem &lt;b&gt;laarzen&lt;/b&gt; mee &amp; &quot;zwemspullen&quot;.<br>Tot zaterdag!"
        in (html)
    )
    assert "Wat mee te nemen &lt;b&gt;" in html
    assert manage_url in html
    assert activity.title in html


def test_the_footer_follows_the_recipients_language(activity, make_registration):
    bob = make_registration(contact_name="Bob Smith", email="bob@example.org", language="en")
    message = _send(activity, body="Parkeer op het plein.")

    _run_batches(message)

    [sent] = mail.outbox
    manage_path = reverse("registrations:manage", kwargs={"token": bob.manage_token})
    assert manage_path.startswith("/") and not manage_path.startswith("/en/")
    assert f"{SITE}/en{manage_path}" in sent.body
    assert 'lang="en"' in sent.alternatives[0].content
    assert "Parkeer op het plein." in sent.body


# --- Tracking webhook (Postmark) -------------------------------------------------------------


@pytest.fixture
def webhook_secret(settings):
    settings.ANYMAIL = {"WEBHOOK_SECRET": WEBHOOK_SECRET}
    settings.MAIL_TRACKING_ESP = "postmark"


@pytest.fixture
def sent_message(activity, attendees, webhook_secret):
    """A message sent to Anna and Bert, with the ids Postmark gave each e-mail."""
    message = _send(activity)
    for recipient, provider_id in zip(
        message.recipients.order_by("pk"),
        ["0b0f3b2c-1a7e-4d43-9d1e-2c5f2b2a1a01", "0b0f3b2c-1a7e-4d43-9d1e-2c5f2b2a1a02"],
        strict=True,
    ):
        recipient.status = Delivery.SENT
        recipient.provider_message_id = provider_id
        recipient.save()
    return message


def _postmark(client, payload: dict, auth: str | None = WEBHOOK_SECRET):
    headers = {}
    if auth is not None:
        headers["HTTP_AUTHORIZATION"] = "Basic " + base64.b64encode(auth.encode()).decode()
    return client.post(
        reverse("anymail:postmark_tracking_webhook"),
        data=json.dumps(payload),
        content_type="application/json",
        **headers,
    )


def _bounce(message_id: str) -> dict:
    return {
        "RecordType": "Bounce",
        "ID": 4323372036854775807,
        "Type": "HardBounce",
        "TypeCode": 1,
        "Name": "Hard bounce",
        "MessageID": message_id,
        "Description": "The server was unable to deliver your message (ex: unknown user).",
        "Details": "smtp;550 5.1.1 The email account that you tried to reach does not exist.",
        "Email": "bert@example.org",
        "BouncedAt": "2026-12-05T16:33:54.9070259Z",
        "Inactive": True,
        "CanActivate": True,
        "Subject": "Parkeren bij de kazerne",
        "ServerID": 23,
        "MessageStream": "outbound",
        "Tag": "",
        "Metadata": {},
    }


def _complaint(message_id: str) -> dict:
    return {
        **_bounce(message_id),
        "RecordType": "SpamComplaint",
        "Type": "SpamComplaint",
        "TypeCode": 512,
        "Name": "Spam complaint",
        "Description": "The subscriber explicitly marked this email as spam.",
    }


def _delivery(message_id: str) -> dict:
    return {
        "RecordType": "Delivery",
        "ServerID": 23,
        "MessageID": message_id,
        "Recipient": "anna@example.org",
        "Tag": "",
        "DeliveredAt": "2026-12-05T16:33:54.9070259Z",
        "Details": "Message delivered to the recipient's mail server.",
        "Metadata": {},
        "MessageStream": "outbound",
    }


def _statuses(message: Message) -> list[tuple[str, str]]:
    return list(message.recipients.order_by("pk").values_list("status", "detail"))


def test_tracking_webhook_records_delivery_bounce_and_complaint(
    client, sent_message, activity, organiser
):
    anna, bert = sent_message.recipients.order_by("pk")

    assert _postmark(client, _delivery(anna.provider_message_id)).status_code == 200
    assert _postmark(client, _bounce(bert.provider_message_id)).status_code == 200
    anna.refresh_from_db()
    assert anna.status == Delivery.DELIVERED
    assert _postmark(client, _complaint(anna.provider_message_id)).status_code == 200

    assert _statuses(sent_message) == [
        (Delivery.COMPLAINED, "The subscriber explicitly marked this email as spam."),
        (
            Delivery.BOUNCED,
            "The server was unable to deliver your message (ex: unknown user).",
        ),
    ]
    client.force_login(organiser)
    page = client.get(_url("message", activity, message_id=sent_message.pk)).content.decode()
    assert "Onbestelbaar: 1" in page
    assert "Gemeld als spam: 1" in page
    assert "The server was unable to deliver your message (ex: unknown user)." in page
    assert "The subscriber explicitly marked this email as spam." in page


def test_repeated_and_late_events_change_nothing_more(client, sent_message):
    bert = sent_message.recipients.order_by("pk")[1]
    for _ in range(2):
        assert _postmark(client, _bounce(bert.provider_message_id)).status_code == 200
    # A delivery reported after the bounce must not hide it.
    assert _postmark(client, _delivery(bert.provider_message_id)).status_code == 200

    bert.refresh_from_db()
    assert bert.status == Delivery.BOUNCED


def test_events_for_unknown_messages_are_ignored(client, sent_message):
    before = _statuses(sent_message)

    response = _postmark(client, _bounce("5f5e6a1c-0000-4000-8000-000000000000"))

    assert response.status_code == 200
    assert _statuses(sent_message) == before


@pytest.mark.parametrize("auth", [None, "postmark:wrong", "someone:Zeer-geheim-42"])
def test_tracking_webhook_with_wrong_auth_is_refused_and_changes_nothing(
    client, sent_message, auth
):
    bert = sent_message.recipients.order_by("pk")[1]
    before = _statuses(sent_message)

    response = _postmark(client, _bounce(bert.provider_message_id), auth=auth)

    assert response.status_code in (400, 403)
    assert _statuses(sent_message) == before


@pytest.mark.parametrize(
    ("secret", "error"),
    [
        (None, "ANYMAIL_WEBHOOK_SECRET is not set"),
        ("geen-dubbele-punt", "ANYMAIL_WEBHOOK_SECRET must be user:password"),
    ],
)
def test_production_with_an_esp_needs_a_webhook_secret(tmp_path, secret, error):
    env = {
        "SECRET_KEY": secrets.token_urlsafe(64),
        "ALLOWED_HOSTS": "jubileum.example.nl",
        "SITE_URL": SITE,
        "DATABASE_URL": f"sqlite:///{tmp_path / 'jubileum.sqlite3'}",
        "MAIL_BACKEND": "anymail.backends.postmark.EmailBackend",
        "ANYMAIL_POSTMARK_SERVER_TOKEN": "server-token",
        "DEFAULT_FROM_EMAIL": "Jubileum <noreply@jubileum.example.nl>",
    }
    if secret is not None:
        env["ANYMAIL_WEBHOOK_SECRET"] = secret

    with pytest.raises(ImproperlyConfigured, match=error):
        settings_from(env, tmp_path)

    env["ANYMAIL_WEBHOOK_SECRET"] = WEBHOOK_SECRET
    assert settings_from(env, tmp_path)["ANYMAIL"]["WEBHOOK_SECRET"] == WEBHOOK_SECRET


def test_webhook_finds_the_id_the_backend_stored(client, activity, attendees, webhook_secret):
    """End to end with anymail's test backend: the id saved at sending is the one matched."""
    message = _send(activity)
    _run_batches(message)
    anna = message.recipients.get(registration=attendees["anna"])

    _postmark(client, _bounce(anna.provider_message_id))

    anna.refresh_from_db()
    assert anna.status == Delivery.BOUNCED


# --- Organiser pages -----------------------------------------------------------------------


def _form(**fields) -> dict[str, str]:
    values = {
        "key": str(uuid.uuid4()),
        "audience": "confirmed",
        "subject": "Parkeren bij de kazerne",
        "body": "Parkeer op het plein achter de kazerne.",
    }
    values.update(fields)
    return values


def test_organiser_sees_the_form_with_counts_per_audience(client, organiser, activity, attendees):
    client.force_login(organiser)

    page = client.get(_url("messages", activity)).content.decode()

    assert "Iedereen die is aangemeld (2 ontvangers)" in page
    assert "Iedereen op de wachtlijst (1 ontvanger)" in page
    assert 'name="key"' in page


def test_the_confirm_step_says_how_many_and_sends_nothing_yet(
    client, organiser, activity, attendees
):
    client.force_login(organiser)

    response = client.post(_url("messages", activity), _form(step="preview"))

    assert response.status_code == 200
    page = response.content.decode()
    assert "Dit bericht gaat per e-mail naar 2 ontvangers" in page
    assert 'value="send"' in page
    assert not Message.objects.exists()


def test_sending_twice_with_one_form_makes_one_message(
    client, organiser, activity, attendees, tasks, django_capture_on_commit_callbacks
):
    client.force_login(organiser)
    data = _form(step="send")

    with django_capture_on_commit_callbacks(execute=True):
        first = client.post(_url("messages", activity), data)
        second = client.post(_url("messages", activity), data)

    message = Message.objects.get()
    assert message.sent_by == organiser
    target = _url("message", activity, message_id=message.pk)
    assert (first.status_code, first.url) == (303, target)
    assert (second.status_code, second.url) == (303, target)
    assert MessageRecipient.objects.count() == 2
    assert len(tasks.results) == 1


def test_the_edit_step_keeps_the_text(client, organiser, activity, attendees):
    client.force_login(organiser)

    response = client.post(_url("messages", activity), _form(step="edit", subject="Bijna goed"))

    assert response.status_code == 200
    assert 'value="Bijna goed"' in response.content.decode()
    assert not Message.objects.exists()


@pytest.mark.parametrize(
    ("fields", "error"),
    [
        ({"subject": ""}, "Schrijf een onderwerp."),
        ({"body": "  "}, "Schrijf een bericht."),
        ({"audience": "everyone"}, "Selecteer een geldige keuze."),
        ({"subject": "x" * 151}, "Het onderwerp mag hoogstens 150 tekens zijn."),
        ({"key": "niet-een-uuid"}, "Dit formulier is niet compleet; laad de pagina opnieuw."),
    ],
)
def test_bad_input_gets_a_dutch_error_and_sends_nothing(
    client, organiser, activity, attendees, fields, error
):
    client.force_login(organiser)

    response = client.post(_url("messages", activity), _form(step="send", **fields))

    assert response.status_code == 422
    assert error in response.content.decode()
    assert not Message.objects.exists()


def test_an_empty_audience_is_refused_in_the_form(client, organiser, activity, attendees):
    attendees["carla"].status = Status.CANCELLED
    attendees["carla"].save()
    client.force_login(organiser)

    response = client.post(_url("messages", activity), _form(step="send", audience="waitlisted"))

    assert response.status_code == 422
    assert "In deze groep staat niemand met een e-mailadres." in response.content.decode()
    assert not Message.objects.exists()


def test_the_list_shows_sent_messages_with_counts_per_status(client, viewer, activity, attendees):
    message = _send(activity)
    MessageRecipient.objects.filter(message=message, registration=attendees["anna"]).update(
        status=Delivery.BOUNCED
    )
    client.force_login(viewer)

    page = client.get(_url("messages", activity)).content.decode()

    assert "Parkeren bij de kazerne" in page
    assert "1 wacht op verzenden, 1 onbestelbaar" in page
    assert _url("message", activity, message_id=message.pk) in page


def test_viewer_reads_but_cannot_send(client, viewer, activity, attendees):
    message = _send(activity)
    client.force_login(viewer)

    listing = client.get(_url("messages", activity))
    detail = client.get(_url("message", activity, message_id=message.pk))
    refused = client.post(_url("messages", activity), _form(step="send"))

    assert listing.status_code == 200
    assert 'name="key"' not in listing.content.decode()
    assert detail.status_code == 200
    assert refused.status_code == 403
    assert Message.objects.count() == 1


def test_another_programme_is_not_found(client, stranger, activity, attendees):
    message = _send(activity)
    client.force_login(stranger)

    assert client.get(_url("messages", activity)).status_code == 404
    assert client.post(_url("messages", activity), _form(step="send")).status_code == 404
    assert client.get(_url("message", activity, message_id=message.pk)).status_code == 404
    assert Message.objects.count() == 1


def test_a_message_of_another_activity_is_not_found(
    client, organiser, activity, make_activity, make_registration
):
    other = make_activity()
    make_registration(activity=other)
    message = _send(other)
    client.force_login(organiser)

    assert client.get(_url("message", activity, message_id=message.pk)).status_code == 404


def test_signed_out_visitors_are_sent_to_log_in(client, activity):
    response = client.get(_url("messages", activity))

    assert response.status_code == 302
    assert response.url.startswith("/inloggen/?next=")


def test_message_page_polls_while_queued_and_stops_when_done(
    client, organiser, activity, attendees
):
    message = _send(activity, body="Neem <b>laarzen</b> mee.")
    client.force_login(organiser)
    url = _url("message", activity, message_id=message.pk)

    page = client.get(url).content.decode()
    assert 'data-hx-trigger="every 3s"' in page
    assert "Lijst vernieuwen" in page
    assert "Neem &lt;b&gt;laarzen&lt;/b&gt; mee." in page

    _run_batches(message)
    fragment = client.get(url, headers={"HX-Request": "true"}).content.decode()
    assert 'id="message-recipients"' in fragment
    assert "<h1>" not in fragment
    assert "hx-trigger" not in fragment
    assert "Verstuurd: 2" in fragment
    assert "Anna de Vries" in fragment


def test_a_claim_left_by_a_dead_worker_becomes_possibly_sent_and_the_page_stops_polling(
    client, organiser, activity, attendees, now, time_machine
):
    message = _send(activity)
    anna = message.recipients.get(registration=attendees["anna"])
    # A worker claimed Anna's row and died before it knew whether the provider took it;
    # Bert's went out.
    assert MessageRecipient.objects.filter(pk=anna.pk).move(Delivery.QUEUED, Delivery.SENDING)
    _run_batches(message)
    assert [m.to for m in mail.outbox] == [["bert@example.org"]]
    client.force_login(organiser)
    url = _url("message", activity, message_id=message.pk)

    # Within the time a task may run, the row may still be sent: the page waits for it.
    time_machine.move_to(now + taskqueue.STALE_AFTER - dt.timedelta(minutes=1), tick=False)
    page = client.get(url).content.decode()
    assert 'data-hx-trigger="every 3s"' in page
    assert "Wordt verstuurd: 1" in page

    # Past it, the worker is dead: possibly sent, said so, and the polling stops.
    time_machine.move_to(now + taskqueue.STALE_AFTER + dt.timedelta(minutes=1), tick=False)
    fragment = client.get(url, headers={"HX-Request": "true"}).content.decode()
    assert "hx-trigger" not in fragment
    assert "wordt nog verstuurd" not in fragment
    assert "Misschien verstuurd: 1" in fragment
    assert "Verstuurd: 1" in fragment
    assert (
        "Bij 1 ontvanger werd het versturen onderbroken, doordat de achtergrondtaak halverwege "
        "stopte. Of die e-mail is aangekomen, weten we niet. We versturen hem niet opnieuw"
    ) in fragment
    assert "we weten niet of deze e-mail is aangekomen. Niet opnieuw verstuurd." in fragment
    anna.refresh_from_db()
    assert anna.status == Delivery.POSSIBLY_SENT

    # Never sent again by itself: a batch run again (a requeued task) leaves it alone.
    _run_batches(message)
    assert [m.to for m in mail.outbox] == [["bert@example.org"]]
    anna.refresh_from_db()
    assert anna.status == Delivery.POSSIBLY_SENT


def test_possibly_sent_is_explained_in_english(client, organiser, activity, attendees, now):
    message = _send(activity)
    MessageRecipient.objects.filter(message=message).update(
        status=Delivery.SENDING, updated_at=now - taskqueue.STALE_AFTER - dt.timedelta(seconds=1)
    )
    client.force_login(organiser)
    with translation.override("en"):
        url = _url("message", activity, message_id=message.pk)

    page = client.get(url).content.decode()

    assert "Possibly sent: 2" in page
    assert "Sending to 2 recipients was interrupted because the background task stopped" in page
    assert "Not sent again." in page
    assert "hx-trigger" not in page


def test_message_page_filters_by_status(client, organiser, activity, attendees):
    message = _send(activity)
    MessageRecipient.objects.filter(message=message, registration=attendees["bert"]).update(
        status=Delivery.BOUNCED, detail="Mailbox does not exist"
    )
    client.force_login(organiser)

    page = client.get(
        _url("message", activity, message_id=message.pk), {"status": "bounced"}
    ).content.decode()

    assert "Bert Jansen" in page
    assert "Mailbox does not exist" in page
    assert "Anna de Vries" not in page


def _queries_for(client, url: str) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200
    return len(queries)


def test_message_page_queries_do_not_grow_with_recipients(
    client, organiser, activity, make_activity
):
    small_activity = make_activity()
    _registration_bulk(small_activity, 10)
    small = _send(small_activity)
    _registration_bulk(activity, 120)  # past one page of recipients (RECIPIENTS_PER_PAGE)
    large = _send(activity)
    assert large.recipients.count() == 120
    client.force_login(organiser)
    client.get(_url("message", small_activity, message_id=small.pk))  # warm up session/caches

    assert _queries_for(client, _url("message", small_activity, message_id=small.pk)) == (
        _queries_for(client, _url("message", activity, message_id=large.pk))
    )


def test_message_list_queries_do_not_grow_with_messages(client, organiser, activity, make_activity):
    small_activity = make_activity()
    _registration_bulk(small_activity, 5)
    _send(small_activity)
    _registration_bulk(activity, 50)
    for n in range(20):
        _send(activity, subject=f"Bericht {n}")
    client.force_login(organiser)
    client.get(_url("messages", small_activity))

    assert _queries_for(client, _url("messages", small_activity)) == _queries_for(
        client, _url("messages", activity)
    )

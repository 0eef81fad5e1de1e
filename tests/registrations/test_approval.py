"""Approving a member for a paid activity: the places are kept as long as a waitlist offer's,
the e-mail says until when and links to the pay button, "Betalen" claims them and starts the
checkout's half hour, and a lapse mails the member and passes the places on."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import translation

from events.models import Activity
from jubileum.templatetags.jubileum_format import euro, moment
from registrations import emails, notify, services
from registrations.capacity import PAYMENT_HOLD
from registrations.models import Registration
from tests.registrations.conftest import MAIL_TASK

Status = Registration.Status
SITE = "https://jubileum.example.nl"


def mails(tasks) -> list[tuple[int, str]]:
    return [
        (result.kwargs["registration_id"], result.kwargs["kind"])
        for result in tasks.results
        if result.task.module_path == MAIL_TASK
    ]


def places_taken(activity: Activity) -> int:
    return Activity.objects.with_places_taken().get(pk=activity.pk).places_taken


@pytest.fixture
def dinner(make_activity, programme):
    programme.offer_valid_hours = 24
    programme.save()
    return make_activity(title="Reüniediner", price=Decimal("27.50"), capacity=4)


@pytest.fixture
def pending(dinner, make_registration):
    return make_registration(
        activity=dinner,
        status=Status.PENDING_APPROVAL,
        contact_name="Gerrit Bakker",
        party_size=2,
    )


@pytest.fixture
def demo(settings):
    settings.PAYMENTS_DEMO_MODE = True
    settings.STRIPE_SECRET_KEY = ""
    settings.STRIPE_WEBHOOK_SECRET = ""


def html_of(message) -> str:
    return next(content for content, mimetype in message.alternatives if mimetype == "text/html")


def manage_url(registration: Registration, name: str = "manage") -> str:
    return reverse(f"registrations:{name}", kwargs={"token": registration.manage_token})


def approve(pending: Registration, capture) -> Registration:
    with capture(execute=True):
        services.approve(pending.pk)
    pending.refresh_from_db()
    return pending


def test_approval_of_paid_activity_keeps_places_as_long_as_a_waitlist_offer(
    pending, dinner, now, tasks, django_capture_on_commit_callbacks
):
    approved = approve(pending, django_capture_on_commit_callbacks)

    assert approved.status == Status.OFFERED
    assert approved.approved_at == now
    assert approved.hold_expires_at == now + dt.timedelta(hours=24)
    assert places_taken(dinner) == 2
    assert mails(tasks) == [(approved.pk, "approved")]


def test_approval_never_keeps_places_past_the_close_of_sign_up(
    pending, dinner, now, django_capture_on_commit_callbacks
):
    dinner.registration_closes_at = now + dt.timedelta(hours=3)
    dinner.save()

    approved = approve(pending, django_capture_on_commit_callbacks)

    assert approved.hold_expires_at == now + dt.timedelta(hours=3)


def test_approval_of_free_activity_still_confirms(
    make_registration, activity, now, django_capture_on_commit_callbacks
):
    pending = make_registration(activity=activity, status=Status.PENDING_APPROVAL)

    approved = approve(pending, django_capture_on_commit_callbacks)

    assert (approved.status, approved.approved_at) == (Status.CONFIRMED, None)


def test_approved_places_are_still_held_after_half_an_hour(
    pending, dinner, now, time_machine, client, django_capture_on_commit_callbacks
):
    approved = approve(pending, django_capture_on_commit_callbacks)
    time_machine.move_to(now + PAYMENT_HOLD + dt.timedelta(minutes=1), tick=False)

    page = client.get(manage_url(approved)).content.decode()

    assert approved.holds_places()
    assert places_taken(dinner) == 2
    assert "Verlopen" not in page
    assert "Wacht op betaling" in page
    assert 'id="betalen"' in page
    assert "Betalen (€ 55,00)" in page
    assert "Plaats claimen" not in page


@pytest.mark.parametrize(
    ("language", "deadline", "pay"),
    [
        ("nl", "We houden je plaatsen vast tot", "Betalen"),
        ("en", "We are holding your places until", "Pay"),
    ],
)
def test_approval_mail_carries_the_pay_link_and_the_deadline_in_words(
    pending, now, settings, language, deadline, pay, django_capture_on_commit_callbacks
):
    settings.SITE_URL = SITE
    pending.language = language
    pending.save()
    approved = approve(pending, django_capture_on_commit_callbacks)

    message = emails.approved(approved)

    with translation.override(language):
        until = moment(approved.hold_expires_at)  # the day and month in words
        pay_url = SITE + manage_url(approved) + "#betalen"
        button = f"{pay} ({euro(Decimal('55.00'))})"
    for body in (message.body, html_of(message)):
        assert pay_url in body
        assert f"{deadline} {until}" in body
        assert button in body


def test_pressing_pay_claims_the_places_and_starts_the_checkout_hold(
    pending, dinner, now, time_machine, client, demo, tasks, django_capture_on_commit_callbacks
):
    approved = approve(pending, django_capture_on_commit_callbacks)
    later = now + dt.timedelta(hours=5)
    time_machine.move_to(later, tick=False)

    response = client.post(manage_url(approved, "pay"))

    assert response.status_code == 303
    assert response["Location"].startswith("/betalen/demo/cs_demo_")
    approved.refresh_from_db()
    assert approved.status == Status.PENDING_PAYMENT
    assert approved.hold_expires_at == later + PAYMENT_HOLD
    assert approved.payments.get().status == "open"


def test_a_waitlist_offer_is_not_an_approval(make_registration, dinner, now):
    offered = make_registration(
        activity=dinner,
        status=Status.OFFERED,
        waitlisted_at=now - dt.timedelta(days=1),
        hold_expires_at=now + dt.timedelta(hours=24),
    )

    assert notify.mail_kind(offered) == "offer"


def test_an_approved_party_moved_to_a_full_activity_waits_as_anyone_else(
    pending, make_activity, make_registration, now, django_capture_on_commit_callbacks
):
    approved = approve(pending, django_capture_on_commit_callbacks)
    full = make_activity(price=Decimal("27.50"), capacity=2)
    make_registration(activity=full, party_size=2)

    moved = services.move(approved.pk, full.pk)

    assert (moved.status, moved.approved_at) == (Status.WAITLISTED, None)


@pytest.mark.parametrize("pressed_pay", [False, True])
def test_lapsed_approval_mails_the_member_and_offers_the_places_to_the_waitlist(
    pending,
    dinner,
    make_registration,
    now,
    time_machine,
    tasks,
    demo,
    pressed_pay,
    django_capture_on_commit_callbacks,
):
    make_registration(activity=dinner, party_size=2)
    waiting = make_registration(
        activity=dinner, party_size=2, status=Status.WAITLISTED, waitlisted_at=now
    )
    approved = approve(pending, django_capture_on_commit_callbacks)
    if pressed_pay:
        with django_capture_on_commit_callbacks(execute=True):
            services.claim_offer(approved.pk)
        time_machine.move_to(now + PAYMENT_HOLD + dt.timedelta(seconds=1), tick=False)
    else:
        time_machine.move_to(now + dt.timedelta(hours=24, seconds=1), tick=False)
    tasks.clear()

    with django_capture_on_commit_callbacks(execute=True):
        services.tidy_activities()

    approved.refresh_from_db()
    waiting.refresh_from_db()
    assert approved.status == Status.EXPIRED
    assert waiting.status == Status.OFFERED
    assert sorted(mails(tasks)) == sorted(
        [(approved.pk, "approval_expired"), (waiting.pk, "offer")]
    )


def test_lapsed_waitlist_offer_sends_no_approval_mail(
    make_registration, dinner, now, time_machine, tasks, django_capture_on_commit_callbacks
):
    offered = make_registration(
        activity=dinner,
        status=Status.OFFERED,
        waitlisted_at=now - dt.timedelta(days=1),
        hold_expires_at=now + dt.timedelta(hours=1),
    )
    time_machine.move_to(now + dt.timedelta(hours=2), tick=False)

    with django_capture_on_commit_callbacks(execute=True):
        services.tidy_activities()

    assert Registration.objects.get(pk=offered.pk).status == Status.EXPIRED
    assert mails(tasks) == []


@pytest.mark.parametrize(
    ("language", "phrase"),
    [("nl", "Meld je dan opnieuw aan"), ("en", "sign up again")],
)
def test_approval_expired_mail_says_the_places_went_and_the_way_back(
    pending, now, time_machine, settings, language, phrase, django_capture_on_commit_callbacks
):
    settings.SITE_URL = SITE
    pending.language = language
    pending.save()
    approved = approve(pending, django_capture_on_commit_callbacks)
    time_machine.move_to(now + dt.timedelta(hours=25), tick=False)
    services.tidy_activities()
    approved.refresh_from_db()

    message = emails.approval_expired(approved)

    with translation.override(language):
        activity_url = SITE + approved.activity.get_absolute_url()
    for body in (message.body, html_of(message)):
        assert phrase in body
        assert activity_url in body


def test_approved_places_are_claimed_with_the_claim_button_once_the_activity_is_free(
    pending, dinner, client, django_capture_on_commit_callbacks
):
    approved = approve(pending, django_capture_on_commit_callbacks)
    dinner.price = Decimal("0.00")
    dinner.save()

    page = client.get(manage_url(approved)).content.decode()

    assert "Plaats claimen" in page
    assert 'id="betalen"' not in page

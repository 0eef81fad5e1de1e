"""Calling an activity off (issue 17, case 8): the organiser says why, optionally offers an
alternative, and everyone who signed up is told that in their own language, with what happens
to what they paid; the activity's pages keep showing the reason."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from events.models import Activity
from registrations import emails, services
from registrations.models import Payment, Registration
from tests.registrations.conftest import MAIL_TASK

Status = Registration.Status


@pytest.fixture
def organiser_client(client, organiser):
    client.force_login(organiser)
    return client


@pytest.fixture
def workshop(make_activity):
    return make_activity(title="Kinderbrandweermiddag", slug="kinderbrandweermiddag", capacity=20)


def _cancel_url(activity: Activity) -> str:
    return reverse(
        "organiser:cancel_activity",
        kwargs={"programme_slug": activity.programme.slug, "activity_slug": activity.slug},
    )


def _mail_tasks(tasks) -> list[tuple[int, str]]:
    return [
        (result.kwargs["registration_id"], result.kwargs["kind"])
        for result in tasks.results
        if result.task.module_path == MAIL_TASK
    ]


@pytest.mark.parametrize("reason", ["", "   ", "x" * 501])
def test_calling_an_activity_off_needs_a_bounded_reason_and_changes_nothing_without_one(
    organiser_client, workshop, make_registration, tasks, django_capture_on_commit_callbacks, reason
):
    registration = make_registration(activity=workshop)

    with django_capture_on_commit_callbacks(execute=True):
        response = organiser_client.post(_cancel_url(workshop), {"reason": reason})

    assert response.status_code == 422
    page = response.content.decode()
    assert "Er is niets opgeslagen." in page
    assert 'name="reason"' in page
    workshop.refresh_from_db()
    assert workshop.status == Activity.Status.PUBLISHED
    registration.refresh_from_db()
    assert registration.status == Status.CONFIRMED
    assert _mail_tasks(tasks) == []


def test_the_confirm_page_asks_for_a_reason_and_an_alternative(organiser_client, workshop):
    page = organiser_client.get(_cancel_url(workshop)).content.decode()

    assert '<textarea name="reason"' in page
    assert 'name="alternative"' in page
    assert 'maxlength="500"' in page


def test_everyone_is_told_the_organiser_called_it_off_why_and_what_instead(
    organiser_client, workshop, make_registration, tasks, django_capture_on_commit_callbacks
):
    dutch = make_registration(activity=workshop, contact_name="Els Bakker")
    english = make_registration(activity=workshop, contact_name="Ann Smith", language="en")

    with django_capture_on_commit_callbacks(execute=True):
        response = organiser_client.post(
            _cancel_url(workshop),
            {
                "reason": "De brandweerkazerne is die dag nodig.",
                "alternative": "Zelfde middag op 14 maart.",
            },
        )

    assert response.status_code == 303
    assert sorted(_mail_tasks(tasks)) == sorted(
        [(dutch.pk, "activity_cancelled"), (english.pk, "activity_cancelled")]
    )
    dutch.refresh_from_db()
    mail = emails.activity_cancelled(dutch)
    html = mail.alternatives[0].content
    assert mail.subject == "Afgelast: Kinderbrandweermiddag"
    for body in (mail.body, html):
        assert "De organisatie heeft Kinderbrandweermiddag afgelast" in body
        assert "De brandweerkazerne is die dag nodig." in body
        assert "Zelfde middag op 14 maart." in body
        assert "Je had niets betaald" in body
        # Not the words for someone who cancelled themselves.
        assert "niet zelf geannuleerd" not in body

    english.refresh_from_db()
    mail = emails.activity_cancelled(english)
    html = mail.alternatives[0].content
    assert mail.subject == "Called off: Kinderbrandweermiddag"
    assert "Reason: De brandweerkazerne is die dag nodig." in mail.body
    assert "Instead: Zelfde middag op 14 maart." in mail.body
    assert "<strong>Reason:</strong> De brandweerkazerne is die dag nodig." in html
    assert "<strong>Instead:</strong> Zelfde middag op 14 maart." in html
    assert "The organisers have called off Kinderbrandweermiddag" in mail.body
    # The title has no English: the HTML marks it as Dutch.
    assert 'The organisers have called off <span lang="nl">Kinderbrandweermiddag</span>' in html
    for body in (mail.body, html):
        assert "You had not paid anything" in body


def test_the_paid_hear_they_get_everything_back_within_the_refund_period(
    workshop, make_registration, tasks
):
    workshop.price = Decimal("7.50")
    workshop.save()
    paid = make_registration(activity=workshop, party_size=2, language="en")
    Payment.objects.create(
        registration=paid,
        amount=Decimal("15.00"),
        status=Payment.Status.PAID,
        paid_at=timezone.now(),
        idempotency_key="betaling-kinderen",
        payment_intent_id="pi_kinderen",
    )

    services.cancel_activity(workshop.pk, reason="Storm verwacht.")

    paid.refresh_from_db()
    mail = emails.activity_cancelled(paid)
    assert "You paid €15.00. We refund it in full" in mail.body
    assert f"within {emails.REFUND_WORKING_DAYS} working days" in mail.body
    assert "Reason: Storm verwacht." in mail.body
    assert "Instead" not in mail.body


def test_the_activity_pages_show_the_reason_afterwards(organiser_client, workshop, tasks):
    organiser_client.post(
        _cancel_url(workshop), {"reason": "Storm verwacht.", "alternative": "Op 14 maart."}
    )
    organiser_page = organiser_client.get(
        reverse(
            "organiser:activity",
            kwargs={"programme_slug": workshop.programme.slug, "activity_slug": workshop.slug},
        )
    ).content.decode()
    public_page = organiser_client.get(workshop.get_absolute_url()).content.decode()

    for page in (organiser_page, public_page):
        assert "Deze activiteit is afgelast." in page
        assert "Waarom: Storm verwacht." in page
        assert "In plaats daarvan: Op 14 maart." in page

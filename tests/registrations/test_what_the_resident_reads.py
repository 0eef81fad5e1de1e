"""What the personal page and the e-mails tell a resident: their place on the waitlist, what
cancelling gives up, and a receipt line for what they paid (with the VAT in it)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone, translation

from registrations import emails, services
from registrations.models import Payment, Registration

Status = Registration.Status
PAID_AT = dt.datetime(2026, 12, 3, 9, 30, tzinfo=dt.UTC)


def url(name: str, registration: Registration, language: str = "nl") -> str:
    with translation.override(language):
        return reverse(f"registrations:{name}", kwargs={"token": registration.manage_token})


def page(client, name: str, registration: Registration, language: str = "nl") -> str:
    return client.get(url(name, registration, language)).content.decode()


# --- The place on the waitlist -----------------------------------------------------------------


@pytest.fixture
def waiting(make_activity, make_registration) -> list[Registration]:
    """Three parties waiting for a full activity, in the order they joined the waitlist."""
    full = make_activity(capacity=4)
    make_registration(activity=full, party_size=4)
    start = timezone.now() - dt.timedelta(hours=3)
    # Made in another order than they joined: the position follows the time joined.
    third = make_registration(
        activity=full, status=Status.WAITLISTED, waitlisted_at=start + dt.timedelta(hours=2)
    )
    first = make_registration(activity=full, status=Status.WAITLISTED, waitlisted_at=start)
    second = make_registration(
        activity=full, status=Status.WAITLISTED, waitlisted_at=start + dt.timedelta(hours=1)
    )
    return [first, second, third]


def test_waitlisted_page_says_the_party_position(client, waiting):
    first, second, third = waiting

    assert "Je staat als 3e op de wachtlijst." in page(client, "manage", third)
    assert "Je staat als 1e op de wachtlijst." in page(client, "manage", first)
    assert "You are number 2 on the waiting list." in page(client, "manage", second, "en")


def test_position_moves_up_when_a_party_ahead_leaves(client, waiting):
    first, _second, third = waiting

    services.cancel(first.pk)

    assert "Je staat als 2e op de wachtlijst." in page(client, "manage", third)


def test_position_is_the_order_places_are_offered_in(client, waiting, make_registration):
    first, second, third = waiting
    holder = Registration.objects.get(activity=first.activity, status=Status.CONFIRMED)

    services.cancel(holder.pk)  # four places free: the first two parties of two fit

    assert [Registration.objects.get(pk=r.pk).status for r in (first, second, third)] == [
        Status.OFFERED,
        Status.OFFERED,
        Status.WAITLISTED,
    ]
    assert "Je staat als 1e op de wachtlijst." in page(client, "manage", third)


# --- What cancelling gives up --------------------------------------------------------------------

PLACES_TO_SOMEONE_ELSE = {
    "nl": ("geven we je plaatsen aan iemand anders", "Je plaatsen gaan dan naar iemand anders"),
    "en": ("give your places to someone else", "Your places then go to someone else"),
}


@pytest.mark.parametrize("status", [Status.WAITLISTED, Status.PENDING_APPROVAL])
@pytest.mark.parametrize("language", ["nl", "en"])
def test_no_places_to_give_away_without_places(client, make_registration, status, language):
    registration = make_registration(status=status, waitlisted_at=timezone.now())

    manage = page(client, "manage", registration, language)
    cancel = page(client, "cancel", registration, language)

    assert url("cancel", registration, language) in manage  # they can still cancel
    for words in PLACES_TO_SOMEONE_ELSE[language]:
        assert words not in manage
        assert words not in cancel


def test_waitlisted_party_is_told_it_leaves_the_waitlist(client, make_registration):
    registration = make_registration(status=Status.WAITLISTED, waitlisted_at=timezone.now())

    assert "dan halen we je van de wachtlijst" in page(client, "manage", registration)
    assert "Je gaat dan van de wachtlijst af." in page(client, "cancel", registration)


@pytest.mark.parametrize("status", [Status.CONFIRMED, Status.OFFERED, Status.PENDING_PAYMENT])
def test_parties_holding_places_are_told_they_go_to_someone_else(client, make_registration, status):
    registration = make_registration(
        status=status, hold_expires_at=timezone.now() + dt.timedelta(hours=1)
    )

    assert PLACES_TO_SOMEONE_ELSE["nl"][0] in page(client, "manage", registration)
    assert PLACES_TO_SOMEONE_ELSE["nl"][1] in page(client, "cancel", registration)


# --- The receipt line ------------------------------------------------------------------------


@pytest.fixture
def paid(make_activity, make_registration) -> Registration:
    """A party of two who paid € 10,90 for a € 5,45 activity."""
    activity = make_activity(price=Decimal("5.45"))
    registration = make_registration(
        activity=activity, party_size=2, status=Status.CONFIRMED, confirmed_at=PAID_AT
    )
    Payment.objects.create(
        registration=registration,
        status=Payment.Status.PAID,
        amount=Decimal("10.90"),
        idempotency_key=f"test-{registration.pk}",
        paid_at=PAID_AT,
    )
    return registration


RECEIPT = {
    "nl": "€ 10,90 ontvangen op 3 december 2026, inclusief € 0,90 btw (9%).",
    "en": "€10.90 received on 3 December 2026, including €0.90 VAT (9%).",
}


@pytest.mark.parametrize("language", ["nl", "en"])
def test_personal_page_of_a_paid_registration_states_the_receipt(client, paid, language):
    assert RECEIPT[language] in page(client, "manage", paid, language)


@pytest.mark.parametrize("language", ["nl", "en"])
def test_paid_confirmation_mail_states_the_receipt(paid, language):
    paid.language = language
    paid.save()

    message = emails.confirmation(paid)

    html = next(content for content, kind in message.alternatives if kind == "text/html")
    assert RECEIPT[language] in message.body
    assert RECEIPT[language] in html


def test_receipt_follows_the_programme_ticket_rate(client, paid):
    programme = paid.activity.programme
    programme.ticket_vat_rate = 21
    programme.save()
    assert "inclusief € 1,89 btw (21%)." in page(client, "manage", paid)

    programme.ticket_vat_rate = 0
    programme.save()
    assert "€ 10,90 ontvangen op 3 december 2026, zonder btw." in page(client, "manage", paid)


def test_free_confirmation_mail_has_no_receipt(make_registration):
    message = emails.confirmation(make_registration(confirmed_at=PAID_AT))

    assert "ontvangen op" not in message.body
    assert "btw" not in message.body

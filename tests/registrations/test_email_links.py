"""Every link in every e-mail works for whoever opens it, and none acts when it is opened.

Each e-mail kind is produced by the flow that sends it in real life (sign up, cancel, approve,
pay, refund, remind, invite, message, budget alert, a role in a programme's team and an invitation
to it), with the task queue running its tasks at
once; then every link in the text and HTML bodies is opened with a fresh client, as a mail
client, a link scanner or the person would: no 404, 405 or 500, and nothing changes.
"""

from __future__ import annotations

import datetime as dt
import io
import re
from decimal import Decimal
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

import pytest
from django.contrib.auth import get_user_model
from django.core import mail
from django.core.management import call_command
from django.test import Client

from budget import services as budget_services
from budget.inputs import ExpenseInput
from budget.models import Budget
from events import team
from events.models import Activity, ProgrammeRole, TeamInvitation
from registrations import services
from registrations.backoffice import invitations, messaging
from registrations.emails import PAYMENT_MAILS, REGISTRATION_MAILS
from registrations.models import Message, Payment, Refund, Registration, RosterEntry
from registrations.payments import demo, refunds
from registrations.payments import services as payments

AMSTERDAM = ZoneInfo("Europe/Amsterdam")
NOW = dt.datetime(2026, 12, 1, 10, 0, tzinfo=AMSTERDAM)
SITE = "https://jubileum.example.nl"
Status = Registration.Status

# The subject's opening words for each e-mail kind (Dutch), to tell which mail is which.
SUBJECTS = {
    "confirmation": "Je aanmelding is bevestigd",
    "waitlisted": "Je staat op de wachtlijst",
    "offer": "Er is plaats voor je vrij",
    "pending_approval": "We hebben je aanmelding ontvangen",
    "pending_payment": "Rond je aanmelding af met je betaling",
    "approved": "Je aanmelding is goedgekeurd",
    "approval_expired": "Niet op tijd betaald",
    "cancelled": "Je aanmelding is geannuleerd",
    "declined": "Je aanmelding is niet goedgekeurd",
    "reminder": "Morgen",
    "refunded": "We betalen je terug",
    "late_payment_refunded": "Je betaling kwam te laat",
    "invitation": "Persoonlijke uitnodiging",
    "message": "Parkeren bij de kazerne",
    "refund_failed": "Terugbetaling van",
    "already_signed_up": "Je was al aangemeld",
    "activity_cancelled": "Afgelast",
    "role_granted": "Je bent nu",
    "team_invitation": "Uitnodiging voor het team van",
    "organiser_digest": "Wacht op jouw goedkeuring",
}

HREF = re.compile(r'href="([^"]+)"')
TEXT_URL = re.compile(r"https?://[^\s<>\"]+")


@pytest.fixture
def flows(settings, time_machine, commit_hooks, programme, make_activity):
    settings.SITE_URL = SITE
    settings.TASKS = {"default": {"BACKEND": "django.tasks.backends.immediate.ImmediateBackend"}}
    settings.PAYMENTS_DEMO_MODE = True
    settings.STRIPE_SECRET_KEY = ""
    settings.STRIPE_WEBHOOK_SECRET = ""
    time_machine.move_to(NOW, tick=False)
    organiser = get_user_model().objects.create_user(username="anne", email="anne@example.org")
    ProgrammeRole.objects.create(user=organiser, programme=programme, role="organiser")
    return organiser


def sign_up(activity: Activity, email: str, party_size: int = 1) -> Registration:
    return services.register(
        activity.pk, services.SignUp(contact_name="Anna", email=email, party_size=party_size)
    ).registration


def pay(registration: Registration) -> Payment:
    payment = payments.start_payment(registration.pk)
    return demo.complete_demo_payment(payment.checkout_session_id, "paid")


def produce_every_mail(organiser, programme, make_activity, time_machine) -> None:
    # Free and full: confirmed, waitlisted; a cancellation offers the place on.
    open_day = make_activity(title="Open dag", capacity=2, max_party_size=2)
    leaving = sign_up(open_day, "jansen@example.org", 2)
    sign_up(open_day, "devries@example.org", 2)
    sign_up(open_day, "devries@example.org", 1)  # again: the owner gets the link once more
    services.cancel(leaving.pk)

    # Members only and paid: approved (and, later, lapsed) or declined.
    dinner = make_activity(
        title="Reüniediner", audience=Activity.Audience.MEMBERS, price=Decimal("25.00")
    )
    services.approve(sign_up(dinner, "gerrit@example.org").pk)
    services.decline(sign_up(dinner, "onbekend@example.org").pk)
    RosterEntry.objects.create(
        programme=programme, name="Piet", email="piet@example.org", brigade="soest"
    )
    invitations.invite_roster(dinner.pk)

    # Paid: waiting for payment, paid, refunded by the organiser, the refund failing.
    tour = make_activity(title="Kazernetour", price=Decimal("5.00"), capacity=3)
    paying = sign_up(tour, "betaler@example.org")
    paid = pay(paying)
    payments.refund(paid.pk)
    refund = Refund.objects.get(payment=paid)
    refunds.record_refund(
        paid,
        {"id": refund.stripe_refund_id, "amount": 500, "status": "failed"},
        NOW,
    )
    # Paid too late, when the places had gone: refunded.
    late = sign_up(tour, "laat@example.org")
    session = payments.start_payment(late.pk)
    time_machine.move_to(NOW + dt.timedelta(minutes=31), tick=False)
    sign_up(tour, "snel@example.org", 2)  # the last two places
    demo.complete_demo_payment(session.checkout_session_id, "paid")

    # Tomorrow: a reminder; and an organiser's message to those coming.
    tomorrow = make_activity(title="Brandweerbal", starts_at=NOW + dt.timedelta(days=1))
    sign_up(tomorrow, "bal@example.org")
    call_command("send_reminders", stdout=io.StringIO())
    messaging.send_message(
        tomorrow, Message.Audience.CONFIRMED, "Parkeren bij de kazerne", "Op het plein.", None
    )

    # An activity called off by the organisers, with a reason and an alternative.
    workshop = make_activity(title="Blusworkshop")
    sign_up(workshop, "blusser@example.org")
    services.cancel_activity(
        workshop.pk, reason="De instructeur is ziek.", alternative="Dezelfde workshop op 14 maart."
    )

    # The approved member never pays: the places go, and they hear so.
    time_machine.move_to(NOW + dt.timedelta(hours=49), tick=False)
    services.tidy_activities()

    # The team grows: someone with an account gets a role, a new address an invitation.
    get_user_model().objects.create_user(username="bert", email="bert@example.org")
    team.invite(programme, "bert@example.org", ProgrammeRole.Role.VIEWER, by=organiser)
    team.invite(programme, "nieuw@example.org", ProgrammeRole.Role.ORGANISER, by=organiser)

    # The budget passes 80 %.
    budget = budget_services.budget_for_programme(programme)
    Budget.objects.filter(pk=budget.pk).update(total=Decimal("100.00"))
    budget.refresh_from_db()
    budget_services.record_expense(
        budget,
        ExpenseInput(
            category_id=budget.categories.first().pk,
            supplier="Drukker",
            description="Affiches",
            date=dt.date(2027, 1, 1),
            amount_excl_vat=Decimal("90.00"),
            vat_rate=0,
        ),
        by=organiser,
    )


def kind_of(message) -> str | None:
    for kind, opening in SUBJECTS.items():
        if opening and message.subject.startswith(opening):
            return kind
    return "budget_alert" if message.to == ["anne@example.org"] else None


def links(message) -> set[str]:
    found = set(TEXT_URL.findall(message.body))
    for content, mimetype in message.alternatives:
        if mimetype == "text/html":
            found |= {url.replace("&amp;", "&") for url in HREF.findall(content)}
    return {url.rstrip(".,;)") for url in found if not url.startswith(("mailto:", "cid:"))}


def snapshot() -> list[tuple]:
    """What opening a link must never change."""
    return [
        *Registration.objects.order_by("pk").values_list(
            "pk", "status", "party_size", "hold_expires_at", "cancelled_at"
        ),
        *Payment.objects.order_by("pk").values_list("pk", "status"),
        *TeamInvitation.objects.order_by("pk").values_list("pk", "accepted_at"),
        *ProgrammeRole.objects.order_by("pk").values_list("pk", "user", "role"),
        get_user_model().objects.count(),
    ]


def test_every_link_in_every_email_opens_a_page_and_acts_on_nothing(
    flows, programme, make_activity, time_machine
):
    produce_every_mail(flows, programme, make_activity, time_machine)

    kinds = {}
    for message in mail.outbox:
        kind = kind_of(message)
        assert kind is not None, message.subject
        kinds.setdefault(kind, []).append(message)
    made = {
        *REGISTRATION_MAILS,
        *PAYMENT_MAILS,
        "invitation",
        "message",
        "refund_failed",
        "role_granted",
        "team_invitation",
    }
    assert set(kinds) >= made | {"budget_alert", "organiser_digest"}, sorted(made - set(kinds))

    before = snapshot()
    opened = 0
    for kind, messages in kinds.items():
        for message in messages:
            for url in links(message):
                assert url.startswith(SITE), (kind, url)
                parts = urlsplit(url)
                path = parts.path + (f"?{parts.query}" if parts.query else "")
                response = Client().get(path)
                assert response.status_code not in (404, 405) and response.status_code < 500, (
                    kind,
                    url,
                    response.status_code,
                )
                opened += 1
    assert snapshot() == before
    assert opened > 30


@pytest.mark.parametrize("name", ["claim", "cancel", "pay"])
def test_a_link_meant_to_act_asks_first(name, make_registration, make_activity, now):
    """Claim and cancel explain and ask on GET; the pay address leads to the personal page's
    pay button (the mails link there)."""
    activity = make_activity(price=Decimal("5.00"))
    offered = make_registration(
        activity=activity,
        status=Status.OFFERED,
        waitlisted_at=now,
        hold_expires_at=now + dt.timedelta(hours=2),
    )
    url = (
        f"/aanmelding/{offered.manage_token}/"
        + {
            "claim": "plaats-claimen/",
            "cancel": "annuleren/",
            "pay": "betalen/",
        }[name]
    )

    response = Client().get(url)

    offered.refresh_from_db()
    assert offered.status == Status.OFFERED
    assert not offered.payments.exists()
    if name == "pay":
        assert response.status_code == 303
        assert response["Location"] == f"/aanmelding/{offered.manage_token}/#betalen"
    else:
        assert response.status_code == 200
        assert f'<form method="post" action="{url}">' in response.content.decode()

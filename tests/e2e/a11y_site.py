"""The demo programme plus one of everything a page can show, for the accessibility tests.

`load_demo` gives the centenary programme with its activities and budget; `build_site` adds what
the demo leaves out (a paid public activity, a full one without waitlist, a cancelled and a past
one, registrations in each state, a paid registration, a scanner device, an expense awaiting
approval, income) so that every page and every branch worth auditing has something to show.
"""

from __future__ import annotations

import datetime as dt
import io
from dataclasses import dataclass, field
from decimal import Decimal

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.test import Client
from django.utils import timezone

from budget import services as budget_services
from budget.inputs import ExpenseInput
from budget.models import Budget, Income
from events.models import Activity, Programme, ProgrammeRole, Question
from registrations import services
from registrations.checkin import devices
from registrations.models import (
    Message,
    MessageRecipient,
    Payment,
    Registration,
    RosterEntry,
    ScannerDevice,
)

PROGRAMME = "Brandweer Soest & Soesterberg 100 jaar"
ORGANISER = "a11y-organiser"

Status = Registration.Status


@dataclass
class Site:
    programme: Programme
    activities: dict[str, Activity]  # by kind: free, paid, full_waitlist, ...
    registrations: dict[str, Registration] = field(default_factory=dict)  # by state
    device: ScannerDevice | None = None
    device_token: str = ""
    choosing_token: str = ""  # a device for two activities: the scanner asks which one
    pairing_device: ScannerDevice | None = None
    organiser: object = None
    budget: Budget | None = None
    expense_id: int = 0
    income: Income | None = None
    question: Question | None = None
    message: Message | None = None


def _activity(programme: Programme, slug: str, **fields) -> Activity:
    starts_at = fields.pop("starts_at", timezone.now() + dt.timedelta(days=10))
    values = {
        "programme": programme,
        "slug": slug,
        "summary": "Een uur oefenen met een blusdeken en een brandblusser.",
        "description": "Onder begeleiding van een brandweerman of -vrouw.",
        "starts_at": starts_at,
        "ends_at": starts_at + dt.timedelta(hours=1),
        "location_name": "Brandweerkazerne Soest",
        "location_address": "Koningsweg 1, 3762 EA Soest",
        "capacity": 30,
        "max_party_size": 4,
        "status": Activity.Status.PUBLISHED,
    }
    values.update(fields)
    return Activity.objects.create(**values)


def _sign_up(activity: Activity, name: str, size: int = 2, **fields) -> Registration:
    email = name.lower().replace(" ", ".") + "@example.org"
    sign_up = services.SignUp(contact_name=name, email=email, party_size=size, **fields)
    return services.register(activity.pk, sign_up).registration


def _registration(activity: Activity, name: str, status: str, **fields) -> Registration:
    """A registration in a state the sign-up alone does not reach (an offer, a paid one)."""
    return Registration.objects.create(
        activity=activity,
        status=status,
        contact_name=name,
        email=name.lower().replace(" ", ".") + "@example.org",
        party_size=fields.pop("party_size", 2),
        consent_at=timezone.now(),
        **fields,
    )


def build_site() -> Site:
    call_command("load_demo", stdout=io.StringIO())
    programme = Programme.objects.get(name=PROGRAMME)
    demo = {a.slug: a for a in programme.activities.all()}
    now = timezone.now()

    # A second full ride, without a waitlist; the demo's 10:00 ride is full with one.
    no_waitlist = demo["rit-historische-brandweerwagen-1045"]
    no_waitlist.waitlist_enabled = False
    no_waitlist.save()
    _registration(no_waitlist, "Familie Visser", Status.CONFIRMED, party_size=4)
    cancelled = demo["presentatie-jubileumboek"]
    cancelled.status = Activity.Status.CANCELLED
    cancelled.save()

    activities = {
        "free": demo["kinderbrandweermiddag"],
        "paid": _activity(
            programme, "cursus-kleine-blusmiddelen", title="Cursus kleine blusmiddelen"
        ),
        "full_waitlist": demo["rit-historische-brandweerwagen-1000"],
        "full_no_waitlist": no_waitlist,
        "members": demo["reuniediner"],
        "invitation": demo["jubileumreceptie"],
        "no_registration": demo["open-dag-kazerne-soest"],
        "cancelled": cancelled,
        "past": _activity(
            programme,
            "brandweerquiz",
            title="Brandweerquiz",
            starts_at=now - dt.timedelta(days=3),
        ),
        # Check-in opens shortly before the start: the scanner admits this one's tickets.
        "tonight": _activity(
            programme,
            "avond-van-de-vrijwilliger",
            title="Avond van de vrijwilliger",
            starts_at=now + dt.timedelta(minutes=30),
        ),
    }
    activities["paid"].price = Decimal("12.50")
    activities["paid"].save()
    site = Site(programme=programme, activities=activities)

    reg = site.registrations
    reg["confirmed"] = _sign_up(activities["free"], "Familie Smit", 3)
    reg["waitlisted"] = _sign_up(activities["full_waitlist"], "Familie Mulder", 2)
    reg["pending_payment"] = _sign_up(activities["paid"], "Familie Bos", 2)
    reg["offered"] = _registration(
        activities["full_waitlist"],
        "Familie Peters",
        Status.OFFERED,
        hold_expires_at=now + dt.timedelta(hours=20),
        waitlisted_at=now - dt.timedelta(days=1),
    )
    reg["cancelled"] = _registration(
        activities["free"], "Familie Koster", Status.CANCELLED, cancelled_at=now
    )
    reg["scan"] = _sign_up(activities["tonight"], "Familie Dekker", 3)
    assert [r.status for r in reg.values()] == [
        Status.CONFIRMED,
        Status.WAITLISTED,
        Status.PENDING_PAYMENT,
        Status.OFFERED,
        Status.CANCELLED,
        Status.CONFIRMED,
    ]

    # What the organiser's activity page groups: approvals, a paid party (refundable), waitlist.
    members = activities["members"]
    reg["pending_approval"] = _sign_up(
        members, "Gerrit Hendriks", 2, kind=Registration.Kind.FORMER_MEMBER, brigade="soest"
    )
    reg["paid"] = _registration(
        members,
        "Wim van Leeuwen",
        Status.CONFIRMED,
        kind=Registration.Kind.MEMBER,
        brigade="soesterberg",
        years_of_service=22,
        confirmed_at=now,
    )
    Payment.objects.create(
        registration=reg["paid"],
        status=Payment.Status.PAID,
        amount=Decimal("55.00"),
        idempotency_key="a11y-paid",
        checkout_session_id="cs_test_a11y_paid",
        paid_at=now,
    )
    _registration(members, "Joke Willems", Status.WAITLISTED, waitlisted_at=now)
    _registration(members, "Kees Jacobs", Status.CANCELLED, cancelled_at=now)
    # Members on the roster not invited yet: the invitation preview lists them.
    RosterEntry.objects.bulk_create(
        RosterEntry(programme=programme, name=name, email=email, brigade=brigade, is_former=former)
        for name, email, brigade, former in [
            ("Anja de Wit", "anja@example.org", "soest", False),
            ("Bram Visser", "bram@example.org", "soesterberg", True),
        ]
    )

    user = get_user_model().objects.create_user(
        username=ORGANISER, password="een-lang-wachtwoord-2023", is_staff=True, first_name="Anne"
    )
    ProgrammeRole.objects.create(user=user, programme=programme, role=ProgrammeRole.Role.ORGANISER)
    site.organiser = user

    paired = devices.create_device(
        programme, [activities["tonight"].pk], name="Ingang Noord", with_token=True
    )
    site.device, site.device_token = paired.device, paired.token
    site.choosing_token = devices.create_device(
        programme,
        [activities["tonight"].pk, activities["free"].pk],
        name="Ingang Oost",
        with_token=True,
    ).token
    site.pairing_device = devices.create_device(
        programme, [activities["free"].pk], name="Ingang Zuid", created_by=user
    ).device

    budget = Budget.objects.get(programme=programme)
    site.budget = budget
    catering = budget.categories.get(name="Catering")
    # Above the approval threshold: it waits for a second organiser.
    site.expense_id = budget_services.record_expense(
        budget,
        ExpenseInput(
            category_id=catering.pk,
            activity_id=members.pk,
            supplier="Hotel De Soester Duinen",
            description="Aanbetaling reüniediner",
            date=now.date(),
            amount_excl_vat=Decimal("1500.00"),
            vat_rate=9,
        ),
        by=user,
    ).pk
    site.income = Income.objects.create(
        budget=budget,
        kind=Income.Kind.SPONSORSHIP,
        description="Bijdrage Rabobank Utrechtse Heuvelrug",
        amount=Decimal("750.00"),
        date=now.date(),
        recorded_by=user,
    )

    # For the organiser's pages on questions and messages.
    site.question = Question.objects.create(
        activity=members,
        label="Dieetwensen",
        label_en="Dietary wishes",
        kind=Question.Kind.CHOICE,
        choices="Geen | None\nVegetarisch | Vegetarian\nVeganistisch | Vegan",
        required=True,
    )
    site.message = Message.objects.create(
        activity=members,
        audience=Message.Audience.CONFIRMED,
        subject="Parkeren bij het hotel",
        body="Parkeren kan gratis achter het hotel. Tot zaterdag!",
        sent_by=user,
    )
    MessageRecipient.objects.create(
        message=site.message,
        registration=reg["paid"],
        status=MessageRecipient.Status.DELIVERED,
        sent_at=now,
    )
    return site


def session_cookie(user, base_url: str) -> dict:
    """A logged-in session for `user`, as a cookie for a Playwright context."""
    client = Client()
    client.force_login(user)
    name = settings.SESSION_COOKIE_NAME
    return {"name": name, "value": client.cookies[name].value, "url": base_url}


SCANNER_TOKEN_KEY = "jubileum.scanner.token"


def open_paired_scanner(page, site: Site, path: str = "/scan/") -> None:
    """The scanner page on a phone already paired with `site.device` (pairing itself is the
    back end's test), showing the scan screen."""
    page.goto(path)
    page.evaluate("([k, v]) => localStorage.setItem(k, v)", [SCANNER_TOKEN_KEY, site.device_token])
    page.reload()
    page.locator("#scan").wait_for(state="visible")

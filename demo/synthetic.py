"""Bulk rows for measurements: many activities and registrations, fast.

Not demo content and not how the product makes rows: the query-count tests (tests/conftest.py,
`many_activities`) and the in-process benchmarks (bench/listing.py, bench/budget_dashboard.py)
need hundreds of activities in a moment, so this inserts them in bulk, without validation and
without the services (no capacity check, no history, no e-mail). It lives here, beside the
demo, because both the tests and the benchmarks import it and neither should import the other.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from django.contrib.auth.models import User
from django.utils import timezone
from simple_history.utils import bulk_create_with_history

from budget.models import Budget, Expense
from events.models import Activity, Programme, ProgrammeRole
from registrations.models import CheckIn, Registration


def synthetic_activities(programme: Programme, count: int) -> list[Activity]:
    """`count` published activities of mixed kinds, every other one partly booked.

    Bulk inserts, no validation, no services (see the module docstring).
    """
    first = timezone.now().replace(microsecond=0) + dt.timedelta(days=14)
    audiences = list(Activity.Audience)
    activities = Activity.objects.bulk_create(
        Activity(
            programme=programme,
            title=f"Activiteit {n}",
            slug=f"synthetisch-{n}",
            summary="Een middag vol brandveiligheid.",
            starts_at=first + dt.timedelta(hours=5 * n),
            ends_at=first + dt.timedelta(hours=5 * n + 2),
            location_name="Kazerne Soest",
            location_address="Birkstraat 1, 3768 HD Soest",
            audience=audiences[n % len(audiences)],
            capacity=None if n % 4 == 0 else 40,
            max_party_size=6,
            price=Decimal("12.50") if n % 3 == 0 else Decimal("0.00"),
            status=Activity.Status.CANCELLED if n % 7 == 6 else Activity.Status.PUBLISHED,
        )
        for n in range(count)
    )
    Registration.objects.bulk_create(
        Registration(
            activity=activity,
            status=Registration.Status.CONFIRMED,
            contact_name=f"Inwoner {n}",
            email=f"inwoner{n}@example.org",
            party_size=2,
            consent_at=first,
        )
        for activity in activities[::2]
        for n in range(3)
    )
    return activities


def synthetic_registrations(activity: Activity, count: int) -> list[Registration]:
    """`count` confirmed parties of two for one activity, inserted in batches of a thousand.

    Bulk inserts, no validation, no services (see the module docstring).
    """
    consent_at = timezone.now().replace(microsecond=0)
    return Registration.objects.bulk_create(
        (
            Registration(
                activity=activity,
                status=Registration.Status.CONFIRMED,
                contact_name=f"Inwoner {n}",
                email=f"inwoner{n}@example.org",
                party_size=2,
                consent_at=consent_at,
            )
            for n in range(count)
        ),
        batch_size=1000,
    )


@dataclass(frozen=True)
class ScaleSize:
    """One size of bench/scale.py: how many of each row, spread over the programmes."""

    programmes: int
    activities: int
    registrations: int
    expenses: int
    checkins: int


# Registrations and expenses are written in batches of this many rows (and their history rows).
BATCH = 5000
# The biggest activity holds this share of the registrations; the others share the rest evenly.
BIGGEST_SHARE = 0.2


def scale_rows(size: ScaleSize, organiser: User) -> list[Programme]:
    """Programmes with activities, registrations, check-ins and a budget with expenses, in bulk.

    For volume only, beside a realistic core made through the services (bench/scale.py): bulk
    inserts without validation or services, but with the history rows that the organiser's pages
    read (`bulk_create_with_history`). The first activity of the first programme is the biggest.
    """
    today = timezone.localdate()
    now = timezone.now()

    def share(total: int, p: int) -> int:
        """Programme p's part of `total`, the remainder going to the first programmes."""
        return total // size.programmes + (1 if p < total % size.programmes else 0)

    programmes: list[Programme] = []
    activities: list[Activity] = []
    for p in range(size.programmes):
        programme = Programme.objects.create(
            name=f"Schaal {p + 1}",
            slug=f"schaal-{p + 1}",
            starts_on=today,
            ends_on=today + dt.timedelta(days=365),
            organiser_name="Gemeente Soest",
            organiser_email="jubileum@example.org",
            is_public=True,
        )
        ProgrammeRole.objects.create(user=organiser, programme=programme, role="organiser")
        Budget.objects.create(programme=programme, total=Decimal("80000.00"))
        programmes.append(programme)
        activities += synthetic_activities(programme, max(1, share(size.activities, p)))
    biggest, rest = activities[0], activities[1:]
    # Room for everyone: capacity is not what is measured, and an overbooked activity is odd.
    Activity.objects.filter(pk__in=[a.pk for a in activities]).update(
        capacity=None, status=Activity.Status.PUBLISHED
    )
    in_biggest = int(size.registrations * BIGGEST_SHARE)

    def activity_of(n: int) -> Activity:
        return biggest if n < in_biggest or not rest else rest[n % len(rest)]

    statuses = Registration.Status
    registrations: list[Registration] = []
    for start in range(0, size.registrations, BATCH):
        batch = []
        for n in range(start, min(start + BATCH, size.registrations)):
            cancelled, waiting = n % 20 == 7, n % 20 == 13
            batch.append(
                Registration(
                    activity=activity_of(n),
                    status=statuses.CANCELLED
                    if cancelled
                    else statuses.WAITLISTED
                    if waiting
                    else statuses.CONFIRMED,
                    contact_name=f"Deelnemer {n}",
                    email=f"deelnemer{n}@example.org",
                    phone=f"06{n:08d}",
                    party_size=1 + n % 4,
                    consent_at=now,
                    confirmed_at=None if waiting else now,
                    waitlisted_at=now if waiting else None,
                    cancelled_at=now if cancelled else None,
                )
            )
        registrations += bulk_create_with_history(batch, Registration, batch_size=BATCH)
    # Check-ins: half at the biggest activity's door, the rest spread over the others.
    confirmed = [r for r in registrations if r.status == statuses.CONFIRMED]
    at_biggest = [r for r in confirmed if r.activity_id == biggest.pk]
    elsewhere = [r for r in confirmed if r.activity_id != biggest.pk]
    admitted = at_biggest[: size.checkins // 2]
    admitted += elsewhere[: size.checkins - len(admitted)]
    CheckIn.objects.bulk_create(
        (CheckIn(registration=r, persons=r.party_size, at=now) for r in admitted), batch_size=BATCH
    )
    for p, programme in enumerate(programmes):
        budget = programme.budget
        categories = list(budget.categories.all())
        own = [a for a in activities if a.programme_id == programme.pk]
        count = share(size.expenses, p)
        expenses = []
        for n in range(count):
            amount = Decimal(1 + n % 997) + Decimal(n % 100) / 100
            rate = (0, 9, 21)[n % 3]
            status = list(Expense.Status)[n % 4]
            expenses.append(
                Expense(
                    budget=budget,
                    category=categories[n % len(categories)],
                    activity=own[n % len(own)] if n % 5 else None,
                    supplier=f"Leverancier {n % 40}",
                    description=f"Regel {p}.{n}",
                    date=today - dt.timedelta(days=n % 200),
                    amount_excl_vat=amount,
                    vat_rate=rate,
                    vat_amount=(amount * rate / 100).quantize(Decimal("0.01")),
                    status=status,
                    paid_on=today - dt.timedelta(days=n % 100) if status == "paid" else None,
                    recorded_by=organiser,
                )
            )
        bulk_create_with_history(expenses, Expense, batch_size=BATCH)
    return programmes

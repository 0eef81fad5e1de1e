"""Bulk rows for measurements: many activities and registrations, fast.

Not demo content and not how the product makes rows: the query-count tests (tests/conftest.py,
`many_activities`) and the in-process benchmarks (bench/listing.py, bench/budget_dashboard.py)
need hundreds of activities in a moment, so this inserts them in bulk, without validation and
without the services (no capacity check, no history, no e-mail). It lives here, beside the
demo, because both the tests and the benchmarks import it and neither should import the other.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.utils import timezone

from events.models import Activity, Programme
from registrations.models import Registration


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

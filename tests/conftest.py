"""Shared fixtures: programme → activity → registration, each building on the last."""

from __future__ import annotations

import datetime as dt
import itertools
from decimal import Decimal

import pytest
from django.utils import timezone

from events.models import Activity, Programme
from registrations.models import Registration

_counter = itertools.count(1)


@pytest.fixture
def programme(db) -> Programme:
    return Programme.objects.create(
        name="Brandweer Soest & Soesterberg 100 jaar",
        slug="brandweer-100",
        starts_on=dt.date(2026, 12, 1),
        ends_on=dt.date(2027, 3, 31),
        description="Honderd jaar brandweer in Soest en Soesterberg.",
        organiser_name="Gemeente Soest",
        organiser_email="jubileum@example.org",
        is_public=True,
        privacy_statement="Wij bewaren alleen wat nodig is.",
        accessibility_statement="Deze site is getest met toetsenbord en schermlezer.",
    )


@pytest.fixture
def make_activity(programme):
    """Make a published public activity two weeks from now; override any field."""

    def make(**fields) -> Activity:
        n = next(_counter)
        starts_at = fields.pop("starts_at", timezone.now() + dt.timedelta(days=14))
        values = {
            "programme": programme,
            "title": f"Activiteit {n}",
            "slug": f"activiteit-{n}",
            "summary": "Een middag vol brandveiligheid.",
            "starts_at": starts_at,
            "ends_at": starts_at + dt.timedelta(hours=2),
            "location_name": "Kazerne Soest",
            "location_address": "Birkstraat 1, 3768 HD Soest",
            "capacity": 20,
            "max_party_size": 6,
            "price": Decimal("0.00"),
            "status": Activity.Status.PUBLISHED,
        }
        values.update(fields)
        return Activity.objects.create(**values)

    return make


@pytest.fixture
def activity(make_activity) -> Activity:
    return make_activity(title="Kinderbrandweermiddag", slug="kinderbrandweermiddag")


@pytest.fixture
def make_registration(activity):
    def make(**fields) -> Registration:
        n = next(_counter)
        values = {
            "activity": activity,
            "status": Registration.Status.CONFIRMED,
            "contact_name": f"Inwoner {n}",
            "email": f"inwoner{n}@example.org",
            "party_size": 2,
        }
        values.update(fields)
        return Registration.objects.create(**values)

    return make

"""Fixtures for the registration tests: a frozen clock. (`tasks` is in tests/conftest.py.)"""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

MAIL_TASK = "registrations.tasks.send_registration_mail"


@pytest.fixture
def now(time_machine) -> dt.datetime:
    """The current moment, frozen (to the second) for the rest of the test."""
    moment = timezone.now().replace(microsecond=0)
    time_machine.move_to(moment, tick=False)
    return moment

"""Fixtures for the registration tests: the task queue held in memory, and a frozen clock."""

from __future__ import annotations

import datetime as dt

import pytest
from django.tasks import default_task_backend
from django.utils import timezone

MAIL_TASK = "registrations.tasks.send_registration_mail"


@pytest.fixture
def tasks(settings):
    """Enqueued tasks stay in memory (DummyBackend) so tests can read what would be mailed."""
    settings.TASKS = {"default": {"BACKEND": "django.tasks.backends.dummy.DummyBackend"}}
    default_task_backend.clear()
    return default_task_backend


@pytest.fixture
def now(time_machine) -> dt.datetime:
    """The current moment, frozen (to the second) for the rest of the test."""
    moment = timezone.now().replace(microsecond=0)
    time_machine.move_to(moment, tick=False)
    return moment

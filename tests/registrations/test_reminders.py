"""`manage.py send_reminders`: one reminder per confirmed party, the day before."""

from __future__ import annotations

import datetime as dt
import io
import threading
from zoneinfo import ZoneInfo

import pytest
from django.core import mail
from django.core.management import call_command
from django.db import connection
from django.tasks import default_task_backend

from events.models import Activity
from registrations import tasks
from registrations.models import Registration

Status = Registration.Status
AMSTERDAM = ZoneInfo("Europe/Amsterdam")
# A Friday evening. "Tomorrow" is Saturday 12 December by the Amsterdam calendar: 00:30 that
# Saturday is still Friday in UTC, and 00:30 on Sunday is Saturday in UTC.
NOW = dt.datetime(2026, 12, 11, 20, 0, tzinfo=AMSTERDAM)


@pytest.fixture(autouse=True)
def immediate_tasks(settings, time_machine):
    settings.TASKS = {"default": {"BACKEND": "django.tasks.backends.immediate.ImmediateBackend"}}
    settings.SITE_URL = "https://jubileum.example.nl"
    time_machine.move_to(NOW, tick=False)


def at(day: int, hour: int, minute: int = 0) -> dt.datetime:
    return dt.datetime(2026, 12, day, hour, minute, tzinfo=AMSTERDAM)


@pytest.fixture
def tomorrow(make_activity) -> Activity:
    return make_activity(title="Open dag", starts_at=at(12, 14))


def run(*args: str, capture) -> str:
    out = io.StringIO()
    with capture(execute=True):
        call_command("send_reminders", *args, stdout=out)
    return out.getvalue()


def test_confirmed_parties_of_tomorrow_get_one_reminder(
    make_activity, make_registration, tomorrow, django_capture_on_commit_callbacks
):
    early = make_activity(title="Vroege ochtendwandeling", starts_at=at(12, 0, 30))
    late = make_activity(title="Nachtoefening", starts_at=at(12, 23, 30))
    today = make_activity(title="Vanavond", starts_at=at(11, 21))
    day_after = make_activity(title="Overmorgen", starts_at=at(13, 0, 30))
    reminded = [
        make_registration(activity=tomorrow, email="anna@example.org"),
        make_registration(activity=early, email="bram@example.org"),
        make_registration(activity=late, email="cor@example.org"),
    ]
    for activity in (today, day_after):
        make_registration(activity=activity)
    for status in (Status.WAITLISTED, Status.CANCELLED, Status.PENDING_APPROVAL):
        make_registration(activity=tomorrow, status=status)

    output = run(capture=django_capture_on_commit_callbacks)

    assert sorted(m.to[0] for m in mail.outbox) == [
        "anna@example.org",
        "bram@example.org",
        "cor@example.org",
    ]
    assert "Sent 3 reminders." in output
    for registration in reminded:
        registration.refresh_from_db()
        assert registration.reminder_sent_at == NOW
    message = next(m for m in mail.outbox if m.to == ["anna@example.org"])
    assert message.subject == "Morgen: Open dag"
    assert "za 12 december 2026, 14:00" in message.body


def test_running_twice_reminds_once(
    make_registration, tomorrow, django_capture_on_commit_callbacks
):
    make_registration(activity=tomorrow)

    run(capture=django_capture_on_commit_callbacks)
    output = run(capture=django_capture_on_commit_callbacks)

    assert len(mail.outbox) == 1
    assert "Sent 0 reminders." in output


def test_cancelled_activity_and_anonymised_parties_get_no_reminder(
    make_activity, make_registration, django_capture_on_commit_callbacks
):
    called_off = make_activity(starts_at=at(12, 14), status=Activity.Status.CANCELLED)
    make_registration(activity=called_off)
    open_day = make_activity(starts_at=at(12, 10))
    make_registration(activity=open_day, anonymised_at=NOW, email="")

    run(capture=django_capture_on_commit_callbacks)

    assert mail.outbox == []


def test_dry_run_lists_and_sends_nothing(
    make_registration, tomorrow, django_capture_on_commit_callbacks
):
    registration = make_registration(activity=tomorrow, party_size=4)

    output = run("--dry-run", capture=django_capture_on_commit_callbacks)

    assert f"Would remind registration {registration.pk} (4 persons) for Open dag." in output
    assert "Would send 1 reminders." in output
    assert registration.email not in output
    assert mail.outbox == []
    registration.refresh_from_db()
    assert registration.reminder_sent_at is None


def test_a_failed_reminder_is_not_sent_twice_by_the_next_run(
    make_registration, tomorrow, settings, django_capture_on_commit_callbacks
):
    """The reminder is claimed before it is mailed; the mail task retries on its own."""
    settings.TASKS = {"default": {"BACKEND": "django.tasks.backends.dummy.DummyBackend"}}
    default_task_backend.clear()
    registration = make_registration(activity=tomorrow)

    run(capture=django_capture_on_commit_callbacks)
    run(capture=django_capture_on_commit_callbacks)

    assert [r.kwargs for r in default_task_backend.results] == [
        {"registration_id": registration.pk, "kind": "reminder"}
    ]


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_runs_remind_each_party_once(make_registration, tomorrow):
    for _ in range(10):
        make_registration(activity=tomorrow)
    barrier = threading.Barrier(4)
    claimed: list[int] = []

    def worker() -> None:
        try:
            barrier.wait()
            claimed.extend(tasks.send_reminders(now=NOW))
        finally:
            connection.close()

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(claimed) == sorted(Registration.objects.values_list("pk", flat=True))
    assert len(mail.outbox) == 10

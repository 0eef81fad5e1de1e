"""Remind confirmed parties, the day before, of tomorrow's activities."""

from __future__ import annotations

from django.core.management.base import BaseCommand

from registrations import tasks


class Command(BaseCommand):
    help = (
        "E-mail a reminder to every confirmed party of an activity that starts tomorrow "
        "(Amsterdam date). Each party gets one reminder, however often this runs, so it is "
        "safe to schedule hourly."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--dry-run", action="store_true", help="List who would be reminded; send nothing."
        )

    def handle(self, *args, dry_run: bool = False, **options):
        if dry_run:
            due = list(tasks.due_reminders())
            for registration in due:
                # Ids, not names or addresses: this output may end up in a log.
                self.stdout.write(
                    f"Would remind registration {registration.pk} "
                    f"({registration.party_size} persons) for {registration.activity}."
                )
            self.stdout.write(f"Would send {len(due)} reminders.")
            return
        sent = tasks.send_reminders()
        self.stdout.write(f"Sent {len(sent)} reminders.")

"""Import a programme's member roster from a CSV file (the same import as the organiser area)."""

from __future__ import annotations

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from events.models import Programme
from registrations.backoffice.roster import RosterError, import_roster


class Command(BaseCommand):
    help = (
        "Import the member roster of a programme from CSV (columns name, email, brigade, "
        "and optionally years and status; ; or , separated). Nothing is imported if any "
        "row is wrong; a repeated import updates entries by e-mail address."
    )

    def add_arguments(self, parser):
        parser.add_argument("programme", help="slug of the programme")
        parser.add_argument("file", type=Path, help="the CSV file")

    def handle(self, *args, programme: str, file: Path, **options):
        try:
            programme_id = Programme.objects.values_list("pk", flat=True).get(slug=programme)
        except Programme.DoesNotExist:
            raise CommandError(f"No programme with slug {programme!r}.") from None
        try:
            data = file.read_bytes()
        except OSError as error:
            raise CommandError(f"Cannot read {file}: {error.strerror}.") from None
        try:
            result = import_roster(programme_id, data)
        except RosterError as error:
            for line in error.errors:
                self.stderr.write(line)
            raise CommandError(str(error)) from None
        self.stdout.write(
            f"Roster imported: {result.created} created, {result.updated} updated, "
            f"{result.unchanged} unchanged."
        )

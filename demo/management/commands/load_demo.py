from __future__ import annotations

from django.core.management.base import BaseCommand

from demo.centenary import load_demo


class Command(BaseCommand):
    help = (
        "Load the illustrative centenary programme (idempotent). By default its activities start "
        "two weeks from today; --as-held places them on dates in 2023."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--as-held", action="store_true", help="Schedule the activities on 2023 dates."
        )

    def handle(self, *args, as_held: bool, **options):
        programme = load_demo(as_held=as_held)
        count = programme.activities.count()
        self.stdout.write(
            f"Demo programme {programme.name!r}: {count} activities, "
            f"{programme.starts_on:%d-%m-%Y} to {programme.ends_on:%d-%m-%Y}."
        )

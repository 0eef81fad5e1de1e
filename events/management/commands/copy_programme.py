"""Copy a programme as the start of the next one (see `events.copying`)."""

from __future__ import annotations

import datetime as dt

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from events.copying import CopyRefused, DateMapping, copy_programme, plan_copy
from events.models import Programme

MAX_WEEKS = 520


def _date(value: str) -> dt.date:
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise CommandError(f"--first-day {value!r} is not a date; use YYYY-MM-DD.") from None


def _when(moment: dt.datetime) -> str:
    return f"{timezone.localtime(moment):%a %Y-%m-%d %H:%M}"


class Command(BaseCommand):
    help = (
        "Copy a programme as the start of the next one: its settings, its activities as drafts "
        "on the same weekday and local time (moved by --weeks N, or into the corresponding week "
        "after --first-day), their questions and the budget with its categories. No "
        "registrations, expenses, income, roles or devices. The copy is not public until an "
        "organiser makes it so. Prints each activity's old and new date; --dry-run stops there."
    )

    def add_arguments(self, parser):
        parser.add_argument("source", help="Slug of the programme to copy.")
        parser.add_argument("--name", required=True, help="Name of the copy.")
        parser.add_argument("--slug", required=True, help="Slug (web address) of the copy.")
        move = parser.add_mutually_exclusive_group(required=True)
        move.add_argument("--weeks", type=int, help="Move every date by this many weeks.")
        move.add_argument(
            "--first-day",
            "--starts-on",
            dest="first_day",
            help="First day of the copy, YYYY-MM-DD; activities keep their weekday.",
        )
        parser.add_argument(
            "--dry-run", action="store_true", help="Print the new dates, copy nothing."
        )

    def handle(
        self,
        *args,
        source: str,
        name: str,
        slug: str,
        weeks: int | None,
        first_day: str | None,
        dry_run: bool,
        **options,
    ):
        programme = Programme.objects.filter(slug=source).first()
        if programme is None:
            raise CommandError(f"No programme with slug {source!r}.")
        if weeks is not None:
            if weeks == 0 or abs(weeks) > MAX_WEEKS:
                raise CommandError(f"--weeks must be between 1 and {MAX_WEEKS} (or negative).")
            mapping = DateMapping.by_weeks(programme.starts_on, weeks)
        else:
            assert first_day is not None
            mapping = DateMapping(programme.starts_on, _date(first_day))
        plan = plan_copy(programme, mapping)
        self.stdout.write(
            f"The copy runs from {plan.starts_on:%a %Y-%m-%d} to {plan.ends_on:%a %Y-%m-%d}."
        )
        for item in plan.activities:
            self.stdout.write(
                f"  {item.activity.slug}: {_when(item.old_start)} -> {_when(item.new_start)}"
            )
        if dry_run:
            self.stdout.write("Dry run: nothing was copied.")
            return
        try:
            result = copy_programme(programme, name=name, slug=slug, starts_on=mapping.first_day)
        except CopyRefused as error:
            raise CommandError(str(error)) from None
        copy = result.programme
        self.stdout.write(
            f"Copied {programme.name!r} to {copy.name!r} ({copy.slug}), "
            f"{copy.starts_on:%d-%m-%Y} to {copy.ends_on:%d-%m-%Y}: {result.activities} draft "
            f"activities, {result.questions} questions. The copy is not public yet."
        )

"""Copy a programme as the start of the next one (see `events.copying`)."""

from __future__ import annotations

import datetime as dt

from django.core.management.base import BaseCommand, CommandError

from events.copying import CopyRefused, copy_programme
from events.models import Programme


def _date(value: str) -> dt.date:
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise CommandError(f"--starts-on {value!r} is not a date; use YYYY-MM-DD.") from None


class Command(BaseCommand):
    help = (
        "Copy a programme as the start of the next one: its settings, its activities as drafts "
        "moved to the new start date (same local times), their questions and the budget with "
        "its categories. No registrations, expenses, income, roles or devices. The copy is not "
        "public until an organiser makes it so."
    )

    def add_arguments(self, parser):
        parser.add_argument("source", help="Slug of the programme to copy.")
        parser.add_argument("--name", required=True, help="Name of the copy.")
        parser.add_argument("--slug", required=True, help="Slug (web address) of the copy.")
        parser.add_argument("--starts-on", required=True, help="First day of the copy, YYYY-MM-DD.")

    def handle(self, *args, source: str, name: str, slug: str, starts_on: str, **options):
        starts = _date(starts_on)
        programme = Programme.objects.filter(slug=source).first()
        if programme is None:
            raise CommandError(f"No programme with slug {source!r}.")
        try:
            result = copy_programme(programme, name=name, slug=slug, starts_on=starts)
        except CopyRefused as error:
            raise CommandError(str(error)) from None
        copy = result.programme
        self.stdout.write(
            f"Copied {programme.name!r} to {copy.name!r} ({copy.slug}), "
            f"{copy.starts_on:%d-%m-%Y} to {copy.ends_on:%d-%m-%Y}: {result.activities} draft "
            f"activities, {result.questions} questions. The copy is not public yet."
        )

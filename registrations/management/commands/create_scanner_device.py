"""Make a scanner device for one or more activities; print its token (once) and pairing code."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from events.models import Activity
from registrations.checkin import devices


def find_activity(value: str) -> Activity:
    """An activity by its id or as `<programme-slug>/<activity-slug>`: organisers know the slugs
    from the activity's web address (/programma/<programme>/activiteit/<activity>/), not its id."""
    if value.isdigit():
        found = Activity.objects.filter(pk=int(value))
    else:
        programme_slug, _, slug = value.strip("/").partition("/")
        found = Activity.objects.filter(programme__slug=programme_slug, slug=slug)
    activity = found.select_related("programme").first()
    if activity is None:
        raise CommandError(
            f"No activity {value!r}: give its id or <programme-slug>/<activity-slug>, as in "
            "its web address /programma/<programme-slug>/activiteit/<activity-slug>/."
        )
    return activity


class Command(BaseCommand):
    help = (
        "Make a scanner device for the given activities (of one programme). Prints the device "
        "token once (store it nowhere else) and a pairing code for /scan/, valid 15 minutes; "
        "pairing with the code issues a new token and retires the printed one."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument(
            "--activity",
            action="append",
            required=True,
            help="<programme-slug>/<activity-slug> (as in the activity's web address) or the "
            "activity's id; repeat for more activities.",
        )
        parser.add_argument("--name", default="", help="A name the organiser recognises.")

    def handle(self, *args, **options) -> None:
        activities = [find_activity(value) for value in options["activity"]]
        programmes = {activity.programme for activity in activities}
        if len(programmes) != 1:
            raise CommandError("The activities must belong to one programme.")
        new = devices.create_device(
            programmes.pop(),
            [activity.pk for activity in activities],
            name=options["name"],
            with_token=True,
        )
        device = new.device
        self.stdout.write(f"Device {device.pk}: {device.name}")
        self.stdout.write(f"Expires: {device.expires_at.isoformat()}")
        self.stdout.write(f"Token (shown once): {new.token}")
        self.stdout.write(
            f"Pairing code: {new.pairing_code} "
            f"(link {devices.pairing_url(new.pairing_code)}, "
            f"valid until {device.pairing_expires_at.isoformat()})"
        )

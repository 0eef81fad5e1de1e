"""Make a scanner device for one or more activities; print its token (once) and pairing code."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from events.models import Activity
from registrations.checkin import devices


class Command(BaseCommand):
    help = (
        "Make a scanner device for the given activities (of one programme). Prints the device "
        "token once (store it nowhere else) and a pairing code for /scan/, valid 15 minutes; "
        "pairing with the code issues a new token and retires the printed one."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument(
            "--activity", type=int, action="append", required=True, help="Activity id (repeat)."
        )
        parser.add_argument("--name", default="", help="A name the organiser recognises.")

    def handle(self, *args, **options) -> None:
        ids = options["activity"]
        activities = list(Activity.objects.filter(pk__in=ids).select_related("programme"))
        if len(activities) != len(set(ids)):
            raise CommandError("Unknown activity id among: " + ", ".join(map(str, ids)))
        programmes = {activity.programme for activity in activities}
        if len(programmes) != 1:
            raise CommandError("The activities must belong to one programme.")
        new = devices.create_device(programmes.pop(), ids, name=options["name"], with_token=True)
        device = new.device
        self.stdout.write(f"Device {device.pk}: {device.name}")
        self.stdout.write(f"Expires: {device.expires_at.isoformat()}")
        self.stdout.write(f"Token (shown once): {new.token}")
        self.stdout.write(
            f"Pairing code: {new.pairing_code} "
            f"(link {devices.pairing_url(new.pairing_code)}, "
            f"valid until {device.pairing_expires_at.isoformat()})"
        )

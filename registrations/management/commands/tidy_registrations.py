"""Expire lapsed waitlist offers and payment holds, and offer their places to the waitlist."""

from __future__ import annotations

from django.core.management.base import BaseCommand

from registrations import services


class Command(BaseCommand):
    help = (
        "Expire waitlist offers and payment holds whose time has passed and offer the places to "
        "the next parties on the waitlist. Safe to run as often as you like (e.g. every minute)."
    )

    def handle(self, *args, **options):
        # The lapsed places stopped counting the moment they expired; this only moves the
        # waitlist on and sends the offer e-mails.
        looked_at = services.tidy_activities()
        self.stdout.write(f"Looked at {looked_at} activities with lapsed offers or holds.")

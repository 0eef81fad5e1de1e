"""Ask Stripe about payments still open here (a webhook that never arrived) and catch up."""

from __future__ import annotations

from django.conf import settings
from django.core.management.base import BaseCommand

from registrations.payments import reconcile


class Command(BaseCommand):
    help = (
        "Ask Stripe about every payment still unsettled here and about refunds not yet carried "
        "out, apply what Stripe reports through the same handlers as the webhook, and print "
        "what changed. Safe to run as often as you like (e.g. every hour)."
    )

    def handle(self, *args, **options):
        if settings.PAYMENTS_DEMO_MODE:
            self.stdout.write("Payments run in demo mode: there is nothing to reconcile.")
            return
        changes = reconcile.reconcile()
        for line in changes:
            self.stdout.write(line)
        if not changes:
            self.stdout.write("Everything matches Stripe; nothing changed.")
        else:
            self.stdout.write(f"{len(changes)} change(s).")

"""Ask Stripe about payments still open here (a webhook that never arrived) and catch up."""

from __future__ import annotations

from django.conf import settings
from django.core.management.base import BaseCommand

from registrations.payments import reconcile


class Command(BaseCommand):
    help = (
        "Ask Stripe about every payment still unsettled here, compare the refunds of every paid "
        "payment with Stripe's, ask again for refunds not carried out or failed (never more "
        "than our rules asked for), and print what changed. Safe to run as often as you like "
        "(e.g. every hour)."
    )

    def handle(self, *args, **options):
        if settings.PAYMENTS_DEMO_MODE:
            self.stdout.write("Payments run in demo mode: there is nothing to reconcile.")
            return
        result = reconcile.reconcile()
        for line in result.changes:
            self.stdout.write(line)
        checked = (
            f"{result.payments_checked} payment(s) and {result.refunds_checked} refund(s) checked"
        )
        if not result.changes:
            self.stdout.write(f"Everything matches Stripe: {checked}; nothing changed.")
        else:
            self.stdout.write(f"{len(result.changes)} change(s); {checked}.")

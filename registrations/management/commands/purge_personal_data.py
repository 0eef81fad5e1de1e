"""Anonymise the personal data of programmes whose retention period has passed."""

from __future__ import annotations

from django.core.management.base import BaseCommand

from registrations import retention


class Command(BaseCommand):
    help = (
        "Anonymise registrations and remove roster entries and invitation addresses of every "
        "programme whose end date plus retention period has passed. Counts for reports stay. "
        "Safe to run daily; a second run changes nothing."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--dry-run", action="store_true", help="Print what would be removed; change nothing."
        )

    def handle(self, *args, dry_run: bool = False, **options):
        report = retention.purge_personal_data(dry_run=dry_run)
        verb = "Would anonymise" if dry_run else "Anonymised"
        for done in report:
            kept_until = retention.retention_ends_on(done.programme).isoformat()
            self.stdout.write(
                f"{verb} {done.programme.slug} (kept until {kept_until}): "
                f"{done.registrations} registrations, {done.roster_entries} roster entries, "
                f"{done.invitations} invitations."
            )
        total = sum(done.registrations for done in report)
        if not report:
            self.stdout.write("No programme is past its retention period.")
        else:
            self.stdout.write(f"{verb} {total} registrations in {len(report)} programmes.")

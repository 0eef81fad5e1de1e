"""Make a personal API token for an organiser or viewer and print it once."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from events.models import ProgrammeRole
from jubileum.lib.apitokens import create_token


class Command(BaseCommand):
    help = (
        "Make a personal API token for the organiser API (Authorization: Bearer <token>). "
        "The token acts as the user, with their roles; it is printed once and stored only as a "
        "hash."
    )

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument("--name", default="", help="What the token is for, e.g. 'Excel'.")

    def handle(self, *args, username: str, name: str, **options):
        user = get_user_model().objects.filter(username=username).first()
        if user is None:
            raise CommandError(f"No user {username!r}.")
        if not user.is_active:
            raise CommandError(f"User {username!r} is not active; a token would not work.")
        if not (user.is_superuser or ProgrammeRole.objects.filter(user=user).exists()):
            self.stderr.write(
                f"Note: {username!r} has no role in any programme yet, so the token opens "
                "nothing until one is granted."
            )
        row, token = create_token(user, name)
        self.stdout.write(f"API token {row.prefix}… for {username!r} (shown only now):")
        self.stdout.write(token)

"""Create the local organiser login for `make run` and print its credentials."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from events.models import Programme, ProgrammeRole

USERNAME = "organisator"
# A fixed password is acceptable only because this command refuses to run outside DEBUG.
PASSWORD = "jubileum-lokaal"


class Command(BaseCommand):
    help = "Create (or reset) the local organiser login; development only."

    def handle(self, *args, **options):
        if not settings.DEBUG:
            raise CommandError(
                "ensure_local_organiser only runs with DJANGO_DEBUG=1; "
                "use createsuperuser in production."
            )
        user, created = get_user_model().objects.get_or_create(
            username=USERNAME, defaults={"email": "organisator@example.org"}
        )
        user.is_staff = user.is_superuser = user.is_active = True
        user.set_password(PASSWORD)
        user.save()
        # A superuser sees every programme anyway; the roles make the demo show how access is
        # granted, and keep working if someone takes the superuser flag away to try a role.
        for programme in Programme.objects.all():
            ProgrammeRole.objects.update_or_create(
                user=user, programme=programme, defaults={"role": ProgrammeRole.Role.ORGANISER}
            )
        verb = "Created" if created else "Reset"
        self.stdout.write(
            f"{verb} local organiser login: username {USERNAME!r}, password {PASSWORD!r} "
            f"({settings.SITE_URL}/beheer/)"
        )

"""`manage.py ensure_local_organiser`: the login `make run` prints."""

from __future__ import annotations

import io

from django.core.management import call_command

from events.models import ProgrammeRole

Role = ProgrammeRole.Role


def test_local_organiser_gets_the_organiser_role_on_every_programme(
    settings, programme, make_programme, django_user_model
):
    other_programme = make_programme(name="Veiligheidsmarkt", slug="veiligheidsmarkt")
    settings.DEBUG = True

    call_command("ensure_local_organiser", stdout=io.StringIO())
    call_command("ensure_local_organiser", stdout=io.StringIO())

    user = django_user_model.objects.get(username="organisator")
    roles = ProgrammeRole.objects.filter(user=user)
    assert {(role.programme, role.role) for role in roles} == {
        (programme, Role.ORGANISER),
        (other_programme, Role.ORGANISER),
    }

"""Who may use the organiser area for which programme (events.access)."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import AnonymousUser
from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, transaction
from django.http import Http404

from events.access import (
    get_activity_for_organiser,
    get_programme_for_organiser,
    may_change,
    programmes_for,
)
from events.models import ProgrammeRole

# Engine-dependent, so CI runs it on SQLite too: the database enforces one role per user and
# programme; roles come from a subquery.
pytestmark = pytest.mark.engine_dependent

Role = ProgrammeRole.Role


@pytest.fixture
def other_programme(make_programme):
    return make_programme(name="Veiligheidsmarkt", slug="veiligheidsmarkt")


def test_organiser_sees_only_their_own_programmes(organiser, programme, other_programme):
    assert list(programmes_for(organiser)) == [programme]
    assert list(programmes_for(organiser, write=True)) == [programme]
    assert may_change(programmes_for(organiser).get())


def test_viewer_reads_but_may_not_change(viewer, programme):
    assert list(programmes_for(viewer)) == [programme]
    assert list(programmes_for(viewer, write=True)) == []
    assert not may_change(programmes_for(viewer).get())


def test_superuser_sees_every_programme(django_user_model, programme, other_programme):
    admin = django_user_model.objects.create_superuser("beheerder", password="wachtwoord-123")

    assert set(programmes_for(admin, write=True)) == {programme, other_programme}
    assert all(may_change(item) for item in programmes_for(admin))


def test_anonymous_inactive_and_roleless_users_see_nothing(
    make_user, organiser, programme, other_programme
):
    organiser.is_active = False
    organiser.save()

    assert list(programmes_for(AnonymousUser())) == []
    assert list(programmes_for(organiser)) == []
    assert list(programmes_for(make_user("zonder-rol"))) == []


def test_roles_of_other_users_do_not_leak(make_user, organiser, viewer, programme):
    # Two users with roles in one programme: each sees it once, with their own role.
    assert programmes_for(organiser).get().access_role == Role.ORGANISER
    assert programmes_for(viewer).get().access_role == Role.VIEWER


def test_programme_of_someone_else_is_not_found(organiser, other_programme):
    with pytest.raises(Http404):
        get_programme_for_organiser(organiser, other_programme.slug)
    with pytest.raises(Http404):
        get_programme_for_organiser(organiser, "bestaat-niet")
    with pytest.raises(Http404):
        get_programme_for_organiser(AnonymousUser(), other_programme.slug)


def test_viewer_asking_to_change_is_forbidden(viewer, programme):
    assert get_programme_for_organiser(viewer, programme.slug) == programme
    with pytest.raises(PermissionDenied):
        get_programme_for_organiser(viewer, programme.slug, write=True)


def test_organiser_may_change_their_programme(organiser, programme):
    assert get_programme_for_organiser(organiser, programme.slug, write=True) == programme


def test_activity_is_found_only_in_its_own_programme(
    programme, other_programme, activity, make_registration
):
    make_registration(party_size=3)

    found = get_activity_for_organiser(programme, activity.slug)

    assert found == activity
    assert found.places_taken == 3
    with pytest.raises(Http404):
        get_activity_for_organiser(other_programme, activity.slug)
    with pytest.raises(Http404):
        get_activity_for_organiser(programme, "bestaat-niet")


def test_one_role_per_user_and_programme(organiser, programme):
    with pytest.raises(IntegrityError), transaction.atomic():
        ProgrammeRole.objects.create(user=organiser, programme=programme, role=Role.VIEWER)

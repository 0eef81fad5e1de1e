"""A draft programme's theme (thema.css): for its team and superusers, a 404 for everyone else."""

from __future__ import annotations

import pytest
from django.urls import reverse

from events.models import ProgrammeRole


@pytest.fixture
def draft(programme):
    programme.is_public = False
    programme.theme_colour = "#1D4F91"
    programme.save()
    return programme


def theme_url(programme) -> str:
    return reverse("events:theme_css", kwargs={"slug": programme.slug})


@pytest.mark.parametrize("role", [ProgrammeRole.Role.ORGANISER, ProgrammeRole.Role.VIEWER])
def test_team_of_a_draft_gets_its_theme_and_no_cache_keeps_it(client, make_user, draft, role):
    client.force_login(make_user("team", role, draft))

    response = client.get(theme_url(draft))

    assert response.status_code == 200
    assert "--theme: #1D4F91;" in response.content.decode()
    assert "private" in response["Cache-Control"]
    assert "public" not in response["Cache-Control"]


def test_superuser_gets_a_drafts_theme(admin_client, draft):
    assert admin_client.get(theme_url(draft)).status_code == 200


def test_others_get_404_for_a_drafts_theme(client, draft, stranger, django_user_model):
    assert client.get(theme_url(draft)).status_code == 404
    client.force_login(stranger)
    assert client.get(theme_url(draft)).status_code == 404
    client.force_login(django_user_model.objects.create_user("inwoner"))
    assert client.get(theme_url(draft)).status_code == 404


def test_public_theme_stays_publicly_cacheable(client, programme):
    response = client.get(theme_url(programme))

    assert response.status_code == 200
    assert "public" in response["Cache-Control"]

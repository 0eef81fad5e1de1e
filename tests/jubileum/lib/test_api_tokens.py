from __future__ import annotations

import hashlib
from decimal import Decimal
from io import StringIO

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command

from budget.models import Budget
from events.models import ProgrammeRole
from jubileum.lib.apitokens import create_token, revoke_token, user_for_token
from jubileum.models import ApiToken

URL = "/api/v1/programmes/brandweer-100/budget"


@pytest.fixture
def organiser(programme):
    user = get_user_model().objects.create_user(username="anne", email="anne@example.org")
    ProgrammeRole.objects.create(user=user, programme=programme, role="organiser")
    Budget.objects.create(programme=programme, total=Decimal("8000.00"))
    return user


def test_token_is_stored_only_as_its_hash(organiser):
    row, token = create_token(organiser, "Excel")
    assert token.startswith("jub_") and len(token) == 47
    assert row.key_hash == hashlib.sha256(token.encode()).hexdigest()
    stored = ApiToken.objects.values_list("key_hash", "prefix", "name").get()
    assert token not in stored
    assert stored[1] == token[:8]
    assert user_for_token(token) == organiser


def test_revoked_token_or_inactive_user_is_refused(client, organiser):
    row, token = create_token(organiser)
    headers = {"Authorization": f"Bearer {token}"}
    assert client.get(URL, headers=headers).status_code == 200
    assert ApiToken.objects.get().last_used_at is not None
    assert revoke_token(row.pk, user=organiser)
    assert client.get(URL, headers=headers).status_code == 401
    _row, token = create_token(organiser)
    organiser.is_active = False
    organiser.save()
    assert client.get(URL, headers={"Authorization": f"Bearer {token}"}).status_code == 401


def test_someone_elses_token_cannot_be_revoked(organiser):
    row, _token = create_token(organiser)
    other = get_user_model().objects.create_user(username="otto")
    assert not revoke_token(row.pk, user=other)
    assert ApiToken.objects.get().revoked_at is None


def test_a_token_acts_with_its_users_roles_only(client, organiser, make_programme):
    stranger = get_user_model().objects.create_user(username="otto")
    _row, token = create_token(stranger)
    response = client.get(URL, headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 404


def test_wrong_token_beats_a_valid_session(client, organiser):
    client.force_login(organiser)
    assert client.get(URL).status_code == 200
    response = client.get(URL, headers={"Authorization": "Bearer jub_" + "A" * 43})
    assert response.status_code == 401


def test_create_api_token_command_prints_the_token_once(organiser):
    out = StringIO()
    call_command("create_api_token", "anne", "--name", "Excel", stdout=out)
    token = out.getvalue().strip().splitlines()[-1]
    assert user_for_token(token) == organiser
    assert ApiToken.objects.get().name == "Excel"


def test_create_api_token_for_unknown_user_fails(db):
    with pytest.raises(CommandError, match="No user"):
        call_command("create_api_token", "niemand")


def test_create_api_token_warns_about_a_user_without_roles(db):
    get_user_model().objects.create_user(username="otto")
    err = StringIO()
    call_command("create_api_token", "otto", stdout=StringIO(), stderr=err)
    assert "no role" in err.getvalue()

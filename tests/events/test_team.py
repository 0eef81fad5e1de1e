"""The team page (/beheer/<programme>/team/) and team invitations (events.team)."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.contrib.auth import get_user_model
from django.core import mail
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from events import team
from events.models import ProgrammeRole, TeamInvitation

Role = ProgrammeRole.Role
LINK = re.compile(r"https?://[^\s]+/team-uitnodiging/[^\s/]+/")


@pytest.fixture(autouse=True)
def immediate_mail(settings, commit_hooks):
    settings.TASKS = {"default": {"BACKEND": "django.tasks.backends.immediate.ImmediateBackend"}}
    settings.SITE_URL = "https://jubileum.example.nl"


@pytest.fixture
def url(programme) -> str:
    return reverse("organiser:team", kwargs={"programme_slug": programme.slug})


def invite(client, url, email, role="viewer"):
    return client.post(url, {"invite-email": email, "invite-role": role})


def accept_path(message) -> str:
    link = LINK.search(message.body).group(0)
    return link.removeprefix("https://jubileum.example.nl")


def test_team_page_lists_roles(
    client, organiser, viewer, programme, url, django_assert_max_num_queries
):
    client.force_login(viewer)

    with django_assert_max_num_queries(12):
        response = client.get(url)

    html = response.content.decode()
    assert response.status_code == 200
    assert "organisator" in html and "meekijker" in html
    assert "Iemand uitnodigen" not in html


def test_inviting_an_existing_user_gives_the_role_and_mails_them(
    client, organiser, programme, url, django_user_model
):
    known = django_user_model.objects.create_user("bert", email="bert@example.org")
    client.force_login(organiser)

    response = invite(client, url, "Bert@Example.org", "organiser")

    assert response.status_code == 303
    assert ProgrammeRole.objects.get(user=known, programme=programme).role == Role.ORGANISER
    assert not TeamInvitation.objects.exists()
    (message,) = mail.outbox
    assert message.to == ["bert@example.org"]
    assert message.subject.startswith("Je bent nu Organisator van")
    assert f"/beheer/{programme.slug}/" in message.body
    assert message.alternatives[0][1] == "text/html"


def test_inviting_a_new_address_sends_a_link_to_choose_a_password(
    client, organiser, programme, url
):
    client.force_login(organiser)

    invite(client, url, "nieuw@example.org", "viewer")

    invitation = TeamInvitation.objects.get()
    assert invitation.role == Role.VIEWER
    assert invitation.invited_by == organiser
    (message,) = mail.outbox
    assert message.subject.startswith("Uitnodiging voor het team van")
    path = accept_path(message)
    assert path in message.alternatives[0][0]
    assert "nieuw@example.org" in client.get(url).content.decode()  # open invitations

    anonymous = Client()
    form = anonymous.get(path)
    assert form.status_code == 200
    assert "Kies een wachtwoord" in form.content.decode()

    weak = anonymous.post(path, {"password1": "123", "password2": "123"})
    assert weak.status_code == 422
    assert "Er is niets opgeslagen." in weak.content.decode()
    assert not get_user_model().objects.filter(email="nieuw@example.org").exists()

    done = anonymous.post(path, {"password1": "Blusboot-1926!", "password2": "Blusboot-1926!"})

    assert done.status_code == 303
    assert done["Location"].startswith(reverse("login"))
    user = get_user_model().objects.get(email="nieuw@example.org")
    assert not user.is_staff and not user.is_superuser
    assert user.check_password("Blusboot-1926!")
    assert ProgrammeRole.objects.get(user=user, programme=programme).role == Role.VIEWER
    invitation.refresh_from_db()
    assert invitation.accepted_by == user
    # Then they log in, and the programme is theirs to read.
    programme_url = reverse("organiser:programme", kwargs={"programme_slug": programme.slug})
    assert done["Location"] == f"{reverse('login')}?next={programme_url}"
    logged_in = anonymous.post(
        done["Location"], {"username": "nieuw@example.org", "password": "Blusboot-1926!"}
    )
    assert logged_in.status_code == 302
    assert anonymous.get(programme_url).status_code == 200

    # The link works once.
    again = Client().post(
        path, {"password1": "Ander-wachtwoord-9", "password2": "Ander-wachtwoord-9"}
    )
    assert again.status_code == 400
    assert "niet meer geldig" in again.content.decode()
    assert get_user_model().objects.filter(email="nieuw@example.org").count() == 1


def test_an_expired_or_forged_link_changes_nothing(client, organiser, programme, url, time_machine):
    time_machine.move_to(timezone.now(), tick=False)
    client.force_login(organiser)
    invite(client, url, "laat@example.org")
    path = accept_path(mail.outbox[0])
    users = get_user_model().objects.count()

    forged = Client().get(path[:-3] + "xx/")
    time_machine.shift(dt.timedelta(days=7, minutes=1))
    expired = Client().post(path, {"password1": "Blusboot-1926!", "password2": "Blusboot-1926!"})

    for response in (forged, expired):
        assert response.status_code == 400
        assert "Deze uitnodiging is niet meer geldig" in response.content.decode()
    assert get_user_model().objects.count() == users
    assert TeamInvitation.objects.get().accepted_at is None


def test_organiser_changes_a_role_and_removes_someone(client, organiser, viewer, programme, url):
    client.force_login(organiser)
    role_url = reverse(
        "organiser:team_role", kwargs={"programme_slug": programme.slug, "user_id": viewer.pk}
    )
    remove_url = reverse(
        "organiser:team_remove", kwargs={"programme_slug": programme.slug, "user_id": viewer.pk}
    )

    assert client.post(role_url, {"role": "organiser"}).status_code == 303
    assert ProgrammeRole.objects.get(user=viewer).role == Role.ORGANISER
    assert client.post(remove_url).status_code == 303
    assert not ProgrammeRole.objects.filter(user=viewer).exists()
    assert viewer.__class__.objects.filter(pk=viewer.pk).exists()


def test_the_last_organiser_stays(client, organiser, viewer, programme, url):
    client.force_login(organiser)
    kwargs = {"programme_slug": programme.slug, "user_id": organiser.pk}

    demoted = client.post(reverse("organiser:team_role", kwargs=kwargs), {"role": "viewer"})
    removed = client.post(reverse("organiser:team_remove", kwargs=kwargs), follow=True)

    assert demoted.status_code == 303
    assert "altijd minstens één organisator" in removed.content.decode()
    assert ProgrammeRole.objects.get(user=organiser).role == Role.ORGANISER
    with pytest.raises(team.LastOrganiser):
        team.remove_member(programme, organiser.pk)


def test_an_organiser_may_leave_when_another_remains(client, organiser, make_user, programme):
    other = make_user("tweede", Role.ORGANISER, programme)
    client.force_login(organiser)
    kwargs = {"programme_slug": programme.slug, "user_id": organiser.pk}

    response = client.post(reverse("organiser:team_remove", kwargs=kwargs))

    assert response["Location"] == reverse("organiser:index")
    assert list(ProgrammeRole.objects.values_list("user", flat=True)) == [other.pk]


def test_viewer_and_other_programmes_organiser_may_not_change_the_team(
    client, viewer, stranger, organiser, programme, url
):
    kwargs = {"programme_slug": programme.slug, "user_id": organiser.pk}
    client.force_login(viewer)
    assert invite(client, url, "x@example.org").status_code == 403
    assert client.post(reverse("organiser:team_remove", kwargs=kwargs)).status_code == 403

    client.force_login(stranger)
    assert client.get(url).status_code == 404
    assert invite(client, url, "x@example.org").status_code == 404
    assert (
        client.post(reverse("organiser:team_role", kwargs=kwargs), {"role": "viewer"}).status_code
        == 404
    )

    assert not TeamInvitation.objects.exists()
    assert ProgrammeRole.objects.get(user=organiser).role == Role.ORGANISER
    assert not mail.outbox


def test_inviting_someone_already_in_the_team_is_refused_at_the_field(
    client, organiser, viewer, programme, url
):
    viewer.email = "kijker@example.org"
    viewer.save()
    client.force_login(organiser)

    response = invite(client, url, "kijker@example.org", "organiser")
    bad = invite(client, url, "geen adres")

    assert response.status_code == 422
    assert "heeft al een rol in dit programma" in response.content.decode()
    assert bad.status_code == 422
    assert 'id="id_invite-email_error"' in bad.content.decode()
    assert ProgrammeRole.objects.get(user=viewer).role == Role.VIEWER
    assert not mail.outbox

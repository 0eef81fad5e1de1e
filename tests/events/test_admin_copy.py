"""The admin action "Programma kopiëren" and its intermediate page."""

from __future__ import annotations

import datetime as dt

import pytest
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.contrib.auth.models import Permission
from django.contrib.messages import get_messages
from django.urls import reverse

from events.models import Activity, Programme

CHANGELIST = reverse("admin:events_programme_changelist")


def copy_url(programme: Programme) -> str:
    return reverse("admin:events_programme_copy", kwargs={"object_id": programme.pk})


def messages_of(response) -> list[str]:
    return [str(message) for message in get_messages(response.wsgi_request)]


def test_action_on_one_programme_asks_for_the_copy_details(admin_client, programme):
    response = admin_client.post(
        CHANGELIST, {"action": "copy_selected", ACTION_CHECKBOX_NAME: [programme.pk]}
    )

    assert response.status_code == 302
    assert response["Location"] == copy_url(programme)
    page = admin_client.get(response["Location"])
    assert page.status_code == 200
    html = page.content.decode()
    assert "Programma kopiëren" in html
    for label in ["Naam van de kopie", "Webadres (slug)", "Eerste dag"]:
        assert label in html
    assert 'type="date"' in html
    assert Programme.objects.count() == 1


def test_action_on_two_programmes_is_refused(admin_client, programme, make_programme):
    other = make_programme()

    response = admin_client.post(
        CHANGELIST,
        {"action": "copy_selected", ACTION_CHECKBOX_NAME: [programme.pk, other.pk]},
        follow=True,
    )

    assert "Kies precies één programma om te kopiëren." in messages_of(response)
    assert Programme.objects.count() == 2


def test_copy_page_makes_the_copy_and_opens_it(admin_client, programme, activity):
    values = {
        "name": "Brandveiligheidsweek 2027",
        "slug": "brandveiligheidsweek-2027",
        "move": "first_day",
        "starts_on": "2027-10-04",
    }
    preview = admin_client.post(copy_url(programme), values)
    assert preview.status_code == 200
    assert "Nieuwe datums van de activiteiten" in preview.content.decode()
    assert Programme.objects.count() == 1

    response = admin_client.post(copy_url(programme), {**values, "confirm": "1"})

    new = Programme.objects.get(slug="brandveiligheidsweek-2027")
    assert response.status_code == 302
    assert response["Location"] == reverse("admin:events_programme_change", args=[new.pk])
    assert not new.is_public
    assert new.starts_on == dt.date(2027, 10, 4)
    assert new.activities.get().status == Activity.Status.DRAFT
    assert any("nog niet openbaar" in message for message in messages_of(response))


@pytest.mark.parametrize(
    ("data", "error"),
    [
        ({"slug": "brandweer-100"}, "Er is al een programma met het webadres"),
        ({"slug": "met spaties"}, "slug"),
        ({"name": ""}, "Dit veld is verplicht."),
        ({"starts_on": "4 oktober"}, "geldige datum"),
    ],
)
def test_bad_copy_details_are_shown_and_change_nothing(admin_client, programme, data, error):
    values = {
        "name": "Kopie",
        "slug": "kopie",
        "move": "first_day",
        "starts_on": "2027-10-04",
        "confirm": "1",
        **data,
    }

    response = admin_client.post(copy_url(programme), values)

    assert response.status_code == 200
    html = response.content.decode()
    assert error in html
    assert 'class="errornote"' in html
    assert Programme.objects.count() == 1


def test_staff_without_permission_to_add_programmes_may_not_copy(
    client, django_user_model, programme
):
    user = django_user_model.objects.create_user("medewerker", password="x", is_staff=True)
    user.user_permissions.add(Permission.objects.get(codename="view_programme"))
    client.force_login(user)

    assert client.get(copy_url(programme)).status_code == 403
    assert client.post(copy_url(programme), {"name": "Kopie", "slug": "kopie"}).status_code == 403
    assert Programme.objects.count() == 1


@pytest.mark.parametrize("object_id", ["999", "geen-nummer"])
def test_copy_page_of_unknown_programme_is_404(admin_client, db, object_id):
    url = reverse("admin:events_programme_copy", kwargs={"object_id": object_id})

    assert admin_client.get(url).status_code == 404

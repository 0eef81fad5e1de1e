"""The organiser's activity pages (events.backoffice.activities): new, edit, copy, publish,
take offline, preview and history; as a non-staff organiser, since nothing here needs the
Django admin."""

from __future__ import annotations

import datetime as dt
import io
import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from PIL import Image

from events.backoffice.forms import form_data
from events.models import Activity, ProgrammeRole, Question
from registrations.models import Message, Registration

Status = Registration.Status


@pytest.fixture
def author(django_user_model, programme):
    """An organiser of `programme` without staff rights."""
    user = django_user_model.objects.create_user(
        username="auteur", password="wachtwoord-123", first_name="Anneke", last_name="Bosman"
    )
    ProgrammeRole.objects.create(user=user, programme=programme, role=ProgrammeRole.Role.ORGANISER)
    return user


@pytest.fixture
def author_client(client, author):
    client.force_login(author)
    return client


@pytest.fixture
def activity(make_activity) -> Activity:
    """As the shared fixture, at a whole minute, as the editor's fields write a time."""
    starts = (timezone.now() + dt.timedelta(days=14)).replace(hour=14, minute=0, second=0)
    return make_activity(
        title="Kinderbrandweermiddag",
        slug="kinderbrandweermiddag",
        starts_at=starts.replace(microsecond=0),
    )


def _url(name: str, activity: Activity | None = None, programme=None) -> str:
    if activity is None:
        return reverse(name, kwargs={"programme_slug": programme.slug})
    return reverse(
        name, kwargs={"programme_slug": activity.programme.slug, "activity_slug": activity.slug}
    )


def _local(moment: dt.datetime) -> str:
    return timezone.localtime(moment).strftime("%Y-%m-%dT%H:%M")


def _new_data(**fields) -> dict:
    starts = (timezone.now() + dt.timedelta(days=10)).replace(hour=14, minute=0)
    values = {
        "title": "Rondleiding nieuwe kazerne",
        "summary": "Een kijkje achter de schermen.",
        "starts_at": _local(starts),
        "ends_at": _local(starts + dt.timedelta(hours=2)),
        "location_name": "Kazerne Soesterberg",
        "audience": "public",
        "registration_required": "on",
        "max_party_size": "4",
        "capacity": "30",
        "price": "0",
        "waitlist_enabled": "on",
    }
    values.update(fields)
    return values


def _edit_data(activity: Activity, **fields) -> dict:
    values = {
        name: ("on" if value is True else value)
        for name, value in form_data(activity).items()
        if value is not False
    }
    values.update(fields)
    return values


# --- New, publish, take offline ---------------------------------------------------------------


def test_a_new_activity_is_a_draft_that_the_public_does_not_see(author_client, programme):
    response = author_client.post(_url("organiser:new_activity", programme=programme), _new_data())

    created = Activity.objects.get(title="Rondleiding nieuwe kazerne")
    assert created.status == Activity.Status.DRAFT
    assert response.status_code == 303
    assert response["Location"] == _url("organiser:activity", created)
    assert "Rondleiding nieuwe kazerne" not in Client().get("/").content.decode()
    overview = author_client.get(_url("organiser:programme", programme=programme)).content.decode()
    assert "Rondleiding nieuwe kazerne" in overview and "Concept" in overview
    assert _url("organiser:new_activity", programme=programme) in overview


def test_publishing_puts_it_on_the_home_and_programme_pages_and_unpublishing_takes_it_off(
    author_client, programme, make_activity
):
    draft = make_activity(title="Open avond", status=Activity.Status.DRAFT)
    public_programme = reverse("events:programme", kwargs={"slug": programme.slug})

    response = author_client.post(_url("organiser:publish_activity", draft))

    draft.refresh_from_db()
    assert (response.status_code, draft.status) == (303, Activity.Status.PUBLISHED)
    assert "Open avond" in Client().get("/").content.decode()
    assert "Open avond" in Client().get(public_programme).content.decode()

    author_client.post(_url("organiser:unpublish_activity", draft))

    draft.refresh_from_db()
    assert draft.status == Activity.Status.DRAFT
    assert "Open avond" not in Client().get(public_programme).content.decode()


def test_publishing_in_a_hidden_programme_says_the_programme_is_not_public(
    author_client, programme, make_activity
):
    programme.is_public = False
    programme.save()
    draft = make_activity(status=Activity.Status.DRAFT)

    response = author_client.post(_url("organiser:publish_activity", draft), follow=True)

    assert "het programma zelf is nog niet openbaar" in response.content.decode()


def test_publishing_a_cancelled_activity_is_refused_with_a_reason(author_client, make_activity):
    cancelled = make_activity(status=Activity.Status.CANCELLED, cancellation_reason="Storm")

    response = author_client.post(_url("organiser:publish_activity", cancelled), follow=True)

    cancelled.refresh_from_db()
    assert cancelled.status == Activity.Status.CANCELLED
    assert "Dit kan niet: de activiteit is geannuleerd." in response.content.decode()


def test_taking_offline_with_registrations_asks_first(author_client, activity, make_registration):
    make_registration(status=Status.CONFIRMED)

    asked = author_client.post(_url("organiser:unpublish_activity", activity))

    activity.refresh_from_db()
    assert asked.status_code == 200 and activity.status == Activity.Status.PUBLISHED
    assert "houdt haar plaats" in asked.content.decode()

    author_client.post(_url("organiser:unpublish_activity", activity), {"confirm": "1"})

    activity.refresh_from_db()
    assert activity.status == Activity.Status.DRAFT
    assert activity.registrations.get().status == Status.CONFIRMED


# --- Edit -------------------------------------------------------------------------------------


def test_the_editor_groups_the_fields_and_flags_missing_english(author_client, activity):
    page = author_client.get(_url("organiser:edit_activity", activity)).content.decode()

    assert 'enctype="multipart/form-data"' in page
    for legend in ("Wat", "Wanneer", "Waar", "Voor wie en hoeveel", "Aanmelden", "Afbeelding"):
        assert f"<legend>{legend}</legend>" in page
    assert "Titel (Engels, optioneel)" in page
    assert "Nog geen Engelse tekst voor:" in page and "korte omschrijving" in page
    assert _url("organiser:questions", activity) in page


def test_an_edit_with_errors_saves_nothing_and_says_what_is_wrong(author_client, activity):
    before = activity.history.count()

    response = author_client.post(
        _url("organiser:edit_activity", activity),
        _edit_data(activity, title="", summary="Nieuw", ends_at="2020-01-01T10:00"),
    )

    page = response.content.decode()
    assert response.status_code == 422
    assert "Geef de activiteit een titel." in page and "Er is niets opgeslagen." in page
    assert 'href="#id_title"' in page
    activity.refresh_from_db()
    assert activity.summary == "Een middag vol brandveiligheid."
    assert activity.history.count() == before


def test_the_editor_takes_an_image_with_its_text_alternative(
    author_client, activity, settings, tmp_path
):
    settings.MEDIA_ROOT = tmp_path
    png = io.BytesIO()
    Image.new("RGB", (8, 8), "red").save(png, "PNG")
    upload = SimpleUploadedFile("kazerne.png", png.getvalue(), "image/png")

    response = author_client.post(
        _url("organiser:edit_activity", activity),
        _edit_data(activity, image=upload, image_alt="Een rode brandweerauto"),
    )

    assert response.status_code == 303
    activity.refresh_from_db()
    assert activity.image.name.startswith("activities/images/kazerne")
    assert activity.image_alt == "Een rode brandweerauto"


def test_a_cancelled_activity_cannot_be_edited(author_client, make_activity):
    cancelled = make_activity(status=Activity.Status.CANCELLED, cancellation_reason="Storm")

    shown = author_client.get(_url("organiser:edit_activity", cancelled), follow=True)
    posted = author_client.post(
        _url("organiser:edit_activity", cancelled), _edit_data(cancelled, title="Toch wel")
    )

    assert "is geannuleerd en kan niet meer worden gewijzigd" in shown.content.decode()
    assert posted.status_code == 303
    cancelled.refresh_from_db()
    assert cancelled.title != "Toch wel"


def test_an_edit_without_time_or_place_goes_back_to_the_activity(
    author_client, activity, make_registration
):
    make_registration()

    response = author_client.post(
        _url("organiser:edit_activity", activity), _edit_data(activity, summary="Anders")
    )

    assert response["Location"] == _url("organiser:activity", activity)


# --- Telling registrants about a new time or place ----------------------------------------------


@pytest.fixture
def registrants(activity, make_registration):
    """Everyone whose registration is on, by status; and one who cancelled."""
    on = {
        status: make_registration(status=status, email=f"{status}@example.org")
        for status in (
            Status.CONFIRMED,
            Status.PENDING_PAYMENT,
            Status.OFFERED,
            Status.WAITLISTED,
            Status.PENDING_APPROVAL,
        )
    }
    make_registration(status=Status.CANCELLED, email="weg@example.org")
    return on


def _move_an_hour(client, activity) -> str:
    later = activity.starts_at + dt.timedelta(hours=1)
    response = client.post(
        _url("organiser:edit_activity", activity),
        _edit_data(
            activity,
            starts_at=_local(later),
            ends_at=_local(later + dt.timedelta(hours=2)),
        ),
    )
    assert response.status_code == 303
    return response["Location"]


def _hidden_fields(page: str) -> dict[str, str]:
    fields = dict(re.findall(r'<input type="hidden" name="(\w+)" value="([^"]*)"', page))
    body = re.search(r'<input type="hidden" name="body" value="([^"]*)"', page)
    assert body is not None
    return fields


def test_a_new_time_offers_to_tell_everyone_registered(author_client, activity, registrants, tasks):
    old = timezone.localtime(activity.starts_at).strftime("%H:%M")
    notice = _move_an_hour(author_client, activity)
    assert notice.startswith(_url("organiser:change_notice", activity) + "?versie=")

    page = author_client.get(notice).content.decode()

    assert "Gewijzigd: Kinderbrandweermiddag" in page
    new = (timezone.localtime(activity.starts_at) + dt.timedelta(hours=1)).strftime("%H:%M")
    assert re.search(rf"Wanneer: .*{old}.*→.*{new}", page)
    assert "naar 5 ontvangers" in page
    assert "Niet versturen" in page
    assert not Message.objects.exists()

    fields = _hidden_fields(page)
    messages_url = _url("organiser:messages", activity)
    # A double click: the same form twice.
    author_client.post(messages_url, {**fields, "step": "send"})
    author_client.post(messages_url, {**fields, "step": "send"})

    message = Message.objects.get()
    assert message.subject == "Gewijzigd: Kinderbrandweermiddag"
    assert message.audience == Message.Audience.REGISTERED
    recipients = set(message.recipients.values_list("registration_id", flat=True))
    assert recipients == {registration.pk for registration in registrants.values()}


def test_not_sending_the_notice_sends_nothing(author_client, activity, registrants):
    notice = _move_an_hour(author_client, activity)
    page = author_client.get(notice).content.decode()

    skip = re.search(r'<a href="([^"]+)">Niet versturen</a>', page)

    assert skip is not None and skip.group(1) == _url("organiser:activity", activity)
    assert author_client.get(skip.group(1)).status_code == 200
    assert not Message.objects.exists()


def test_a_new_place_without_anyone_registered_skips_the_notice(author_client, activity):
    notice = author_client.post(
        _url("organiser:edit_activity", activity),
        _edit_data(activity, location_name="Kazerne Soesterberg"),
    )["Location"]

    assert author_client.get(notice)["Location"] == _url("organiser:activity", activity)


# --- Copy, preview, history -------------------------------------------------------------------


def test_a_copy_is_a_draft_with_the_questions_and_no_registrations(
    author_client, activity, make_registration
):
    Question.objects.create(activity=activity, label="Dieetwensen", kind="text", position=1)
    Question.objects.create(activity=activity, label="Leeftijd kinderen", kind="text", position=2)
    make_registration()

    response = author_client.post(_url("organiser:duplicate_activity", activity))

    copy = Activity.objects.exclude(pk=activity.pk).get()
    assert response["Location"] == _url("organiser:edit_activity", copy)
    assert copy.title == "Kinderbrandweermiddag (kopie)"
    assert copy.slug == "kinderbrandweermiddag-kopie"
    assert copy.status == Activity.Status.DRAFT
    assert (copy.starts_at, copy.capacity, copy.summary) == (
        activity.starts_at,
        activity.capacity,
        activity.summary,
    )
    assert list(copy.questions.values_list("label", flat=True)) == [
        "Dieetwensen",
        "Leeftijd kinderen",
    ]
    assert not copy.registrations.exists()


def test_the_preview_shows_a_draft_as_the_public_would_see_it(
    author_client, viewer, client, make_activity
):
    draft = make_activity(title="Geheime oefening", status=Activity.Status.DRAFT)
    public = reverse(
        "events:activity", kwargs={"programme_slug": draft.programme.slug, "slug": draft.slug}
    )
    assert author_client.get(public).status_code == 404

    page = author_client.get(_url("organiser:preview_activity", draft)).content.decode()

    assert "Voorbeeld — zo ziet de pagina eruit" in page
    assert '<meta name="robots" content="noindex">' in page
    assert "<h1>Geheime oefening</h1>" in page
    assert re.search(r"<fieldset[^>]*disabled", page)
    client.force_login(viewer)
    assert client.get(_url("organiser:preview_activity", draft)).status_code == 200


def test_the_history_names_the_editor_and_the_fields_changed(author_client, activity):
    author_client.post(
        _url("organiser:edit_activity", activity),
        _edit_data(activity, summary="Met blusdemonstratie", description="Een hele lange tekst"),
    )

    page = author_client.get(_url("organiser:activity", activity)).content.decode()
    history = page[page.index('id="history-heading"') :]

    assert "Anneke Bosman" in history
    assert "korte omschrijving: van Een middag vol brandveiligheid. naar Met blusdemonstratie" in (
        history
    )
    assert "beschrijving: gewijzigd" in history


# --- Who may ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "name", ["edit_activity", "duplicate_activity", "publish_activity", "unpublish_activity"]
)
def test_a_viewer_may_not_change_an_activity(client, viewer, activity, name):
    client.force_login(viewer)

    response = client.post(_url(f"organiser:{name}", activity), _edit_data(activity, title="X"))

    assert response.status_code == 403
    activity.refresh_from_db()
    assert (activity.title, activity.status) == ("Kinderbrandweermiddag", "published")
    assert Activity.objects.count() == 1


def test_a_viewer_may_not_make_an_activity(client, viewer, programme):
    client.force_login(viewer)
    url = _url("organiser:new_activity", programme=programme)

    assert client.get(url).status_code == 403
    assert client.post(url, _new_data()).status_code == 403
    assert not Activity.objects.exists()


@pytest.mark.parametrize(
    "name",
    [
        "edit_activity",
        "duplicate_activity",
        "publish_activity",
        "unpublish_activity",
        "preview_activity",
    ],
)
def test_another_programmes_organiser_gets_404(client, stranger, activity, name):
    client.force_login(stranger)

    method = client.get if name == "preview_activity" else client.post

    assert method(_url(f"organiser:{name}", activity)).status_code == 404
    assert Activity.objects.count() == 1

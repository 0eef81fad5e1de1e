"""The activity editor's form (events.backoffice.forms): what the pages and the API share."""

from __future__ import annotations

import datetime as dt
import io
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from events.backoffice.forms import ActivityForm, form_data
from events.models import Activity
from events.signals import activity_price_changed

AMSTERDAM = ZoneInfo("Europe/Amsterdam")


def data(**fields) -> dict:
    values = {
        "title": "Open dag kazerne Soest",
        "summary": "Kijken, klimmen en blussen.",
        "starts_at": "2027-06-12T10:00",
        "ends_at": "2027-06-12T16:00",
        "location_name": "Kazerne Soest",
        "audience": "public",
        "registration_required": "on",
        "max_party_size": "6",
        "price": "0",
        "waitlist_enabled": "on",
    }
    values.update(fields)
    return values


def test_new_activity_is_a_draft_in_dutch_time_with_a_free_slug(programme, make_activity):
    make_activity(slug="open-dag-kazerne-soest")
    form = ActivityForm(data(price="7,50", title_en="Open day"), programme=programme)

    assert form.is_valid(), form.errors
    activity = form.save()

    assert (activity.status, activity.slug) == (Activity.Status.DRAFT, "open-dag-kazerne-soest-2")
    assert activity.starts_at == dt.datetime(2027, 6, 12, 10, tzinfo=AMSTERDAM)
    assert (activity.price, activity.title_en) == (Decimal("7.50"), "Open day")
    assert activity.history.get().history_type == "+"


@pytest.mark.parametrize(
    ("fields", "field", "message"),
    [
        ({"title": ""}, "title", "Geef de activiteit een titel."),
        ({"starts_at": "morgen"}, "starts_at", "Vul datum en tijd in"),
        ({"ends_at": "2027-06-12T09:00"}, "ends_at", "De activiteit moet eindigen na het begin."),
        ({"price": "7,505"}, "price", "hoogstens twee cijfers"),
        ({"price": "gratis"}, "price", "Vul de prijs in als bedrag"),
        ({"price": "1.250"}, "price", "niet duidelijk of je duizenden bedoelt"),
        ({"capacity": "4", "max_party_size": "6"}, "max_party_size", "niet meer personen"),
    ],
)
def test_mistakes_are_said_in_dutch_at_the_field_and_nothing_is_saved(
    programme, fields, field, message
):
    form = ActivityForm(data(**fields), programme=programme)

    assert not form.is_valid()
    assert message in " ".join(form.errors[field])
    assert not Activity.objects.exists()


def test_an_image_needs_its_text_alternative(programme, tmp_path, settings):
    settings.MEDIA_ROOT = tmp_path
    png = io.BytesIO()
    Image.new("RGB", (8, 8), "red").save(png, "PNG")
    form = ActivityForm(
        data(),
        {"image": SimpleUploadedFile("kazerne.png", png.getvalue(), "image/png")},
        programme=programme,
    )

    assert not form.is_valid()
    assert "Beschrijf wat de afbeelding laat zien" in form.errors["image_alt"][0]


def test_form_data_round_trips_without_changes_and_names_what_registrants_hear(
    programme, make_activity
):
    starts_at = dt.datetime(2027, 6, 12, 10, 30, tzinfo=AMSTERDAM)
    activity = make_activity(price=Decimal("12.50"), capacity=40, starts_at=starts_at)

    unchanged = ActivityForm(form_data(activity), instance=activity, programme=programme)
    assert unchanged.is_valid(), unchanged.errors
    assert unchanged.changed_data == []

    moved = form_data(activity) | {"location_name": "Kazerne Soesterberg"}
    changed = ActivityForm(moved, instance=activity, programme=programme)
    assert changed.is_valid(), changed.errors
    assert changed.registrant_changes() == ["location_name"]


def test_each_english_field_is_labelled_after_its_dutch_one(programme):
    form = ActivityForm(programme=programme)

    assert form.fields["title_en"].label == "Titel (Engels, optioneel)"
    assert form.fields["image_alt_en"].label == "Tekstalternatief afbeelding (Engels, optioneel)"
    assert form.fields["title"].label == "Titel"


def test_form_data_keeps_a_moment_in_the_hour_the_clocks_go_back(programme, make_activity):
    # 02:30 occurs twice on 31 October 2027; as "2027-10-31T02:30" the form would refuse it.
    starts_at = dt.datetime(2027, 10, 31, 2, 30, 15, tzinfo=AMSTERDAM, fold=1)
    activity = make_activity(starts_at=starts_at, capacity=40)
    activity.refresh_from_db()

    form = ActivityForm(form_data(activity), instance=activity, programme=programme)

    assert form.is_valid(), form.errors
    # (A moment in the repeated hour never equals one in another zone; compare the instants.)
    assert form.cleaned_data["starts_at"].timestamp() == starts_at.timestamp()
    assert form.changed_data == []


def test_a_new_price_closes_the_payments_under_way_at_the_old_one(programme, make_activity):
    activity = make_activity(
        price=Decimal("12.50"), starts_at=dt.datetime(2027, 6, 12, 10, 30, tzinfo=AMSTERDAM)
    )
    told: list[int] = []

    def receiver(sender, activity, **kwargs):
        told.append(activity.pk)

    activity_price_changed.connect(receiver)
    try:
        unchanged = ActivityForm(form_data(activity), instance=activity, programme=programme)
        assert unchanged.is_valid(), unchanged.errors
        unchanged.save()
        assert told == []
        dearer = form_data(activity) | {"price": "15,00"}
        changed = ActivityForm(dearer, instance=activity, programme=programme)
        assert changed.is_valid(), changed.errors
        changed.save()
    finally:
        activity_price_changed.disconnect(receiver)

    assert told == [activity.pk]


def test_capacity_cannot_drop_below_the_places_already_taken(
    programme, make_activity, make_registration
):
    activity = make_activity(
        capacity=10, starts_at=dt.datetime(2027, 6, 12, 10, 30, tzinfo=AMSTERDAM)
    )
    make_registration(activity=activity, party_size=6)

    form = ActivityForm(
        form_data(activity) | {"capacity": "5"}, instance=activity, programme=programme
    )

    assert not form.is_valid()
    assert "Er zijn al 6 plaatsen bezet" in form.errors["capacity"][0]
    assert ActivityForm(
        form_data(activity) | {"capacity": "6"}, instance=activity, programme=programme
    ).is_valid()

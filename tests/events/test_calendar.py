from __future__ import annotations

import datetime as dt
import re
import zoneinfo

import icalendar
import pytest
from django.urls import reverse
from django.utils import translation

from events.calendar import build_calendar, content_type
from events.models import Activity, Programme

AMSTERDAM = zoneinfo.ZoneInfo("Europe/Amsterdam")


def activity_url(activity: Activity) -> str:
    return reverse(
        "events:activity_ics",
        kwargs={"programme_slug": activity.programme.slug, "slug": activity.slug},
    )


def feed_url(programme: Programme) -> str:
    return reverse("events:programme_ics", kwargs={"slug": programme.slug})


def parse(response) -> icalendar.Calendar:
    assert response.status_code == 200
    calendar = icalendar.Calendar.from_ical(response.content)
    # The media type names the calendar's METHOD (RFC 5545, 8.1).
    assert response["Content-Type"] == f"text/calendar; method={calendar['METHOD']}; charset=utf-8"
    return calendar


@pytest.fixture
def around_dst(make_activity) -> tuple[Activity, Activity]:
    """One activity the day before clocks go forward (CET) and one the day after (CEST)."""
    before = make_activity(
        slug="voor-zomertijd", starts_at=dt.datetime(2026, 3, 28, 14, tzinfo=AMSTERDAM)
    )
    after = make_activity(
        slug="na-zomertijd", starts_at=dt.datetime(2026, 3, 29, 14, tzinfo=AMSTERDAM)
    )
    return before, after


def test_activity_file_is_a_valid_calendar_with_one_event(client, activity):
    response = client.get(activity_url(activity))

    calendar = parse(response)
    assert response["Content-Disposition"] == 'attachment; filename="kinderbrandweermiddag.ics"'
    assert calendar["VERSION"] == "2.0"
    assert calendar["PRODID"]
    assert calendar["CALSCALE"] == "GREGORIAN"
    assert calendar["METHOD"] == "PUBLISH"
    [event] = calendar.events
    url = f"http://testserver/programma/brandweer-100/activiteit/{activity.slug}/"
    assert event["SUMMARY"] == "Kinderbrandweermiddag"
    assert event["DESCRIPTION"] == f"Een middag vol brandveiligheid.\n\n{url}"
    assert event["LOCATION"] == "Kazerne Soest, Birkstraat 1, 3768 HD Soest"
    assert event["URL"] == url
    assert event["STATUS"] == "CONFIRMED"
    assert event["UID"] == f"activity-{activity.pk}@testserver"
    assert event.decoded("DTSTAMP").utcoffset() == dt.timedelta(0)
    assert re.search(rb"\r\nDTSTAMP:\d{8}T\d{6}Z\r\n", response.content)
    assert event.decoded("LAST-MODIFIED") == activity.updated_at.replace(microsecond=0)


def test_times_are_local_amsterdam_times_across_daylight_saving(client, around_dst):
    calendar = parse(client.get(feed_url(around_dst[0].programme)))

    events = {event["URL"].rsplit("/", 2)[-2]: event for event in calendar.events}
    for slug, utc_hour in (("voor-zomertijd", 13), ("na-zomertijd", 12)):
        event = events[slug]
        assert event["DTSTART"].params["TZID"] == "Europe/Amsterdam"
        assert event["DTEND"].params["TZID"] == "Europe/Amsterdam"
        start, end = event.decoded("DTSTART"), event.decoded("DTEND")
        assert (start.hour, end.hour) == (14, 16)
        assert start.astimezone(dt.UTC).hour == utc_hour
    assert b"DTSTART;TZID=Europe/Amsterdam:20260328T140000" in calendar.to_ical()
    assert b"DTSTART;TZID=Europe/Amsterdam:20260329T140000" in calendar.to_ical()


def test_calendar_carries_amsterdam_timezone_with_both_offsets(client, around_dst):
    calendar = parse(client.get(feed_url(around_dst[0].programme)))

    [vtimezone] = calendar.timezones
    assert vtimezone["TZID"] == "Europe/Amsterdam"
    kinds = {sub.name for sub in vtimezone.subcomponents}
    assert kinds == {"STANDARD", "DAYLIGHT"}
    daylight = next(sub for sub in vtimezone.subcomponents if sub.name == "DAYLIGHT")
    assert daylight["TZOFFSETTO"].td == dt.timedelta(hours=2)
    # The zone icalendar parsed back from our VTIMEZONE gives the same offsets as the real one.
    tz = vtimezone.to_tz()
    assert tz.utcoffset(dt.datetime(2026, 3, 28, 14)) == dt.timedelta(hours=1)
    assert tz.utcoffset(dt.datetime(2026, 3, 29, 14)) == dt.timedelta(hours=2)


def test_uid_is_stable_between_requests(client, activity):
    first = parse(client.get(activity_url(activity))).events[0]["UID"]
    again = parse(client.get(activity_url(activity))).events[0]["UID"]
    in_feed = parse(client.get(feed_url(activity.programme))).events[0]["UID"]

    assert first == again == in_feed == f"activity-{activity.pk}@testserver"


def test_cancelled_activity_is_marked_cancelled(client, make_activity):
    cancelled = make_activity(status=Activity.Status.CANCELLED)

    [event] = parse(client.get(activity_url(cancelled))).events

    assert event["STATUS"] == "CANCELLED"


def test_draft_activity_has_no_calendar_file(client, make_activity):
    draft = make_activity(status=Activity.Status.DRAFT)

    assert client.get(activity_url(draft)).status_code == 404


def test_non_public_programme_has_no_feed_nor_files(client, activity):
    Programme.objects.filter(pk=activity.programme.pk).update(is_public=False)

    assert client.get(feed_url(activity.programme)).status_code == 404
    assert client.get(activity_url(activity)).status_code == 404


def test_unknown_programme_or_activity_is_404(client, programme):
    assert client.get(feed_url(Programme(slug="onbekend"))).status_code == 404
    url = reverse("events:activity_ics", kwargs={"programme_slug": programme.slug, "slug": "x"})
    assert client.get(url).status_code == 404


def test_calendar_files_refuse_post(client, activity):
    assert client.post(activity_url(activity)).status_code == 405
    assert client.post(feed_url(activity.programme)).status_code == 405


def test_feed_holds_exactly_the_listed_activities(client, programme, make_activity, make_programme):
    published = make_activity(title="Open dag")
    cancelled = make_activity(title="Rondrit", status=Activity.Status.CANCELLED)
    make_activity(title="Nog geheim", status=Activity.Status.DRAFT)
    other = make_programme()
    make_activity(programme=other, title="Ander programma")

    response = client.get(feed_url(programme))

    calendar = parse(response)
    assert response["Content-Disposition"] == 'inline; filename="brandweer-100.ics"'
    assert calendar["X-WR-CALNAME"] == "Brandweer Soest & Soesterberg 100 jaar"
    uids = {event["UID"] for event in calendar.events}
    assert uids == {f"activity-{a.pk}@testserver" for a in (published, cancelled)}


def test_feed_of_programme_without_activities_is_valid(client, programme):
    calendar = parse(client.get(feed_url(programme)))

    assert calendar.events == []
    assert calendar["VERSION"] == "2.0"


def test_english_page_links_in_english_feed(client, activity):
    [event] = parse(client.get("/en" + feed_url(activity.programme))).events

    assert event["URL"].startswith("http://testserver/en/programma/")


@pytest.mark.parametrize("count", [5, 50])
def test_feed_query_count_does_not_grow_with_activities(
    client, programme, many_activities, django_assert_max_num_queries, count
):
    activities = many_activities(count)

    # Two for the ETag and Last-Modified, two for the feed.
    with django_assert_max_num_queries(4):
        calendar = parse(client.get(feed_url(programme)))

    assert len(calendar.events) == len(activities)


def test_builder_serves_other_callers_without_a_request(activity):
    with translation.override("nl"):
        calendar = build_calendar([activity], "https://jubileum.example.nl")

    [event] = calendar.events
    assert event["UID"] == f"activity-{activity.pk}@jubileum.example.nl"
    assert event["URL"].startswith("https://jubileum.example.nl/programma/brandweer-100/")
    assert icalendar.Calendar.from_ical(calendar.to_ical()).events[0]["UID"] == event["UID"]


# --- Subscribing: how often to look again, and a cheap answer when nothing changed -------------


def test_feed_asks_subscribers_to_refresh_every_hour(client, activity):
    response = client.get(feed_url(activity.programme))

    calendar = parse(response)
    assert b"REFRESH-INTERVAL;VALUE=DURATION:PT1H\r\n" in response.content
    assert b"X-PUBLISHED-TTL:PT1H\r\n" in response.content
    assert calendar["REFRESH-INTERVAL"].dt == dt.timedelta(hours=1)


def test_single_activity_file_is_no_subscription(client, activity):
    content = client.get(activity_url(activity)).content

    assert b"REFRESH-INTERVAL" not in content
    assert b"X-PUBLISHED-TTL" not in content


@pytest.mark.parametrize("which", ["feed", "activity"])
def test_calendar_files_answer_304_until_something_in_them_changes(
    client, activity, make_activity, which
):
    url = feed_url(activity.programme) if which == "feed" else activity_url(activity)
    first = client.get(url)
    etag, last_modified = first["ETag"], first["Last-Modified"]
    assert etag.startswith('W/"')

    by_etag = client.get(url, headers={"if-none-match": etag})
    by_date = client.get(url, headers={"if-modified-since": last_modified})
    head = client.head(url, headers={"if-none-match": etag})

    assert (by_etag.status_code, by_date.status_code, head.status_code) == (304, 304, 304)
    assert by_etag.content == b""
    assert by_etag["ETag"] == etag

    activity.location_name = "Kazerne Soesterberg"
    activity.save()
    changed = client.get(url, headers={"if-none-match": etag, "if-modified-since": last_modified})

    assert changed.status_code == 200
    assert "Kazerne Soesterberg" in parse(changed).events[0]["LOCATION"]
    assert changed["ETag"] != etag


def test_feed_changes_when_an_activity_is_added_or_its_programme_renamed(
    client, activity, make_activity
):
    url = feed_url(activity.programme)
    etag = client.get(url)["ETag"]

    make_activity(title="Open dag")
    assert client.get(url, headers={"if-none-match": etag}).status_code == 200

    etag = client.get(url)["ETag"]
    activity.programme.name = "Brandweer 100"
    activity.programme.save()
    renamed = client.get(url, headers={"if-none-match": etag})
    assert renamed.status_code == 200
    assert parse(renamed)["X-WR-CALNAME"] == "Brandweer 100"


def test_feed_changes_when_an_activity_is_deleted(client, activity, make_activity):
    # A deletion moves no `updated_at`; the ETag counts the listed activities.
    make_activity(title="Open dag")
    url = feed_url(activity.programme)
    etag = client.get(url)["ETag"]

    activity.delete()

    assert client.get(url, headers={"if-none-match": etag}).status_code == 200


def test_feed_in_another_language_has_its_own_etag(client, activity):
    dutch = client.get(feed_url(activity.programme))["ETag"]

    english = client.get("/en" + feed_url(activity.programme), headers={"if-none-match": dutch})

    assert english.status_code == 200
    assert english["ETag"] != dutch


@pytest.mark.parametrize("method", ["PUBLISH", "CANCEL", "REQUEST"])
def test_content_type_names_the_calendars_own_method(activity, method):
    calendar = build_calendar([activity], "https://jubileum.example.nl")
    calendar["METHOD"] = method

    assert content_type(calendar) == f"text/calendar; method={method}; charset=utf-8"

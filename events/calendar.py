"""iCalendar (RFC 5545) files: one activity to add to a calendar, and a feed per programme.

`build_calendar` is a plain function of activities and a base URL, so the registration e-mail can
attach the same file the site serves.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from urllib.parse import urlsplit

import icalendar
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_safe

from events.models import Activity, Programme

PRODID = "-//Jubileum//Gemeentelijke activiteiten//NL"
CONTENT_TYPE = "text/calendar; charset=utf-8"

_STATUS = {Activity.Status.CANCELLED: "CANCELLED"}


def activity_uid(activity: Activity, host: str) -> str:
    """The event's UID: fixed for the activity's lifetime, so calendars update it in place."""
    return f"activity-{activity.pk}@{host}"


def build_event(activity: Activity, base_url: str, stamp: dt.datetime) -> icalendar.Event:
    url = base_url + activity.get_absolute_url()
    event = icalendar.Event()
    event.add("uid", activity_uid(activity, urlsplit(base_url).hostname or "localhost"))
    event.add("dtstamp", stamp)
    # Local wall-clock times with TZID (and a VTIMEZONE in the calendar), not UTC: a client then
    # shows 14:00 whatever daylight-saving rules it knows, and moving the event keeps local time.
    event.add("dtstart", timezone.localtime(activity.starts_at))
    event.add("dtend", timezone.localtime(activity.ends_at))
    event.add("summary", activity.title)
    event.add("description", f"{activity.summary}\n\n{url}" if activity.summary else url)
    location = ", ".join(
        part for part in (activity.location_name, activity.location_address) if part
    )
    if location:
        event.add("location", location)
    event.add("url", url)
    event.add("status", _STATUS.get(activity.status, "CONFIRMED"))
    event.add("last-modified", activity.updated_at.astimezone(dt.UTC))
    return event


def build_calendar(
    activities: Iterable[Activity], base_url: str, *, name: str | None = None
) -> icalendar.Calendar:
    """A VCALENDAR with one VEVENT per activity.

    `base_url` is scheme and host without a trailing slash ("https://jubileum.soest.nl"); it makes
    the links absolute and the UIDs unique to this site; the links go to the pages in the active
    language. `name` titles a subscribed feed.
    Activities need `programme` loaded (select_related) to avoid a query each.
    """
    calendar = icalendar.Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("method", "PUBLISH")
    if name:
        calendar.add("x-wr-calname", name)
        calendar.add("x-wr-timezone", timezone.get_current_timezone_name())
    stamp = timezone.now().astimezone(dt.UTC).replace(microsecond=0)
    years: set[int] = set()
    for activity in activities:
        calendar.add_component(build_event(activity, base_url, stamp))
        years.update(timezone.localtime(t).year for t in (activity.starts_at, activity.ends_at))
    if years:
        # Only the transitions the events need, not icalendar's default of 1970-2038.
        calendar.add_missing_timezones(
            first_date=dt.date(min(years) - 1, 1, 1), last_date=dt.date(max(years) + 1, 12, 31)
        )
    return calendar


def _base_url(request: HttpRequest) -> str:
    return request.build_absolute_uri("/").rstrip("/")


def _calendar_response(calendar: icalendar.Calendar, disposition: str) -> HttpResponse:
    response = HttpResponse(calendar.to_ical(), content_type=CONTENT_TYPE)
    response.headers["Content-Disposition"] = disposition
    return response


@require_safe
def activity_ics(request: HttpRequest, programme_slug: str, slug: str) -> HttpResponse:
    activity = get_object_or_404(
        Activity.objects.listed().select_related("programme"),
        programme__slug=programme_slug,
        slug=slug,
    )
    calendar = build_calendar([activity], _base_url(request))
    return _calendar_response(calendar, f'attachment; filename="{activity.slug}.ics"')


@require_safe
def programme_ics(request: HttpRequest, slug: str) -> HttpResponse:
    programme = get_object_or_404(Programme.objects.public(), slug=slug)
    activities = (
        Activity.objects.listed()
        .filter(programme=programme)
        .select_related("programme")
        .order_by("starts_at", "title")
    )
    calendar = build_calendar(activities, _base_url(request), name=programme.name)
    # Inline, so calendar apps that subscribe to the URL read it rather than offer a download.
    return _calendar_response(calendar, f'inline; filename="{programme.slug}.ics"')


def activity_ics_url(activity: Activity) -> str:
    return reverse(
        "events:activity_ics",
        kwargs={"programme_slug": activity.programme.slug, "slug": activity.slug},
    )

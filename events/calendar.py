"""iCalendar (RFC 5545) files: one activity to add to a calendar, and a feed per programme.

`build_calendar` is a plain function of activities and a base URL, so the registration e-mail can
attach the same file the site serves.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Iterable
from email.message import MIMEPart
from urllib.parse import urlsplit

import icalendar
from django.db.models import Count, Max, Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.utils import timezone, translation
from django.views.decorators.http import condition, require_safe

from events.models import Activity, Programme

PRODID = "-//Jubileum//Gemeentelijke activiteiten//NL"
# How often a subscribed calendar should fetch the feed again (RFC 7986 and Outlook's older
# property); with the ETag a fetch that finds nothing new is a 304 without a body.
FEED_REFRESH = dt.timedelta(hours=1)

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
    # In the active language where the organiser wrote it, each text with its LANGUAGE
    # (RFC 5545), so a calendar reading English knows a Dutch fallback for what it is.
    title = activity.in_language("title")
    event.add("summary", title, parameters={"language": title.lang})
    summary = activity.in_language("summary")
    if summary:
        event.add("description", f"{summary}\n\n{url}", parameters={"language": summary.lang})
    else:
        event.add("description", url)
    location_name = activity.in_language("location_name")
    location = ", ".join(part for part in (location_name, activity.location_address) if part)
    if location:
        event.add("location", location, parameters={"language": location_name.lang})
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
    stamp = calendar_stamp()
    return wrap_events(
        [build_event(activity, base_url, stamp) for activity in activities], name=name
    )


def calendar_stamp() -> dt.datetime:
    """DTSTAMP: when the file was made, in UTC to the second."""
    return timezone.now().astimezone(dt.UTC).replace(microsecond=0)


def wrap_events(
    events: Iterable[icalendar.Event], *, method: str = "PUBLISH", name: str | None = None
) -> icalendar.Calendar:
    """A VCALENDAR around `events`, with the time zones their local times need.

    `method` is the iTIP method (RFC 5546): PUBLISH for a file to add, CANCEL to take an event
    out again.
    """
    calendar = icalendar.Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("method", method)
    if name:
        calendar.add("x-wr-calname", name)
        calendar.add("x-wr-timezone", timezone.get_current_timezone_name())
        calendar.add("refresh-interval", FEED_REFRESH, parameters={"VALUE": "DURATION"})
        calendar.add("x-published-ttl", icalendar.vDuration(FEED_REFRESH))
    years: set[int] = set()
    for event in events:
        calendar.add_component(event)
        years.update(event.decoded(field).year for field in ("dtstart", "dtend"))
    if years:
        # Only the transitions the events need, not icalendar's default of 1970-2038.
        calendar.add_missing_timezones(
            first_date=dt.date(min(years) - 1, 1, 1), last_date=dt.date(max(years) + 1, 12, 31)
        )
    return calendar


def content_type(calendar: icalendar.Calendar) -> str:
    """`text/calendar` naming the calendar's own METHOD: RFC 5545 (8.1) has the parameter and the
    property agree, and a mail client (RFC 6047) reads the parameter to know whether the file
    publishes, requests or cancels."""
    method = calendar.get("method")
    if not method:
        return "text/calendar; charset=utf-8"
    return f"text/calendar; method={method}; charset=utf-8"


def calendar_attachment(calendar: icalendar.Calendar, filename: str) -> MIMEPart:
    """The calendar as an e-mail attachment, its content type as `content_type` gives it (a
    plain `attach(name, content, mimetype)` cannot carry the method parameter)."""
    part = MIMEPart()
    method = calendar.get("method")
    part.set_content(
        calendar.to_ical().decode(),
        subtype="calendar",
        charset="utf-8",
        params={"method": str(method)} if method else {},
        disposition="attachment",
        filename=filename,
    )
    return part


def calendar_response(calendar: icalendar.Calendar, disposition: str) -> HttpResponse:
    response = HttpResponse(calendar.to_ical(), content_type=content_type(calendar))
    response.headers["Content-Disposition"] = disposition
    return response


def _base_url(request: HttpRequest) -> str:
    return request.build_absolute_uri("/").rstrip("/")


# --- Conditional requests ---------------------------------------------------------------------
# A file changes when its programme or one of the activities in it does (`updated_at`, which
# every save sets, a status change included). Calendar apps poll subscribed feeds; with these a
# poll that finds nothing new costs two small queries and a 304. The ETag also covers what
# `updated_at` cannot show (an activity deleted, the links' language and host); it is weak:
# DTSTAMP in the body says when the file was made, so two answers are equivalent, not equal.


def _weak_etag(request: HttpRequest, *parts: object) -> str:
    key = "|".join(map(str, (*parts, translation.get_language(), request.get_host())))
    return 'W/"' + hashlib.sha256(key.encode()).hexdigest()[:32] + '"'


# (pk, its own change, its activities' latest, how many are listed): one query.
ProgrammeVersion = tuple[int, dt.datetime, dt.datetime | None, int]


def _programme_version(slug: str) -> ProgrammeVersion | None:
    return (
        Programme.objects.public()
        .filter(slug=slug)
        .annotate(
            activities_changed=Max("activities__updated_at"),
            listed=Count("activities", filter=~Q(activities__status=Activity.Status.DRAFT)),
        )
        .values_list("pk", "updated_at", "activities_changed", "listed")
        .first()
    )


def _programme_changed(request: HttpRequest, slug: str) -> dt.datetime | None:
    version = _programme_version(slug)
    if version is None:
        return None
    _pk, changed, activities_changed, _listed = version
    return max(changed, activities_changed or changed)


def _programme_etag(request: HttpRequest, slug: str) -> str | None:
    version = _programme_version(slug)
    return None if version is None else _weak_etag(request, "programme", *version)


def _activity_version(
    programme_slug: str, slug: str
) -> tuple[int, dt.datetime, dt.datetime] | None:
    return (
        Activity.objects.listed()
        .filter(programme__slug=programme_slug, slug=slug)
        .values_list("pk", "updated_at", "programme__updated_at")
        .first()
    )


def _activity_changed(request: HttpRequest, programme_slug: str, slug: str) -> dt.datetime | None:
    version = _activity_version(programme_slug, slug)
    return None if version is None else max(version[1:])


def _activity_etag(request: HttpRequest, programme_slug: str, slug: str) -> str | None:
    version = _activity_version(programme_slug, slug)
    return None if version is None else _weak_etag(request, "activity", *version)


# --- Views -------------------------------------------------------------------------------------


@require_safe
@condition(etag_func=_activity_etag, last_modified_func=_activity_changed)
def activity_ics(request: HttpRequest, programme_slug: str, slug: str) -> HttpResponse:
    activity = get_object_or_404(
        Activity.objects.listed().select_related("programme"),
        programme__slug=programme_slug,
        slug=slug,
    )
    calendar = build_calendar([activity], _base_url(request))
    return calendar_response(calendar, f'attachment; filename="{activity.slug}.ics"')


@require_safe
@condition(etag_func=_programme_etag, last_modified_func=_programme_changed)
def programme_ics(request: HttpRequest, slug: str) -> HttpResponse:
    programme = get_object_or_404(Programme.objects.public(), slug=slug)
    activities = (
        Activity.objects.listed()
        .filter(programme=programme)
        .select_related("programme")
        .order_by("starts_at", "title")
    )
    calendar = build_calendar(activities, _base_url(request), name=programme.in_language("name"))
    # Inline, so calendar apps that subscribe to the URL read it rather than offer a download.
    return calendar_response(calendar, f'inline; filename="{programme.slug}.ics"')


def activity_ics_url(activity: Activity) -> str:
    return reverse(
        "events:activity_ics",
        kwargs={"programme_slug": activity.programme.slug, "slug": activity.slug},
    )

"""The public activity listing: one filter shared by the pages and the API."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db.models import QuerySet
from django.utils import timezone

from events.models import Activity, Programme


@dataclass(frozen=True)
class ActivityFilter:
    audience: str = ""  # one of Activity.Audience, or "" for all
    month: dt.date | None = None  # first day of the month, or None for all
    available: bool = False  # only activities one can still sign up for

    def is_empty(self) -> bool:
        return not (self.audience or self.month or self.available)


def listed_activities(
    programme: Programme, filters: ActivityFilter, now: dt.datetime | None = None
) -> QuerySet[Activity]:
    """Listed activities of a programme, filtered, each annotated with `places_taken`."""
    now = now or timezone.now()
    activities = Activity.objects.listed().filter(programme=programme)
    if filters.audience:
        activities = activities.filter(audience=filters.audience)
    if filters.month:
        start = timezone.make_aware(dt.datetime.combine(filters.month, dt.time.min))
        next_month = (filters.month.replace(day=28) + dt.timedelta(days=4)).replace(day=1)
        end = timezone.make_aware(dt.datetime.combine(next_month, dt.time.min))
        activities = activities.filter(starts_at__gte=start, starts_at__lt=end)
    if filters.available:
        activities = activities.with_places_left(now).filter(ends_at__gt=now)
    else:
        activities = activities.with_places_taken(now)
    return activities.select_related("programme").order_by("starts_at", "title")


def activity_months(programme: Programme) -> list[dt.date]:
    """The months in which the programme has listed activities, for the month filter."""
    starts = (
        Activity.objects.listed().filter(programme=programme).values_list("starts_at", flat=True)
    )
    return sorted({timezone.localtime(s).date().replace(day=1) for s in starts})

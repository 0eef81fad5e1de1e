from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from events.listing import ActivityFilter, activity_months, listed_activities
from events.models import Activity

# Engine-dependent, so CI runs it on SQLite too: places left and the month filter are computed in
# SQL.
pytestmark = pytest.mark.engine_dependent


def _slugs(programme, **filters) -> list[str]:
    return [a.slug for a in listed_activities(programme, ActivityFilter(**filters))]


def test_listing_shows_published_and_cancelled_but_not_drafts(programme, make_activity):
    make_activity(slug="published")
    make_activity(slug="cancelled", status=Activity.Status.CANCELLED)
    make_activity(slug="draft", status=Activity.Status.DRAFT)
    assert sorted(_slugs(programme)) == ["cancelled", "published"]


def test_listing_of_a_private_programme_is_empty(programme, make_activity):
    make_activity()
    programme.is_public = False
    programme.save()
    assert _slugs(programme) == []


def test_audience_filter(programme, make_activity):
    make_activity(slug="open", audience=Activity.Audience.PUBLIC)
    make_activity(slug="reunie", audience=Activity.Audience.MEMBERS)
    assert _slugs(programme, audience="members") == ["reunie"]


def test_month_filter_uses_amsterdam_time(programme, make_activity):
    # Months are Amsterdam months: 00:30 on 1 February there is still 31 January in UTC.
    tz = timezone.get_current_timezone()
    make_activity(slug="jan", starts_at=dt.datetime(2027, 1, 31, 23, 30, tzinfo=tz))
    make_activity(slug="feb", starts_at=dt.datetime(2027, 2, 1, 0, 30, tzinfo=tz))
    assert _slugs(programme, month=dt.date(2027, 1, 1)) == ["jan"]
    assert _slugs(programme, month=dt.date(2027, 2, 1)) == ["feb"]
    assert activity_months(programme) == [dt.date(2027, 1, 1), dt.date(2027, 2, 1)]


def test_available_filter_keeps_only_activities_with_room(
    programme, activity, make_activity, make_registration
):
    activity.capacity = activity.max_party_size = 4
    activity.save()
    make_registration(activity=activity, party_size=4)
    make_activity(slug="room", capacity=4, max_party_size=4)
    make_activity(slug="unlimited", capacity=None)
    make_activity(slug="cancelled", status=Activity.Status.CANCELLED)
    make_activity(slug="past", starts_at=timezone.now() - dt.timedelta(days=2))
    assert sorted(_slugs(programme, available=True)) == ["room", "unlimited"]

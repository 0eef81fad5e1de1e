import datetime as dt
import itertools

import pytest
from django.utils import timezone

from events.models import Activity
from registrations.models import Registration

# Engine-dependent, so CI runs it on SQLite too: places taken are summed in SQL, holds compared
# with the clock there.
pytestmark = pytest.mark.engine_dependent

NOW = timezone.now()
EXPIRY = {
    "none": None,
    "past": NOW - dt.timedelta(seconds=1),
    "future": NOW + dt.timedelta(hours=1),
}


@pytest.mark.parametrize(
    ("status", "expiry"), list(itertools.product(Registration.Status.values, EXPIRY))
)
def test_listing_count_and_registration_agree_on_who_holds_places(
    activity, make_registration, status, expiry
):
    """events counts places by status name without importing this app; both must agree."""
    registration = make_registration(party_size=3, status=status, hold_expires_at=EXPIRY[expiry])
    taken = Activity.objects.with_places_taken(now=NOW).get(pk=activity.pk).places_taken
    assert taken == (3 if registration.holds_places(NOW) else 0)

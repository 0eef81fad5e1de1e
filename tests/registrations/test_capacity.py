from registrations.models import Registration


def test_events_capacity_lookup_matches_the_holding_statuses():
    """events counts places by status name without importing this app; keep both in step."""
    import inspect

    from events.models import ActivityQuerySet

    source = inspect.getsource(ActivityQuerySet.with_places_taken)
    for status in Registration.HOLDING_STATUSES:
        assert f'"{status}"' in source
    assert f'"{Registration.Status.PENDING_PAYMENT}"' in source

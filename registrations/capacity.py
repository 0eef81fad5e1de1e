"""Capacity and the waitlist: how many places are free, whether a party fits, and offering
freed places to the waitlist.

Capacity counts persons in `confirmed`, and in `offered` and `pending_payment` until their
`hold_expires_at` (`events.models.ActivityQuerySet.with_places_taken`), so a lapsed hold stops
counting the moment it lapses. Call every function here with the activity locked
(`locking.lock_activity`): what they count must not change before the caller acts on it.
"""

from __future__ import annotations

import datetime as dt

from events.models import Activity
from registrations.models import Registration
from registrations.notify import send_after_commit

# How long places are held while someone pays (Stripe's minimum Checkout expiry).
PAYMENT_HOLD = dt.timedelta(minutes=30)


def places_free(activity: Activity, now: dt.datetime) -> int | None:
    """Free places now, or None for an unlimited activity."""
    if activity.capacity is None:
        return None
    taken = Activity.objects.with_places_taken(now).get(pk=activity.pk).places_taken
    return max(activity.capacity - taken, 0)


def fits(activity: Activity, party_size: int, now: dt.datetime) -> bool:
    free = places_free(activity, now)
    return free is None or party_size <= free


def fits_after_waitlist(activity: Activity, party_size: int, now: dt.datetime) -> bool:
    """Whether a newcomer's party fits once the waitlist has had its turn.

    Places an expired offer or payment hold left behind are free the moment it expires, but
    nobody has offered them on yet if no tidy-up has run; the waitlist gets them before a
    newcomer does."""
    _offers, free = offer_to_waitlist(activity, now)
    return free is None or party_size <= free


def offer_until(activity: Activity, now: dt.datetime) -> dt.datetime:
    """Until when freed places offered now, or places an approval gives to pay for, are kept:
    the programme's `offer_valid_hours`, but never past the moment sign-up closes (nobody
    claims a past activity)."""
    return min(
        now + dt.timedelta(hours=activity.programme.offer_valid_hours),
        activity.registration_closes_at or activity.starts_at,
    )


def expire_lapsed(activity: Activity, now: dt.datetime) -> None:
    """Mark the activity's lapsed offers and holds expired (tidying only: they stopped counting
    against capacity the moment they lapsed). Whoever an approval had given time to pay is
    told the places went (`approval_expired`); a waitlist offer lapses quietly, as before."""
    lapsed = activity.registrations.lapsed(now)
    told = list(lapsed.filter(approved_at__isnull=False))
    lapsed.expire_lapsed(now)
    for registration in told:
        send_after_commit(registration, "approval_expired")


def offer_to_waitlist(
    activity: Activity, now: dt.datetime
) -> tuple[list[Registration], int | None]:
    """Offer free places to the waitlist in order, skipping parties that do not fit; returns
    the offers made and the places still free after them (None: unlimited).

    Lapsed offers and holds are marked expired first (`expire_lapsed`). Each offer is mailed
    after the commit."""
    expire_lapsed(activity, now)
    free = places_free(activity, now)
    offered: list[Registration] = []
    if free is None or free == 0 or activity.status != Activity.Status.PUBLISHED:
        return offered, free
    waiting = activity.registrations.select_for_update().filter(
        status=Registration.Status.WAITLISTED
    )
    for registration in waiting.order_by(*Registration.WAITLIST_ORDER):
        if registration.party_size > free:
            continue
        until = offer_until(activity, now)
        registration.save(update_fields=[*registration.offer(until), "updated_at"])
        send_after_commit(registration, "offer")
        offered.append(registration)
        free -= registration.party_size
        if free == 0:
            break
    return offered, free


def offer_freed_places(activity: Activity, now: dt.datetime) -> list[Registration]:
    """Pass places that came free on to the waitlist; returns the offers made."""
    return offer_to_waitlist(activity, now)[0]

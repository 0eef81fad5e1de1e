"""The lock order of every workflow: the activity row first, then the registration, then its
payment.

Whatever changes who holds places (a sign-up, a claim, a cancellation, a move, money coming in)
locks the activity with `select_for_update()` inside `transaction.atomic()` before it counts
places or changes a registration; on SQLite the immediate transaction already serialises
writers. Two sign-ups for the last place therefore queue up behind each other and the second
sees the first, and since every workflow takes its locks in this one order, two of them never
wait for each other crosswise.
"""

from __future__ import annotations

from events.models import Activity
from registrations.models import Payment, Registration


def lock_activity(activity_id: int) -> Activity:
    # The activity row only (not its programme: sign-ups for other activities go on), and
    # NO KEY: workflows still queue behind each other, but a door scan may insert its log row
    # (a foreign key to the activity) meanwhile.
    return (
        Activity.objects.select_for_update(of=("self",), no_key=True)
        .select_related("programme")
        .get(pk=activity_id)
    )


def lock_registration(registration_id: int) -> tuple[Registration, Activity]:
    """Lock the activity first, then the registration."""
    while True:
        activity_id = Registration.objects.values_list("activity_id", flat=True).get(
            pk=registration_id
        )
        activity = lock_activity(activity_id)
        registration = Registration.objects.select_for_update().get(pk=registration_id)
        # The activity was read before any lock: a concurrent move may have taken the party to
        # another activity since. Holding the wrong activity's lock would let both overbook.
        if registration.activity_id == activity.pk:
            registration.activity = activity
            return registration, activity


def lock_payment(payment: Payment) -> tuple[Payment, Registration, Activity]:
    """Lock activity, registration, payment; returns the payment as it stands now."""
    registration, activity = lock_registration(payment.registration_id)
    payment = Payment.objects.select_for_update().get(pk=payment.pk)
    payment.registration = registration
    return payment, registration, activity

"""Signals other apps may listen to (apps depend one way: registrations → events, so events
never imports registrations and tells it what happened this way).

- `activity_price_changed`: an organiser saved an activity with another price; keyword
  argument `activity` (Activity). Sent inside the transaction that saved it.
"""

from __future__ import annotations

from django.dispatch import Signal

activity_price_changed = Signal()

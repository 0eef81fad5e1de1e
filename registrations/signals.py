"""Signals other apps may listen to. The budget app records ticket income from these, so this
app never writes budget rows itself (apps depend one way: budget → registrations).

Both are sent inside the transaction that records the money, with keyword arguments:

- `ticket_income_received`: activity (Activity), amount (Decimal, positive, EUR), source (str,
  unique per event, e.g. "payment:12"), date (datetime.date), description (str)
- `ticket_income_refunded`: the same, with amount positive (the refunded sum) and a source such
  as "refund:re_123"; the receiver records it as negative income.
"""

from __future__ import annotations

from django.dispatch import Signal

ticket_income_received = Signal()
ticket_income_refunded = Signal()

# A refund failed or was canceled (refund_id: our `Refund`'s pk); sent inside the transaction
# that records it, so that the organisers are mailed once it commits.
refund_failed = Signal()

# A new registration waits for an organiser's approval (programme_id: its activity's programme);
# sent inside the transaction that records it. The budget app plans the organisers' e-mail
# about what waits for them (`budget.digest`).
registration_awaits_approval = Signal()

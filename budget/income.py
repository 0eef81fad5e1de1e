"""Ticket income: what the payments of registrations bring in, recorded in the budget.

The registrations app never writes budget rows (apps depend one way: budget → registrations);
it sends `ticket_income_received` / `ticket_income_refunded` (registrations.signals) inside the
transaction that records the money, and the receivers below record it
(`services.record_ticket_income`). A payment event is recorded once, by its `source`
("payment:12", "refund:re_..."): a webhook delivered twice, or a signal sent again, changes
nothing.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from budget import services
from events.models import Activity


def on_ticket_income_received(
    sender: Any,
    *,
    activity: Activity,
    amount: Decimal,
    source: str,
    date: dt.date,
    description: str,
    **kwargs: Any,
) -> None:
    services.record_ticket_income(
        activity=activity, amount=amount, source=source, date=date, description=description
    )


def on_ticket_income_refunded(
    sender: Any,
    *,
    activity: Activity,
    amount: Decimal,
    source: str,
    date: dt.date,
    description: str,
    **kwargs: Any,
) -> None:
    services.record_ticket_income(
        activity=activity, amount=-abs(amount), source=source, date=date, description=description
    )

"""Ticket income: what the payments of registrations bring in, recorded in the budget.

The registrations app never writes budget rows (apps depend one way: budget → registrations);
it sends `ticket_income_received` / `ticket_income_refunded` (registrations.signals) inside the
transaction that records the money, and the receivers below record it here. A payment event is
recorded once, by its `source` ("payment:12", "refund:re_..."): a webhook delivered twice, or
a signal sent again, changes nothing.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from budget import services
from budget.inputs import parse_amount
from budget.models import Income
from events.models import Activity


def record_ticket_income(
    *, activity: Activity, amount: Decimal, source: str, date: dt.date, description: str
) -> Income:
    """Record ticket income for the activity's programme (negative: a refund); once per source.

    A second call with the same `source` returns the line recorded the first time and changes
    nothing. A programme without a budget gets one (total € 0) rather than losing the income.
    """
    if not source:
        raise ValueError("ticket income needs a source, so that it is recorded once")
    return services._record_ticket_income(
        activity=activity,
        amount=parse_amount(amount, allow_negative=True),
        source=source[:100],
        date=date,
        description=description,
    )


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
    record_ticket_income(
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
    record_ticket_income(
        activity=activity, amount=-abs(amount), source=source, date=date, description=description
    )

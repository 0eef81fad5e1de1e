"""Typed budget input: what the pages' forms and the API hand to the services.

Input is checked once, where it arrives: a form's fields or the API's schema. The rules they
share live here, each once (an amount: `parse_amount`; a VAT rate: `parse_vat_rate`; a text's
length: the model column's), and each surface says what is wrong in its own words. The forms'
`cleaned_data` and the schemas then build the frozen dataclasses below, which the services take
and trust; the services still check what needs the database (that the category and the activity
belong to this budget) and every rule about the budget's state.

A change (`ExpenseChange`, `IncomeChange`) holds only the fields given (`fields_set`), so a
correction of one field never undoes another organiser's change of another field (PATCH).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict, dataclass
from decimal import Decimal, InvalidOperation
from typing import Any, Self

from django.db.models import Model

from budget.errors import (
    AmountNotPositive,
    AmountTooLarge,
    AmountTooPrecise,
    InvalidAmount,
    InvalidVatRate,
)
from budget.models import CENT, Income, VatRate

# DecimalField(max_digits=10, decimal_places=2): below one hundred million euros.
MAX_AMOUNT = Decimal("99999999.99")


def parse_amount(value: Any, *, allow_negative: bool = False) -> Decimal:
    """A money amount as Decimal with two places: the one amount rule.

    Accepts a Decimal, an int or a string such as "12.50"; refuses floats, fractions of cents,
    amounts the money columns cannot hold, and zero. Negative amounts only with
    `allow_negative` (a refund).
    """
    if isinstance(value, bool | float) or value is None:
        # A float has already lost the cents (0.1 + 0.2); money never travels as one.
        raise InvalidAmount
    try:
        amount = value if isinstance(value, Decimal) else Decimal(str(value).strip())
    except InvalidOperation:
        raise InvalidAmount from None
    if not amount.is_finite():
        raise InvalidAmount
    if abs(amount) > MAX_AMOUNT:
        raise AmountTooLarge
    if amount != amount.quantize(CENT):
        raise AmountTooPrecise(details={"amount": str(amount)})
    if amount == 0 or (amount < 0 and not allow_negative):
        raise AmountNotPositive
    return amount.quantize(CENT)


def parse_vat_rate(value: Any) -> int:
    """One of the VAT rates an expense may have (0, 9 or 21), as an int."""
    try:
        rate = int(value)
    except (TypeError, ValueError):
        raise InvalidVatRate from None
    if isinstance(value, bool) or (rate != value and str(rate) != str(value).strip()):
        raise InvalidVatRate
    if rate not in VatRate.values:
        raise InvalidVatRate(details={"allowed": VatRate.values})
    return rate


def max_length(model: type[Model], field: str) -> int:
    """The length of a text column: the limit its form field and API field both keep."""
    return model._meta.get_field(field).max_length


@dataclass(frozen=True)
class ExpenseInput:
    """A new expense. The category and activity by id: the service checks they are this
    budget's."""

    category_id: int
    supplier: str
    description: str
    date: dt.date
    amount_excl_vat: Decimal
    vat_rate: int = VatRate.HIGH
    activity_id: int | None = None
    invoice_number: str = ""


@dataclass(frozen=True)
class _Change:
    # The fields given; the others keep their value whatever they hold here.
    fields_set: frozenset[str]

    @classmethod
    def of(cls, **fields: Any) -> Self:
        """A change of exactly these fields, e.g. `ExpenseChange.of(supplier="Bakkerij")`."""
        return cls(fields_set=frozenset(fields), **fields)

    def changes(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in sorted(self.fields_set)}


@dataclass(frozen=True)
class ExpenseChange(_Change):
    """A correction of some of an expense's fields (`fields_set`)."""

    category_id: int | None = None
    supplier: str | None = None
    description: str | None = None
    date: dt.date | None = None
    amount_excl_vat: Decimal | None = None
    vat_rate: int | None = None
    activity_id: int | None = None
    invoice_number: str | None = None

    @classmethod
    def every_field(cls, expense: ExpenseInput) -> ExpenseChange:
        return cls.of(**asdict(expense))


@dataclass(frozen=True)
class IncomeInput:
    """Income recorded by hand: sponsorship, other income, or ticket sales at the door."""

    kind: Income.Kind
    description: str
    date: dt.date
    amount: Decimal
    activity_id: int | None = None


@dataclass(frozen=True)
class IncomeChange(_Change):
    """A correction of some of a line of income's fields (`fields_set`)."""

    kind: Income.Kind | None = None
    description: str | None = None
    date: dt.date | None = None
    amount: Decimal | None = None
    activity_id: int | None = None

    @classmethod
    def every_field(cls, income: IncomeInput) -> IncomeChange:
        return cls.of(**asdict(income))

"""Money: EUR amounts as Decimal with two places, never float."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

from django.utils import formats, translation

CENT = Decimal("0.01")


def to_cents(amount: Decimal) -> int:
    """Whole cents, as payment providers want them (rounded half up, like a till)."""
    return int((amount.quantize(CENT, rounding=ROUND_HALF_UP) * 100).to_integral_value())


def from_cents(cents: int) -> Decimal:
    """An amount in whole cents (as payment providers send them) in euros, two places."""
    return (Decimal(cents) / 100).quantize(CENT)


def vat_included(gross: Decimal, rate: int) -> Decimal:
    """The VAT inside an amount that includes it, rounded half up to the cent (as on a till
    receipt): € 10,90 at 9% holds € 0,90."""
    return (gross * rate / (100 + rate)).quantize(CENT, rounding=ROUND_HALF_UP)


def format_euro(amount: Decimal | int | str) -> str:
    """Euros in the active language's style: "€ 12,50" in Dutch, "€12.50" in English."""
    text = formats.number_format(Decimal(amount), decimal_pos=2, force_grouping=True)
    # Dutch puts a space between the sign and the amount, English does not.
    sign = "€ " if (translation.get_language() or "").startswith("nl") else "€"
    return f"{sign}{text}"

"""Money: EUR amounts as Decimal with two places, never float."""

from __future__ import annotations

import re
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

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


_TYPED_AMOUNT = re.compile(r"^\d+(?:[.,]\d+)?$")
# "8.000": eight thousand in Dutch, eight euros in English; a form asks rather than guesses.
_UNCLEAR_AMOUNT = re.compile(r"^[€\s]*-?\d{1,3}\.\d{3}\s*$")


def is_unclear_amount(value: object) -> bool:
    """Whether a typed amount is a number with a lone point before three digits ("8.000"),
    which people mean as thousands in Dutch and as decimals in English."""
    return bool(_UNCLEAR_AMOUNT.match(str(value if value is not None else "")))


def parse_typed_euros(value: object) -> Decimal | None:
    """An amount in euros as people type it: "1250", "12,50", "12.50", "1.234,56" or "€ 99".

    A lone comma or point is the decimal separator; with both, the last one is. Returns None
    for what is not such a number (each form says so in its own words); whether the number is
    allowed (zero, cents, size) is the caller's rule.
    """
    text = str(value).strip() if value is not None else ""
    if not text or len(text) > 20:
        return None
    text = text.replace("€", "").replace(" ", "").replace("\u00a0", "")
    if "," in text and "." in text:
        decimal_mark = "," if text.rfind(",") > text.rfind(".") else "."
        thousands = "." if decimal_mark == "," else ","
        text = text.replace(thousands, "").replace(decimal_mark, ".")
    elif text.count(",") == 1:
        text = text.replace(",", ".")
    elif text.count(",") > 1 or text.count(".") > 1:
        text = text.replace(",", "").replace(".", "")
    if not _TYPED_AMOUNT.match(text):
        return None
    try:
        return Decimal(text)
    except InvalidOperation:
        return None

from decimal import Decimal

from django.utils import translation

from jubileum.lib.money import format_euro, to_cents


def test_cents_round_half_up():
    assert to_cents(Decimal("27.50")) == 2750
    assert to_cents(Decimal("0.005")) == 1
    assert to_cents(Decimal("1234.56")) == 123456


def test_euro_follows_the_language():
    assert format_euro(Decimal("1234.5")) == "€ 1.234,50"
    with translation.override("en"):
        assert format_euro(Decimal("1234.5")) == "€1,234.50"

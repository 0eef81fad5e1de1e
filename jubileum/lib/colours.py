"""Colour arithmetic for programme themes (WCAG 2.1 relative luminance and contrast)."""

from __future__ import annotations


def _channel(value: int) -> float:
    c = value / 255
    return c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4


def relative_luminance(hex_colour: str) -> float:
    r, g, b = _rgb(hex_colour)
    return 0.2126 * _channel(r) + 0.7152 * _channel(g) + 0.0722 * _channel(b)


def contrast_ratio_with_white(hex_colour: str) -> float:
    return 1.05 / (relative_luminance(hex_colour) + 0.05)


def is_readable_on_white_text(hex_colour: str) -> bool:
    """WCAG AA for normal text: white text on this colour has a contrast of at least 4.5:1."""
    return contrast_ratio_with_white(hex_colour) >= 4.5


def _rgb(hex_colour: str) -> tuple[int, int, int]:
    return tuple(int(hex_colour[i : i + 2], 16) for i in (1, 3, 5))  # type: ignore[return-value]


def shade(hex_colour: str, factor: float) -> str:
    """The colour darkened towards black (factor 1 keeps it, 0 is black)."""
    return "#{:02x}{:02x}{:02x}".format(*(round(c * factor) for c in _rgb(hex_colour)))


def tint(hex_colour: str, amount: float = 0.92) -> str:
    """The colour lightened towards white, for backgrounds behind dark text."""
    return "#{:02x}{:02x}{:02x}".format(*(round(c + (255 - c) * amount) for c in _rgb(hex_colour)))

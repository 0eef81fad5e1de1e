"""QR codes for tickets: SVG on pages, PNG in e-mail. What they hold: see tokens.py."""

from __future__ import annotations

import io

import qrcode
import qrcode.image.svg
from django.utils.html import format_html
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _
from qrcode.constants import ERROR_CORRECT_M

from registrations.tokens import ticket_qr_payload


def _qr(payload: str) -> qrcode.QRCode:
    # Medium error correction survives a cracked phone screen or a crease in a print-out.
    code = qrcode.QRCode(error_correction=ERROR_CORRECT_M, border=4)
    code.add_data(payload)
    code.make(fit=True)
    return code


def qr_svg(ticket_code: str) -> str:
    """A scalable SVG (with a viewBox, white background) to put inline on a page."""
    image = _qr(ticket_qr_payload(ticket_code)).make_image(
        image_factory=qrcode.image.svg.SvgPathFillImage
    )
    return image.to_string(encoding="unicode")


def ticket_svg(ticket_code: str) -> SafeString:
    """The ticket's QR as inline SVG with a name for screen readers, ready for a template (on
    the personal page, and on the ticket an organiser prints)."""
    svg = qr_svg(ticket_code)
    # The SVG comes from our QR library (no user input).
    opening = format_html(
        '<svg class="ticket__qr" role="img" aria-label="{}" focusable="false" ',
        _("QR-code van je toegangsbewijs"),
    )
    return mark_safe(svg.replace("<svg ", opening, 1))


def qr_png(ticket_code: str, *, box_size: int = 8) -> bytes:
    """A PNG for e-mail (mail clients do not all show SVG)."""
    code = _qr(ticket_qr_payload(ticket_code))
    code.box_size = box_size
    buffer = io.BytesIO()
    code.make_image().save(buffer, format="PNG")
    return buffer.getvalue()

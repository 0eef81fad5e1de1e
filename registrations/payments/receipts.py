"""The receipt line for a paid registration: when it was paid, how much, and the VAT included
at the programme's ticket rate (`Programme.ticket_vat_rate`). The personal page and the
confirmation e-mail say the same, in the active language."""

from __future__ import annotations

from django.utils import formats, timezone
from django.utils.translation import gettext as _

from events.models import Programme
from jubileum.lib.money import format_euro, vat_included
from registrations.models import Payment


def receipt_line(payment: Payment, programme: Programme) -> str:
    # The site writes dates as "3 december 2026" in both languages (jubileum_format).
    paid_on = formats.date_format(timezone.localtime(payment.paid_at), "j F Y")
    rate = programme.ticket_vat_rate
    amount = format_euro(payment.amount)
    if not rate:
        return _("%(amount)s ontvangen op %(date)s, zonder btw.") % {
            "amount": amount,
            "date": paid_on,
        }
    return _("%(amount)s ontvangen op %(date)s, inclusief %(vat)s btw (%(rate)s%%).") % {
        "amount": amount,
        "date": paid_on,
        "vat": format_euro(vat_included(payment.amount, rate)),
        "rate": rate,
    }

"""What a visitor reads about an activity's room and price, in the active language."""

from __future__ import annotations

from django import template
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from events.models import Activity
from jubileum.templatetags.jubileum_format import euro

register = template.Library()


@register.filter
def places_label(activity: Activity) -> str:
    """What a visitor needs to know about room: "Nog 12 plaatsen", "Vol", "Onbeperkt"."""
    if not activity.registration_required:
        return _("Geen aanmelding nodig")
    left = activity.places_left
    if left is None:
        return _("Onbeperkt")
    if left == 0:
        return _("Vol")
    return ngettext("Nog %(count)s plaats", "Nog %(count)s plaatsen", left) % {"count": left}


@register.filter
def price_label(activity: Activity) -> str:
    if activity.is_free:
        return _("Gratis")
    return _("%(price)s per persoon") % {"price": euro(activity.price)}

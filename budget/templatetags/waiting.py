"""`{% waiting_rows programmes as rows %}` and `{% waiting_in programme as counts %}`: how many
registrations and expenses wait for approval, for the organiser's overview pages.

Those pages belong to the registrations app, which knows nothing of the budget; these tags let
their templates show the expense counts without that app's views importing the budget (as
`registrations.templatetags.signup` does for the events app). Two queries per tag, however
many programmes (`budget.digest.waiting_counts`).
"""

from __future__ import annotations

from collections.abc import Iterable

from django import template

from budget.digest import WaitingCounts, waiting_counts
from events.models import Programme

register = template.Library()


@register.simple_tag
def waiting_rows(programmes: Iterable[Programme]) -> list[tuple[Programme, WaitingCounts]]:
    """Each programme with its counts, in the order given."""
    items = list(programmes)
    counts = waiting_counts([item.pk for item in items])
    return [(item, counts[item.pk]) for item in items]


@register.simple_tag
def waiting_in(programme: Programme) -> WaitingCounts:
    return waiting_counts([programme.pk])[programme.pk]

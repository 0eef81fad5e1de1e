"""Tables of the budget that more than one page shows, each defined once (jubileum.lib.tables)."""

from __future__ import annotations

from collections.abc import Callable

from django.utils.translation import gettext as _

from budget.summary import BudgetSummary, CategoryLine
from jubileum.lib.tables import Column, Format, Table

EURO = Format.EURO


def category_table(
    summary: BudgetSummary,
    *,
    id: str,
    link: Callable[[CategoryLine], str] | None = None,
    caption_hidden: bool = False,
    css_class: str = "organiser-table",
) -> Table:
    """Spending per category (the dashboard and the programme report). The page shows what is
    ordered but not paid in one column; a workbook splits it into invoiced and committed."""
    return Table(
        id=id,
        caption=_("Uitgaven per categorie"),
        caption_hidden=caption_hidden,
        css_class=css_class,
        rows=summary.per_category,
        totals=summary,
        columns=[
            Column(_("Categorie"), lambda line: line.name, total=lambda _s: _("Totaal"), link=link),
            Column(_("Begroot"), lambda line: line.planned_amount, EURO),
            Column(_("Betaald"), lambda line: line.paid, EURO, total=lambda s: s.paid),
            Column(
                _("Besteld, nog niet betaald"),
                lambda line: line.open_commitments,
                EURO,
                total=lambda s: s.open_commitments,
                in_sheet=False,
            ),
            Column(
                _("Gefactureerd"),
                lambda line: line.invoiced,
                EURO,
                total=lambda s: s.invoiced,
                on_page=False,
            ),
            Column(
                _("Besteld"),
                lambda line: line.committed,
                EURO,
                total=lambda s: s.committed,
                on_page=False,
            ),
            Column(_("Gepland"), lambda line: line.planned, EURO, total=lambda s: s.planned),
            Column(
                _("Verwacht totaal"),
                lambda line: line.forecast,
                EURO,
                total=lambda s: s.expected_spending,
            ),
            Column(
                _("Over van begroot"),
                lambda line: line.remaining,
                EURO,
                flag=lambda line: _("boven begroot") if line.over_plan else "",
            ),
        ],
    )

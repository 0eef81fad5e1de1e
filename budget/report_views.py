"""The programme report's pages (/beheer/<programme>/verantwoording/): the printable report, its
Excel workbook and the same as CSV, for the programme's organisers and viewers (reading only:
nothing changes).

Mounted in the organiser namespace (`organiser:report`, `organiser:report_xlsx`,
`organiser:report_csv`) beside the programme's other organiser pages; not yours is a 404
(`get_programme_for_organiser`).
"""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import render
from django.utils.cache import patch_cache_control
from django.views.decorators.http import require_safe

from budget import charts, report
from events.access import get_programme_for_organiser, may_change
from jubileum.lib.spreadsheets import csv_download, xlsx_download


def _private(response: HttpResponse) -> HttpResponse:
    # Counts of people and money for the council: never kept by a shared cache.
    patch_cache_control(response, private=True, no_store=True)
    return response


@login_required
@require_safe
def programme_report(request: HttpRequest, programme_slug: str) -> HttpResponse:
    programme = get_programme_for_organiser(request.user, programme_slug)
    figures = report.programme_report(programme)
    money_charts = []
    if figures.summary is not None and figures.budget is not None and figures.summary.expense_count:
        money_charts = charts.budget_charts(figures.summary, figures.budget)
    response = render(
        request,
        "organiser/report.html",
        {
            "programme": programme,
            "may_change": may_change(programme),
            "report": figures,
            "summary": figures.summary,
            "tables": report.page_tables(figures),
            "reach": report.reach_figures(figures),
            "attendance_chart": report.attendance_chart(figures),
            "kinds_chart": report.kinds_chart(figures),
            "money_charts": money_charts,
        },
    )
    return _private(response)


@login_required
@require_safe
def programme_report_xlsx(request: HttpRequest, programme_slug: str) -> StreamingHttpResponse:
    programme = get_programme_for_organiser(request.user, programme_slug)
    return xlsx_download(
        report.report_xlsx(report.programme_report(programme)),
        report.report_filename(programme, "xlsx"),
    )


@login_required
@require_safe
def programme_report_csv(request: HttpRequest, programme_slug: str) -> StreamingHttpResponse:
    programme = get_programme_for_organiser(request.user, programme_slug)
    return csv_download(
        report.report_csv(report.programme_report(programme)),
        report.report_filename(programme, "csv"),
    )

"""The attendee exports at the size of the biggest activity (issue 20): streamed, written by a
write-only workbook that never asks a sheet for its `max_row` (that made the time quadratic in
the rows), and in little memory."""

from __future__ import annotations

import csv
import io
import tracemalloc

import pytest
from django.urls import reverse
from openpyxl import load_workbook
from openpyxl.worksheet.worksheet import Worksheet

from demo.synthetic import synthetic_registrations
from events.models import Question
from registrations.backoffice.attendees import (
    Filters,
    attendees_csv,
    attendees_xlsx,
    export_rows,
)

ROWS = 10_000
PEAK_BYTES = 20 * 1024 * 1024


@pytest.fixture
def big_activity(make_activity):
    activity = make_activity(title="Open dag", slug="open-dag", capacity=None)
    Question.objects.create(activity=activity, label="Dieetwensen", kind=Question.Kind.TEXT)
    synthetic_registrations(activity, ROWS)
    return activity


def _url(name, activity):
    return reverse(
        f"organiser:{name}",
        kwargs={"programme_slug": activity.programme.slug, "activity_slug": activity.slug},
    )


@pytest.mark.parametrize("name", ["attendees_csv", "attendees_xlsx"])
def test_the_exports_are_streamed(client, organiser, activity, name):
    client.force_login(organiser)
    response = client.get(_url(name, activity))
    assert response.status_code == 200
    assert response.streaming
    assert "no-store" in response["Cache-Control"]
    assert response["Content-Disposition"].startswith('attachment; filename="deelnemers-')
    assert response.getvalue()


def test_the_workbook_never_asks_a_sheet_for_its_last_row(monkeypatch, make_activity):
    """`max_row` runs over every cell: asked once a row, the export took time quadratic in the
    rows (20 s for 10,002 parties)."""
    activity = make_activity(title="Open dag", slug="open-dag", capacity=None)
    synthetic_registrations(activity, 30)

    def counted(sheet):
        raise AssertionError("max_row read while writing the export")

    with monkeypatch.context() as patch:
        patch.setattr(Worksheet, "max_row", property(counted))
        content = b"".join(attendees_xlsx(export_rows(activity, Filters())))
    sheet = load_workbook(io.BytesIO(content)).active
    assert sheet.max_row == 31
    assert sheet.freeze_panes == "A2"
    assert sheet["A2"].value == "Inwoner 0"


def _peak(make) -> tuple[int, int]:
    """The peak memory of making an export and reading it through, and its size."""
    tracemalloc.start()
    try:
        size = sum(len(block) for block in make())
        return tracemalloc.get_traced_memory()[1], size
    finally:
        tracemalloc.stop()


def test_ten_thousand_parties_take_little_memory(big_activity):
    peak, size = _peak(lambda: attendees_xlsx(export_rows(big_activity, Filters())))
    assert size > 100_000
    assert peak < PEAK_BYTES

    peak, size = _peak(lambda: attendees_csv(export_rows(big_activity, Filters())))
    assert peak < PEAK_BYTES


def test_ten_thousand_parties_are_all_in_the_csv(client, organiser, big_activity):
    client.force_login(organiser)
    response = client.get(_url("attendees_csv", big_activity))
    text = response.getvalue().decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text), delimiter=";"))
    assert len(rows) == ROWS + 1
    assert rows[0][-1] == "Dieetwensen"
    assert rows[1][:2] == ["Inwoner 0", "2"]

"""The programme page's filters after Back, in a real browser: the controls say what the URL
says, and so does the list, whether the browser or htmx brings the page back."""

from __future__ import annotations

import datetime as dt
import io
from urllib.parse import parse_qs, urlsplit

import pytest
from django.core.management import call_command
from playwright.sync_api import Page, expect

from events.listing import ActivityFilter, activity_months, listed_activities
from events.models import Activity, Programme

pytestmark = pytest.mark.browser

PROGRAMME = "Brandweer Soest & Soesterberg 100 jaar"
ACTIVITY_LINKS = "main a[href*='/activiteit/']"


@pytest.fixture
def demo() -> Programme:
    call_command("load_demo", stdout=io.StringIO())
    return Programme.objects.get(name=PROGRAMME)


def expect_controls_and_list_match_the_url(page: Page, programme: Programme) -> None:
    query = {name: values[0] for name, values in parse_qs(urlsplit(page.url).query).items()}
    month = dt.date.fromisoformat(query["month"] + "-01") if query.get("month") else None
    filters = ActivityFilter(
        audience=query.get("audience", ""), month=month, available=bool(query.get("available"))
    )
    expect(page.locator("select[name=audience]")).to_have_value(filters.audience)
    expect(page.locator("select[name=month]")).to_have_value(query.get("month", ""))
    checkbox = page.locator("input[name=available]")
    if filters.available:
        expect(checkbox).to_be_checked()
    else:
        expect(checkbox).not_to_be_checked()
    expected = [a.title for a in listed_activities(programme, filters)]
    expect(page.locator(ACTIVITY_LINKS)).to_have_text(expected)


@pytest.mark.parametrize("viewport", ["phone", "desktop"])
def test_controls_follow_the_url_after_back(new_page, demo: Programme, viewport, console_errors):
    members = Activity.Audience.MEMBERS
    months = activity_months(demo)
    month = next(
        m.strftime("%Y-%m")
        for m in months
        if listed_activities(demo, ActivityFilter(audience=members, month=m)).exists()
    )
    page: Page = new_page(viewport)
    page.goto(demo.get_absolute_url())

    # Two filters, one after the other: htmx swaps the list and pushes each URL.
    page.locator("select[name=audience]").select_option(members)
    expect(page).to_have_url(f"{page.url.split('?')[0]}?audience={members}&month=")
    page.locator("select[name=month]").select_option(month)
    expect(page).to_have_url(f"{page.url.split('?')[0]}?audience={members}&month={month}")
    expect_controls_and_list_match_the_url(page, demo)

    # To an activity and Back: the browser brings the page back.
    page.locator(ACTIVITY_LINKS).first.click()
    expect(page.get_by_role("heading", level=1)).not_to_contain_text(PROGRAMME)
    page.go_back()
    expect(page).to_have_url(f"{page.url.split('?')[0]}?audience={members}&month={month}")
    expect_controls_and_list_match_the_url(page, demo)

    # Back once more, to the first filter alone: htmx restores it from its history.
    page.go_back()
    expect(page).to_have_url(f"{page.url.split('?')[0]}?audience={members}&month=")
    expect_controls_and_list_match_the_url(page, demo)

    # And forward again.
    page.go_forward()
    expect(page).to_have_url(f"{page.url.split('?')[0]}?audience={members}&month={month}")
    expect_controls_and_list_match_the_url(page, demo)
    assert console_errors == []

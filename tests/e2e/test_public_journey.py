"""A resident's first visit, in a real browser: programme, filter, activity, calendar."""

from __future__ import annotations

import io
import re

import pytest
from django.core.management import call_command
from django.utils import translation
from playwright.sync_api import Page, expect

from events.listing import ActivityFilter, listed_activities
from events.models import Activity, Programme
from events.templatetags.events_format import places_label, price_label
from jubileum.templatetags.jubileum_format import format_timespan
from tests.e2e.journey import screenshot

pytestmark = pytest.mark.browser

PROGRAMME = "Brandweer Soest & Soesterberg 100 jaar"
ACTIVITY_LINKS = "main a[href*='/activiteit/']"


@pytest.fixture
def demo() -> Programme:
    call_command("load_demo", stdout=io.StringIO())
    return Programme.objects.get(name=PROGRAMME)


def titles(programme: Programme, **filters) -> list[str]:
    return [a.title for a in listed_activities(programme, ActivityFilter(**filters))]


def expect_listing(page: Page, expected: list[str]) -> None:
    """The page lists exactly these activities, in this order."""
    expect(page.locator(ACTIVITY_LINKS)).to_have_text(expected)


def test_resident_finds_an_activity_and_adds_it_to_the_calendar(
    page: Page, demo: Programme, foreign_requests, console_errors
):
    everything = titles(demo)
    for_members = titles(demo, audience=Activity.Audience.MEMBERS)
    assert 0 < len(for_members) < len(everything), "the demo needs members-only activities"

    response = page.goto("/")
    assert "content-security-policy" in response.headers
    # The demo has two programmes: the home page lists them, the resident opens the centenary.
    screenshot(page, "programmes")
    page.get_by_role("main").get_by_role("link", name=PROGRAMME).click()
    expect(page).to_have_url(re.compile(re.escape(demo.get_absolute_url()) + "$"))
    expect(page.get_by_role("heading", level=1)).to_contain_text(PROGRAMME)
    expect_listing(page, everything)
    screenshot(page, "home")

    # htmx swaps the list in place: a full reload would lose this marker.
    page.evaluate("window.jubileumSamePage = true")
    page.locator("select[name=audience]").select_option(Activity.Audience.MEMBERS)
    expect(page).to_have_url(re.compile(r"[?&]audience=members(&|$)"))
    expect_listing(page, for_members)
    assert page.evaluate("window.jubileumSamePage === true"), "the filter reloaded the page"
    screenshot(page, "home-members")

    dinner = (
        Activity.objects.listed()
        .with_places_taken()
        .filter(programme=demo, audience=Activity.Audience.MEMBERS, price__gt=0)
        .exclude(capacity=None)
        .first()
    )
    assert dinner is not None, "the demo needs a paid members' activity with limited places"
    page.locator(ACTIVITY_LINKS).filter(has_text=dinner.title).first.click()
    expect(page).to_have_url(re.compile(re.escape(dinner.get_absolute_url()) + "$"))
    expect(page.get_by_role("heading", level=1)).to_contain_text(dinner.title)
    main = page.get_by_role("main")
    with translation.override("nl"):
        for fact in (
            format_timespan(dinner.starts_at, dinner.ends_at),
            dinner.location_name,
            price_label(dinner),
            places_label(dinner),
        ):
            expect(main).to_contain_text(fact)
    screenshot(page, "activity")

    agenda = main.get_by_role("link", name=re.compile("agenda", re.IGNORECASE))
    response = page.request.get(agenda.get_attribute("href"))
    assert response.ok
    assert response.headers["content-type"].startswith("text/calendar")
    assert response.text().startswith("BEGIN:VCALENDAR")
    assert dinner.title in response.text().replace("\r\n ", "")

    assert foreign_requests == []
    assert not [e for e in console_errors if "Content Security Policy" in e]


def test_filter_works_without_javascript(new_page, demo: Programme, foreign_requests):
    page = new_page(javascript=False)

    page.goto(demo.get_absolute_url())
    page.locator("select[name=audience]").select_option(Activity.Audience.MEMBERS)
    page.locator("form:has(select[name=audience]) [type=submit]").click()

    expect(page).to_have_url(re.compile(r"[?&]audience=members(&|$)"))
    expect_listing(page, titles(demo, audience=Activity.Audience.MEMBERS))
    assert foreign_requests == []


@pytest.mark.parametrize("page", ["phone"], indirect=True)
def test_phone_sized_pages_do_not_scroll_sideways(page: Page, demo: Programme):
    activity = Activity.objects.listed().filter(programme=demo).first()

    for name, url in [
        ("home-phone", "/"),
        ("programme-phone", demo.get_absolute_url()),
        ("activity-phone", activity.get_absolute_url()),
    ]:
        page.goto(url)
        screenshot(page, name)
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= 390, f"{url} is {width}px wide on a 390px screen"

"""The organiser pages measured in a real browser at 1280 and 390 px (issue 17, case 11): the
overview table fits (its headers are not clipped), budget chart labels are legible on a phone,
and long Dutch words in headings and cards hyphenate in the page's language."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.contrib.auth import get_user_model
from playwright.sync_api import Page, expect

from budget import services
from budget.inputs import ExpenseInput
from budget.models import Budget
from events.models import Programme, ProgrammeRole
from tests.e2e.test_budget import PASSWORD, log_in

pytestmark = pytest.mark.browser

# The smallest text a chart may show, in CSS px as rendered.
MIN_LABEL_PX = 12


@pytest.fixture
def organiser(programme: Programme):
    user = get_user_model().objects.create_user(username="anne", password=PASSWORD)
    ProgrammeRole.objects.create(user=user, programme=programme, role=ProgrammeRole.Role.ORGANISER)
    return user


@pytest.fixture
def activities(programme, make_activity, make_registration):
    made = [
        make_activity(title="Kinderbrandweermiddag", slug="kinderbrandweermiddag", capacity=40),
        make_activity(title="Reünie oud-leden en jubileumdiner", slug="reunie", capacity=120),
        make_activity(title="Open dag", slug="open-dag", capacity=None),
    ]
    for activity in made:
        make_registration(activity=activity, contact_name="Gerrit Bakker", party_size=3)
    return made


@pytest.fixture
def budget(programme: Programme, organiser) -> Budget:
    budget = Budget.objects.create(programme=programme, total=Decimal("8000.00"))
    category = {c.name: c for c in budget.categories.all()}
    for day, (name, supplier, amount) in enumerate(
        [
            ("Catering", "Partycentrum De Linde", "450.00"),
            ("Promotie en drukwerk", "Drukkerij Soest", "395.00"),
            ("Huur", "Tentenverhuur Eemland", "280.00"),
        ],
        start=1,
    ):
        services.record_expense(
            budget,
            ExpenseInput(
                category_id=category[name].pk,
                supplier=supplier,
                description="Jubileum",
                date=dt.date(2023, 3, day),
                amount_excl_vat=Decimal(amount),
                vat_rate=21,
            ),
            by=organiser,
        )
    return budget


def _clipped_headers(page: Page, table: str) -> list[str]:
    """The column headers of `table` whose text does not fit their cell, or that the scroll
    region hides (right of what shows without scrolling)."""
    return page.locator(table).evaluate(
        """table => {
            const region = table.closest('.table-scroll');
            const edge = region.getBoundingClientRect().right;
            return [...table.querySelectorAll('thead th')]
                .filter(th => th.scrollWidth > th.clientWidth
                    || th.getBoundingClientRect().right > edge + 0.5)
                .map(th => th.textContent.trim());
        }"""
    )


def test_the_overview_table_fits_at_1280(new_page, programme, organiser, activities):
    page = new_page("desktop")
    overview = f"/beheer/{programme.slug}/"
    log_in(page, overview)

    region = page.get_by_role("region", name="Activiteiten")
    expect(region).to_be_visible()
    assert _clipped_headers(page, "table.organiser-table") == []
    widths = region.evaluate("r => [r.scrollWidth, r.clientWidth]")
    assert widths[0] <= widths[1], widths
    expect(page.get_by_role("columnheader", name="Binnen (personen)")).to_be_in_viewport(ratio=1)


def test_on_a_phone_the_overview_scrolls_in_a_named_region_that_says_so(
    new_page, programme, organiser, activities
):
    page = new_page("phone")
    log_in(page, f"/beheer/{programme.slug}/")

    region = page.get_by_role("region", name="Activiteiten")
    scroll_width, client_width = region.evaluate("r => [r.scrollWidth, r.clientWidth]")
    # Seven columns do not fit 390 px: the region scrolls, not the page, and shows that it does.
    assert scroll_width > client_width
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    expect(region).to_have_attribute("tabindex", "0")
    hint = page.get_by_text("Schuif de tabel opzij om alle kolommen te zien.")
    expect(hint).to_be_visible()
    # On a wide screen, where it fits, the hint is not shown.
    page.set_viewport_size({"width": 1280, "height": 900})
    expect(hint).to_be_hidden()


@pytest.mark.parametrize("viewport", ["phone", "desktop"])
def test_budget_chart_labels_are_at_least_12_px(new_page, budget, viewport):
    page = new_page(viewport)
    log_in(page, f"/beheer/{budget.programme.slug}/budget/")
    expect(page.get_by_role("img", name="Uitgaven per categorie")).to_be_visible()

    sizes = page.evaluate(
        """() => [...document.querySelectorAll('svg.chart__svg text')].map(text => {
            const scale = text.getScreenCTM().a;
            return parseFloat(getComputedStyle(text).fontSize) * scale;
        })"""
    )

    assert sizes, "no chart labels found"
    assert min(sizes) >= MIN_LABEL_PX, sorted(sizes)[:5]
    # Whatever does not fit the phone scrolls inside its region, never the page.
    assert page.evaluate("document.documentElement.scrollWidth") <= page.viewport_size["width"]


@pytest.mark.parametrize(("prefix", "lang"), [("", "nl"), ("/en", "en")])
def test_headings_and_cards_hyphenate_in_the_pages_language(
    new_page, programme, activities, prefix, lang
):
    page = new_page("phone")
    page.goto(f"{prefix}{programme.get_absolute_url()}")

    assert page.evaluate("document.documentElement.lang") == lang
    title = page.locator(".card__title", has_text="Kinderbrandweermiddag")
    for element in (title, page.locator(".card").first, page.locator("h1")):
        assert element.evaluate("e => getComputedStyle(e).hyphens") == "auto"

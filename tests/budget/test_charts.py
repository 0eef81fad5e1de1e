"""The dashboard's SVG charts: well-formed, accessible, and carrying their figures as a table."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from xml.etree import ElementTree

from budget.charts import CategoryBar, Series, category_chart, cumulative_chart

SVG = "{http://www.w3.org/2000/svg}"
DASH = "\u2013"


def parse(chart):
    return ElementTree.fromstring(str(chart.svg))


def bars() -> list[CategoryBar]:
    return [
        CategoryBar(
            "Catering", Decimal("1210.00"), Decimal("218.00"), Decimal("0.01"), Decimal("2000.00")
        ),
        CategoryBar(
            "Promotie & drukwerk <boek>", Decimal("0.00"), Decimal("0.00"), Decimal("1493.82"), None
        ),
        CategoryBar(
            "Vervoer", Decimal("605.00"), Decimal("0.00"), Decimal("0.00"), Decimal("400.00")
        ),
    ]


def test_category_chart_is_an_accessible_svg():
    chart = category_chart(bars())
    svg = parse(chart)
    assert svg.tag == f"{SVG}svg"
    assert svg.get("role") == "img"
    assert svg.get("aria-labelledby") == "chart-categories-title chart-categories-desc"
    assert svg.find(f"{SVG}title").get("id") == "chart-categories-title"
    assert svg.find(f"{SVG}title").text == "Uitgaven per categorie"
    # The description says in words which category goes over its plan.
    assert "Boven het begrote bedrag: Vervoer." in svg.find(f"{SVG}desc").text
    assert "style" not in str(chart.svg)  # the CSP forbids inline styles


def test_category_chart_table_holds_every_figure():
    chart = category_chart(bars())
    assert chart.headers == ["Categorie", "Betaald", "Besteld", "Gepland", "Begroot"]
    assert chart.rows == [
        ["Catering", "€ 1.210,00", "€ 218,00", "€ 0,01", "€ 2.000,00"],
        ["Promotie & drukwerk <boek>", "€ 0,00", "€ 0,00", "€ 1.493,82", DASH],
        ["Vervoer", "€ 605,00", "€ 0,00", "€ 0,00", "€ 400,00"],
    ]


def test_category_chart_escapes_names_and_draws_each_part():
    chart = category_chart(bars())
    text = str(chart.svg)
    assert "Promotie &amp; drukwerk &lt;boek&gt;" in text
    svg = parse(chart)
    rects = svg.findall(f".//{SVG}rect")
    kinds = [rect.get("class") for rect in rects if rect.get("class")]
    # Zero amounts draw nothing; each drawn part says what it is.
    assert kinds == [
        "chart__paid",
        "chart__committed",
        "chart__planned",
        "chart__planned",
        "chart__paid",
    ]
    titles = [rect.find(f"{SVG}title").text for rect in rects if rect.get("class")]
    assert titles[0] == f"Catering {DASH} betaald: € 1.210,00"
    targets = svg.findall(f".//{SVG}line[@class='chart__target']")
    assert len(targets) == 2  # only categories with a planned amount


def test_bars_scale_to_the_largest_figure():
    chart = category_chart(bars())
    svg = parse(chart)
    paid = [r for r in svg.findall(f".//{SVG}rect") if r.get("class") == "chart__paid"]
    # Vervoer's 605 is half of Catering's 1,210.
    assert abs(float(paid[1].get("width")) * 2 - float(paid[0].get("width"))) < 0.5


def series() -> list[Series]:
    return [
        Series(
            "Betaald",
            "paid",
            [(dt.date(2023, 3, 1), Decimal("100.00")), (dt.date(2023, 6, 9), Decimal("2599.99"))],
        ),
        Series(
            "Verwacht",
            "forecast",
            [(dt.date(2023, 2, 1), Decimal("900.00")), (dt.date(2023, 6, 9), Decimal("8470.00"))],
        ),
    ]


def test_cumulative_chart_is_accessible_and_draws_the_budget_line():
    chart = cumulative_chart(series(), Decimal("8000.00"))
    svg = parse(chart)
    assert svg.get("role") == "img"
    assert svg.find(f"{SVG}title").text == "Uitgaven in de tijd"
    desc = svg.find(f"{SVG}desc").text
    assert "€ 8.000,00" in desc
    assert "Verwacht komt uit op € 8.470,00" in desc
    budget = svg.find(f".//{SVG}line[@class='chart__budget']")
    assert budget.find(f"{SVG}title").text == "Budget: € 8.000,00"
    lines = svg.findall(f".//{SVG}path")
    assert [line.get("class") for line in lines] == [
        "chart__line chart__line--paid",
        "chart__line chart__line--forecast",
    ]

    # The expected line ends above the budget line (a smaller y), the paid line below it.
    def last_y(path) -> float:
        return float([step for step in path.get("d").split() if step[0] == "V"][-1][1:])

    assert last_y(lines[1]) < float(budget.get("y1")) < last_y(lines[0])


def test_cumulative_chart_table_carries_totals_forward():
    chart = cumulative_chart(series(), Decimal("8000.00"))
    assert chart.headers == ["Datum", "Betaald", "Verwacht"]
    assert chart.rows == [
        ["1 februari 2023", "€ 0,00", "€ 900,00"],
        ["1 maart 2023", "€ 100,00", "€ 900,00"],
        ["9 juni 2023", "€ 2.599,99", "€ 8.470,00"],
    ]


def test_cumulative_chart_with_one_day_or_none():
    one = cumulative_chart(
        [Series("Betaald", "paid", [(dt.date(2023, 5, 1), Decimal("10.00"))])], Decimal("0.00")
    )
    parse(one)
    assert one.rows == [["1 mei 2023", "€ 10,00"]]
    empty = cumulative_chart([Series("Betaald", "paid", [])], Decimal("8000.00"))
    parse(empty)
    assert empty.rows == []


def test_charts_in_english(settings):
    from django.utils import translation

    with translation.override("en"):
        chart = category_chart(bars())
    parse(chart)
    assert chart.rows[0][1] == "€1,210.00"

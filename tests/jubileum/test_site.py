"""Site-wide behaviour: layout, CSP and third-party URLs, languages, errors, health, robots."""

from __future__ import annotations

import datetime as dt
import re
import zoneinfo
from decimal import Decimal
from html.parser import HTMLParser
from unittest import mock
from urllib.parse import urlsplit

import pytest
from django.db import OperationalError, connections
from django.template import loader
from django.urls import reverse
from django.utils import translation

from jubileum.templatetags.jubileum_format import euro, format_timespan

AMS = zoneinfo.ZoneInfo("Europe/Amsterdam")


class _Page(HTMLParser):
    """Collects what the CSP test needs: URLs, inline scripts and styles, handlers."""

    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []
        self.inline_scripts = 0
        self.style_elements = 0
        self.style_attributes = 0
        self.handlers: list[str] = []
        self.html_lang: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        if tag == "html":
            self.html_lang = values.get("lang")
        for name in ("src", "href", "action", "data-hx-get", "data-hx-post", "srcset", "poster"):
            if values.get(name):
                self.urls.append(values[name])
        if tag == "script" and not values.get("src"):
            self.inline_scripts += 1
        if tag == "style":
            self.style_elements += 1
        if "style" in values:
            self.style_attributes += 1
        self.handlers += [name for name in values if name.startswith(("on", "data-hx-on"))]


def _parse(response) -> _Page:
    page = _Page()
    page.feed(response.content.decode())
    return page


@pytest.fixture
def pages(client, activity, programme) -> list:
    return [
        client.get("/"),
        client.get(programme.get_absolute_url()),
        client.get(activity.get_absolute_url()),
        client.get(reverse("events:privacy", kwargs={"slug": programme.slug})),
        client.get("/en/"),
        client.get("/bestaat-niet/"),
    ]


def test_pages_carry_the_content_security_policy(pages):
    for response in pages:
        policy = response.headers["Content-Security-Policy"]
        assert "default-src 'self'" in policy
        assert "script-src 'self'" in policy
        assert "style-src 'self'" in policy


def test_pages_load_nothing_from_another_host(pages):
    for response in pages:
        page = _parse(response)
        assert page.urls, "expected links on every page"
        for url in page.urls:
            parts = urlsplit(url)
            if parts.scheme in ("mailto", "tel"):
                continue  # opens the visitor's own app, loads nothing
            assert parts.scheme == "" and parts.netloc in ("", "testserver"), url


def test_pages_have_no_inline_script_style_or_handlers(pages):
    for response in pages:
        page = _parse(response)
        assert page.inline_scripts == 0
        assert page.style_elements == 0
        assert page.style_attributes == 0
        assert page.handlers == []


def test_templates_write_htmx_attributes_in_their_data_form(settings):
    """`hx-get` is no HTML attribute (the Nu HTML Checker rejects it); htmx reads `data-hx-get`
    just the same. Checked on the templates, so a page the tests do not render is covered too."""
    plain = re.compile(r"(?<![\w-])hx-[a-z][a-z-]*=")
    found = [
        f"{path.relative_to(settings.BASE_DIR)}:{number}: {line.strip()}"
        for path in sorted((settings.BASE_DIR / "templates").rglob("*.html"))
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if plain.search(line)
    ]
    assert found == []


def test_layout_has_landmarks_skip_link_and_local_htmx(client, activity):
    html = client.get("/").content.decode()

    assert '<html lang="nl">' in html
    assert '<a class="skip-link" href="#main">Naar de inhoud</a>' in html
    assert '<main id="main"' in html
    assert "<header" in html
    assert "<nav" in html
    assert "<footer" in html
    assert '<script src="/static/vendor/htmx/htmx.min.js" defer></script>' in html
    assert '<link rel="stylesheet" href="/static/css/site.css">' in html


def test_vendored_htmx_and_stylesheet_exist():
    from django.contrib.staticfiles import finders

    htmx = finders.find("vendor/htmx/htmx.min.js")
    css = finders.find("css/site.css")
    assert htmx and css
    with open(css, encoding="utf-8") as f:
        stylesheet = f.read()
    assert ":focus-visible" in stylesheet
    assert "prefers-reduced-motion" in stylesheet


def test_english_page_lives_under_en(client, activity, programme):
    response = client.get(f"/en/programma/{programme.slug}/")

    assert response.status_code == 200
    html = response.content.decode()
    assert _parse(response).html_lang == "en"
    assert f'href="/en/programma/{programme.slug}/activiteit/{activity.slug}/"' in html
    # The switch offers Dutch and sends the visitor to this page's Dutch address.
    assert '<input type="hidden" name="language" value="nl">' in html
    assert f'<input type="hidden" name="next" value="/programma/{programme.slug}/">' in html


def test_language_switch_goes_to_the_translated_page(client, programme):
    url = programme.get_absolute_url()
    html = client.get(url).content.decode()
    assert f'name="next" value="/en{url}"' in html

    response = client.post(reverse("set_language"), {"language": "en", "next": f"/en{url}"})

    assert response.status_code == 302
    assert response["Location"] == f"/en{url}"


def test_english_price_format(client, make_activity):
    activity = make_activity(price=Decimal("12.50"))

    html = client.get(f"/en{activity.get_absolute_url()}").content.decode()

    assert "€12.50" in html


def test_unknown_page_uses_our_404_template(client, programme):
    response = client.get("/bestaat-niet/")

    assert response.status_code == 404
    assert "404.html" in [t.name for t in response.templates]
    html = response.content.decode()
    assert "Deze pagina bestaat niet (meer)" in html
    assert 'href="/"' in html


def test_500_page_renders_without_request_or_database():
    html = loader.get_template("500.html").render()

    assert "Er ging iets mis" in html
    assert 'href="/"' in html


def test_healthz_reports_ok_with_a_database(client, db):
    response = client.get("/healthz")

    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_healthz_reports_503_when_the_database_fails(client, db, caplog):
    broken = OperationalError("connection refused")
    with mock.patch.object(connections["default"], "cursor", side_effect=broken):
        response = client.get("/healthz")

    assert response.status_code == 503
    assert response.json() == {"status": "error"}
    assert "the database does not answer" in caplog.text


def test_robots_txt(client):
    response = client.get("/robots.txt")

    assert response.status_code == 200
    assert response["Content-Type"] == "text/plain; charset=utf-8"
    body = response.content.decode()
    for path in ("/admin/", "/beheer/", "/api/", "/scan/"):
        assert f"Disallow: {path}\n" in body
    assert "Allow: /\n" in body


def test_pages_refuse_post(client, programme):
    assert client.post(programme.get_absolute_url()).status_code == 405


@pytest.mark.parametrize(
    ("language", "amount", "text"),
    [
        ("nl", Decimal("12.5"), "€ 12,50"),
        ("en", Decimal("12.5"), "€12.50"),
        ("nl", Decimal("1234.5"), "€ 1.234,50"),
        ("nl", Decimal("0"), "€ 0,00"),
    ],
)
def test_euro_follows_the_language(language, amount, text):
    with translation.override(language):
        assert euro(amount) == text


def test_timespan_over_midnight_names_both_days():
    with translation.override("nl"):
        text = format_timespan(
            dt.datetime(2026, 12, 31, 21, 0, tzinfo=AMS), dt.datetime(2027, 1, 1, 1, 0, tzinfo=AMS)
        )

    assert text == "do 31 december 2026, 21:00 \u2013 vr 1 januari 2027, 01:00"


def test_timespan_is_in_amsterdam_time_across_daylight_saving():
    summer_utc = dt.datetime(2026, 7, 4, 12, 0, tzinfo=dt.UTC)
    with translation.override("nl"):
        text = format_timespan(summer_utc, summer_utc + dt.timedelta(hours=1))

    assert text == "za 4 juli 2026, 14:00\u201315:00"

"""What the public pages weigh: every byte a first visit transfers (HTML, CSS, JavaScript, icons
and images; activity photos excepted, should activities ever get them) stays under 100 KB.

The test server sends static files uncompressed; in production WhiteNoise sends the gzip copies
`collectstatic` made. The budget holds for the bytes as the test server sends them, which is
the larger figure; the gzip figure is printed beside it.
"""

from __future__ import annotations

import gzip
from urllib.parse import urlsplit

import pytest
from django.conf import settings
from playwright.sync_api import Page

from tests.e2e.a11y_site import Site, build_site

pytestmark = pytest.mark.browser

BUDGET = 100 * 1024
PHOTOS = "/activities/"  # where activity photos would live under MEDIA_URL; none yet


@pytest.fixture
def site() -> Site:
    return build_site()


def transferred(page: Page, url: str) -> list[tuple[str, int, int]]:
    """(path, bytes on the wire, gzip size of the body) of each response a fresh visit needs."""
    finished = []
    page.on("requestfinished", lambda request: finished.append(request))
    page.goto(url)
    page.wait_for_load_state("networkidle")
    rows = []
    for request in finished:
        path = urlsplit(request.url).path
        if path.startswith(settings.MEDIA_URL + PHOTOS.strip("/")):
            continue
        response = request.response()
        sizes = request.sizes()
        wire = sizes["responseHeadersSize"] + sizes["responseBodySize"]
        body = response.body() if response is not None else b""
        rows.append((path, wire, len(gzip.compress(body, 9))))
    return rows


def test_home_programme_and_activity_pages_stay_under_100_kb(new_page, site: Site):
    pages = {
        "home": "/",
        "programme": site.programme.get_absolute_url(),
        "activity": site.activities["members"].get_absolute_url(),
    }
    over = []
    for name, url in pages.items():
        # A fresh context each time: nothing comes from the browser's cache.
        rows = transferred(new_page("phone"), url)
        wire = sum(row[1] for row in rows)
        gzipped = sum(row[2] for row in rows)
        print(f"\n{name} {url}: {wire / 1024:.1f} KB transferred, {gzipped / 1024:.1f} KB gzipped")
        for path, size, packed in sorted(rows, key=lambda row: -row[1]):
            print(f"  {size / 1024:7.1f} KB  {packed / 1024:6.1f} KB gz  {path}")
        assert any(path.endswith(".css") for path, *_ in rows), "the page loaded no stylesheet"
        if wire > BUDGET:
            over.append(f"{name}: {wire / 1024:.1f} KB")
    assert not over, f"over the {BUDGET // 1024} KB budget: {', '.join(over)}"

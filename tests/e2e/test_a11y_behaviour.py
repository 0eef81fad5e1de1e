"""Accessibility that axe cannot judge from one snapshot of the page, checked in a real browser:
a visible focus indicator, text at 200 %, reduced motion, and changes announced to screen readers.

Keyboard-only sign-up and the focused error summary are tested in test_resident_journey.py, the
focused confirmation of the budget's htmx form in test_budget.py; they are not repeated here.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

import pytest
from django.core.cache import cache
from playwright.sync_api import Page, expect

from events.models import Activity
from tests.e2e.a11y_site import Site, build_site, open_paired_scanner, session_cookie

pytestmark = pytest.mark.browser


@pytest.fixture
def site() -> Site:
    cache.clear()  # rate limits live in the cache
    return build_site()


# --- Focus -----------------------------------------------------------------------------------

# Tabs through the page, marking each element that takes focus and noting how it looks focused.
_TAB_STOP = """() => {
  const el = document.activeElement;
  if (!el || el === document.body || el.dataset.focusStop) return null;
  el.dataset.focusStop = String(document.querySelectorAll("[data-focus-stop]").length);
  const cs = getComputedStyle(el);
  return {outline: [cs.outlineStyle, cs.outlineWidth, cs.outlineColor], shadow: cs.boxShadow};
}"""

# For every marked element: its look unfocused, and the contrast of its focus outline against
# the nearest background behind it (the outline is drawn outside the element).
_UNFOCUSED = """(focused) => {
  const rgb = (c) => (c.match(/[\\d.]+/g) || []).map(Number);
  const lum = ([r, g, b]) => {
    const f = (v) => { v /= 255; return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4; };
    return 0.2126 * f(r) + 0.7152 * f(g) + 0.0722 * f(b);
  };
  const contrast = (a, b) => {
    const [x, y] = [lum(rgb(a)), lum(rgb(b))].sort((p, q) => q - p);
    return (x + 0.05) / (y + 0.05);
  };
  const background = (el) => {
    for (let node = el.parentElement; node; node = node.parentElement) {
      const c = getComputedStyle(node).backgroundColor;
      const parts = rgb(c);
      if (parts.length === 3 || (parts.length === 4 && parts[3] > 0)) return c;
    }
    return "rgb(255, 255, 255)";
  };
  return [...document.querySelectorAll("[data-focus-stop]")].map((el) => {
    const cs = getComputedStyle(el);
    const seen = focused[Number(el.dataset.focusStop)];
    const classes = typeof el.className === "string" ? el.className.trim() : "";
    const label = (el.innerText || el.value || el.name || "").trim().slice(0, 30);
    return {
      name: el.tagName.toLowerCase() + (el.id ? "#" + el.id : "") +
        (classes ? "." + classes.split(/\\s+/).join(".") : "") + " " + JSON.stringify(label),
      unfocused: {
        outline: [cs.outlineStyle, cs.outlineWidth, cs.outlineColor], shadow: cs.boxShadow,
      },
      contrast: seen.outline[0] === "none" ? null : contrast(seen.outline[2], background(el)),
    };
  });
}"""


def tab_through(page: Page, limit: int = 120) -> list[str]:
    """Press Tab until focus comes round again; what is wrong with each stop's focus indicator."""
    page.locator("body").focus()
    focused = []
    for _ in range(limit):
        page.keyboard.press("Tab")
        seen = page.evaluate(_TAB_STOP)
        if seen is None:
            break
        focused.append(seen)
    else:
        pytest.fail(f"focus did not come round after {limit} tabs")
    page.evaluate("document.activeElement && document.activeElement.blur()")
    assert len(focused) >= 3, "hardly anything took focus: is this the right page?"
    problems = []
    for stop, look in zip(focused, page.evaluate(_UNFOCUSED, focused), strict=True):
        style, width, _colour = stop["outline"]
        outline = style != "none" and float(width.removesuffix("px")) >= 2
        if not (outline or stop["shadow"] != "none"):
            problems.append(f"{look['name']}: no outline or box-shadow when focused ({stop})")
        elif stop == look["unfocused"]:
            problems.append(f"{look['name']}: looks the same focused and unfocused")
        elif look["contrast"] is not None and look["contrast"] < 3:
            problems.append(f"{look['name']}: focus outline contrast {look['contrast']:.2f} < 3")
    return problems


def test_focus_is_visible_on_every_link_button_and_field(new_page, site: Site, live_server):
    page = new_page()
    pages = [
        site.programme.get_absolute_url(),
        site.activities["members"].get_absolute_url(),  # radios, select, checkbox, question
        f"/aanmelding/{site.registrations['confirmed'].manage_token}/",
        f"/en/aanmelding/{site.registrations['pending_payment'].manage_token}/",
    ]
    problems = []
    for url in pages:
        page.goto(url)
        problems += [f"{url}: {p}" for p in tab_through(page)]

    page.context.add_cookies([session_cookie(site.organiser, live_server.url)])
    for url in [
        f"/beheer/{site.programme.slug}/budget/uitgaven/",
        f"/beheer/{site.programme.slug}/activiteit/{site.activities['members'].slug}/",
    ]:
        page.goto(url)
        problems += [f"{url}: {p}" for p in tab_through(page)]

    scanner = new_page("phone")
    open_paired_scanner(scanner, site)
    problems += [f"/scan/: {p}" for p in tab_through(scanner)]
    assert not problems, "\n".join(problems)


# --- Text at 200 % ---------------------------------------------------------------------------

# What a reader would lose: a horizontal scrollbar, text pushed off the side of the screen, or
# text cut off by a box too small for it. Hidden and visually-hidden elements do not count.
_LOSSES = """() => {
  // The nearest ancestor that hides the part of `rect` sticking out of it (overflow: hidden).
  const clippedBy = (el, rect) => {
    for (let node = el.parentElement; node && node !== document.body; node = node.parentElement) {
      const cs = getComputedStyle(node);
      const [x, y] = [cs.overflowX, cs.overflowY].map((o) => o === "hidden" || o === "clip");
      const box = node.getBoundingClientRect();
      if ((x && (rect.left < box.left - 1 || rect.right > box.right + 1)) ||
          (y && (rect.top < box.top - 1 || rect.bottom > box.bottom + 1))) return node;
    }
    return null;
  };
  const width = document.documentElement.clientWidth;
  const losses = [];
  if (document.documentElement.scrollWidth > width) {
    losses.push(`page scrolls sideways: ${document.documentElement.scrollWidth} > ${width}`);
  }
  const texts = document.querySelectorAll(
    "main h1, main h2, main h3, main p, main label, main legend, main dt, main dd, main li, " +
    "main a, main button, main input, main select, main summary, header a, header button, footer a"
  );
  for (const el of texts) {
    const rect = el.getBoundingClientRect();
    if (!rect.width || !rect.height) continue;
    if (el.closest(".visually-hidden, .field-trap, [hidden]")) continue;
    const text = (el.innerText || el.value || "").trim().slice(0, 40);
    const name = el.tagName.toLowerCase() + " " + JSON.stringify(text);
    if (rect.left < -1 || rect.right > width + 1) {
      const [left, right] = [Math.round(rect.left), Math.round(rect.right)];
      losses.push(`${name} reaches ${left}..${right} of ${width}`);
    }
    const cs = getComputedStyle(el);
    if (["hidden", "clip"].includes(cs.overflowX) && el.scrollWidth > el.clientWidth + 1) {
      losses.push(`${name} is cut off: ${el.scrollWidth} > ${el.clientWidth}`);
    }
    const box = clippedBy(el, rect);
    if (box) losses.push(`${name} is cut off by ${box.tagName.toLowerCase()}.${box.className}`);
  }
  return losses;
}"""

_BODY_TEXT_SIZES = """() => [
  ...document.querySelectorAll("main p, main label, main legend, main button"),
].filter((el) => el.getBoundingClientRect().height > 0)
  .map((el) => parseFloat(getComputedStyle(el).fontSize))"""


def check_text_at_200_percent(page: Page, url: str) -> list[str]:
    problems = []
    page.goto(url)
    normal = page.evaluate(_BODY_TEXT_SIZES)
    # Through the CSSOM, which the Content-Security-Policy allows (an inline style would not be).
    page.evaluate("document.documentElement.style.fontSize = '200%'")
    doubled = page.evaluate(_BODY_TEXT_SIZES)
    small = [(a, b) for a, b in zip(normal, doubled, strict=True) if b < 2 * a - 0.5]
    if small:
        problems.append(f"{url}: text that does not grow with the font size: {small[:5]}")
    problems += [f"{url} (text 200 %): {loss}" for loss in page.evaluate(_LOSSES)]

    submit = page.locator("form.signup [type=submit]")
    submit.scroll_into_view_if_needed()
    expect(submit).to_be_in_viewport()
    submit.click(trial=True)  # visible, enabled and not covered by anything
    return problems


@pytest.mark.parametrize("errors", [False, True], ids=["form", "form-with-errors"])
def test_text_at_200_percent_loses_nothing(
    new_page, browser, live_server, site: Site, errors: bool
):
    activity = site.activities["members"]
    url = activity.get_absolute_url()
    problems = []

    # Text-only zoom: the desktop layout with every rem doubled.
    page = new_page()
    if errors:
        page.goto(url)
        page.locator("form.signup [type=submit]").click()
        expect(page.locator("#error-summary")).to_be_focused()
        url = urlsplit(page.url).path
        page.evaluate("document.documentElement.style.fontSize = '200%'")
        problems += [f"{url} (text 200 %): {loss}" for loss in page.evaluate(_LOSSES)]
    else:
        problems += check_text_at_200_percent(page, url)

    # Browser zoom at 200 % on a 1280 px wide window: a 640 CSS px wide viewport.
    zoomed = browser.new_context(
        base_url=live_server.url,
        locale="nl-NL",
        viewport={"width": 640, "height": 450},
        device_scale_factor=2,
    )
    try:
        zoomed_page = zoomed.new_page()
        zoomed_page.goto(activity.get_absolute_url())
        if errors:
            zoomed_page.locator("form.signup [type=submit]").click()
            expect(zoomed_page.locator("#error-summary")).to_be_focused()
        assert zoomed_page.evaluate("document.documentElement.clientWidth") == 640
        problems += [f"{url} (zoom 200 %): {loss}" for loss in zoomed_page.evaluate(_LOSSES)]
        submit = zoomed_page.locator("form.signup [type=submit]")
        submit.scroll_into_view_if_needed()
        expect(submit).to_be_in_viewport()
    finally:
        zoomed.close()
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("text", ["100%", "200%"])
def test_scanner_result_is_never_cut_off(new_page, site: Site, text: str):
    """The green/orange/red result with its name and buttons fits on a phone, also with the
    text at 200 % (the clock stands still, so the result stays up while it is looked at: an
    installed clock runs on, and on a loaded machine the 2 s a result is held can pass between
    the scan and the look)."""
    page = new_page("phone")
    page.clock.install()
    open_paired_scanner(page, site)
    page.clock.pause_at(page.evaluate("Date.now()") / 1000 + 0.05)  # in seconds
    page.evaluate(f"document.documentElement.style.fontSize = '{text}'")
    code = page.locator("#code-input")
    for expected in ("ok", "already_checked_in"):
        code.fill(site.registrations["scan"].ticket_code)
        code.press("Enter")
        expect(page.locator("#result")).to_have_attribute("data-result", expected)
        assert page.evaluate(_LOSSES) == []
        close = page.locator("#result-close")
        close.scroll_into_view_if_needed()
        expect(close).to_be_in_viewport()
        close.click()


# --- Reduced motion --------------------------------------------------------------------------

# Every transition or animation longer than 0.01 s, on any element or pseudo-element, and every
# running animation (CSS or Web Animations) longer than 10 ms.
_SLOW_MOTION = """() => {
  const seconds = (value) => Math.max(...value.split(",").map((part) => {
    part = part.trim();
    return part.endsWith("ms") ? parseFloat(part) / 1000 : parseFloat(part);
  }));
  const slow = [];
  for (const el of document.querySelectorAll("*")) {
    for (const pseudo of [null, "::before", "::after"]) {
      const cs = getComputedStyle(el, pseudo);
      const name = el.tagName.toLowerCase() + (el.id ? "#" + el.id : "") + (pseudo || "");
      if (seconds(cs.transitionDuration) > 0.01) {
        slow.push(`${name} transition ${cs.transitionDuration}`);
      }
      if (cs.animationName !== "none" && seconds(cs.animationDuration) > 0.01) {
        slow.push(`${name} animation ${cs.animationName} ${cs.animationDuration}`);
      }
    }
  }
  for (const animation of document.getAnimations()) {
    const duration = animation.effect.getComputedTiming().duration;
    if (duration > 10) slow.push(`running animation of ${duration} ms`);
  }
  return slow;
}"""


def motion_during_filter_swap(page: Page, url: str) -> tuple[list[str], list[str]]:
    """Slow motion on the programme page while htmx fetches new results (the request is held
    until looked at), and once they are swapped in."""
    held = []

    def hold(route) -> None:
        if route.request.headers.get("hx-request"):
            held.append(route)
        else:
            route.fallback()

    page.route(re.compile(r".*/programma/.*"), hold)
    page.goto(url)
    page.locator("select[name=audience]").select_option(Activity.Audience.MEMBERS)
    expect(page.locator("form.filters.htmx-request")).to_have_count(1)
    during = page.evaluate(_SLOW_MOTION)
    held[0].fallback()
    expect(page.locator("form.filters.htmx-request")).to_have_count(0)
    expect(page).to_have_url(re.compile(r"[?&]audience=members(&|$)"))
    return during, page.evaluate(_SLOW_MOTION)


def test_reduced_motion_stops_the_fade_of_an_htmx_swap(browser, live_server, site: Site):
    url = site.programme.get_absolute_url()
    found = {}
    for motion in ("no-preference", "reduce"):
        context = browser.new_context(base_url=live_server.url, reduced_motion=motion)
        try:
            found[motion] = motion_during_filter_swap(context.new_page(), url)
        finally:
            context.close()
    # The check sees the fade when motion is welcome, so its silence under "reduce" means something.
    assert any("transition 0.15s" in line for line in found["no-preference"][0])
    assert found["reduce"] == ([], [])


def test_reduced_motion_on_the_scanner_result(browser, live_server, site: Site):
    context = browser.new_context(
        base_url=live_server.url, reduced_motion="reduce", viewport={"width": 390, "height": 844}
    )
    try:
        page = context.new_page()
        page.clock.install()  # the result stays up while it is looked at
        open_paired_scanner(page, site)
        code = page.locator("#code-input")
        for expected in ("ok", "already_checked_in"):
            code.fill(site.registrations["scan"].ticket_code)
            code.press("Enter")
            expect(page.locator("#result")).to_have_attribute("data-result", expected)
            assert page.evaluate(_SLOW_MOTION) == []
            page.locator("#result-close").click()
    finally:
        context.close()


# --- Announcements ---------------------------------------------------------------------------

_MARK = "(el) => { el.jubileumMark = true; }"
_MARKED = "(el) => el.jubileumMark === true"


def test_filter_result_count_is_announced(page: Page, site: Site):
    """htmx swaps the results; the count changes inside a live region that was already there
    (a region inserted together with its text is not announced by every screen reader)."""
    page.goto(site.programme.get_absolute_url())
    count = page.locator("#result-count")
    expect(count).to_have_attribute("role", "status")
    expect(count).to_have_attribute("aria-live", "polite")
    before = count.inner_text()
    count.evaluate(_MARK)
    assert page.locator("#results #result-count").count() == 0, "the region must stay put"

    page.locator("select[name=audience]").select_option(Activity.Audience.MEMBERS)
    members = Activity.objects.listed().filter(
        programme=site.programme, audience=Activity.Audience.MEMBERS
    )
    expect(count).to_have_text(re.compile(rf"^{members.count()} activiteit(en)?$"))
    assert count.inner_text() != before
    assert count.evaluate(_MARKED), "the live region was replaced instead of updated"


def test_scanner_result_is_announced(new_page, site: Site):
    """A code typed (or sent by a hardware scanner) changes the text of the assertive live
    region, for each kind of result, and the region itself stays in place."""
    page = new_page("phone")
    open_paired_scanner(page, site)
    announcer = page.locator("#announcer")
    expect(announcer).to_have_attribute("aria-live", "assertive")
    expect(announcer).to_have_attribute("aria-atomic", "true")
    assert announcer.evaluate("el => getComputedStyle(el).display") != "none"
    assert announcer.get_attribute("aria-hidden") is None
    announcer.evaluate(_MARK)

    # Every text the region takes, in order: a live region speaks only when its text changes.
    announcer.evaluate(
        "el => { window.said = []; new MutationObserver(() => window.said.push(el.textContent))"
        ".observe(el, {childList: true, characterData: true, subtree: true}); }"
    )

    code = page.locator("#code-input")
    last = page.locator("#last-scan")
    ticket = site.registrations["scan"].ticket_code
    for typed, said in [
        (ticket, "Welkom — 3 personen"),
        (ticket, "Al binnen"),
        (ticket, "Al binnen"),
        ("https://example.org/geen-ticket", "Dit is geen toegangsbewijs van deze site"),
    ]:
        code.fill(typed)
        code.press("Enter")
        expect(announcer).to_contain_text(said)
        expect(last).to_be_hidden()  # the big result says it; the line waits below
        page.locator("#result-close").click()
        # The big result is gone; the line below the camera still says what the last scan was.
        expect(last).to_be_visible()
        expect(last).to_contain_text(f"Laatste scan: {said}")
    assert announcer.evaluate(_MARKED), "the live region was replaced instead of updated"
    texts = page.evaluate("window.said")
    # The same answer twice in a row was spoken twice: the region was emptied in between.
    assert sum(1 for t in texts if t.startswith("Al binnen")) == 2, texts
    assert "" in texts

"""axe-core (WCAG 2.0/2.1 A and AA) on every page, in Dutch and English, phone and desktop wide,
and the Nu HTML Checker (vnu) on the same pages in the same states.

Each test gathers the violations of all its pages and fails once, listing every one with the
page, the rule, its impact, the elements (CSS selectors) and the rule's help page. axe is loaded
from tests/e2e/vendor/axe-core (see `tests/e2e/axe.py` for how it gets past our CSP).

The walk keeps, for vnu, the HTML the server sent for each page visited, and the document as the
browser holds it after a click or a script changed it (a failed submit, an htmx swap, the
scanner's screens). The last test of this module checks all of them after the walk, in one run
of the checker (its JVM is slow to start), and lists every error with the page, line and
message; the pages are kept in tests/e2e/artifacts/html/ to look the lines up (see
`tests/e2e/vnu.py`). It needs the walk in the same session: alone, it skips (fails under CI).

The organiser pages are found by walking the URL resolver for the `organiser` and `budget`
namespaces: a new organiser page is audited without anyone remembering to add it here. A route
that is not a page (a download, a POST-only action) must be listed in NOT_PAGES with its reason.
"""

from __future__ import annotations

import re
import shutil
from collections.abc import Sequence
from urllib.parse import urlsplit

import pytest
from django.core.cache import cache
from django.urls import URLPattern, get_resolver, reverse
from django.utils import translation
from playwright.sync_api import Page, expect

from events.models import Activity
from events.views import ACCESSIBILITY_CHECK
from registrations.payments import services as payments
from tests.e2e import vnu
from tests.e2e.a11y_site import (
    SCANNER_TOKEN_KEY,
    Site,
    build_site,
    open_paired_scanner,
    session_cookie,
)
from tests.e2e.axe import Violation, audit, axe_version, inject_axe, report
from tests.e2e.journey import ARTIFACTS

pytestmark = pytest.mark.browser

AXE_VERSION = "4.14.1"
LANGUAGES = ["nl", "en"]
WIDTHS = [390, 1280]

DOWNLOAD = "a file download, not a page"
ACTION = "an action (POST only): it redirects to a page audited here"
NOT_PAGES = {
    "organiser:attendees_csv": DOWNLOAD,
    "organiser:attendees_xlsx": DOWNLOAD,
    "organiser:report_xlsx": DOWNLOAD,
    "organiser:report_csv": DOWNLOAD,
    "budget:export_csv": DOWNLOAD,
    "budget:export_xlsx": DOWNLOAD,
    "budget:download": DOWNLOAD + " (an uploaded attachment, served as it was uploaded)",
    "budget:advance": ACTION,
    "budget:approve": ACTION,
    "budget:upload": ACTION,
    "budget:create": ACTION + " (its form is on the dashboard of a programme without a budget)",
    "budget:add_category": ACTION,
    "budget:remove_category": ACTION,
    "organiser:approve": ACTION,
    "organiser:scanner_create": ACTION,
    "organiser:scanner_renew": ACTION,
    "organiser:team_role": ACTION,
    "organiser:team_remove": ACTION,
    "organiser:duplicate_activity": ACTION,
    "organiser:publish_activity": ACTION,
    "organiser:unpublish_activity": ACTION + " (or, with people registered, asks first)",
    "organiser:change_notice": (
        "a step right after an edit that moved the time or place (it needs that edit's "
        "?versie=); without it, it redirects to the activity; its page is messages' confirm page"
    ),
}


@pytest.fixture
def site(settings) -> Site:
    cache.clear()  # rate limits live in the cache
    settings.PAYMENTS_DEMO_MODE = True
    settings.STRIPE_SECRET_KEY = ""
    settings.STRIPE_WEBHOOK_SECRET = ""
    # One sign-up POST per window: the failed submit passes, the next one meets the 429 page.
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "signup": (1, 600)}
    return build_site()


HTML_FOLDER = ARTIFACTS / "html"
Pages = list[tuple[str, str]]  # (where, html)


@pytest.fixture(scope="session")
def walked_pages() -> Pages:
    """The pages the walk's tests audited, for one run of the HTML checker at the end. For the
    session, not the module: pytest runs this module's unparametrized tests, the check among
    them, after the other browser modules."""
    shutil.rmtree(HTML_FOLDER, ignore_errors=True)
    return []


class Auditor:
    """Opens pages in one browser context with axe loaded, collects what axe finds, and keeps
    each page's HTML for the Nu HTML Checker."""

    def __init__(self, page: Page, language: str, walked: Pages) -> None:
        self.page = page
        self.language = language
        self.walked = walked
        self.violations: list[Violation] = []
        self.audited: list[str] = []
        self.pages: Pages = []

    def check(self, label: str = "", *, html: str | None = None) -> None:
        """Audit the page as it is now at each width (the layout changes, the page does not).
        vnu gets `html` (what the server sent), else the document as the browser holds it."""
        path = urlsplit(self.page.url).path
        assert self.page.locator("html").get_attribute("lang") == self.language, path
        for width in WIDTHS:
            self.page.set_viewport_size({"width": width, "height": 900})
            where = f"[{self.language} {width}px] {path}" + (f" ({label})" if label else "")
            self.violations += audit(self.page, where)
        self.audited.append(f"{path} {label}".strip())
        where = f"[{self.language}] {path}" + (f" ({label})" if label else "")
        self.pages.append((where, self.page.content() if html is None else html))

    def visit(self, url: str, label: str = "", *, status: int = 200) -> None:
        response = self.page.goto(url)
        assert response is not None and response.status == status, f"{url}: {response.status}"
        self.check(label, html=response.text())

    def assert_clean(self, problems: Sequence[str] = ()) -> None:
        """Fail with every problem and axe violation at once; the pages go to the HTML check
        either way."""
        self.walked.extend(self.pages)
        found = [*problems]
        if self.violations:
            found.append(report(self.violations))
        if found:
            pytest.fail("\n\n".join(found), pytrace=False)

    def summary(self) -> str:
        return f"axe {AXE_VERSION}, {self.language}, {len(self.audited)} pages: " + ", ".join(
            self.audited
        )


@pytest.fixture
def auditor(request, browser, live_server, foreign_requests, walked_pages):
    language = request.param
    context = browser.new_context(
        base_url=live_server.url,
        locale="nl-NL" if language == "nl" else "en-GB",
        timezone_id="Europe/Amsterdam",
        viewport={"width": WIDTHS[0], "height": 900},
    )
    inject_axe(context)
    origin = urlsplit(live_server.url).netloc

    def guard(route) -> None:
        url = urlsplit(route.request.url)
        if url.scheme in ("data", "blob") or url.netloc == origin:
            route.continue_()
        else:
            foreign_requests.append(route.request.url)
            route.abort()

    context.route("**/*", guard)
    auditor = Auditor(context.new_page(), language, walked_pages)
    yield auditor
    print(auditor.summary())  # what was audited, for `pytest -s` and CI logs
    context.close()
    assert foreign_requests == []


def html_errors(pages: Pages, folder) -> list[vnu.HtmlError]:
    """vnu's errors in `pages`; without Java or vnu.jar the test skips, or fails under CI."""
    try:
        return vnu.check(pages, folder)
    except vnu.CheckerMissing as missing:
        if vnu.required():
            raise
        pytest.skip(f"the Nu HTML Checker cannot run here: {missing}")


def url(language: str, name: str, **kwargs) -> str:
    with translation.override(language):
        return reverse(name, kwargs=kwargs)


def absolute(language: str, item) -> str:
    with translation.override(language):
        return item.get_absolute_url()


def test_the_statement_names_what_is_checked_here():
    """The accessibility statement reports this check: the vendored axe and these widths."""
    assert axe_version() == AXE_VERSION == ACCESSIBILITY_CHECK.axe_version
    assert tuple(WIDTHS) == ACCESSIBILITY_CHECK.widths


@pytest.mark.parametrize("auditor", ["nl"], indirect=True)
def test_the_audit_finds_and_reports_violations(auditor: Auditor, site: Site, tmp_path):
    """A clean run means something only if a broken page fails: break one on purpose."""
    page = auditor.page
    page.goto(url("nl", "home"))
    assert page.evaluate("axe.version") == AXE_VERSION
    page.evaluate(
        """() => {
        const img = document.createElement("img");
        img.src = "data:image/gif;base64,R0lGODlhAQABAAAAACw=";
        document.querySelector("main").append(img);
        document.querySelector(".site-name").style.color = "#cccccc";
        for (const name of ["Dubbel", "Dubbel"]) {
          const section = document.createElement("section");
          section.setAttribute("aria-label", name);
          document.querySelector("main").append(section);
        }
        const button = document.createElement("button");
        button.innerHTML = '<a href="/">Binnen een knop</a>';
        document.querySelector("main").append(button);
        }"""
    )
    auditor.check("broken on purpose")
    found = {v.rule: v for v in auditor.violations}
    assert {"image-alt", "color-contrast", "landmark-unique"} <= set(found), report(
        auditor.violations
    )
    text = report(auditor.violations)
    assert "image-alt (critical)" in text
    assert "main > .wrap > img" in text or "img" in found["image-alt"].targets[0]
    assert "https://dequeuniversity.com/rules/axe/" in text
    assert "[nl 390px] / (broken on purpose)" in text
    assert "[nl 1280px] / (broken on purpose)" in text

    html = vnu.report(html_errors(auditor.pages, tmp_path))
    assert re.search(r"\[nl\] / \(broken on purpose\), line \d+: The element “a” with the ", html)
    assert "must not appear as a descendant of the “button” element" in html


@pytest.mark.parametrize("auditor", LANGUAGES, indirect=True)
def test_public_pages(auditor: Auditor, site: Site):
    lang = auditor.language
    slug = site.programme.slug
    auditor.visit(url(lang, "home"))
    auditor.visit(url(lang, "events:programme", slug=slug))
    auditor.visit(url(lang, "events:programme", slug=slug) + "?audience=members&month=bad")
    for kind, activity in site.activities.items():
        auditor.visit(absolute(lang, activity), kind)
    auditor.visit(url(lang, "events:privacy", slug=slug))
    auditor.visit(url(lang, "events:accessibility", slug=slug))
    auditor.visit(url(lang, "events:programme", slug="bestaat-niet"), "404", status=404)
    auditor.assert_clean()


@pytest.mark.parametrize("auditor", LANGUAGES, indirect=True)
def test_sign_up_and_personal_pages(auditor: Auditor, site: Site):
    lang, page = auditor.language, auditor.page
    activity = site.activities["members"]

    # A failed submit: the error summary, invalid fields, the question and the member fields.
    page.goto(absolute(lang, activity))
    form = page.locator("form.signup")
    form.locator("[name=contact_name]").fill("Familie Smit")
    form.locator("[name=email]").fill("geen-adres")
    form.locator("[type=submit]").click()
    expect(page.locator("#error-summary")).to_be_focused()
    auditor.check("sign-up after a failed submit")

    # The second POST in the window meets the friendly 429 page.
    form.locator("[type=submit]").click()
    expect(page.locator("h1")).to_be_visible()
    assert page.locator("main a[href]").count() > 0
    auditor.check("429 after too many sign-ups")

    # What every sign-up that went through leads to: "look in your e-mail".
    kwargs = {"programme_slug": activity.programme.slug, "slug": activity.slug}
    auditor.visit(url(lang, "registrations:signed_up", **kwargs), "signed up")

    for state in ("confirmed", "waitlisted", "pending_payment", "offered", "cancelled"):
        token = site.registrations[state].manage_token
        auditor.visit(url(lang, "registrations:manage", token=token), state)
    pending = site.registrations["pending_payment"]
    auditor.visit(url(lang, "registrations:cancel", token=pending.manage_token), "cancel")
    offered = site.registrations["offered"]
    auditor.visit(url(lang, "registrations:claim", token=offered.manage_token), "claim")

    payment = payments.start_payment(pending.pk)
    assert payment.demo
    auditor.visit(
        url(lang, "registrations:demo_payment", session_id=payment.checkout_session_id), "demo"
    )
    # Paid: back on the personal page, with the success message and the ticket.
    page.locator("button[value=paid]").click()
    expect(page.locator(".notice--success")).to_be_visible()
    auditor.check("paid, with a message")

    # A cancelled registration's data can be deleted: the form, then the page that says so.
    cancelled = site.registrations["cancelled"]
    page.goto(url(lang, "registrations:manage", token=cancelled.manage_token))
    page.locator("[name=confirm]").check()
    page.locator("form[action$='/gegevens-verwijderen/'] [type=submit]").click()
    expect(page.locator("h1")).not_to_have_text(re.compile("aanmelding|registration", re.I))
    auditor.check("data deleted")
    auditor.assert_clean()


@pytest.mark.parametrize("auditor", LANGUAGES, indirect=True)
def test_scanner_pages(auditor: Auditor, site: Site):
    lang, page = auditor.language, auditor.page
    scanner = url(lang, "scanner:page")
    # The clock stands still: a result stays up (not 2 s) for as long as axe looks at it.
    page.clock.install()
    page.goto(scanner)
    expect(page.locator("#pair")).to_be_visible()
    auditor.check("pairing")
    page.locator("#pair-code").fill("XXXX")
    page.locator("#pair-code").press("Enter")
    expect(page.locator("#pair-message")).not_to_be_empty()
    auditor.check("pairing failed")

    open_paired_scanner(page, site, scanner)
    expect(page.locator("#counts")).not_to_be_empty()
    auditor.check("paired")
    page.locator("#search-q").fill("Dekker")
    page.locator("#search-q").press("Enter")
    expect(page.locator("#search-results li")).to_have_count(1)
    auditor.check("search results")

    code = page.locator("#code-input")
    result = page.locator("#result")
    for ticket, expected in [
        (site.registrations["scan"].ticket_code, "ok"),
        (site.registrations["scan"].ticket_code, "already_checked_in"),
        ("https://example.org/geen-ticket", "not_ours"),
    ]:
        code.fill(ticket)
        code.press("Enter")
        expect(result).to_have_attribute("data-result", expected)
        auditor.check(f"result {expected}")
        page.locator("#result-close").click()
        expect(result).to_be_hidden()

    page.evaluate(
        "([k, v]) => localStorage.setItem(k, v)", [SCANNER_TOKEN_KEY, site.choosing_token]
    )
    page.reload()
    page.locator("#change-activity").click()  # it remembers the activity scanned last
    expect(page.locator("#choose")).to_be_visible()
    auditor.check("choose the activity")
    auditor.assert_clean()


def organiser_routes() -> list[tuple[str, list[str]]]:
    """(namespaced name, URL parameters) of every route in the organiser and budget areas."""
    routes = []
    resolver = get_resolver()
    for namespace in ("organiser", "budget"):
        prefix, included = resolver.namespace_dict[namespace]
        prefix_params = list(re.compile(prefix).groupindex)
        for pattern in included.url_patterns:
            assert isinstance(pattern, URLPattern), (
                f"nested include in {namespace}: extend this walk"
            )
            params = prefix_params + list(pattern.pattern.regex.groupindex)
            routes.append((f"{namespace}:{pattern.name}", params))
    return routes


def route_values(site: Site) -> dict[str, object]:
    """A value for each URL parameter: objects that give the pages something to show."""
    return {
        "programme_slug": site.programme.slug,
        "activity_slug": site.activities["members"].slug,
        "registration_id": site.registrations["paid"].pk,  # paid: the refund page renders
        "device_id": site.pairing_device.pk,
        "expense_id": site.expense_id,
        "income_id": site.income.pk,
        "category_id": site.budget.categories.get(name="Catering").pk,
        "question_id": site.question.pk,
        "message_id": site.message.pk,
    }


def test_not_pages_lists_only_routes_that_exist():
    names = {name for name, _params in organiser_routes()}
    assert set(NOT_PAGES) <= names, f"stale entries: {sorted(set(NOT_PAGES) - names)}"


@pytest.mark.parametrize("auditor", LANGUAGES, indirect=True)
def test_organiser_pages(auditor: Auditor, site: Site, live_server):
    lang, page = auditor.language, auditor.page
    page.context.add_cookies([session_cookie(site.organiser, live_server.url)])
    values = route_values(site)
    problems: list[str] = []

    for name, params in organiser_routes():
        missing = [p for p in params if p not in values]
        if missing:
            if name not in NOT_PAGES:
                problems.append(f"{name}: no value for {missing}; add it to route_values()")
            continue
        target = url(lang, name, **{p: values[p] for p in params})
        response = page.request.get(target, max_redirects=0)
        kind = response.headers.get("content-type", "")
        is_page = response.status == 200 and kind.startswith("text/html")
        if name in NOT_PAGES:
            if is_page:
                problems.append(f"{name} is listed as {NOT_PAGES[name]!r}, but GET shows a page")
            continue
        if not is_page:
            problems.append(
                f"{name} ({target}): GET answers {response.status} {kind}; give it values that "
                "show its page, or list it in NOT_PAGES with the reason"
            )
            continue
        auditor.visit(target, name)

    # The budget's htmx form after a failed submit: the error summary swapped in.
    page.goto(url(lang, "budget:expenses", programme_slug=site.programme.slug))
    page.locator("form.expense-form [type=submit]").first.click()
    expect(page.locator("#expense-errors")).to_be_focused()
    auditor.check("expense form with errors")

    auditor.assert_clean(problems)


@pytest.mark.parametrize("auditor", ["nl"], indirect=True)
def test_the_audited_activities_are_of_each_kind(auditor: Auditor, site: Site):
    """The activities the public test walks are the kinds the brief names, as the site sees
    them (a guard against demo data drifting under the audit)."""
    a = site.activities
    assert a["free"].price == 0 and a["free"].registration_required
    assert a["paid"].price > 0 and a["paid"].audience == Activity.Audience.PUBLIC
    assert a["members"].audience == Activity.Audience.MEMBERS
    assert a["invitation"].audience == Activity.Audience.INVITATION
    assert not a["no_registration"].registration_required
    assert a["cancelled"].status == Activity.Status.CANCELLED
    for kind, waitlist in [("full_waitlist", True), ("full_no_waitlist", False)]:
        auditor.page.goto(absolute("nl", a[kind]))
        sentence = "Meld je aan voor de wachtlijst" if waitlist else "Deze activiteit is vol."
        expect(auditor.page.get_by_role("main")).to_contain_text(sentence)


def test_the_walked_pages_are_valid_html(walked_pages: Pages):
    """Every page and state the tests above audited with axe, through the Nu HTML Checker in one
    run. It checks what the walk gathered in this session, so it must run after it (it does:
    last in this module, and pytest puts it after the parametrized walk)."""
    if not walked_pages:
        message = "no pages were walked in this session: run it with the whole module"
        if vnu.required():
            pytest.fail(message)
        pytest.skip(message)
    errors = html_errors(walked_pages, HTML_FOLDER)
    print(f"Nu HTML Checker {vnu.VNU_VERSION}: {len(walked_pages)} pages, {len(errors)} errors")
    if errors:
        pytest.fail(vnu.report(errors), pytrace=False)

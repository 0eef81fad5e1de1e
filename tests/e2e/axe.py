"""axe-core in the page under test, and its findings in a form a person can act on.

axe is injected with `BrowserContext.add_init_script(path=...)`, not `page.add_script_tag`:
our Content-Security-Policy allows scripts from our own host only, so an inline `<script>` added
to the page would be refused. An init script is evaluated by the browser itself (through the
DevTools protocol) before the page's own scripts, outside the page's CSP. We do not use
`bypass_csp=True`: the page must be audited as visitors get it, with the policy in force, or a
style or script the policy blocks (and the visitor never sees) could make the audit pass.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from playwright.sync_api import BrowserContext, Page

AXE_JS = Path(__file__).parent / "vendor" / "axe-core" / "axe.min.js"
# WCAG 2.0 and 2.1, levels A and AA: what Dutch public-sector sites must meet (EN 301 549).
WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
# Best-practice rules we hold ourselves to as well: two sections or table regions with one name
# cannot be told apart in a screen reader's list of landmarks.
EXTRA_RULES = ["landmark-unique"]

_RUN = """async ([tags, extra]) => {
  const results = await axe.run(document, {
    runOnly: {type: "tag", values: tags},
    rules: Object.fromEntries(extra.map((rule) => [rule, {enabled: true}])),
    resultTypes: ["violations"],
  });
  return results.violations.map((v) => ({
    rule: v.id,
    impact: v.impact,
    help: v.help,
    url: v.helpUrl,
    targets: v.nodes.map((n) => n.target.join(" ")),
    summary: v.nodes.length ? v.nodes[0].failureSummary : "",
  }));
}"""


@dataclass(frozen=True)
class Violation:
    where: str  # page and conditions: "nl 390px /programma/x/"
    rule: str
    impact: str
    help: str
    url: str
    targets: tuple[str, ...]
    summary: str

    def __str__(self) -> str:
        targets = "\n".join(f"      {t}" for t in self.targets[:8])
        more = f"\n      … and {len(self.targets) - 8} more" if len(self.targets) > 8 else ""
        summary = re.sub(r"\s+", " ", self.summary).strip()
        return (
            f"{self.where}\n  {self.rule} ({self.impact}): {self.help}\n  {self.url}\n"
            f"  {summary}\n{targets}{more}"
        )


def axe_version() -> str:
    """The version in the vendored file's banner (`/*! axe v4.14.1`)."""
    with AXE_JS.open(encoding="utf-8") as source:
        banner = source.read(100)
    match = re.search(r"axe v(\d+\.\d+\.\d+)", banner)
    assert match, f"no version banner in {AXE_JS}"
    return match.group(1)


def inject_axe(context: BrowserContext) -> None:
    context.add_init_script(path=AXE_JS)


def audit(page: Page, where: str) -> list[Violation]:
    """Run axe with the WCAG 2.0/2.1 A and AA rules (and EXTRA_RULES) on the page as it is now."""
    found = page.evaluate(_RUN, [WCAG_TAGS, EXTRA_RULES])
    return [
        Violation(
            where=where,
            rule=v["rule"],
            impact=v["impact"] or "",
            help=v["help"],
            url=v["url"],
            targets=tuple(v["targets"]),
            summary=v["summary"] or "",
        )
        for v in found
    ]


def report(violations: list[Violation]) -> str:
    rules = sorted({v.rule for v in violations})
    head = f"{len(violations)} axe violation(s) of {len(rules)} rule(s): {', '.join(rules)}"
    return head + "\n\n" + "\n\n".join(str(v) for v in violations)

"""The Nu HTML Checker (vnu.jar) over the pages the accessibility walk visits.

axe checks what a page means to assistive technology; it does not parse the HTML, so a duplicate
id, an attribute HTML does not allow or an `<a>` inside a `<button>` passes it. vnu is the W3C's
checker. It comes as the pinned npm package `vnu-jar`, installed into a cache folder outside the
repository the first time a test needs it (`npm install --no-save --no-package-lock`: nothing in
the repository records a registry), and runs once per batch of pages with Java: the JVM takes a
few seconds to start, so never once per page.

Where Java or the jar is missing the check skips with the reason, except under CI (`CI` set),
where it fails: a green CI must mean the pages were checked.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from jubileum.lib.env import env_bool

VNU_VERSION = "26.9.27"
CACHE = (
    Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    / "jubileum"
    / f"vnu-jar-{VNU_VERSION}"
)
JAR = CACHE / "node_modules" / "vnu-jar" / "build" / "dist" / "vnu.jar"


class CheckerMissing(Exception):
    """Java or vnu.jar is not available here; the message says what to install."""


@dataclass(frozen=True)
class HtmlError:
    where: str  # the page and its state, as the accessibility walk names it
    file: str  # the page as checked, in the folder given to `check`
    line: int
    message: str
    extract: str

    def __str__(self) -> str:
        extract = " ".join(self.extract.split())
        return f"{self.where}, line {self.line}: {self.message}\n    ({self.file}) {extract}"


def required() -> bool:
    return env_bool("CI", default=False)


def vnu_jar() -> Path:
    """The pinned vnu.jar, installed with npm into the cache folder on first use."""
    if shutil.which("java") is None:
        raise CheckerMissing("Java is not installed (apt-get install default-jre-headless)")
    if JAR.is_file():
        return JAR
    npm = shutil.which("npm")
    if npm is None:
        raise CheckerMissing(f"vnu.jar is not at {JAR} and npm is not installed to fetch it")
    CACHE.mkdir(parents=True, exist_ok=True)
    # No install scripts: vnu-jar's would fetch a Java runtime of its own.
    subprocess.run(
        [
            *(npm, "install", "--prefix", str(CACHE), "--no-save", "--no-package-lock"),
            *("--no-audit", "--no-fund", "--ignore-scripts", f"vnu-jar@{VNU_VERSION}"),
        ],
        check=True,
        capture_output=True,
        timeout=300,
    )
    if not JAR.is_file():
        raise CheckerMissing(f"npm installed vnu-jar@{VNU_VERSION}, but {JAR} is not there")
    return JAR


def check(pages: list[tuple[str, str]], folder: Path) -> list[HtmlError]:
    """The errors vnu finds in `pages` ((where, html) pairs), in one run of the checker."""
    if not pages:
        return []
    folder.mkdir(parents=True, exist_ok=True)
    where_by_file: dict[str, str] = {}
    for number, (where, html) in enumerate(pages, 1):
        path = folder / f"page-{number:03}.html"
        path.write_text(html, encoding="utf-8")
        where_by_file[path.name] = where
    files = [str(folder / name) for name in where_by_file]
    done = subprocess.run(
        ["java", "-jar", str(vnu_jar()), "--format", "json", "--errors-only", *files],
        capture_output=True,
        text=True,
        timeout=600,
    )
    # The report goes to stderr; the exit status is 1 when there are errors.
    try:
        messages = json.loads(done.stderr)["messages"]
    except ValueError:
        raise AssertionError(f"vnu failed (exit {done.returncode}): {done.stderr}") from None
    errors = []
    for message in messages:
        name = message.get("url", "").rsplit("/", 1)[-1]
        errors.append(
            HtmlError(
                where=where_by_file.get(name, name),
                file=name,
                line=message.get("lastLine", 0),
                message=message["message"],
                extract=message.get("extract", ""),
            )
        )
    return errors


def report(errors: list[HtmlError]) -> str:
    pages = len({e.where for e in errors})
    head = f"{len(errors)} HTML error(s) (Nu HTML Checker {VNU_VERSION}) on {pages} page(s)"
    return head + "\n\n" + "\n\n".join(str(e) for e in errors)

"""English is complete: every Dutch message has an English translation, none of them fuzzy."""

from __future__ import annotations

import ast
import gettext
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings

CATALOGUE = Path(settings.BASE_DIR) / "locale" / "en" / "LC_MESSAGES" / "django.po"


def _entries(po: str) -> list[dict[str, str | bool]]:
    """The catalogue's entries (header included), each with msgid, msgstr texts and fuzziness."""
    entries = []
    for block in po.strip().split("\n\n"):
        entry: dict[str, str | bool] = {"fuzzy": False}
        key = None
        for line in block.splitlines():
            if line.startswith("#,") and "fuzzy" in line:
                entry["fuzzy"] = True
            elif line.startswith("#") or not line.strip():
                continue
            elif line.startswith('"'):
                entry[key] += ast.literal_eval(line)
            else:
                key, _, text = line.partition(" ")
                entry[key] = ast.literal_eval(text)
        entries.append(entry)
    return entries


def test_english_catalogue_is_complete_and_not_fuzzy():
    entries = [e for e in _entries(CATALOGUE.read_text(encoding="utf-8")) if e.get("msgid")]
    assert len(entries) > 100
    untranslated = [
        e["msgid"]
        for e in entries
        if not all(v for k, v in e.items() if isinstance(k, str) and k.startswith("msgstr"))
    ]
    fuzzy = [e["msgid"] for e in entries if e["fuzzy"]]
    assert untranslated == []
    assert fuzzy == []


def test_committed_compiled_catalogue_matches_its_source():
    """The .mo file is committed (machines without gettext still run): it must be current."""
    with CATALOGUE.with_suffix(".mo").open("rb") as compiled:
        translations = gettext.GNUTranslations(compiled)
    stale = [
        e["msgid"]
        for e in _entries(CATALOGUE.read_text(encoding="utf-8"))
        if e.get("msgid") and "msgstr" in e and translations.gettext(e["msgid"]) != e["msgstr"]
    ]
    assert stale == []


@pytest.mark.skipif(shutil.which("xgettext") is None, reason="needs GNU gettext (xgettext)")
def test_every_string_marked_for_translation_is_in_the_catalogue(tmp_path):
    """Run makemessages on a copy of the code: it must find no message the catalogue lacks."""
    base = Path(settings.BASE_DIR)
    for name in [
        "manage.py",
        "jubileum",
        "events",
        "registrations",
        "budget",
        "demo",
        "templates",
        "locale",
    ]:
        source = base / name
        if source.is_dir():
            shutil.copytree(source, tmp_path / name, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy(source, tmp_path / name)
    subprocess.run(
        [sys.executable, "manage.py", "makemessages", "-l", "en", "--no-obsolete", "-v", "0"],
        cwd=tmp_path,
        env={**os.environ, "DJANGO_DEBUG": "1", "JUBILEUM_VAR_DIR": str(tmp_path / "var")},
        check=True,
    )
    fresh = _entries((tmp_path / CATALOGUE.relative_to(base)).read_text(encoding="utf-8"))
    missing = [
        e["msgid"]
        for e in fresh
        if e.get("msgid") and (e["fuzzy"] or not e.get("msgstr", e.get("msgstr[0]")))
    ]
    assert missing == []


def test_dutch_catalogue_has_no_fuzzy_entries():
    """Dutch is the source language: its entries stay empty (gettext shows the msgid), but a
    fuzzy one would mean a stale guess from makemessages waiting to be checked."""
    dutch = CATALOGUE.parent.parent.parent / "nl" / "LC_MESSAGES" / "django.po"
    entries = [e for e in _entries(dutch.read_text(encoding="utf-8")) if e.get("msgid")]
    assert len(entries) > 100
    assert [e["msgid"] for e in entries if e["fuzzy"]] == []

"""English is complete: every Dutch message has an English translation, none of them fuzzy."""

from __future__ import annotations

import ast
import gettext
from pathlib import Path

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

"""Content written in Dutch and optionally in English (titles, descriptions, statements).

A model keeps its Dutch text in `field` and the English in `field_en` (blank when the organiser
wrote none). `in_language` picks the text for a reader and says which language it is in, so a
page reading `/en/` can mark Dutch it falls back to with `lang="nl"` on its element
(WCAG 3.1.2, language of parts): `{{ text }}` and `{{ text|lang_attr }}` in a template.
"""

from __future__ import annotations

from django.db import models
from django.utils import translation

DEFAULT_LANGUAGE = "nl"
# The other language content may be written in; the suffix of its fields.
SECOND_LANGUAGE = "en"


class Localised(str):
    """A text together with the language it is written in (`lang`)."""

    lang: str

    def __new__(cls, text: str, lang: str) -> Localised:
        value = super().__new__(cls, text)
        value.lang = lang
        return value


def current_language() -> str:
    """The reader's language, reduced to the two content is written in."""
    language = (translation.get_language() or DEFAULT_LANGUAGE).split("-")[0]
    return SECOND_LANGUAGE if language == SECOND_LANGUAGE else DEFAULT_LANGUAGE


def pick(obj: object, field: str, language: str | None = None) -> Localised:
    """`obj.field` in `language` (the active one by default): the English where the organiser
    wrote it, else the Dutch, each marked with the language it is in."""
    language = language or current_language()
    dutch = getattr(obj, field) or ""
    if language == SECOND_LANGUAGE:
        english = getattr(obj, f"{field}_{SECOND_LANGUAGE}", "") or ""
        if english.strip():
            return Localised(english, SECOND_LANGUAGE)
    return Localised(dutch, DEFAULT_LANGUAGE)


class Bilingual(models.Model):
    """A model with content in two languages; `BILINGUAL_FIELDS` names the Dutch fields that
    have an `_en` twin."""

    BILINGUAL_FIELDS: tuple[str, ...] = ()

    class Meta:
        abstract = True

    def in_language(self, field: str, language: str | None = None) -> Localised:
        return pick(self, field, language)

    def missing_english(self) -> list[str]:
        """The bilingual fields with Dutch text but no English (what the editor flags)."""
        return [
            field
            for field in self.BILINGUAL_FIELDS
            if (getattr(self, field) or "").strip()
            and not (getattr(self, f"{field}_{SECOND_LANGUAGE}") or "").strip()
        ]

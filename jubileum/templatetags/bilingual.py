"""Content in the reader's language: `{% load bilingual %}`, then

    {% with title=activity|local:"title" %}<h1{{ title|lang_attr }}>{{ title }}</h1>{% endwith %}

`local` picks the English where the organiser wrote it on an English page, else the Dutch;
`lang_attr` marks text that is not in the page's language with ` lang="nl"` (WCAG 3.1.2).
Where the text has no element of its own (a title inside a translated sentence), `lang_span`
wraps it in `<span lang="nl">` when it needs the mark and leaves it bare otherwise."""

from __future__ import annotations

from django import template
from django.utils.html import conditional_escape, format_html
from django.utils.safestring import SafeString

from jubileum.lib.bilingual import Localised, current_language, pick

register = template.Library()


@register.filter
def local(obj: object, field: str) -> Localised:
    return pick(obj, field)


@register.filter
def lang_attr(text: object) -> SafeString | str:
    lang = getattr(text, "lang", None)
    if lang is None or lang == current_language():
        return ""
    return format_html(' lang="{}"', lang)


@register.filter
def lang_span(text: str) -> SafeString | str:
    attr = lang_attr(text)
    if not attr:
        return conditional_escape(text)
    return format_html("<span{}>{}</span>", attr, text)

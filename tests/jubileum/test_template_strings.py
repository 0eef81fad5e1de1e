"""Every word a person reads in a template is marked for translation.

The check reads each template with Django's own lexer, drops what is translated
({% translate %}, {% blocktranslate %} blocks), template tags and variables, comments, scripts,
styles and HTML tags, and looks at the text that is left and at the attributes people read
(alt, title, aria-label, placeholder). Any word there is text nobody can translate. Proper
names that are the same in every language are listed below.
"""

from __future__ import annotations

import re
from pathlib import Path

from django.conf import settings
from django.template.base import Lexer, TokenType

TEMPLATES = Path(settings.BASE_DIR) / "templates"
# The product's name, the same in Dutch and English.
SAME_IN_EVERY_LANGUAGE = {"Jubileum"}
# 500.html is rendered without the template engine's i18n when everything else has failed,
# so it carries both languages as plain text.
NOT_CHECKED = {"500.html"}

READ_ATTRIBUTE = re.compile(r'\b(alt|title|aria-label|placeholder)="([^"\x00]*)"')
HTML_TAG = re.compile(r"<[^>]*>", re.S)
SCRIPT_OR_STYLE = re.compile(r"<script.*?</script>|<style.*?</style>", re.S)
ENTITY = re.compile(r"&[a-z]+;|&#\d+;")
WORD = re.compile(r"[A-Za-zÀ-ÿ]{2,}")
CSS_CLASS_PART = re.compile(r"[a-z]+(-[a-z]*)+")


def _untranslated_source(source: str) -> str:
    """The template with translated parts and template syntax replaced by \\x00."""
    parts: list[str] = []
    translating = commenting = 0
    for token in Lexer(source).tokenize():
        if token.token_type == TokenType.BLOCK:
            name = token.contents.split()[0] if token.contents else ""
            translating += {"blocktranslate": 1, "endblocktranslate": -1}.get(name, 0)
            commenting += {"comment": 1, "endcomment": -1}.get(name, 0)
            parts.append("\x00")
        elif token.token_type == TokenType.TEXT and not (translating or commenting):
            parts.append(token.contents)
        else:
            parts.append("\x00")
    return "".join(parts)


def untranslated_text(source: str, *, html: bool = True) -> list[str]:
    text = _untranslated_source(source)
    found = []
    if html:
        text = SCRIPT_OR_STYLE.sub(" ", text)
        for tag in HTML_TAG.findall(text):
            found += [m.group(2) for m in READ_ATTRIBUTE.finditer(tag) if WORD.search(m.group(2))]
        text = HTML_TAG.sub(" ", text)
    text = ENTITY.sub(" ", text)
    for chunk in re.split(r"[\x00\n]", text):
        chunk = chunk.strip()
        if (
            WORD.search(chunk)
            and chunk not in SAME_IN_EVERY_LANGUAGE
            and not CSS_CLASS_PART.fullmatch(chunk)
        ):
            found.append(chunk)
    return found


def test_the_check_finds_untranslated_text_and_passes_translated_text():
    source = """{% load i18n %}<h1>{% translate "Welkom" %}</h1>
    <p>Aanmelden kan tot vrijdag.</p>
    <img src="x.png" alt="Kazerne Soest">
    <p>{% blocktranslate with n=count %}{{ n }} plaatsen vrij{% endblocktranslate %}</p>
    <p class="notice{% if error %} notice--error{% endif %}">{{ message }}</p>
    {# Een opmerking #}<script>let tekst = "niet zichtbaar";</script>"""

    assert untranslated_text(source) == ["Kazerne Soest", "Aanmelden kan tot vrijdag."]


def test_every_template_marks_its_text_for_translation():
    problems = {}
    for path in sorted(TEMPLATES.rglob("*")):
        name = str(path.relative_to(TEMPLATES))
        if path.suffix not in (".html", ".txt") or name in NOT_CHECKED:
            continue
        found = untranslated_text(path.read_text(encoding="utf-8"), html=path.suffix == ".html")
        if found:
            problems[name] = found

    assert problems == {}, f"Text not marked for translation: {problems}"

"""The accessibility statement: the parts a Dutch public body's statement has, filled in from
what was checked, with the programme's own text after it."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse
from django.utils import translation

from events.views import ACCESSIBILITY_CHECK


def _statement(client, programme, language: str = "nl") -> str:
    with translation.override(language):
        url = reverse("events:accessibility", kwargs={"slug": programme.slug})
    response = client.get(url)
    assert response.status_code == 200
    return response.content.decode()


def _plain(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def test_statement_has_status_evaluation_limitations_contact_and_enforcement(client, programme):
    html = _statement(client, programme)
    text = _plain(html)

    headings = re.findall(r'<h2 id="[\w-]+">(.*?)</h2>', html)  # not the footer's
    assert headings == [
        "Status: voldoet gedeeltelijk",
        "Hoe we de website controleren",
        "Wat nog niet goed is",
        "Loop je ergens tegenaan?",
        "Niet tevreden?",
        "Aanvulling van Gemeente Soest",
    ]
    assert "WCAG 2.1 op niveau AA" in text
    # How it was checked: the tool and its version, the browser, both widths, both languages.
    assert f"axe-core (versie {ACCESSIBILITY_CHECK.axe_version})" in text
    assert "Chromium" in text
    assert "(390 pixels)" in text and "(1280 pixels)" in text
    assert "in het Nederlands en in het Engels" in text
    for checked in ("toetsenbord", "200 %", "beperk beweging", "schermlezers"):
        assert checked in text
    date = ACCESSIBILITY_CHECK.checked_on
    assert f'<time datetime="{date:%Y-%m-%d}">' in html
    # Known limitations, named.
    for limitation in ("QR-code", "Stripe", "JavaScript", "onafhankelijke deskundige"):
        assert limitation in text
    # Contact is the programme's organiser; enforcement goes through the Nationale ombudsman.
    assert 'href="mailto:jubileum@example.org"' in html
    assert 'href="https://www.nationaleombudsman.nl/"' in html


def test_programme_text_is_shown_in_addition(client, programme):
    programme.accessibility_statement = "Rolstoelplaatsen reserveer je via de organisatie."
    programme.save()

    text = _plain(_statement(client, programme))

    assert "Status: voldoet gedeeltelijk" in text
    assert text.index("Niet tevreden?") < text.index("Rolstoelplaatsen reserveer je")


def test_without_programme_text_there_is_no_empty_addition(client, programme):
    programme.accessibility_statement = ""
    programme.organiser_phone = "035 609 34 11"
    programme.save()

    html = _statement(client, programme)

    assert "Aanvulling van" not in html
    assert 'href="tel:0356093411"' in html


@pytest.mark.parametrize("language", ["nl", "en"])
def test_statement_is_served_in_both_languages(client, programme, language):
    html = _statement(client, programme, language)

    assert f'<html lang="{language}">' in html
    assert "<h1>" in html

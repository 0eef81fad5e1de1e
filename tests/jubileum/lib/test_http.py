"""The shared HTTP answers."""

from __future__ import annotations

from jubileum.lib.http import see_other


def test_see_other_sends_the_browser_on_with_get():
    response = see_other("/beheer/")

    assert response.status_code == 303
    assert response["Location"] == "/beheer/"

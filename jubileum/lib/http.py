"""HTTP answers every app gives the same way."""

from __future__ import annotations

from django.http import HttpResponseRedirect


def see_other(url: str) -> HttpResponseRedirect:
    """303 See Other, the answer to a POST that worked: the browser fetches `url` with GET, so a
    reload shows the page instead of sending the form again (a 302 leaves the method to the
    browser). htmx follows it like any redirect and swaps in the page it fetched."""
    response = HttpResponseRedirect(url)
    response.status_code = 303
    return response

"""What every page's layout needs from the project: the language switch. The programme whose
theme a page shows by default comes from `events.context_processors.site_programme`."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import HttpRequest
from django.urls import translate_url
from django.utils.functional import SimpleLazyObject
from django.utils.translation import get_language, get_language_info


def _language_switch(request: HttpRequest) -> dict[str, str]:
    """The other language and this page's address in it.

    The address is translated here, while the active language still matches the path: by the
    time `set_language` runs, the active language may come from a cookie and no longer resolve
    "/en/..." paths, so it would send the visitor back to the page they came from.
    """
    current = get_language() or settings.LANGUAGE_CODE
    other = next((code for code, _name in settings.LANGUAGES if code != current), current)
    return {
        "code": other,
        "name": get_language_info(other)["name_local"],
        "next": translate_url(request.get_full_path(), other),
    }


def site(request: HttpRequest) -> dict[str, Any]:
    """`language_switch` feeds the language form in the header; it is worked out only when a
    template uses it."""
    return {"language_switch": SimpleLazyObject(lambda: _language_switch(request))}

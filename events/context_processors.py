"""What every page's layout needs from the programmes."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.utils.functional import SimpleLazyObject

from events.models import Programme


def site_programme(request: HttpRequest) -> dict[str, Any]:
    """`site_programme` is the programme whose theme and footer a page shows when it has none of
    its own (the 404 page, say); it is queried only when a template uses it, so a page that
    passes `programme` pays nothing."""
    return {"site_programme": SimpleLazyObject(Programme.objects.featured)}

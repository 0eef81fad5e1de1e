"""Public pages of a programme: its activity list, one activity, and its statements."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.utils import timezone
from django.utils.cache import patch_cache_control, patch_vary_headers
from django.utils.translation import gettext as _
from django.views.decorators.http import require_safe

from events.access import programmes_for
from events.forms import ActivityFilterForm
from events.listing import activity_months, listed_activities
from events.models import Activity, Programme, hex_colour
from jubileum.lib.colours import is_readable_on_white_text, shade, tint
from jubileum.templatetags.jubileum_format import moment

DEFAULT_THEME_COLOUR = "#B41E1E"


def _get_programme_for_public(slug: str) -> Programme:
    """The programme with this slug, or 404 when the public may not see it."""
    return get_object_or_404(Programme.objects.public(), slug=slug)


def _get_activity_for_public(programme_slug: str, slug: str) -> Activity:
    activities: QuerySet[Activity] = (
        Activity.objects.listed().with_places_taken().select_related("programme")
    )
    return get_object_or_404(activities, programme__slug=programme_slug, slug=slug)


def render_programme(request: HttpRequest, programme: Programme) -> HttpResponse:
    """The programme page with its filtered activity list; only the list for an htmx swap.

    The home page shows the featured programme through this same function.
    """
    form = ActivityFilterForm(request.GET, months=activity_months(programme))
    form.is_valid()
    filters = form.to_filter()
    activities = list(listed_activities(programme, filters))
    context = {
        "programme": programme,
        "form": form,
        "filters": filters,
        "activities": activities,
        "filter_url": request.path,
    }
    # A history restore after a cache miss wants the whole page, not the fragment.
    if request.htmx and not request.htmx.history_restore_request:
        context["fragment"] = True
        response = render(request, "events/programme.html#results", context)
    else:
        response = render(request, "events/programme.html", context)
    # The same URL answers with a page or a fragment: caches must keep them apart.
    patch_vary_headers(response, ["HX-Request"])
    return response


@require_safe
def programme(request: HttpRequest, slug: str) -> HttpResponse:
    return render_programme(request, _get_programme_for_public(slug))


def registration_status(activity: Activity, now: dt.datetime) -> str:
    """One sentence on whether and until when one can sign up."""
    if activity.status == Activity.Status.CANCELLED:
        return _("Deze activiteit is geannuleerd.")
    if activity.is_past(now):
        return _("Deze activiteit is afgelopen.")
    if not activity.registration_required:
        return _("Je hoeft je niet aan te melden: loop gerust binnen.")
    if activity.registration_opens_at and now < activity.registration_opens_at:
        return _("Aanmelden kan vanaf %(moment)s.") % {
            "moment": moment(activity.registration_opens_at)
        }
    if activity.registration_is_open(now):
        return _("Aanmelden kan tot %(moment)s.") % {
            "moment": moment(activity.registration_closes_at or activity.starts_at)
        }
    return _("Aanmelden is gesloten.")


def activity_page_context(item: Activity, now: dt.datetime | None = None) -> dict[str, object]:
    """What templates/events/activity.html needs for one activity: the public page, and the
    organiser's preview of it (events.backoffice.activities), which shows drafts too. `item`
    carries `places_taken` (ActivityQuerySet.with_places_taken) and its programme."""
    now = now or timezone.now()
    return {
        "programme": item.programme,
        "activity": item,
        "registration_status": registration_status(item, now),
        "is_past": item.is_past(now),
    }


@require_safe
def activity(request: HttpRequest, programme_slug: str, slug: str) -> HttpResponse:
    item = _get_activity_for_public(programme_slug, slug)
    return render(request, "events/activity.html", activity_page_context(item))


@require_safe
def privacy(request: HttpRequest, slug: str) -> HttpResponse:
    programme = _get_programme_for_public(slug)
    return render(
        request,
        "events/statement.html",
        {
            "programme": programme,
            "title": _("Privacyverklaring"),
            "statement": programme.in_language("privacy_statement"),
        },
    )


@dataclass(frozen=True)
class AccessibilityCheck:
    """What the last accessibility check of the site covered; the statement reports it.

    Update `checked_on` (and `axe_version` with tests/e2e/vendor/axe-core) when the checks in
    tests/e2e/test_accessibility.py and test_a11y_behaviour.py are run again after a change.
    """

    checked_on: dt.date
    axe_version: str
    widths: tuple[int, int] = (390, 1280)


ACCESSIBILITY_CHECK = AccessibilityCheck(checked_on=dt.date(2026, 11, 26), axe_version="4.14.1")


@require_safe
def accessibility(request: HttpRequest, slug: str) -> HttpResponse:
    """Our accessibility statement, in the parts a Dutch public body's statement has (status,
    how it was evaluated, known limitations, contact, enforcement); the programme's own text,
    if it has one, follows it."""
    programme = _get_programme_for_public(slug)
    return render(
        request,
        "events/accessibility.html",
        {"programme": programme, "check": ACCESSIBILITY_CHECK},
    )


@require_safe
def theme_css(request: HttpRequest, slug: str) -> HttpResponse:
    """The programme's theme as CSS custom properties.

    A stylesheet of its own because the Content-Security-Policy forbids inline styles. A draft
    (not public) programme's theme is served to whoever has a role in it (and superusers), so
    organisers can preview it; everyone else gets a 404, as for the draft's pages.
    """
    programme = Programme.objects.filter(slug=slug).first()
    if programme is None:
        raise Http404
    draft = not programme.is_public
    if draft and not programmes_for(request.user).filter(pk=programme.pk).exists():
        raise Http404
    colour = programme.theme_colour
    if not (hex_colour.regex.match(colour) and is_readable_on_white_text(colour)):
        # Saved around the model's validation (a fixture, raw SQL): never serve unreadable text.
        colour = DEFAULT_THEME_COLOUR
    css = (
        f":root {{\n  --theme: {colour};\n  --theme-dark: {shade(colour, 0.75)};\n"
        f"  --theme-tint: {tint(colour)};\n}}\n"
    )
    response = HttpResponse(css, content_type="text/css; charset=utf-8")
    # Pages link it with ?v=<last change>, so a changed colour shows at once despite the cache.
    if draft:
        # Only for the programme's team: no shared cache may keep it for anyone else.
        patch_cache_control(response, private=True, no_store=True)
    else:
        patch_cache_control(response, public=True, max_age=3600)
    return response

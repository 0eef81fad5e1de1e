"""The organiser's pages for writing activities: a new one, editing, copying, publishing and
taking offline, and a preview of the public page (drafts too).

Every view fetches its programme through `events.access`: another programme is a 404, a viewer
changing something a 403 (a viewer may look at the preview). Status changes go through
`Activity.publish()` / `unpublish()`; the form's rules are `ActivityForm`'s, shared with the API.
When an edit moves the time or the place, the next step is the registrations' offer to tell
everyone who signed up (`organiser:change_notice`, which this app reaches by name only).
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db import IntegrityError, transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from events.access import get_activity_for_organiser, get_programme_for_organiser, may_change
from events.backoffice.forms import ActivityForm, unique_slug
from events.copying import copy_activity
from events.models import Activity, InvalidTransition, Programme
from events.views import activity_page_context
from jubileum.lib.http import see_other

# The editor's groups of fields, in the order a page shows them; each English field follows its
# Dutch one.
FIELDSETS: list[tuple[Any, tuple[str, ...]]] = [
    (
        gettext_lazy("Wat"),
        ("title", "title_en", "summary", "summary_en", "description", "description_en"),
    ),
    (gettext_lazy("Wanneer"), ("starts_at", "ends_at")),
    (gettext_lazy("Waar"), ("location_name", "location_name_en", "location_address")),
    (
        gettext_lazy("Voor wie en hoeveel"),
        ("audience", "capacity", "max_party_size", "price"),
    ),
    (
        gettext_lazy("Aanmelden"),
        (
            "registration_required",
            "approval_required",
            "waitlist_enabled",
            "registration_opens_at",
            "registration_closes_at",
            "cancellation_closes_at",
        ),
    ),
    (gettext_lazy("Afbeelding"), ("image", "image_alt", "image_alt_en")),
]

# Registrations that are still on (the registrations app owns these statuses; named here, as
# in ActivityQuerySet.with_places_taken, so this app need not import it).
_ENDED_REGISTRATION_STATUSES = ("cancelled", "expired")


def _activity_url(
    programme: Programme, activity: Activity, name: str = "organiser:activity"
) -> str:
    return reverse(name, kwargs={"programme_slug": programme.slug, "activity_slug": activity.slug})


def _editor(
    request: HttpRequest,
    programme: Programme,
    form: ActivityForm,
    activity: Activity | None,
) -> HttpResponse:
    missing = activity.missing_english() if activity is not None else []
    return render(
        request,
        "organiser/activity_edit.html",
        {
            "programme": programme,
            "activity": activity,
            "form": form,
            "fieldsets": [(legend, [form[name] for name in names]) for legend, names in FIELDSETS],
            "missing_english": [
                str(getattr(Activity._meta.get_field(name), "verbose_name", name))
                for name in missing
            ],
        },
        status=422 if form.errors else 200,
    )


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def new(request: HttpRequest, programme_slug: str) -> HttpResponse:
    """A new activity, saved as a draft; it lands on its organiser page."""
    item = get_programme_for_organiser(request.user, programme_slug, write=True)
    if request.method != "POST":
        return _editor(request, item, ActivityForm(programme=item), None)
    form = ActivityForm(request.POST, request.FILES, programme=item)
    if not form.is_valid():
        return _editor(request, item, form, None)
    try:
        with transaction.atomic():
            created = form.save()
    except IntegrityError:
        # Another organiser took the same slug between the form's check and the insert.
        form.add_error(None, _("Het opslaan botste met een andere wijziging. Probeer het opnieuw."))
        return _editor(request, item, form, None)
    messages.success(
        request,
        _("“%(title)s” is opgeslagen als concept: alleen organisatoren zien het.")
        % {"title": created.title},
    )
    return see_other(_activity_url(item, created))


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def edit(request: HttpRequest, programme_slug: str, activity_slug: str) -> HttpResponse:
    """Change an activity. When the time or the place changed, the next page offers to tell
    everyone who signed up (the registrations app decides who that is)."""
    item = get_programme_for_organiser(request.user, programme_slug, write=True)
    current = get_activity_for_organiser(item, activity_slug)
    current.programme = item
    if current.status == Activity.Status.CANCELLED:
        messages.error(
            request,
            _("Deze activiteit is geannuleerd en kan niet meer worden gewijzigd."),
        )
        return see_other(_activity_url(item, current))
    if request.method != "POST":
        return _editor(request, item, ActivityForm(instance=current, programme=item), current)
    form = ActivityForm(request.POST, request.FILES, instance=current, programme=item)
    if not form.is_valid():
        return _editor(request, item, form, current)
    notify = form.registrant_changes()
    saved = form.save()
    messages.success(request, _("De wijzigingen zijn opgeslagen."))
    if notify:
        version = saved.history.order_by("-history_id").values_list("history_id", flat=True)[0]
        url = _activity_url(item, saved, "organiser:change_notice")
        return see_other(f"{url}?{urlencode({'versie': version})}")
    return see_other(_activity_url(item, saved))


@login_required
@require_POST
def duplicate(request: HttpRequest, programme_slug: str, activity_slug: str) -> HttpResponse:
    """A draft copy with the same fields and questions, no registrations; opens in the editor."""
    item = get_programme_for_organiser(request.user, programme_slug, write=True)
    current = get_activity_for_organiser(item, activity_slug)
    current.programme = item
    try:
        copy = copy_activity(current, slug=unique_slug(item, f"{current.title} kopie"))
    except IntegrityError:
        messages.error(
            request, _("Het kopiëren botste met een andere wijziging. Probeer het opnieuw.")
        )
        return see_other(_activity_url(item, current))
    messages.success(
        request,
        _("Dit is een kopie van “%(title)s”, opgeslagen als concept. Pas aan wat anders is.")
        % {"title": current.title},
    )
    return see_other(_activity_url(item, copy, "organiser:edit_activity"))


def _change_status(request: HttpRequest, programme: Programme, activity: Activity, to: str) -> bool:
    """Publish (`to` published) or take offline; False, with the reason shown, when the
    activity's status does not allow it."""
    with transaction.atomic():
        locked = Activity.objects.select_for_update().get(pk=activity.pk)
        try:
            fields = locked.publish() if to == Activity.Status.PUBLISHED else locked.unpublish()
        except InvalidTransition:
            messages.error(
                request,
                _("Dit kan niet: de activiteit is %(status)s.")
                % {"status": locked.get_status_display().lower()},
            )
            return False
        locked.save(update_fields=[*fields, "updated_at"])
    return True


@login_required
@require_POST
def publish(request: HttpRequest, programme_slug: str, activity_slug: str) -> HttpResponse:
    item = get_programme_for_organiser(request.user, programme_slug, write=True)
    current = get_activity_for_organiser(item, activity_slug)
    if _change_status(request, item, current, Activity.Status.PUBLISHED):
        if item.is_public:
            messages.success(
                request,
                _("“%(title)s” is gepubliceerd: iedereen kan het zien.") % {"title": current.title},
            )
        else:
            messages.warning(
                request,
                _(
                    "“%(title)s” is gepubliceerd, maar het programma zelf is nog niet openbaar: "
                    "het publiek ziet de activiteit pas als het programma openbaar is."
                )
                % {"title": current.title},
            )
    return see_other(_activity_url(item, current))


@login_required
@require_POST
def unpublish(request: HttpRequest, programme_slug: str, activity_slug: str) -> HttpResponse:
    """Take the activity offline. With registrations still on, a page asks first (they keep
    their places, sign-up closes); its button posts again with `confirm`."""
    item = get_programme_for_organiser(request.user, programme_slug, write=True)
    current = get_activity_for_organiser(item, activity_slug)
    active = current.registrations.exclude(status__in=_ENDED_REGISTRATION_STATUSES).count()
    if active and current.status == Activity.Status.PUBLISHED and "confirm" not in request.POST:
        return render(
            request,
            "organiser/activity_unpublish.html",
            {"programme": item, "activity": current, "active": active},
        )
    if _change_status(request, item, current, Activity.Status.DRAFT):
        messages.success(
            request,
            _("“%(title)s” is offline gehaald: het is weer een concept.")
            % {"title": current.title},
        )
    return see_other(_activity_url(item, current))


@login_required
@require_safe
def preview(request: HttpRequest, programme_slug: str, activity_slug: str) -> HttpResponse:
    """The public page as it will look, for a draft too; signing up is not possible here."""
    item = get_programme_for_organiser(request.user, programme_slug)
    current = get_activity_for_organiser(item, activity_slug)
    current.programme = item
    context = activity_page_context(current)
    context["may_change"] = may_change(item)
    response = render(request, "organiser/activity_preview.html", context)
    response["X-Robots-Tag"] = "noindex"
    return response

"""A programme's settings page, /beheer/<programme>/instellingen/ (issue 18): organisers change
them, viewers read them. Every save is recorded in the programme's history (django-simple-history;
its middleware names the user), which the page lists below the form."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from events.access import get_programme_for_organiser, may_change
from events.backoffice.programme_forms import ProgrammeSettingsForm
from events.models import Programme
from jubileum.lib.history import change_history
from jubileum.lib.http import see_other


def programme_history(programme: Programme) -> list[dict[str, Any]]:
    records = programme.history.select_related("history_user").order_by("-history_date")
    return change_history(records, skip={"created_at"})


def _render(
    request: HttpRequest, programme: Programme, form: ProgrammeSettingsForm, status: int = 200
) -> HttpResponse:
    return render(
        request,
        "organiser/settings.html",
        {
            "programme": programme,
            "form": form,
            "may_change": may_change(programme),
            "history": programme_history(programme),
        },
        status=status,
    )


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def programme_settings(request: HttpRequest, programme_slug: str) -> HttpResponse:
    if request.method != "POST":
        programme = get_programme_for_organiser(request.user, programme_slug)
        form = ProgrammeSettingsForm(instance=programme)
        if not may_change(programme):
            for field in form.fields.values():
                field.disabled = True
        return _render(request, programme, form)
    programme = get_programme_for_organiser(request.user, programme_slug, write=True)
    # The form validates a copy, so a refused change leaves the page's programme as stored.
    stored = Programme.objects.get(pk=programme.pk)
    form = ProgrammeSettingsForm(request.POST, request.FILES, instance=stored)
    if not form.is_valid():
        return _render(request, programme, form, status=422)
    form.save()
    messages.success(request, _("De instellingen zijn opgeslagen."))
    return see_other(reverse("organiser:settings", kwargs={"programme_slug": programme.slug}))

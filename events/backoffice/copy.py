"""Copying a programme as next year's (part of issue 18): the organiser page
/beheer/<programme>/kopieren/, and the steps it shares with the Django admin's copy page.

Two steps: the form, then a preview of every activity's old and new date (nothing saved yet),
then the copy on confirmation. The preview carries the form's values in hidden fields, so what
is confirmed is exactly what was shown.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.models import User
from django.http import HttpRequest, HttpResponse, QueryDict
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from events.access import get_programme_for_organiser
from events.backoffice.programme_forms import ProgrammeCopyForm
from events.copying import CopyPlan, CopyRefused, CopyResult, copy_programme, plan_copy
from events.models import Programme
from jubileum.lib.http import see_other

# The submit buttons' names on the preview: make the copy, or go back and change the form.
CONFIRM, EDIT = "confirm", "edit"


@dataclass
class CopyStep:
    """Where a copy form stands: being filled in, previewed (`plan`), or done (`result`)."""

    form: ProgrammeCopyForm
    plan: CopyPlan | None = None
    result: CopyResult | None = None


def copy_step(
    source: Programme, data: QueryDict | None, *, organiser: User | None = None
) -> CopyStep:
    """The next step for the form's `data` (None: a fresh form). Copies only when the preview's
    confirm button sent it; a refused copy goes back to the form with the error at its field."""
    form = ProgrammeCopyForm(data, initial={"weeks": 52})
    if data is None or EDIT in data or not form.is_valid():
        return CopyStep(form)
    mapping = form.mapping(source)
    if CONFIRM not in data:
        return CopyStep(form, plan=plan_copy(source, mapping))
    try:
        result = copy_programme(
            source,
            name=form.cleaned_data["name"],
            slug=form.cleaned_data["slug"],
            starts_on=mapping.first_day,
            organiser=organiser,
        )
    except CopyRefused as error:
        form.add_error(error.details.get("field"), str(error))
        return CopyStep(form)
    return CopyStep(form, result=result)


def copied_message(result: CopyResult) -> str:
    return _(
        "“%(name)s” is gekopieerd met %(count)s activiteiten als concept. De kopie is nog niet "
        "openbaar."
    ) % {"name": result.programme.name, "count": result.activities}


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def copy_programme_page(request: HttpRequest, programme_slug: str) -> HttpResponse:
    """Organisers only (a viewer gets 403): the copy holds everything the programme is."""
    source = get_programme_for_organiser(request.user, programme_slug, write=True)
    # The organiser who copies runs the copy (a superuser needs no role).
    user = request.user
    assert isinstance(user, User)  # login_required
    organiser = None if user.is_superuser else user
    step = copy_step(
        source, request.POST if request.method == "POST" else None, organiser=organiser
    )
    if step.result is not None:
        messages.success(request, copied_message(step.result))
        return see_other(
            reverse("organiser:programme", kwargs={"programme_slug": step.result.programme.slug})
        )
    status = 422 if step.form.is_bound and step.form.errors else 200
    return render(
        request,
        "organiser/copy.html",
        {"programme": source, "form": step.form, "plan": step.plan},
        status=status,
    )

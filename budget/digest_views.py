"""The organiser's own settings for the e-mail about what waits for them (/beheer/meldingen/):
on or off, for all their programmes at once (see `events.models.OrganiserDigest` for why one
switch). Mounted in the organiser namespace (`organiser:notifications`), before the programme
pages so that its address is not read as a programme's.
"""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods

from events.access import programmes_for
from events.models import OrganiserDigest, ProgrammeRole
from jubileum.lib.http import see_other


class DigestForm(forms.Form):
    enabled = forms.BooleanField(
        label=gettext_lazy("Stuur mij een e-mail als er iets op mijn goedkeuring wacht"),
        help_text=gettext_lazy(
            "Aanmeldingen en uitgaven die op goedkeuring wachten, in één e-mail, hoogstens één "
            "keer per uur."
        ),
        required=False,
    )


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def notifications(request: HttpRequest) -> HttpResponse:
    user_id = request.user.pk
    assert user_id is not None  # login_required
    current = OrganiserDigest.objects.filter(user_id=user_id).first()
    enabled = current.enabled if current is not None else True
    if request.method == "POST":
        form = DigestForm(request.POST)
        if form.is_valid():
            OrganiserDigest.objects.update_or_create(
                user_id=user_id, defaults={"enabled": form.cleaned_data["enabled"]}
            )
            if form.cleaned_data["enabled"]:
                messages.success(request, _("Je krijgt een e-mail als er iets op je wacht."))
            else:
                messages.success(request, _("Je krijgt geen e-mail meer over wat op je wacht."))
            return see_other(reverse("organiser:notifications"))
    else:
        form = DigestForm(initial={"enabled": enabled})
    # The e-mail covers the programmes where this person is organiser by role.
    organised = programmes_for(request.user, write=True).filter(
        roles__user_id=user_id, roles__role=ProgrammeRole.Role.ORGANISER
    )
    return render(
        request,
        "organiser/notifications.html",
        {"form": form, "programmes": organised.order_by("-starts_on", "name")},
    )

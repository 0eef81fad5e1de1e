"""`{% signup_form %}`: the sign-up form on an activity page.

The activity page belongs to the events app, which knows nothing of registrations; this tag lets
its template show the form without the events view building it. After a failed submit the
registrations view renders the same page with the bound form as `signup_form`.
"""

from __future__ import annotations

from typing import Any

from django import template

from events.models import Activity
from registrations.forms import SignUpForm, initial_for_invitation

register = template.Library()


@register.inclusion_tag("registrations/_signup_form.html", takes_context=True)
def signup_form(context: template.Context, activity: Activity) -> dict[str, Any]:
    form = context.get("signup_form")
    if form is None:
        request = context.get("request")
        code = request.GET.get("code", "") if request is not None else ""
        form = SignUpForm(activity=activity, initial=initial_for_invitation(activity, code))
    full = activity.places_left == 0
    return {
        "activity": activity,
        "programme": activity.programme,
        "form": form,
        "error": context.get("signup_error", ""),
        "open": activity.registration_is_open(),
        "full": full,
        "waitlist": full and activity.waitlist_enabled,
        "csrf_token": context.get("csrf_token"),
    }

"""The organisers' own login page: in the site's look, Dutch or English, for everyone with a
role in a programme (Django's admin login admits only staff). django-axes counts the failures
(see AXES_* in settings) because this form authenticates with the request.

Every login form (this one and the admin's, see jubileum/admin.py) counts its attempts at one
per-address limit, so an address refused at one is refused at the other."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.auth.forms import AuthenticationForm
from django.contrib.auth.views import LoginView
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from jubileum.lib import ratelimit


class LoginLimit(AuthenticationForm):
    """Counts every attempt at `RATE_LIMITS["login"]` by address, before the password is
    checked: axes locks out per username, this stops one client from trying many names."""

    def clean(self) -> dict[str, Any]:
        ratelimit.limit(self.request, "login")
        return super().clean()


class AdminLoginForm(LoginLimit, AdminAuthenticationForm):
    pass


class OrganiserLoginForm(LoginLimit):
    error_messages = {
        "invalid_login": _(
            "Deze combinatie van gebruikersnaam en wachtwoord kennen we niet. Let op hoofdletters."
        ),
        "inactive": _("Dit account is uitgeschakeld. Vraag een beheerder van de site."),
    }

    def __init__(self, *args, **kwargs) -> None:
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)
        self.fields["username"].label = _("Gebruikersnaam")
        self.fields["password"].label = _("Wachtwoord")
        self.fields["username"].error_messages["required"] = _("Vul je gebruikersnaam in.")
        self.fields["password"].error_messages["required"] = _("Vul je wachtwoord in.")
        self.fields["username"].widget.attrs.pop("autofocus", None)
        self.fields["password"].widget = forms.PasswordInput(
            attrs={"autocomplete": "current-password"}
        )


class OrganiserLoginView(LoginView):
    form_class = OrganiserLoginForm
    template_name = "jubileum/login.html"
    redirect_authenticated_user = True

    def get_default_redirect_url(self) -> str:
        return reverse("organiser:index")


def axes_client_ip(request) -> str | None:
    """The address django-axes counts failures by: REMOTE_ADDR as for the rate limits
    (`jubileum.lib.ratelimit.client_ip`), or None when there is none (a login made in code has no
    address; axes stores a NULL rather than a text PostgreSQL's inet column refuses)."""
    return request.META.get("REMOTE_ADDR") or None

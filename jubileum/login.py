"""The organisers' own login page: in the site's look, Dutch or English, for everyone with a
role in a programme (Django's admin login admits only staff). django-axes counts the failures
(see AXES_* in settings) because this form authenticates with the request."""

from __future__ import annotations

from django import forms
from django.contrib.auth.forms import AuthenticationForm
from django.contrib.auth.views import LoginView
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from jubileum.lib import ratelimit


class OrganiserLoginForm(AuthenticationForm):
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

    def post(self, request, *args, **kwargs):
        # Per address, whatever the username: axes locks out per username, this stops one
        # client from trying many names.
        ratelimit.limit(request, "login")
        return super().post(request, *args, **kwargs)

    def get_default_redirect_url(self) -> str:
        return reverse("organiser:index")


def axes_client_ip(request) -> str | None:
    """The address django-axes counts failures by: REMOTE_ADDR as for the rate limits
    (`jubileum.lib.ratelimit.client_ip`), or None when there is none (a login made in code has no
    address; axes stores a NULL rather than a text PostgreSQL's inet column refuses)."""
    return request.META.get("REMOTE_ADDR") or None

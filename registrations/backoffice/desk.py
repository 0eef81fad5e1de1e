"""Sign-ups taken by phone or at the town-hall desk: an organiser signs a person up on their
behalf, and prints a ticket for whoever has no e-mail address.

The sign-up goes through the same service as the resident's own (`services.register`), under
the same lock and capacity rules, with `taken_by`: nothing waits for approval (the organiser
decides), consent is recorded as given to this organiser, and an e-mail address is optional.
There is no per-address rate limit: the desk signs up many people in a row from one address,
and only signed-in organisers reach this page.
"""

from __future__ import annotations

from typing import Any, cast

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.models import User
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils.cache import patch_cache_control
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods, require_safe

from events.access import get_activity_for_organiser, get_programme_for_organiser
from events.models import Activity, Programme
from jubileum.lib.http import see_other
from jubileum.templatetags.jubileum_format import moment
from registrations import services
from registrations.forms import PartyForm
from registrations.models import Registration
from registrations.tickets import ticket_svg

Status = Registration.Status
ConsentVia = Registration.ConsentVia


class DeskSignUpForm(PartyForm):
    """The resident's sign-up form as an organiser fills it in for someone else: an e-mail
    address or a phone number (at least one), the way they signed up, and their consent as
    the organiser heard it."""

    consent_via = forms.ChoiceField(
        label=gettext_lazy("Hoe meldt deze persoon zich aan?"),
        choices=[
            (ConsentVia.PHONE, gettext_lazy("Telefonisch")),
            (ConsentVia.DESK, gettext_lazy("Aan de balie")),
        ],
        initial=ConsentVia.PHONE,
        error_messages={
            "required": gettext_lazy("Kies: telefonisch of aan de balie."),
            "invalid_choice": gettext_lazy("Kies: telefonisch of aan de balie."),
        },
        widget=forms.RadioSelect,
    )
    language = forms.ChoiceField(
        label=gettext_lazy("Taal van de e-mails"),
        choices=settings.LANGUAGES,
        initial="nl",
        error_messages={"invalid_choice": gettext_lazy("Kies Nederlands of Engels.")},
        widget=forms.RadioSelect,
    )
    consent = forms.BooleanField(
        label=gettext_lazy(
            "De persoon geeft toestemming om de gegevens voor deze activiteit te gebruiken."
        ),
        help_text=gettext_lazy(
            "Vraag het met zoveel woorden, en vertel waar de privacyverklaring staat. We leggen "
            "vast dat jij de toestemming hebt gekregen, en wanneer."
        ),
        error_messages={
            "required": gettext_lazy(
                "Vraag eerst toestemming voor het gebruik van de gegevens; zonder toestemming "
                "kunnen we niemand aanmelden."
            )
        },
    )

    def __init__(self, *args: Any, activity: Activity, **kwargs: Any) -> None:
        super().__init__(*args, activity=activity, **kwargs)
        fields = self.fields
        fields["contact_name"].error_messages["required"] = _("Vul de naam in.")
        fields["email"].required = False
        fields["email"].label = _("E-mailadres (als de persoon dat heeft)")
        fields["email"].help_text = _(
            "Daar gaan de bevestiging en de persoonlijke link naartoe. Zonder e-mailadres druk "
            "je na het opslaan een kaartje af."
        )
        fields["phone"].label = _("Telefoonnummer")
        fields["phone"].help_text = _("Nodig als er geen e-mailadres is.")
        fields["party_size"].label = _("Aantal personen")
        fields["party_size"].help_text = _("De persoon zelf meegeteld; hoogstens %(max)s.") % {
            "max": activity.max_party_size
        }
        fields["kind"].label = _("Komt als")
        fields["years_of_service"].help_text = _("Alleen voor leden en oud-leden.")

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        no_email = not cleaned.get("email") and "email" not in self.errors
        if no_email and not cleaned.get("phone") and "phone" not in self.errors:
            self.add_error("phone", services.ContactRequired.message)
        return cleaned


def _activity_url(programme: Programme, activity: Activity) -> str:
    return reverse(
        "organiser:activity",
        kwargs={"programme_slug": programme.slug, "activity_slug": activity.slug},
    )


def _ticket_url(programme: Programme, registration: Registration) -> str:
    return reverse(
        "organiser:ticket",
        kwargs={"programme_slug": programme.slug, "registration_id": registration.pk},
    )


def _form_page(
    request: HttpRequest, programme: Programme, activity: Activity, form: DeskSignUpForm
) -> HttpResponse:
    return render(
        request,
        "organiser/desk_signup.html",
        {"programme": programme, "activity": activity, "form": form},
    )


def _tell(request: HttpRequest, result: services.SignUpResult) -> None:
    """Tell the organiser where the person stands now, and what happens next."""
    registration = result.registration
    values: dict[str, object] = {"name": registration.contact_name, "email": registration.email}
    if not result.created:
        messages.warning(
            request,
            _(
                "%(name)s stond al aangemeld voor deze activiteit (hetzelfde e-mailadres, of "
                "dezelfde naam en hetzelfde telefoonnummer). Er is niets dubbel opgeslagen."
            )
            % values,
        )
    elif registration.status == Status.WAITLISTED:
        values["position"] = registration.waitlist_position()
        messages.warning(
            request,
            _(
                "De activiteit is vol: %(name)s staat als %(position)se op de wachtlijst. Komt er "
                "een plaats vrij, dan krijgt %(name)s een e-mail op %(email)s."
            )
            % values,
        )
    elif registration.status == Status.PENDING_PAYMENT:
        values["moment"] = moment(registration.hold_expires_at)
        messages.success(
            request,
            _(
                "De plaatsen van %(name)s worden vastgehouden tot %(moment)s. De betaallink gaat "
                "per e-mail naar %(email)s; wordt er niet op tijd betaald, dan vervalt de "
                "aanmelding."
            )
            % values,
        )
    elif registration.email:
        messages.success(
            request,
            _(
                "%(name)s is aangemeld. De bevestiging met de persoonlijke link gaat per e-mail "
                "naar %(email)s."
            )
            % values,
        )
    else:
        messages.success(
            request,
            _("%(name)s is aangemeld. Druk het kaartje af en geef of stuur het aan %(name)s.")
            % values,
        )


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def signup(request: HttpRequest, programme_slug: str, activity_slug: str) -> HttpResponse:
    """Sign someone up on their behalf; without an e-mail address, on to their ticket."""
    item = get_programme_for_organiser(request.user, programme_slug, write=True)
    current = get_activity_for_organiser(item, activity_slug)
    if request.method != "POST":
        return _form_page(request, item, current, DeskSignUpForm(activity=current))
    form = DeskSignUpForm(request.POST, activity=current)
    if not form.is_valid():
        return _form_page(request, item, current, form)
    # Signed in (login_required): not the anonymous user.
    organiser = cast(User, request.user)
    taken_by = services.TakenBy(user=organiser, via=form.cleaned_data["consent_via"])
    try:
        result = services.register(
            current.pk,
            form.sign_up(form.cleaned_data["language"]),
            answers=form.answers(),
            taken_by=taken_by,
        )
    except services.InvalidAnswer as error:
        form.add_answer_error(error.details.get("question"), str(error))
        return _form_page(request, item, current, form)
    except services.PartyTooLarge as error:
        form.add_error("party_size", str(error))
        return _form_page(request, item, current, form)
    except services.PaymentNeedsEmail as error:
        form.add_error("email", str(error))
        return _form_page(request, item, current, form)
    except services.ContactRequired as error:
        form.add_error("phone", str(error))
        return _form_page(request, item, current, form)
    except services.RegistrationError as error:
        form.add_error(None, str(error))
        return _form_page(request, item, current, form)
    _tell(request, result)
    registration = result.registration
    if not registration.email and registration.status == Status.CONFIRMED:
        return see_other(_ticket_url(item, registration))
    return see_other(_activity_url(item, current))


@login_required
@require_safe
def ticket(request: HttpRequest, programme_slug: str, registration_id: int) -> HttpResponse:
    """A confirmed party's ticket to print: QR, typed code, activity, when and where, name and
    party size. Organisers only: the ticket code gets a party in at the door."""
    item = get_programme_for_organiser(request.user, programme_slug, write=True)
    registration = get_object_or_404(
        Registration.objects.select_related("activity"),
        pk=registration_id,
        activity__programme=item,
    )
    confirmed = registration.status == Status.CONFIRMED
    qr = ticket_svg(registration.ticket_code) if confirmed else ""
    response = render(
        request,
        "organiser/ticket.html",
        {
            "programme": item,
            "activity": registration.activity,
            "registration": registration,
            "confirmed": confirmed,
            "ticket_svg": qr,
        },
    )
    patch_cache_control(response, private=True, no_store=True)
    return response

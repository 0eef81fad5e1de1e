"""Forms of the resident's pages: signing up, changing the party, confirming a step.

`PartyForm` holds what every sign-up asks about the party (who, how to reach them, how many,
as whom, the extra questions); the resident's `SignUpForm` and the organiser's sign-up by
phone or at the desk (`registrations.backoffice.desk`) build on it."""

from __future__ import annotations

import re
from typing import Any

from django import forms
from django.utils import translation
from django.utils.translation import gettext_lazy as _

from events.models import Activity, Question
from registrations.models import Brigade, Invitation, Registration
from registrations.services import MAX_ANSWER_LENGTH, SignUp

HONEYPOT = "website"
PHONE_PATTERN = re.compile(r"^\+?[0-9 ()\-]{6,40}$")
MEMBER_KINDS = (Registration.Kind.MEMBER, Registration.Kind.FORMER_MEMBER)


def party_size_field(activity: Activity) -> forms.IntegerField:
    too_large = _(
        "Voor deze activiteit is het grootste aantal personen per aanmelding %(max)s."
    ) % {"max": activity.max_party_size}
    return forms.IntegerField(
        label=_("Met hoeveel personen kom je?"),
        min_value=1,
        max_value=activity.max_party_size,
        initial=1,
        help_text=_("Jezelf meegeteld. Het grootste aantal is %(max)s.")
        % {"max": activity.max_party_size},
        error_messages={
            "required": _("Vul in met hoeveel personen je komt."),
            "invalid": _("Vul het aantal personen in als getal, bijvoorbeeld 2."),
            "min_value": _("Je komt met minstens 1 persoon: jezelf."),
            "max_value": too_large,
        },
        widget=forms.NumberInput(attrs={"inputmode": "numeric", "class": "input--short"}),
    )


QUESTION_PREFIX = "question_"


def question_field_name(question_id: int) -> str:
    return f"{QUESTION_PREFIX}{question_id}"


def question_field(question: Question, language: str) -> forms.Field:
    """The form field for one extra question, worded in the visitor's language."""
    label = question.label_in(language)
    errors = {
        "required": _("Beantwoord de vraag “%(label)s”.") % {"label": label},
        "invalid_choice": _("Kies een van de antwoorden bij “%(label)s”.") % {"label": label},
        "max_length": _("Je antwoord op “%(label)s” mag hoogstens %(max)s tekens lang zijn.")
        % {"label": label, "max": MAX_ANSWER_LENGTH},
    }
    shown = label if question.required else _("%(label)s (niet verplicht)") % {"label": label}
    common = {
        "label": shown,
        "required": question.required,
        "help_text": question.help_text_in(language),
        "error_messages": errors,
    }
    if question.kind == Question.Kind.TEXT:
        # A one-line input: the site's styles cover inputs, and answers are short (a diet,
        # children's ages, an organisation and role).
        return forms.CharField(max_length=MAX_ANSWER_LENGTH, **common)
    return forms.ChoiceField(choices=question.options(language), widget=forms.RadioSelect, **common)


class PartyForm(forms.Form):
    """Who signs up and with whom: name, how to reach them, party size, as whom they come and
    the activity's extra questions. Checks the shape of the input; whether there is room is the
    service's business (`services.register`)."""

    contact_name = forms.CharField(
        label=_("Naam"),
        max_length=200,
        error_messages={
            "required": _("Vul je naam in."),
            "max_length": _("Je naam mag hoogstens %(limit_value)d tekens lang zijn."),
        },
        widget=forms.TextInput(attrs={"autocomplete": "name"}),
    )
    email = forms.EmailField(
        label=_("E-mailadres"),
        max_length=254,
        help_text=_("Hier sturen we je bevestiging en je persoonlijke link naartoe."),
        error_messages={
            "required": _("Vul je e-mailadres in."),
            "invalid": _("Vul een geldig e-mailadres in, zoals naam@voorbeeld.nl."),
        },
        widget=forms.EmailInput(attrs={"autocomplete": "email", "spellcheck": "false"}),
    )
    phone = forms.CharField(
        label=_("Telefoonnummer (niet verplicht)"),
        max_length=40,
        required=False,
        help_text=_("Alleen om je te bellen als er op de dag zelf iets verandert."),
        error_messages={
            "max_length": _("Een telefoonnummer is hoogstens %(limit_value)d tekens lang."),
        },
        widget=forms.TextInput(attrs={"type": "tel", "autocomplete": "tel"}),
    )
    kind = forms.ChoiceField(
        label=_("Ik kom als"),
        choices=Registration.Kind.choices,
        initial=Registration.Kind.RESIDENT,
        error_messages={
            "required": _("Kies als wie je komt."),
            "invalid_choice": _("Kies als wie je komt uit de lijst."),
        },
        widget=forms.RadioSelect,
    )
    brigade = forms.ChoiceField(
        label=_("Korps"),
        required=False,
        choices=[("", _("Kies een korps")), *Brigade.choices],
        help_text=_("Alleen voor leden en oud-leden."),
        error_messages={"invalid_choice": _("Kies Soest of Soesterberg.")},
    )
    years_of_service = forms.IntegerField(
        label=_("Dienstjaren"),
        required=False,
        min_value=0,
        max_value=80,
        help_text=_(
            "Alleen voor leden en oud-leden: hoeveel jaar je bij de brandweer bent of was."
        ),
        error_messages={
            "invalid": _("Vul je dienstjaren in als getal, bijvoorbeeld 25."),
            "min_value": _("Dienstjaren kunnen niet negatief zijn."),
            "max_value": _("Vul hoogstens 80 dienstjaren in."),
        },
        widget=forms.NumberInput(attrs={"inputmode": "numeric", "class": "input--short"}),
    )

    def __init__(self, *args: Any, activity: Activity, **kwargs: Any) -> None:
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)
        self.activity = activity
        self.fields["party_size"] = party_size_field(activity)
        language = translation.get_language() or "nl"
        self.questions = list(activity.questions.all())
        for question in self.questions:
            self.fields[question_field_name(question.pk)] = question_field(question, language)
        self.order_fields(["contact_name", "email", "phone", "party_size", "kind"])

    @property
    def question_fields(self) -> list[tuple[forms.BoundField, Question]]:
        """The fields of the activity's extra questions, in the organiser's order."""
        return [(self[question_field_name(q.pk)], q) for q in self.questions]

    def clean_contact_name(self) -> str:
        name = self.cleaned_data["contact_name"].strip()
        if not name:
            raise forms.ValidationError(self.fields["contact_name"].error_messages["required"])
        return name

    def clean_phone(self) -> str:
        phone = self.cleaned_data["phone"].strip()
        if phone and not PHONE_PATTERN.match(phone):
            raise forms.ValidationError(
                _("Vul een telefoonnummer in met alleen cijfers, spaties en eventueel een +."),
                code="invalid",
            )
        return phone

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        if cleaned.get("kind") in MEMBER_KINDS:
            if not cleaned.get("brigade") and "brigade" not in self.errors:
                self.add_error("brigade", _("Kies bij welk korps je bent of was."))
        else:
            # A resident or guest has no brigade; drop what they may have filled in by mistake.
            cleaned["brigade"] = ""
            cleaned["years_of_service"] = None
        return cleaned

    def sign_up(self, language: str) -> SignUp:
        """What the service needs (call after is_valid())."""
        data = self.cleaned_data
        return SignUp(
            contact_name=data["contact_name"],
            email=data["email"],
            party_size=data["party_size"],
            phone=data["phone"],
            kind=data["kind"],
            brigade=data["brigade"],
            years_of_service=data["years_of_service"],
            language=language,
            invitation_code=data.get("invitation_code", ""),
        )

    def answers(self) -> dict[int, str]:
        """The answers given (question id → value), empty ones left out (call after
        is_valid())."""
        answers = {}
        for question in self.questions:
            value = self.cleaned_data.get(question_field_name(question.pk), "")
            if value:
                answers[question.pk] = value
        return answers

    def add_answer_error(self, question_id: object, message: str) -> None:
        """Show the service's objection to an answer next to its question (or above the
        form when the question is no longer on it)."""
        name = question_field_name(question_id) if isinstance(question_id, int) else ""
        self.add_error(name if name in self.fields else None, message)


class SignUpForm(PartyForm):
    """The sign-up form on an activity page: the party, an invitation code where the activity
    takes them, consent, and a trap for bots."""

    invitation_code = forms.CharField(
        label=_("Uitnodigingscode"),
        max_length=32,
        required=False,
        error_messages={"max_length": _("Deze uitnodigingscode kennen we niet.")},
        widget=forms.TextInput(
            attrs={"autocomplete": "off", "autocapitalize": "characters", "spellcheck": "false"}
        ),
    )
    consent = forms.BooleanField(
        label=_("Ik geef toestemming om mijn gegevens voor deze activiteit te gebruiken."),
        # Shown in the template with a link to the statement; here so the checkbox points to it.
        help_text=_("Wat we met je gegevens doen, staat in de privacyverklaring."),
        error_messages={
            "required": _(
                "Geef toestemming voor het gebruik van je gegevens; anders kunnen we je niet "
                "aanmelden."
            )
        },
    )
    # The trap for bots: hidden from people by CSS and from screen readers by aria-hidden (see
    # the template); a form that fills it in gets a neutral answer and nothing is stored.
    website = forms.CharField(
        label=_("Laat dit veld leeg"),
        required=False,
        widget=forms.TextInput(attrs={"autocomplete": "off", "tabindex": "-1"}),
    )

    def __init__(self, *args: Any, activity: Activity, **kwargs: Any) -> None:
        super().__init__(*args, activity=activity, **kwargs)
        if activity.audience == Activity.Audience.PUBLIC:
            del self.fields["invitation_code"]
        elif activity.audience == Activity.Audience.MEMBERS:
            self.fields["invitation_code"].label = _("Uitnodigingscode (als je die hebt)")
            self.fields["invitation_code"].help_text = _(
                "Staat in je uitnodiging. Zonder code ben je meteen aangemeld als je e-mailadres "
                "op de ledenlijst staat; anders beslist een organisator."
            )
        else:
            self.fields["invitation_code"].help_text = _(
                "Staat in je uitnodiging. Zonder code beslist een organisator over je aanmelding."
            )

    @property
    def is_bot(self) -> bool:
        """The honeypot is filled in: answer as if all went well, store nothing."""
        return bool(self.data.get(HONEYPOT, "").strip())

    def clean_invitation_code(self) -> str:
        return self.cleaned_data["invitation_code"].strip().upper()


class PartySizeForm(forms.Form):
    party_size = forms.IntegerField(label=_("Aantal personen"))

    def __init__(self, *args: Any, activity: Activity, **kwargs: Any) -> None:
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)
        self.fields["party_size"] = party_size_field(activity)
        self.fields["party_size"].label = _("Aantal personen")


class ConfirmForm(forms.Form):
    """A checkbox that must be ticked before something that cannot be undone."""

    confirm = forms.BooleanField(
        error_messages={"required": _("Vink het vakje aan als je het zeker weet.")},
    )

    def __init__(self, *args: Any, label: str, **kwargs: Any) -> None:
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)
        self.fields["confirm"].label = label


def initial_for_invitation(activity: Activity, code: str) -> dict[str, Any]:
    """What the sign-up form starts with when opened from an invitation's link (`?code=`): the
    code, and for a code of this activity the name and address it went to and, from the
    roster, member or former member and the brigade."""
    code = code[:32]
    wanted = code.strip().upper()
    invitation = (
        Invitation.objects.filter(activity=activity, code=wanted).select_related("activity").first()
        if wanted
        else None
    )
    if invitation is None:
        return {"invitation_code": code}
    initial: dict[str, Any] = {
        "invitation_code": invitation.code,
        "contact_name": invitation.name,
        "email": invitation.email,
    }
    entry = invitation.roster_entry()
    if entry is not None:
        initial.update(
            kind=entry.kind, brigade=entry.brigade, years_of_service=entry.years_of_service
        )
    return initial

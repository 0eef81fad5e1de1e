"""Forms of the organiser's programme pages: settings, team and copying (the Django admin's copy
page uses the same copy form)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django import forms
from django.contrib.auth import get_user_model, password_validation
from django.db import models
from django.utils.functional import lazy
from django.utils.translation import gettext_lazy as _

from events.copying import DateMapping, slug_taken
from events.models import RESERVED_PROGRAMME_SLUGS, RESERVED_SLUG_MESSAGE, Programme, ProgrammeRole

DATE_INPUT = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
# Moving a programme further than ten years either way is a typo, not a plan.
MAX_WEEKS = 520


class ProgrammeCopyForm(forms.Form):
    """The copy's name, web address and dates: moved by whole weeks, or from a new first day
    with every activity on its weekday (events.copying.DateMapping)."""

    class Move(models.TextChoices):
        WEEKS = "weeks", _("Alles een aantal hele weken verschuiven")
        FIRST_DAY = "first_day", _("Een nieuwe eerste dag kiezen")

    name = forms.CharField(label=_("Naam van de kopie"), max_length=200)
    slug = forms.SlugField(
        label=_("Webadres (slug)"),
        max_length=80,
        help_text=_(
            "Kleine letters, cijfers en streepjes, bijvoorbeeld brandveiligheidsweek-2027."
        ),
    )
    move = forms.ChoiceField(
        label=_("Hoe schuiven de datums op?"),
        choices=Move.choices,
        initial=Move.WEEKS,
        widget=forms.RadioSelect,
        help_text=_(
            "Elke activiteit blijft op dezelfde dag van de week en op dezelfde tijd: een "
            "open dag op zaterdag blijft op zaterdag."
        ),
    )
    weeks = forms.IntegerField(
        label=_("Aantal weken"),
        required=False,
        min_value=-MAX_WEEKS,
        max_value=MAX_WEEKS,
        help_text=_("Bijvoorbeeld 52 voor ongeveer een jaar later."),
    )
    starts_on = forms.DateField(
        label=_("Eerste dag"),
        required=False,
        widget=DATE_INPUT,
        help_text=_("Elke activiteit komt in de overeenkomende week, op dezelfde dag van de week."),
    )

    def clean_slug(self) -> str:
        """Said before the preview rather than after it (copying checks again, under its
        lock)."""
        slug = self.cleaned_data["slug"]
        if slug in RESERVED_PROGRAMME_SLUGS:
            raise forms.ValidationError(RESERVED_SLUG_MESSAGE, code="reserved")
        if Programme.objects.filter(slug=slug).exists():
            raise forms.ValidationError(str(slug_taken(slug)), code="taken")
        return slug

    def clean(self) -> dict[str, Any]:
        super().clean()
        data = self.cleaned_data
        move = data.get("move")
        if move == self.Move.WEEKS:
            if data.get("weeks") is None and "weeks" not in self.errors:
                self.add_error("weeks", _("Geef het aantal weken."))
            elif data.get("weeks") == 0:
                self.add_error("weeks", _("Verschuif minstens één week."))
        elif (
            move == self.Move.FIRST_DAY
            and not data.get("starts_on")
            and "starts_on" not in self.errors
        ):
            self.add_error("starts_on", _("Geef de eerste dag van de kopie."))
        return data

    def mapping(self, source: Programme) -> DateMapping:
        """Where the source's dates land; only for a valid form."""
        data = self.cleaned_data
        if data["move"] == self.Move.WEEKS:
            return DateMapping.by_weeks(source.starts_on, data["weeks"])
        first_day: dt.date = data["starts_on"]
        return DateMapping(source.starts_on, first_day)


class ProgrammeSettingsForm(forms.ModelForm):
    """What an organiser sets for the programme (the web address stays: links are out there).
    The model's own checks (end after start, a theme colour white text reads on) apply."""

    class Meta:
        model = Programme
        fields = [
            "name",
            "name_en",
            "starts_on",
            "ends_on",
            "description",
            "description_en",
            "is_public",
            "organiser_name",
            "organiser_email",
            "organiser_phone",
            "theme_colour",
            "logo",
            "logo_alt",
            "offer_valid_hours",
            "ticket_vat_rate",
            "retention_days",
            "privacy_statement",
            "privacy_statement_en",
            "accessibility_statement",
            "accessibility_statement_en",
        ]
        widgets = {
            "starts_on": DATE_INPUT,
            "ends_on": DATE_INPUT,
            "description": forms.Textarea(attrs={"rows": 4}),
            "description_en": forms.Textarea(attrs={"rows": 4}),
            "privacy_statement": forms.Textarea(attrs={"rows": 6}),
            "privacy_statement_en": forms.Textarea(attrs={"rows": 6}),
            "accessibility_statement": forms.Textarea(attrs={"rows": 6}),
            "accessibility_statement_en": forms.Textarea(attrs={"rows": 6}),
        }
        help_texts = {
            "is_public": _(
                "Een openbaar programma en zijn gepubliceerde activiteiten staan op de site."
            ),
            "organiser_email": _(
                "Hier komen vragen over privacy en de antwoorden op e-mails aan deelnemers "
                "binnen; de privacyverklaring noemt dit adres als contact."
            ),
        }

    def clean(self) -> dict[str, Any]:
        super().clean()
        data = self.cleaned_data
        logo = data.get("logo")
        # False: the organiser ticked "clear"; None: no new upload, the stored logo stays.
        has_logo = bool(logo) if logo is not None else bool(self.instance.logo)
        if has_logo and not (data.get("logo_alt") or "").strip() and "logo_alt" not in self.errors:
            self.add_error(
                "logo_alt",
                _("Beschrijf wat het logo laat zien, voor wie het niet kan zien."),
            )
        return data


class InviteForm(forms.Form):
    email = forms.EmailField(label=_("E-mailadres"), max_length=254)
    role = forms.ChoiceField(
        label=_("Rol"),
        choices=ProgrammeRole.Role.choices,
        initial=ProgrammeRole.Role.VIEWER,
        widget=forms.RadioSelect,
        help_text=_("Een organisator kan alles veranderen; een meekijker kan alleen lezen."),
    )


class RoleForm(forms.Form):
    role = forms.ChoiceField(label=_("Rol"), choices=ProgrammeRole.Role.choices)


class AcceptInvitationForm(forms.Form):
    """A new password, checked by the site's password validators (as Django's own
    SetPasswordForm, for an account that exists only once this form is valid)."""

    password1 = forms.CharField(
        label=_("Wachtwoord"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        help_text=lazy(
            lambda: " ".join(password_validation.password_validators_help_texts()), str
        )(),
    )
    password2 = forms.CharField(
        label=_("Wachtwoord nog een keer"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )

    def __init__(self, *args, email: str, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.email = email

    def clean(self) -> dict[str, Any]:
        super().clean()
        data = self.cleaned_data
        first, second = data.get("password1"), data.get("password2")
        if first and second and first != second:
            self.add_error("password2", _("De twee wachtwoorden zijn niet gelijk."))
        elif first:
            user = get_user_model()(username=self.email, email=self.email)
            try:
                password_validation.validate_password(first, user)
            except forms.ValidationError as error:
                self.add_error("password1", error)
        return data

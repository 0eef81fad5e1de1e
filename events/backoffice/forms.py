"""The activity editor's form: one set of rules for the organiser's pages and the API.

`ActivityForm` checks what an organiser writes (Dutch messages at the field; the model's own
`clean` for the rules between fields) and saves a draft or a change. The pages bind it to
what was posted; the API binds it to `form_data(activity)` updated with the fields a PATCH
gives, so both say the same things about the same mistakes. Status changes are not edits: they
go through `Activity.publish()`, `unpublish()` and `cancel()`.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from django import forms
from django.core.files.uploadedfile import UploadedFile
from django.forms.models import model_to_dict
from django.utils import timezone
from django.utils.text import slugify
from django.utils.translation import gettext_lazy as _

from events.models import Activity, Programme
from events.signals import activity_price_changed
from jubileum.lib.money import is_unclear_amount, parse_typed_euros

MAX_PRICE = Decimal("9999.99")
MAX_IMAGE_BYTES = 5 * 1024 * 1024
# The years a moment may lie in (as the programme page's month filter).
FIRST_YEAR, LAST_YEAR = 1900, 2999
# The datetime-local input's value, and what the API also accepts (ISO 8601, with or without
# an offset; without one it is Dutch time).
_LOCAL_FORMAT = "%Y-%m-%dT%H:%M"

# A change to one of these concerns everyone who signed up: the editor offers to tell them.
REGISTRANT_NOTICE_FIELDS = ("starts_at", "ends_at", "location_name", "location_address")

EDITABLE_FIELDS = [
    "title",
    "title_en",
    "summary",
    "summary_en",
    "description",
    "description_en",
    "starts_at",
    "ends_at",
    "location_name",
    "location_name_en",
    "location_address",
    "audience",
    "approval_required",
    "registration_required",
    "capacity",
    "max_party_size",
    "price",
    "waitlist_enabled",
    "registration_opens_at",
    "registration_closes_at",
    "cancellation_closes_at",
    "image",
    "image_alt",
    "image_alt_en",
]


class LocalDateTimeField(forms.DateTimeField):
    """A moment typed in Dutch time (the site's TIME_ZONE): a datetime-local input on the pages,
    ISO 8601 in the API. A time that does not exist or occurs twice around a clock change is
    refused by Django with its own message."""

    widget = forms.DateTimeInput(attrs={"type": "datetime-local"}, format=_LOCAL_FORMAT)
    input_formats = [_LOCAL_FORMAT, "%Y-%m-%d %H:%M", "%d-%m-%Y %H:%M"]

    default_error_messages = {
        "out_of_range": _("Kies een tijdstip tussen het jaar %(first)s en %(last)s."),
    }

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("help_text", _("Nederlandse tijd."))
        kwargs.setdefault(
            "error_messages",
            {"invalid": _("Vul datum en tijd in, bijvoorbeeld 2027-06-12 14:30.")},
        )
        super().__init__(**kwargs)

    def to_python(self, value: Any) -> dt.datetime | None:
        moment = super().to_python(value)
        # A year far off cannot be stored: converting it to UTC overflows (year 1 plus an hour).
        if moment is not None and not FIRST_YEAR <= moment.year <= LAST_YEAR:
            raise forms.ValidationError(
                self.error_messages["out_of_range"],
                code="out_of_range",
                params={"first": FIRST_YEAR, "last": LAST_YEAR},
            )
        return moment


class PriceField(forms.Field):
    """A price per person in euros as people type it ("0", "7,50", "€ 12.50"); zero is free."""

    default_error_messages = {
        "invalid": _("Vul de prijs in als bedrag, bijvoorbeeld 7,50 (of 0 voor gratis)."),
        "too_precise": _("Een prijs heeft hoogstens twee cijfers achter de komma."),
        "too_large": _("Een prijs is hoogstens € 9.999,99."),
        "unclear": _(
            "Met alleen een punt is niet duidelijk of je duizenden bedoelt. Schrijf het bedrag "
            "zonder punt (8000) of met centen erbij (8.000,00)."
        ),
    }

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("widget", forms.TextInput(attrs={"inputmode": "decimal"}))
        kwargs.setdefault("localize", True)
        super().__init__(**kwargs)
        self.ask_when_unclear = True

    def to_python(self, value: Any) -> Decimal:
        if value is None or not str(value).strip():
            return Decimal("0.00")
        if self.ask_when_unclear and is_unclear_amount(value):
            raise forms.ValidationError(self.error_messages["unclear"], code="unclear")
        amount = parse_typed_euros(value)
        if amount is None:
            raise forms.ValidationError(self.error_messages["invalid"], code="invalid")
        if amount != amount.quantize(Decimal("0.01")):
            raise forms.ValidationError(self.error_messages["too_precise"], code="too_precise")
        if amount > MAX_PRICE:
            raise forms.ValidationError(self.error_messages["too_large"], code="too_large")
        return amount.quantize(Decimal("0.01"))


class ActivityForm(forms.ModelForm):
    starts_at = LocalDateTimeField(label=_("Begint"))
    ends_at = LocalDateTimeField(label=_("Eindigt"))
    registration_opens_at = LocalDateTimeField(label=_("Aanmelden vanaf"), required=False)
    registration_closes_at = LocalDateTimeField(
        label=_("Aanmelden tot"),
        required=False,
        help_text=_("Nederlandse tijd. Leeg laten: aanmelden kan tot de activiteit begint."),
    )
    cancellation_closes_at = LocalDateTimeField(
        label=_("Annuleren kan tot"),
        required=False,
        help_text=_("Nederlandse tijd. Leeg laten: annuleren kan tot de activiteit begint."),
    )
    price = PriceField(label=_("Prijs per persoon (€)"), required=False)

    class Meta:
        model = Activity
        fields = EDITABLE_FIELDS
        widgets = {
            "description": forms.Textarea(attrs={"rows": 8}),
            "description_en": forms.Textarea(attrs={"rows": 8}),
            "image": forms.ClearableFileInput(attrs={"accept": "image/jpeg,image/png,image/webp"}),
        }
        help_texts = {
            "description": _(
                "Gewone tekst: een lege regel begint een nieuwe alinea, een webadres wordt een "
                "link. HTML wordt niet overgenomen."
            ),
        }
        error_messages = {
            "title": {"required": _("Geef de activiteit een titel.")},
            "summary": {"required": _("Vat de activiteit in één zin samen.")},
            "location_name": {"required": _("Vul in waar de activiteit is.")},
            "starts_at": {"required": _("Vul in wanneer de activiteit begint.")},
            "ends_at": {"required": _("Vul in wanneer de activiteit eindigt.")},
        }

    def __init__(self, *args: Any, programme: Programme, typed: bool = True, **kwargs: Any) -> None:
        """`typed`: the input is what people type on a page (a price "1.250" is then asked
        about); the API passes False, its prices having a point for decimals."""
        super().__init__(*args, **kwargs)
        self.programme = programme
        self.fields["price"].ask_when_unclear = typed
        self.instance.programme = programme
        for name in ("starts_at", "ends_at"):
            self.fields[name].error_messages["required"] = self._meta.error_messages[name][
                "required"
            ]
        # The English twin is labelled after its Dutch field, so the pair reads as one.
        for name in Activity.BILINGUAL_FIELDS:
            english = f"{name}_en"
            if english in self.fields:
                self.fields[english].label = _("%(label)s (Engels, optioneel)") % {
                    "label": self.fields[name].label
                }

    def clean_image(self) -> Any:
        image = self.cleaned_data.get("image")
        if isinstance(image, UploadedFile) and image.size and image.size > MAX_IMAGE_BYTES:
            raise forms.ValidationError(
                _("De afbeelding is te groot: hoogstens 5 MB."), code="too_large"
            )
        return image

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        if cleaned.get("image") and not (cleaned.get("image_alt") or "").strip():
            self.add_error(
                "image_alt",
                _("Beschrijf wat de afbeelding laat zien, voor wie het niet kan zien."),
            )
        capacity = cleaned.get("capacity")
        if capacity and not self.instance._state.adding and "capacity" in self.changed_data:
            taken = Activity.objects.with_places_taken().get(pk=self.instance.pk).places_taken or 0
            if capacity < taken:
                self.add_error(
                    "capacity",
                    _(
                        "Er zijn al %(taken)s plaatsen bezet of vastgehouden; minder plaatsen "
                        "kan pas als er mensen afmelden of worden verplaatst."
                    )
                    % {"taken": taken},
                )
        return cleaned

    def registrant_changes(self) -> list[str]:
        """The fields changed in this edit that everyone who signed up should hear about."""
        if self.instance._state.adding:
            return []
        return [name for name in REGISTRANT_NOTICE_FIELDS if name in self.changed_data]

    def save(self, commit: bool = True) -> Activity:
        """Save the draft or the change; a changed price closes the payments under way at the
        old one (`activity_price_changed`, which registrations handles)."""
        if not commit:
            raise ValueError("ActivityForm saves in one step: the price signal follows the save.")
        adding = self.instance._state.adding
        activity = super().save(commit=False)
        if not activity.slug:
            activity.slug = unique_slug(self.programme, activity.title)
        activity.save()
        if "price" in self.changed_data and not adding:
            activity_price_changed.send(sender=Activity, activity=activity)
        return activity


def unique_slug(programme: Programme, title: str) -> str:
    """A slug for a new activity from its title, free in its programme ("open-dag",
    "open-dag-2", ...)."""
    base = (slugify(title) or "activiteit")[:70].strip("-")
    taken = set(programme.activities.filter(slug__startswith=base).values_list("slug", flat=True))
    slug, number = base, 2
    while slug in taken:
        slug, number = f"{base}-{number}", number + 1
    return slug


def form_data(activity: Activity) -> dict[str, Any]:
    """The activity's editable fields as the form would receive them: the start for a change
    through the API, and with an unsaved `Activity()` the defaults of a new one.

    Moments are ISO 8601 in Dutch time with their offset and seconds: a moment kept as it was
    must come back exactly, also in the hour that occurs twice when the clocks go back (the
    datetime-local input's "02:30" would be refused there as ambiguous)."""
    data = model_to_dict(activity, fields=[f for f in EDITABLE_FIELDS if f != "image"])
    for name, value in data.items():
        if hasattr(value, "tzinfo"):
            data[name] = timezone.localtime(value).isoformat()
        elif value is None:
            data[name] = ""
        elif isinstance(value, Decimal):
            data[name] = str(value)
    return data

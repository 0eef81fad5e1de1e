"""Public read API for programmes and activities, mounted by `jubileum.api`."""

# No `from __future__ import annotations` here: ninja reads parameter types from the signatures,
# and a string annotation behind @paginate is looked up in ninja's module, not this one.

import datetime as dt
from typing import Any, Literal

from django.db.models import QuerySet
from django.http import HttpRequest
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.utils import timezone, translation
from ninja import Field, Path, Query, Router, Schema
from ninja.pagination import paginate
from pydantic import field_validator

from events.calendar import activity_ics_url
from events.listing import ActivityFilter, listed_activities
from events.models import Activity, Programme, Question
from jubileum.lib.apitools import ErrorOut, Pagination, example, strict_query
from jubileum.lib.bilingual import DEFAULT_LANGUAGE, SECOND_LANGUAGE, Bilingual, pick

router = Router()
TAGS = [
    {"name": "programmes", "description": "The public programmes: what, when, who organises."},
    {
        "name": "activities",
        "description": "A programme's activities with places left, filtered like its page.",
    },
]

# YYYY-MM with the years the page's filter form accepts (1900-2999).
MONTH_PATTERN = r"^(19|2[0-9])[0-9]{2}-(0[1-9]|1[0-2])$"
# Primary keys are 64-bit; a larger number cannot name a row and must not reach the database.
MAX_ID = 2**63 - 1


def _absolute(context: dict[str, Any], path: str) -> str:
    return context["request"].build_absolute_uri(path)


def _translations(obj: Bilingual, fields: tuple[str, ...]) -> dict[str, dict[str, str | None]]:
    """Both languages of `fields`: the Dutch always, the English or None where none was
    written."""
    english = {field: pick(obj, field, SECOND_LANGUAGE) for field in fields}
    return {
        DEFAULT_LANGUAGE: {field: getattr(obj, field) or "" for field in fields},
        SECOND_LANGUAGE: {
            field: text if text.lang == SECOND_LANGUAGE else None for field, text in english.items()
        },
    }


# What the `translations` of a programme and an activity hold, in this order.
PROGRAMME_TEXTS = ("name", "description")
ACTIVITY_TEXTS = ("title", "summary", "description", "location_name")
# The fields that carry these texts in the request's language.
PICKED = (
    "Where the organiser wrote it in the request's language (Accept-Language; the response's "
    "Content-Language says which was used) that text, else the Dutch; `translations` has both."
)


SITE = "https://jubileum.soest.nl"
PROGRAMME_EXAMPLE = {
    "slug": "brandweer-100",
    "name": "Brandweer Soest & Soesterberg 100 jaar",
    "description": "Honderd jaar brandweer in Soest en Soesterberg.",
    "translations": {
        "nl": {
            "name": "Brandweer Soest & Soesterberg 100 jaar",
            "description": "Honderd jaar brandweer in Soest en Soesterberg.",
        },
        "en": {
            "name": "Soest & Soesterberg Fire Brigade 100 years",
            "description": None,
        },
    },
    "starts_on": "2027-03-01",
    "ends_on": "2027-06-30",
    "organiser_name": "Gemeente Soest",
    "organiser_email": "jubileum@soest.nl",
    "organiser_phone": "035 609 3411",
    "theme_colour": "#B41E1E",
    "logo_url": None,
    "logo_alt": "",
    "url": f"{SITE}/programma/brandweer-100/",
    "activities_url": f"{SITE}/api/v1/programmes/brandweer-100/activities",
    "ics_url": f"{SITE}/programma/brandweer-100/agenda.ics",
}
ACTIVITY_EXAMPLE = {
    "id": 12,
    "programme": "brandweer-100",
    "slug": "kinderbrandweermiddag",
    "title": "Kinderbrandweermiddag",
    "summary": "Spuiten, een ritje in de tankautospuit en limonade.",
    "description": "Voor kinderen van 6 tot 12 jaar, met een ouder.",
    "translations": {
        "nl": {
            "title": "Kinderbrandweermiddag",
            "summary": "Spuiten, een ritje in de tankautospuit en limonade.",
            "description": "Voor kinderen van 6 tot 12 jaar, met een ouder.",
            "location_name": "Kazerne Soest",
        },
        "en": {
            "title": "Children's fire brigade afternoon",
            "summary": "Hoses, a ride in the fire engine and lemonade.",
            "description": None,
            "location_name": None,
        },
    },
    "starts_at": "2027-04-10T14:00:00+02:00",
    "ends_at": "2027-04-10T16:30:00+02:00",
    "location": {"name": "Kazerne Soest", "address": "Kerkebuurt 2, Soest"},
    "audience": "public",
    "status": "published",
    "registration_required": True,
    "registration_open": True,
    "registration_opens_at": None,
    "registration_closes_at": "2027-04-09T18:00:00+02:00",
    "capacity": 40,
    "places_left": 12,
    "max_party_size": 4,
    "waitlist_enabled": True,
    "price": "0.00",
    "currency": "EUR",
    "url": f"{SITE}/programma/brandweer-100/activiteit/kinderbrandweermiddag/",
    "ics_url": f"{SITE}/programma/brandweer-100/activiteit/kinderbrandweermiddag/agenda.ics",
}


class ProgrammeTextsOut(Schema):
    name: str
    description: str = Field(description="Plain text; blank lines separate paragraphs.")


class ProgrammeEnglishTextsOut(Schema):
    name: str | None = Field(description="Empty (null) where the organiser wrote no English.")
    description: str | None = Field(description="Empty (null) where none was written.")


class ProgrammeTranslationsOut(Schema):
    nl: ProgrammeTextsOut = Field(description="The Dutch texts; the organiser writes these.")
    en: ProgrammeEnglishTextsOut = Field(description="The English texts, each null if missing.")


class ProgrammeOut(Schema):
    model_config = example(PROGRAMME_EXAMPLE)

    slug: str
    name: str = Field(description=PICKED)
    description: str = Field(description=PICKED)
    translations: ProgrammeTranslationsOut = Field(
        description="The programme's texts in both languages."
    )
    starts_on: dt.date
    ends_on: dt.date
    organiser_name: str
    organiser_email: str
    organiser_phone: str
    theme_colour: str = Field(description="#RRGGBB; white text on it has at least 4.5:1 contrast.")
    logo_url: str | None = Field(description="The programme's logo, if it has one.")
    logo_alt: str
    url: str = Field(description="The programme's page.")
    activities_url: str = Field(description="This API's list of the programme's activities.")
    ics_url: str = Field(description="iCalendar feed of all its activities, to subscribe to.")

    @staticmethod
    def resolve_name(obj: Programme) -> str:
        return obj.in_language("name")

    @staticmethod
    def resolve_description(obj: Programme) -> str:
        return obj.in_language("description")

    @staticmethod
    def resolve_translations(obj: Programme) -> dict[str, dict[str, str | None]]:
        return _translations(obj, PROGRAMME_TEXTS)

    @staticmethod
    def resolve_url(obj: Programme, context: dict[str, Any]) -> str:
        return _absolute(context, obj.get_absolute_url())

    @staticmethod
    def resolve_logo_url(obj: Programme, context: dict[str, Any]) -> str | None:
        return _absolute(context, obj.logo.url) if obj.logo else None

    @staticmethod
    def resolve_activities_url(obj: Programme, context: dict[str, Any]) -> str:
        return _absolute(context, reverse("api:programme_activities", kwargs={"slug": obj.slug}))

    @staticmethod
    def resolve_ics_url(obj: Programme, context: dict[str, Any]) -> str:
        return _absolute(context, reverse("events:programme_ics", kwargs={"slug": obj.slug}))


class LocationOut(Schema):
    name: str = Field(description=PICKED)
    address: str


class ActivityTextsOut(Schema):
    title: str
    summary: str
    description: str = Field(description="Plain text; blank lines separate paragraphs.")
    location_name: str


class ActivityEnglishTextsOut(Schema):
    title: str | None = Field(description="Empty (null) where the organiser wrote no English.")
    summary: str | None = Field(description="Empty (null) where none was written.")
    description: str | None = Field(description="Empty (null) where none was written.")
    location_name: str | None = Field(description="Empty (null) where none was written.")


class ActivityTranslationsOut(Schema):
    nl: ActivityTextsOut = Field(description="The Dutch texts; the organiser writes these.")
    en: ActivityEnglishTextsOut = Field(description="The English texts, each null if missing.")


class ActivityOut(Schema):
    model_config = example(ACTIVITY_EXAMPLE)

    id: int
    programme: str = Field(description="Slug of the programme.")
    slug: str
    title: str = Field(description=PICKED)
    summary: str = Field(description=PICKED)
    description: str = Field(description=PICKED)
    translations: ActivityTranslationsOut = Field(
        description="The activity's texts in both languages."
    )
    starts_at: dt.datetime = Field(description="ISO 8601 in Europe/Amsterdam, with offset.")
    ends_at: dt.datetime = Field(description="ISO 8601 in Europe/Amsterdam, with offset.")
    location: LocationOut
    audience: Activity.Audience
    status: Literal["published", "cancelled"]
    registration_required: bool
    registration_open: bool = Field(description="Whether one can sign up right now.")
    registration_opens_at: dt.datetime | None
    registration_closes_at: dt.datetime | None = Field(
        description="Empty: sign-up closes when the activity starts."
    )
    capacity: int | None = Field(description="Places in persons; empty for unlimited.")
    places_left: int | None = Field(description="Places still free; empty for unlimited.")
    max_party_size: int
    waitlist_enabled: bool
    price: str = Field(
        description="Price per person, a decimal string with two places; 0.00 is free.",
        pattern=r"^[0-9]+\.[0-9]{2}$",
        examples=["12.50"],
    )
    currency: Literal["EUR"]
    url: str = Field(description="The activity's page.")
    ics_url: str = Field(description="iCalendar file to add the activity to a calendar.")

    @staticmethod
    def resolve_programme(obj: Activity) -> str:
        return obj.programme.slug

    @staticmethod
    def resolve_title(obj: Activity) -> str:
        return obj.in_language("title")

    @staticmethod
    def resolve_summary(obj: Activity) -> str:
        return obj.in_language("summary")

    @staticmethod
    def resolve_description(obj: Activity) -> str:
        return obj.in_language("description")

    @staticmethod
    def resolve_translations(obj: Activity) -> dict[str, dict[str, str | None]]:
        return _translations(obj, ACTIVITY_TEXTS)

    @staticmethod
    def resolve_starts_at(obj: Activity) -> dt.datetime:
        return timezone.localtime(obj.starts_at)

    @staticmethod
    def resolve_ends_at(obj: Activity) -> dt.datetime:
        return timezone.localtime(obj.ends_at)

    @staticmethod
    def resolve_registration_opens_at(obj: Activity) -> dt.datetime | None:
        return obj.registration_opens_at and timezone.localtime(obj.registration_opens_at)

    @staticmethod
    def resolve_registration_closes_at(obj: Activity) -> dt.datetime | None:
        return obj.registration_closes_at and timezone.localtime(obj.registration_closes_at)

    @staticmethod
    def resolve_location(obj: Activity) -> dict[str, str]:
        return {"name": obj.in_language("location_name"), "address": obj.location_address}

    @staticmethod
    def resolve_registration_open(obj: Activity) -> bool:
        return obj.registration_is_open()

    @staticmethod
    def resolve_price(obj: Activity) -> str:
        return f"{obj.price:.2f}"

    @staticmethod
    def resolve_currency(obj: Activity) -> str:
        return "EUR"

    @staticmethod
    def resolve_url(obj: Activity, context: dict[str, Any]) -> str:
        return _absolute(context, obj.get_absolute_url())

    @staticmethod
    def resolve_ics_url(obj: Activity, context: dict[str, Any]) -> str:
        return _absolute(context, activity_ics_url(obj))


class OptionOut(Schema):
    value: str = Field(description="What to send as the answer's `value`.")
    label: str = Field(description="What to show, in the request's language.")


class QuestionOut(Schema):
    id: int
    label: str = Field(description="The question, in the request's language.")
    help_text: str = Field(description="A short explanation to show with it; may be empty.")
    kind: Question.Kind = Field(
        description="`text`: free text (at most 1000 characters); `choice`: one of `options`; "
        "`yes_no`: `ja` or `nee`."
    )
    required: bool
    options: list[OptionOut] = Field(description="The answers to choose from; empty for text.")

    @staticmethod
    def resolve_label(obj: Question) -> str:
        return obj.label_in(translation.get_language())

    @staticmethod
    def resolve_help_text(obj: Question) -> str:
        return obj.help_text_in(translation.get_language())

    @staticmethod
    def resolve_options(obj: Question) -> list[dict[str, str]]:
        return [
            {"value": value, "label": label}
            for value, label in obj.options(translation.get_language())
        ]


class ActivityDetailOut(ActivityOut):
    model_config = example(
        {
            **ACTIVITY_EXAMPLE,
            "questions": [
                {
                    "id": 3,
                    "label": "Hoe oud is je kind?",
                    "help_text": "",
                    "kind": "choice",
                    "required": True,
                    "options": [
                        {"value": "6-8", "label": "6 tot 8 jaar"},
                        {"value": "9-12", "label": "9 tot 12 jaar"},
                    ],
                }
            ],
        }
    )

    questions: list[QuestionOut] = Field(
        description="Extra questions the sign-up asks, in order; answer them in the sign-up's "
        "`answers`."
    )

    @staticmethod
    def resolve_questions(obj: Activity) -> list[Question]:
        return list(obj.questions.all())


class ActivityFilters(Schema):
    """The listing's filters, as on the programme page."""

    audience: Activity.Audience | None = Field(None, description="Only activities for this group.")
    month: str | None = Field(
        None,
        pattern=MONTH_PATTERN,
        description="Only activities starting in this month, as YYYY-MM.",
        examples=["2026-03"],
    )
    available: bool = Field(False, description="Only activities one can still sign up for.")

    @field_validator("audience", "month", mode="before")
    @classmethod
    def _empty_is_all(cls, value: object) -> object:
        # The page's filter form sends `audience=&month=` for "all"; accept its query strings.
        return None if value == "" else value

    def to_filter(self) -> ActivityFilter:
        month = None
        if self.month:
            year, number = map(int, self.month.split("-"))
            month = dt.date(year, number, 1)
        return ActivityFilter(audience=self.audience or "", month=month, available=self.available)


SLUG = Path(..., description="The programme's slug.", examples=["brandweer-100"])
ACTIVITY_ID = Path(..., ge=1, le=MAX_ID, description="The activity's id.", examples=[12])
NOT_FOUND = {404: ErrorOut}
INVALID = {422: ErrorOut}


@router.get(
    "/programmes",
    response={200: list[ProgrammeOut], **INVALID},
    url_name="programmes",
    tags=["programmes"],
    summary="List public programmes",
)
@strict_query
@paginate(Pagination)
def list_programmes(request: HttpRequest) -> QuerySet[Programme]:
    """Public programmes, the latest first."""
    return Programme.objects.public().order_by("-starts_on", "name")


@router.get(
    "/programmes/{slug}/activities",
    response={200: list[ActivityOut], **NOT_FOUND, **INVALID},
    url_name="programme_activities",
    tags=["activities"],
    summary="List a programme's activities",
)
@strict_query
@paginate(Pagination)
def list_programme_activities(
    request: HttpRequest, filters: Query[ActivityFilters], slug: str = SLUG
) -> QuerySet[Activity]:
    """Published and cancelled activities of a public programme in order of start, filtered like
    the programme page."""
    programme = get_object_or_404(Programme.objects.public(), slug=slug)
    return listed_activities(programme, filters.to_filter())


@router.get(
    "/activities/{id}",
    response={200: ActivityDetailOut, **NOT_FOUND, **INVALID},
    url_name="activity",
    tags=["activities"],
    summary="Get one activity",
)
@strict_query
def get_activity(request: HttpRequest, id: int = ACTIVITY_ID) -> Activity:
    """One published or cancelled activity of a public programme, with the places left and
    the extra questions its sign-up asks."""
    activities = (
        Activity.objects.listed()
        .with_places_taken()
        .select_related("programme")
        .prefetch_related("questions")
    )
    return get_object_or_404(activities, pk=id)

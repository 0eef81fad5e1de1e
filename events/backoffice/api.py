"""Organiser API for authoring activities: create a draft, change it, publish and unpublish.

For whoever keeps an agenda elsewhere (the municipality's own) and brings its activities here with
a personal API token (`Authorization: Bearer <token>`; `manage.py create_api_token <username>`) or
the organiser area's session. The rules are the organiser pages': the input goes through the
editor's form (`events.backoffice.forms.ActivityForm`), so the API refuses what the page refuses,
in the same words, at the same field; status changes go through `Activity.publish()` and
`unpublish()`. An organiser of the programme changes; a viewer gets 403; anyone else 404, as if
the programme or activity did not exist (`events.access`).

The operations share their paths with the public ones of `events.api` (GET lists and reads,
POST and PATCH change), and Django routes a path to one router only: they are added to that
router, with their own authentication.
"""

# No `from __future__ import annotations` here: ninja reads parameter and field types from the
# signatures and class bodies at import time.

import datetime as dt
from collections.abc import Callable
from typing import Any

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.http import HttpRequest
from django.shortcuts import get_object_or_404
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from ninja import Field, Schema, Status
from ninja.errors import AuthorizationError
from ninja.errors import ValidationError as NinjaValidationError
from pydantic import ConfigDict, field_validator

from events.access import get_programme_for_organiser, programmes_for
from events.api import ACTIVITY_ID, SITE, SLUG, router
from events.backoffice.forms import ActivityForm, form_data
from events.models import Activity, Programme
from jubileum.lib.apitokens import OrganiserAuth
from jubileum.lib.apitools import ErrorOut, example, strict_query
from jubileum.lib.validation import form_problems

TAG = "authoring"
TAGS = [
    {
        "name": TAG,
        "description": "For a programme's organisers: create draft activities, change them, "
        "publish and unpublish them (with a personal API token).",
    }
]
CREATE_ERRORS = {401: ErrorOut, 403: ErrorOut, 404: ErrorOut, 422: ErrorOut}
ERRORS = {**CREATE_ERRORS, 409: ErrorOut}

# The longest text a description may be: far more than any page shows, a bound on the body.
DESCRIPTION_MAX_LENGTH = 20_000
# A price as the API takes it: digits and a decimal point. Anything of that shape reaches the
# form, which says what is wrong with it in words (three decimals, too large).
PRICE_INPUT_PATTERN = r"^[0-9]{1,8}(\.[0-9]{1,6})?$"
ENGLISH = "In English; empty (the default): the Dutch is shown."
MOMENT = (
    "ISO 8601, e.g. `2027-04-10T14:00:00+02:00`; without an offset it is Dutch time "
    "(Europe/Amsterdam)."
)

ADMIN_EXAMPLE = {
    "id": 12,
    "programme": "brandweer-100",
    "slug": "kinderbrandweermiddag",
    "status": "draft",
    "title": "Kinderbrandweermiddag",
    "title_en": "Children's fire brigade afternoon",
    "summary": "Spuiten, een ritje in de tankautospuit en limonade.",
    "summary_en": "Hoses, a ride in the fire engine and lemonade.",
    "description": "Voor kinderen van 6 tot 12 jaar, met een ouder.",
    "description_en": "For children aged 6 to 12, with a parent.",
    "starts_at": "2027-04-10T14:00:00+02:00",
    "ends_at": "2027-04-10T16:30:00+02:00",
    "location_name": "Kazerne Soest",
    "location_name_en": "Soest fire station",
    "location_address": "Kerkebuurt 2, Soest",
    "audience": "public",
    "registration_required": True,
    "approval_required": False,
    "capacity": 40,
    "max_party_size": 4,
    "waitlist_enabled": True,
    "price": "7.50",
    "currency": "EUR",
    "registration_opens_at": None,
    "registration_closes_at": "2027-04-09T18:00:00+02:00",
    "cancellation_closes_at": None,
    "image_url": None,
    "image_alt": "",
    "image_alt_en": "",
    "cancellation_reason": "",
    "cancellation_alternative": "",
    "url": f"{SITE}/programma/brandweer-100/activiteit/kinderbrandweermiddag/",
    "created_at": "2027-02-01T09:30:00+01:00",
}
INPUT_EXAMPLE = {
    key: ADMIN_EXAMPLE[key]
    for key in (
        "title",
        "title_en",
        "summary",
        "summary_en",
        "description",
        "starts_at",
        "ends_at",
        "location_name",
        "location_address",
        "capacity",
        "max_party_size",
        "price",
        "registration_closes_at",
    )
}


def _local(moment: dt.datetime | None) -> dt.datetime | None:
    return moment and timezone.localtime(moment)


# --- Output ------------------------------------------------------------------------------------


class ActivityAdminOut(Schema):
    """An activity as its organisers see it: every field in both languages, drafts too."""

    model_config = example(ADMIN_EXAMPLE)

    id: int = Field(description="The activity's id, for the operations on `/activities/{id}`.")
    programme: str = Field(description="Slug of the programme.")
    slug: str = Field(description="The activity's address in its programme's pages.")
    status: Activity.Status = Field(
        description="`draft` (only organisers see it), `published` or `cancelled`."
    )
    title: str = Field(description="In Dutch.")
    title_en: str = Field(description="In English; empty: the Dutch is shown.")
    summary: str = Field(description="One sentence, in Dutch.")
    summary_en: str = Field(description="In English; empty: the Dutch is shown.")
    description: str = Field(description="Plain text; an empty line starts a paragraph.")
    description_en: str = Field(description="In English; empty: the Dutch is shown.")
    starts_at: dt.datetime = Field(description="ISO 8601 in Europe/Amsterdam, with offset.")
    ends_at: dt.datetime = Field(description="ISO 8601 in Europe/Amsterdam, with offset.")
    location_name: str = Field(description="Where, in Dutch.")
    location_name_en: str = Field(description="In English; empty: the Dutch is shown.")
    location_address: str = Field(description="Street and town; may be empty.")
    audience: Activity.Audience = Field(description="Who may sign up.")
    registration_required: bool = Field(description="False: everyone may walk in.")
    approval_required: bool = Field(
        description="Each registration waits for an organiser's approval."
    )
    capacity: int | None = Field(description="Places in persons; empty for unlimited.")
    max_party_size: int = Field(description="Persons one registration may bring at most.")
    waitlist_enabled: bool = Field(description="When full, people may join a waiting list.")
    price: str = Field(
        description="Price per person, a decimal string with two places; 0.00 is free.",
        pattern=r"^[0-9]+\.[0-9]{2}$",
        examples=["7.50"],
    )
    currency: str = Field(description="Always EUR.")
    registration_opens_at: dt.datetime | None = Field(description="Empty: as soon as published.")
    registration_closes_at: dt.datetime | None = Field(
        description="Empty: sign-up closes when the activity starts."
    )
    cancellation_closes_at: dt.datetime | None = Field(
        description="Empty: registrants may cancel until the activity starts."
    )
    image_url: str | None = Field(
        description="The activity's image, if it has one; set on the organiser's page only."
    )
    image_alt: str = Field(description="What the image shows, in Dutch.")
    image_alt_en: str = Field(description="In English; empty: the Dutch is used.")
    cancellation_reason: str = Field(description="Why it was called off (cancelled only).")
    cancellation_alternative: str = Field(
        description="What people can do instead (cancelled only; may be empty)."
    )
    url: str = Field(description="The activity's public page (a draft's answers 404).")
    created_at: dt.datetime = Field(description="When it was made, ISO 8601 with offset.")

    @staticmethod
    def resolve_programme(obj: Activity) -> str:
        return obj.programme.slug

    @staticmethod
    def resolve_starts_at(obj: Activity) -> dt.datetime:
        return timezone.localtime(obj.starts_at)

    @staticmethod
    def resolve_ends_at(obj: Activity) -> dt.datetime:
        return timezone.localtime(obj.ends_at)

    @staticmethod
    def resolve_registration_opens_at(obj: Activity) -> dt.datetime | None:
        return _local(obj.registration_opens_at)

    @staticmethod
    def resolve_registration_closes_at(obj: Activity) -> dt.datetime | None:
        return _local(obj.registration_closes_at)

    @staticmethod
    def resolve_cancellation_closes_at(obj: Activity) -> dt.datetime | None:
        return _local(obj.cancellation_closes_at)

    @staticmethod
    def resolve_created_at(obj: Activity) -> dt.datetime:
        return timezone.localtime(obj.created_at)

    @staticmethod
    def resolve_price(obj: Activity) -> str:
        return f"{obj.price:.2f}"

    @staticmethod
    def resolve_currency(obj: Activity) -> str:
        return "EUR"

    @staticmethod
    def resolve_image_url(obj: Activity, context: dict[str, Any]) -> str | None:
        return context["request"].build_absolute_uri(obj.image.url) if obj.image else None

    @staticmethod
    def resolve_url(obj: Activity, context: dict[str, Any]) -> str:
        return context["request"].build_absolute_uri(obj.get_absolute_url())


# --- Input -------------------------------------------------------------------------------------


def _max_length(field: str) -> int:
    return getattr(Activity._meta.get_field(field), "max_length", None) or DESCRIPTION_MAX_LENGTH


def _optional(**kwargs: Any) -> Any:
    return Field(None, **kwargs)


def _text(field: str, description: str = "") -> Any:
    return _optional(max_length=_max_length(field), description=description or None)


def _input_config(example_value: dict[str, Any]) -> ConfigDict:
    """Strict input with one example; the document shows no defaults: a field's Python
    default (None) stands for "not sent", not for a value a client could send."""

    def extra(schema: dict[str, Any]) -> None:
        for field in schema.get("properties", {}).values():
            field.pop("default", None)
        schema["examples"] = [example_value]

    return ConfigDict(extra="forbid", json_schema_extra=extra)


class ActivityPatchIn(Schema):
    """The fields to change; those left out stay as they are."""

    model_config = _input_config({"location_name": "Kazerne Soesterberg"})

    title: str = _text("title", "In Dutch; required.")
    title_en: str = _text("title_en", ENGLISH)
    summary: str = _text("summary", "One sentence, in Dutch; required.")
    summary_en: str = _text("summary_en", ENGLISH)
    description: str = _text(
        "description",
        "Plain text: an empty line starts a new paragraph, a web address becomes a link; "
        "HTML is not taken over.",
    )
    description_en: str = _text("description_en", ENGLISH)
    starts_at: dt.datetime = _optional(description=MOMENT)
    ends_at: dt.datetime = _optional(description=f"After `starts_at`. {MOMENT}")
    location_name: str = _text("location_name", "Where, in Dutch; required.")
    location_name_en: str = _text("location_name_en", ENGLISH)
    location_address: str = _text("location_address", "Street and town; may be empty.")
    audience: Activity.Audience = _optional(description="Who may sign up (default `public`).")
    registration_required: bool = _optional(
        description="False: everyone may walk in, and the price must be 0 (default true)."
    )
    approval_required: bool = _optional(
        description="Each registration waits for an organiser's approval, except those with an "
        "invitation (default false).",
    )
    capacity: int | None = Field(
        None, ge=1, le=2_147_483_647, description="Places in persons; null for unlimited."
    )
    max_party_size: int = _optional(
        ge=1,
        le=32_767,
        description="Persons one registration may bring, at most `capacity` (default 6).",
    )
    price: str = _optional(
        pattern=PRICE_INPUT_PATTERN,
        description="Price per person in euros as a decimal string, at most two decimals and "
        "at most 9999.99, e.g. `7.50`; `0` is free (default). Never a JSON number: those are "
        "read as binary floats.",
        examples=["7.50"],
    )
    waitlist_enabled: bool = _optional(description="Default true.")
    registration_opens_at: dt.datetime | None = Field(
        None, description=f"Null: as soon as published. {MOMENT}"
    )
    registration_closes_at: dt.datetime | None = Field(
        None, description=f"Null: until the activity starts. {MOMENT}"
    )
    cancellation_closes_at: dt.datetime | None = Field(
        None, description=f"Until when registrants may cancel; null: until it starts. {MOMENT}"
    )
    image_alt: str = _text(
        "image_alt",
        "What the image shows, for who cannot see it. The image itself is set on the "
        "organiser's page; the API cannot upload one.",
    )
    image_alt_en: str = _text("image_alt_en", ENGLISH)

    @field_validator(
        "starts_at",
        "ends_at",
        "registration_opens_at",
        "registration_closes_at",
        "cancellation_closes_at",
        mode="before",
    )
    @classmethod
    def _moment_as_text(cls, value: object) -> object:
        # pydantic would take a number as seconds since 1970; a moment travels as ISO 8601.
        if value is not None and not isinstance(value, str):
            raise ValueError(
                _("Moet een tijdstip zijn in ISO 8601, bijvoorbeeld 2027-04-10T14:00:00+02:00.")
            )
        return value

    def form_fields(self) -> dict[str, Any]:
        """The fields sent, as the form takes them: null is an empty field."""
        return {
            name: "" if value is None else value
            for name, value in self.model_dump(exclude_unset=True).items()
        }


class ActivityIn(ActivityPatchIn):
    """A new activity: title, summary, start, end and location are required; what is left out
    gets its default."""

    model_config = _input_config(INPUT_EXAMPLE)

    title: str = Field(max_length=_max_length("title"), description="In Dutch.")
    summary: str = Field(max_length=_max_length("summary"), description="One sentence, in Dutch.")
    starts_at: dt.datetime = Field(description=MOMENT)
    ends_at: dt.datetime = Field(description=f"After `starts_at`. {MOMENT}")
    location_name: str = Field(max_length=_max_length("location_name"), description="In Dutch.")


# --- Endpoints ---------------------------------------------------------------------------------


def _programme(request: HttpRequest, slug: str) -> Programme:
    try:
        return get_programme_for_organiser(request.user, slug, write=True)
    except PermissionDenied:
        raise AuthorizationError from None


def _locked_activity(request: HttpRequest, activity_id: int) -> Activity:
    """The activity, locked for the change, if this user may change it: not theirs is 404 (as
    a draft's id is nobody else's business), a viewer's 403. Call inside a transaction."""
    activities = Activity.objects.filter(programme__in=programmes_for(request.user))
    activity = get_object_or_404(activities.select_for_update(), pk=activity_id)
    activity.programme = _programme(request, activity.programme.slug)
    return activity


def _record_who(activity: Any, user: Any) -> None:
    # simple_history reads `_history_user` before asking the request's user (which a token
    # request has only because OrganiserAuth sets it): the history names who acted.
    activity._history_user = user


def _save(form: ActivityForm, by: Any) -> Activity:
    if not form.is_valid():
        raise NinjaValidationError(form_problems(form, ("body", "payload")))
    _record_who(form.instance, by)
    return form.save()


def _transition(
    request: HttpRequest, activity_id: int, change: Callable[[Activity], list[str]]
) -> Activity:
    with transaction.atomic():
        activity = _locked_activity(request, activity_id)
        fields = change(activity)
        _record_who(activity, request.user)
        activity.save(update_fields=[*fields, "updated_at"])
    return activity


@router.post(
    "/programmes/{slug}/activities",
    response={201: ActivityAdminOut, **CREATE_ERRORS},
    auth=OrganiserAuth(),
    url_name="programme_activity_create",
    tags=[TAG],
    summary="Create a draft activity",
)
@strict_query
def create_activity(request: HttpRequest, payload: ActivityIn, slug: str = SLUG) -> Status:
    """Organisers of the programme only. The activity starts as a `draft`, which only the
    organisers see, with a slug made from its title; publish it with `.../publish`. The input
    is checked as on the organiser's page: each mistake is a `validation_error` problem at its
    field (`loc` `["body", "payload", field]`, `__all__` for a rule between fields) with the
    page's message in `msg`, and nothing is saved."""
    programme = _programme(request, slug)
    data = form_data(Activity(programme=programme)) | payload.form_fields()
    with transaction.atomic():
        # Two imports of the same title at once would pick the same free slug; the programme's
        # row makes them take turns (NO KEY: rows that merely refer to it are not held up).
        Programme.objects.select_for_update(no_key=True).get(pk=programme.pk)
        activity = _save(ActivityForm(data, programme=programme, typed=False), request.user)
    return Status(201, activity)


@router.patch(
    "/activities/{id}",
    response={200: ActivityAdminOut, **ERRORS},
    auth=OrganiserAuth(),
    url_name="activity_change",
    tags=[TAG],
    summary="Change an activity",
)
@strict_query
def change_activity(request: HttpRequest, payload: ActivityPatchIn, id: int = ACTIVITY_ID) -> Any:
    """Change the fields sent; the others stay as they are. The result is checked as a whole,
    as the organiser's page checks it (an end moved before the start is a 422 at `ends_at`).
    A draft or a published activity; a cancelled one cannot be changed (409
    `activity_cancelled`). Registrants are not told of the change: the organiser's page offers
    that."""
    with transaction.atomic():
        activity = _locked_activity(request, id)
        activity.check_changeable()
        data = form_data(activity) | payload.form_fields()
        activity = _save(
            ActivityForm(data, instance=activity, programme=activity.programme, typed=False),
            request.user,
        )
    return activity


@router.post(
    "/activities/{id}/publish",
    response={200: ActivityAdminOut, **ERRORS},
    auth=OrganiserAuth(),
    url_name="activity_publish",
    tags=[TAG],
    summary="Publish an activity",
)
@strict_query
def publish_activity(request: HttpRequest, id: int = ACTIVITY_ID) -> Activity:
    """Show a draft to the public: it appears in the programme's lists, and sign-up opens as
    its dates say. 409 `invalid_state` for an activity already published or cancelled."""
    return _transition(request, id, Activity.publish)


@router.post(
    "/activities/{id}/unpublish",
    response={200: ActivityAdminOut, **ERRORS},
    auth=OrganiserAuth(),
    url_name="activity_unpublish",
    tags=[TAG],
    summary="Take an activity back to a draft",
)
@strict_query
def unpublish_activity(request: HttpRequest, id: int = ACTIVITY_ID) -> Activity:
    """Hide a published activity from the public again; sign-up closes, and whoever signed up
    keeps their place. 409 `invalid_state` for a draft or a cancelled activity."""
    return _transition(request, id, Activity.unpublish)

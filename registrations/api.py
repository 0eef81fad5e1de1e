"""Registration API: sign up for an activity, and read, change or cancel one registration through
its manage token. Mounted by `jubileum.api`; the rules are the services' (`registrations.services`),
whose domain errors leave as `{"code", "message", "details"}` with their own status.
"""

# No `from __future__ import annotations` here: ninja reads parameter and field types from the
# signatures and class bodies at import time.

import datetime as dt
from typing import Any, Literal

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.http import HttpRequest
from django.shortcuts import get_object_or_404
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import Field, Path, Router, Schema, Status
from pydantic import ConfigDict, field_validator

from events.api import ACTIVITY_ID, MAX_ID, SITE
from events.models import Activity
from jubileum.lib import ratelimit
from jubileum.lib.apitools import ErrorOut, example, strict_query
from registrations import services
from registrations.answers import shown_answers
from registrations.links import registration_for_token
from registrations.models import Brigade, Registration
from registrations.tokens import ticket_qr_payload

router = Router()
TAGS = [
    {
        "name": "registrations",
        "description": "Signing up, and reading, changing or cancelling one registration with "
        "its manage token; claiming a waitlist offer.",
    }
]

RegistrationStatus = Registration.Status
TOKEN_DESCRIPTION = "The registration's manage token, from the personal link or the sign-up answer."


MANAGE_TOKEN_EXAMPLE = "3vQbKk9tR2xY7mN4pLwZ"
REGISTRATION_EXAMPLE = {
    "id": 481,
    "status": "confirmed",
    "party_size": 3,
    "contact_name": "Anna de Vries",
    "email": "anna@example.org",
    "phone": "06 1234 5678",
    "kind": "resident",
    "brigade": "",
    "years_of_service": None,
    "language": "nl",
    "hold_expires_at": None,
    "confirmed_at": "2027-03-02T20:14:05+01:00",
    "cancelled_at": None,
    "activity": {
        "id": 12,
        "programme": "brandweer-100",
        "title": "Kinderbrandweermiddag",
        "starts_at": "2027-04-10T14:00:00+02:00",
        "ends_at": "2027-04-10T16:30:00+02:00",
        "location_name": "Kazerne Soest",
        "location_address": "Kerkebuurt 2, Soest",
        "url": f"{SITE}/programma/brandweer-100/activiteit/kinderbrandweermiddag/",
    },
    "ticket_code": "K7Q2M4XW9ZP3R5T6V8YA",
    "ticket_qr": "JUB1:K7Q2M4XW9ZP3R5T6V8YA",
    "answers": [
        {"question": 3, "label": "Hoe oud is je kind?", "value": "6-8", "display": "6 tot 8 jaar"}
    ],
}


def _local(moment: dt.datetime | None) -> dt.datetime | None:
    return moment and timezone.localtime(moment)


class StrictIn(Schema):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class AnswerIn(StrictIn):
    question: int = Field(
        ge=1, le=MAX_ID, description="The question's id (the activity's `questions`)."
    )
    value: str = Field(
        max_length=services.MAX_ANSWER_LENGTH,
        description="The answer: free text, or for a choice or yes/no question one of its "
        "options' `value`. Empty counts as not answered.",
    )


class AnswerOut(Schema):
    question: int = Field(description="The question's id.")
    label: str = Field(description="The question, in the request's language.")
    value: str = Field(description="The answer as stored: the text, or the option's `value`.")
    display: str = Field(description="The answer as shown to people, in the request's language.")


def _answers(registration: Registration, language: str) -> list[dict[str, Any]]:
    return [
        {
            "question": answer.question_id,
            "label": answer.label,
            "value": answer.value,
            "display": answer.display,
        }
        for answer in shown_answers(registration, language)
    ]


class SignUpIn(StrictIn):
    model_config = example(
        {
            "contact_name": "Anna de Vries",
            "email": "anna@example.org",
            "party_size": 3,
            "phone": "06 1234 5678",
            "consent": True,
            "answers": [{"question": 3, "value": "6-8"}],
        }
    )

    contact_name: str = Field(min_length=1, max_length=200)
    email: str = Field(max_length=254, examples=["naam@example.org"])
    party_size: int = Field(ge=1, le=50, description="Persons, the contact included.")
    phone: str = Field("", max_length=40)
    kind: Registration.Kind = Registration.Kind.RESIDENT
    brigade: Brigade | None = Field(None, description="For (former) members: their brigade.")
    years_of_service: int | None = Field(None, ge=0, le=80)
    language: Literal["nl", "en"] | None = Field(
        None, description="Language of the e-mails; the request's language when left out."
    )
    invitation_code: str = Field("", max_length=32, description="A personal invitation code.")
    consent: bool = Field(
        description="The person agrees to the privacy statement; must be true.",
    )
    answers: list[AnswerIn] = Field(
        default_factory=list,
        max_length=100,
        description="Answers to the activity's extra questions (see the activity's "
        "`questions`), at most one per question; every required question must be answered.",
    )

    @field_validator("email")
    @classmethod
    def _valid_email(cls, value: str) -> str:
        try:
            validate_email(value)
        except ValidationError:
            raise ValueError(_("Dit is geen geldig e-mailadres.")) from None
        return value

    @field_validator("consent")
    @classmethod
    def _consent_given(cls, value: bool) -> bool:
        if value is not True:
            raise ValueError(_("Zonder toestemming (true) kunnen we niemand aanmelden."))
        return value

    @field_validator("answers")
    @classmethod
    def _one_answer_per_question(cls, value: list[AnswerIn]) -> list[AnswerIn]:
        if len({answer.question for answer in value}) != len(value):
            raise ValueError(_("Beantwoord elke vraag hoogstens één keer."))
        return value

    def answers_by_question(self) -> dict[int, str]:
        return {answer.question: answer.value for answer in self.answers}

    def to_sign_up(self, default_language: str) -> services.SignUp:
        return services.SignUp(
            contact_name=self.contact_name,
            email=self.email,
            party_size=self.party_size,
            phone=self.phone,
            kind=self.kind,
            brigade=self.brigade or "",
            years_of_service=self.years_of_service,
            language=self.language or default_language,
            invitation_code=self.invitation_code,
        )


class PartySizeIn(StrictIn):
    model_config = example({"party_size": 2})

    party_size: int = Field(ge=1, le=50, description="Persons, the contact included.")


class SignUpOut(Schema):
    model_config = example(
        {
            "activity_id": 12,
            "message": "Kijk in je e-mail. We sturen je een bericht over je aanmelding, met je "
            "persoonlijke link om die te bekijken, te wijzigen of te annuleren.",
        }
    )

    activity_id: int
    message: str = Field(
        description="What happens next, in the request's language: the outcome and the "
        "personal link come by e-mail."
    )


class ActivitySummaryOut(Schema):
    id: int
    programme: str = Field(description="Slug of the programme.")
    title: str
    starts_at: dt.datetime
    ends_at: dt.datetime
    location_name: str
    location_address: str
    url: str = Field(description="The activity's page.")

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
    def resolve_url(obj: Activity, context: dict[str, Any]) -> str:
        return context["request"].build_absolute_uri(obj.get_absolute_url())


class RegistrationOut(Schema):
    model_config = example(REGISTRATION_EXAMPLE)

    id: int
    status: RegistrationStatus
    party_size: int
    contact_name: str
    email: str
    phone: str
    kind: Registration.Kind
    brigade: str
    years_of_service: int | None
    language: str
    hold_expires_at: dt.datetime | None = Field(
        description="Until when a payment hold or a waitlist offer keeps its places."
    )
    confirmed_at: dt.datetime | None
    cancelled_at: dt.datetime | None
    activity: ActivitySummaryOut
    ticket_code: str | None = Field(
        description="The code the ticket's QR holds; only while the registration admits "
        "(status confirmed)."
    )
    ticket_qr: str | None = Field(
        description="The exact QR payload (`JUB1:` + ticket code); only while confirmed.",
        examples=["JUB1:K7Q2M4XW9ZP3R5T6V8YA"],
    )
    answers: list[AnswerOut] = Field(
        description="Answers to the activity's extra questions, in the questions' order."
    )

    @staticmethod
    def resolve_hold_expires_at(obj: Registration) -> dt.datetime | None:
        return _local(obj.hold_expires_at)

    @staticmethod
    def resolve_confirmed_at(obj: Registration) -> dt.datetime | None:
        return _local(obj.confirmed_at)

    @staticmethod
    def resolve_cancelled_at(obj: Registration) -> dt.datetime | None:
        return _local(obj.cancelled_at)

    @staticmethod
    def resolve_ticket_code(obj: Registration) -> str | None:
        return obj.ticket_code if obj.status == RegistrationStatus.CONFIRMED else None

    @staticmethod
    def resolve_ticket_qr(obj: Registration) -> str | None:
        return (
            ticket_qr_payload(obj.ticket_code)
            if obj.status == RegistrationStatus.CONFIRMED
            else None
        )

    @staticmethod
    def resolve_answers(obj: Registration, context: dict[str, Any]) -> list[dict[str, Any]]:
        return _answers(obj, context["request"].LANGUAGE_CODE)


ERRORS = {404: ErrorOut, 409: ErrorOut, 422: ErrorOut, 429: ErrorOut}
TOKEN = Path(..., description=TOKEN_DESCRIPTION, examples=[MANAGE_TOKEN_EXAMPLE])


@router.post(
    "/activities/{id}/registrations",
    response={202: SignUpOut, **ERRORS},
    url_name="activity_registrations",
    tags=["registrations"],
    summary="Sign up for an activity",
)
@strict_query
def sign_up(request: HttpRequest, payload: SignUpIn, id: int = ACTIVITY_ID) -> Status:
    """Sign a party up for a published activity of a public programme.

    202 when the sign-up is taken: the outcome (confirmed; held for payment on a paid activity;
    waitlisted when full; waiting for an organiser's approval on a members-only or
    invitation-only activity the person is not on the roster or invited for) and the personal
    link, the manage token for GET/PATCH/DELETE /registrations/{token}, go to the e-mail
    address. The answer is the same when that address had signed up for the activity already:
    nothing changes then, and the address is sent its link again (at most once an hour). So
    the answer never tells whether someone is signed up, whoever knows their address.

    `answers` answers the activity's `questions` (see GET /activities/{id}); they are stored with
    the registration and read back with GET /registrations/{token}. A missing required answer,
    an unknown question or a value that is not one of a question's options is 422
    `invalid_answer`, with `details.question` naming the question.

    409 `registration_closed` or `activity_full`, 422 `party_too_large`, `unknown_invitation`,
    `invitation_used`, `invalid_answer` or `validation_error` change nothing, whether or not the
    address was signed up. 429 `throttled` (with Retry-After): too many sign-ups from this
    address (form and API together).
    """
    ratelimit.limit(request, "signup")
    activity = get_object_or_404(Activity.objects.listed(), pk=id)
    services.register(
        activity.pk,
        payload.to_sign_up(request.LANGUAGE_CODE),
        answers=payload.answers_by_question(),
    )
    return Status(202, {"activity_id": activity.pk, "message": str(services.SIGNED_UP_MESSAGE)})


@router.get(
    "/registrations/{token}",
    response={200: RegistrationOut, 404: ErrorOut, 422: ErrorOut, 429: ErrorOut},
    url_name="registration",
    tags=["registrations"],
    summary="Get a registration by its manage token",
)
@strict_query
def get_registration(request: HttpRequest, token: str = TOKEN) -> Registration:
    """The registration, its activity and, while it is confirmed, the ticket code."""
    return registration_for_token(request, token)


@router.patch(
    "/registrations/{token}",
    response={200: RegistrationOut, **ERRORS},
    url_name="registration_change",
    tags=["registrations"],
    summary="Change the party size",
)
@strict_query
def change_registration(
    request: HttpRequest, payload: PartySizeIn, token: str = TOKEN
) -> Registration:
    """Grow the party while places allow (409 `not_enough_places` otherwise) or shrink it, which
    offers the freed places to the waitlist. Possible until the cancellation deadline."""
    return services.change_party_size(registration_for_token(request, token).pk, payload.party_size)


@router.delete(
    "/registrations/{token}",
    response={200: RegistrationOut, **ERRORS},
    url_name="registration_cancel",
    tags=["registrations"],
    summary="Cancel a registration",
)
@strict_query
def cancel_registration(request: HttpRequest, token: str = TOKEN) -> Registration:
    """Cancel until the activity's cancellation deadline (409 `cancellation_closed` after it);
    the places go to the waitlist. Cancelling twice answers the cancelled registration again."""
    return services.cancel(registration_for_token(request, token).pk)


@router.post(
    "/waitlist-offers/{token}/claim",
    response={200: RegistrationOut, **ERRORS},
    url_name="claim_offer",
    tags=["registrations"],
    summary="Claim a waitlist offer",
)
@strict_query
def claim_offer(request: HttpRequest, token: str = TOKEN) -> Registration:
    """Take up the places offered to a waitlisted party, or kept for a party an organiser
    approved for a paid activity (status `offered` either way; the token is its manage token):
    status `confirmed`, or `pending_payment` for a paid activity, whose 30-minute hold starts
    now. A second claim answers the same; an offer whose time has passed answers 409
    `offer_expired` and goes to the next party."""
    registration = registration_for_token(request, token)
    ratelimit.limit(request, "claim")
    return services.claim_offer(registration.pk)

"""Registration workflows: sign up, waitlist offers, claims, changes, cancellation, approval.

Every workflow that can change who holds places locks the activity row first (`locking`), then
counts places with the same query the listings use (`capacity`). Two sign-ups for the last
place therefore queue up behind each other and the second one sees the first. Mail goes out
after the commit, through a background task that takes ids (`notify`).
"""

from __future__ import annotations

import datetime as dt
import logging
import re
from dataclasses import dataclass, replace

from django.contrib.auth.models import User
from django.db import transaction
from django.utils import timezone, translation
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from events.models import Activity, Question
from registrations.capacity import (
    PAYMENT_HOLD,
    expire_lapsed,
    fits,
    fits_after_waitlist,
    offer_freed_places,
    offer_until,
    places_free,
)
from registrations.errors import InvalidState, RegistrationError
from registrations.locking import lock_activity, lock_registration
from registrations.models import (
    Answer,
    Invitation,
    MailKind,
    Payment,
    Registration,
    RosterEntry,
)
from registrations.notify import mail_kind, send_after_commit
from registrations.payments import services as payments
from registrations.signals import registration_awaits_approval

logger = logging.getLogger(__name__)

Status = Registration.Status


class RegistrationClosed(RegistrationError):
    code = "registration_closed"
    message = _("Aanmelden voor deze activiteit is niet (meer) mogelijk.")


class PartyTooLarge(RegistrationError):
    code = "party_too_large"
    status = 422
    message = _("Voor deze activiteit is het grootste aantal personen per aanmelding %(max)s.")


class ActivityFull(RegistrationError):
    code = "activity_full"
    message = _("Deze activiteit is vol en heeft geen wachtlijst.")


class NotEnoughPlaces(RegistrationError):
    code = "not_enough_places"
    message = _("Er zijn niet genoeg plaatsen vrij om je groep groter te maken.")


class UnknownInvitation(RegistrationError):
    code = "unknown_invitation"
    status = 422
    message = _("Deze uitnodigingscode kennen we niet voor deze activiteit.")


class InvitationUsed(RegistrationError):
    code = "invitation_used"
    status = 422
    message = _(
        "Deze uitnodigingscode is al gebruikt. Een uitnodiging is persoonlijk; vraag de "
        "organisator om een eigen uitnodiging."
    )


class CancellationClosed(RegistrationError):
    code = "cancellation_closed"
    message = _("Annuleren kan niet meer; neem contact op met de organisator.")


class OfferExpired(RegistrationError):
    code = "offer_expired"
    message = _("Dit aanbod is verlopen; de plaats is aan de volgende op de wachtlijst gegeven.")


class InvalidAnswer(RegistrationError):
    """An answer to an extra question is missing, unknown or not one of the choices;
    `details["question"]` names the question (its id)."""

    code = "invalid_answer"
    status = 422
    message = _("Een antwoord op de vragen klopt niet.")


class ContactRequired(RegistrationError):
    code = "contact_required"
    status = 422
    message = _("Vul een telefoonnummer of een e-mailadres in.")


class PaymentNeedsEmail(RegistrationError):
    code = "payment_needs_email"
    status = 422
    message = _(
        "Deze activiteit kost geld. Betalen gaat met een betaallink per e-mail, en aan de "
        "balie kunnen we geen betaling vastleggen: vul een e-mailadres in."
    )


class WaitlistNeedsEmail(RegistrationError):
    code = "waitlist_needs_email"
    message = _(
        "Deze activiteit is vol. Op de wachtlijst kan alleen iemand met een e-mailadres: een "
        "vrijgekomen plaats bieden we per e-mail aan."
    )


# What a sign-up that went through is told, on the page and in the API alike, whatever its
# outcome and whether or not the address was signed up already: the e-mail says the rest.
SIGNED_UP_MESSAGE = _(
    "Kijk in je e-mail. We sturen je een bericht over je aanmelding, met je persoonlijke link "
    "om die te bekijken, te wijzigen of te annuleren."
)

# Longest answer to a text question (the Answer column holds as much).
MAX_ANSWER_LENGTH = 1000


def _party_too_large(activity: Activity) -> PartyTooLarge:
    return PartyTooLarge(
        PartyTooLarge.message % {"max": activity.max_party_size},
        details={"max_party_size": activity.max_party_size},
    )


@dataclass(frozen=True)
class SignUp:
    """What a person fills in; validated for shape by the form or API schema."""

    contact_name: str
    email: str
    party_size: int
    phone: str = ""
    kind: str = Registration.Kind.RESIDENT
    brigade: str = ""
    years_of_service: int | None = None
    language: str = "nl"
    invitation_code: str = ""


@dataclass(frozen=True)
class TakenBy:
    """The organiser who signs a person up on their behalf, by phone or at the desk, and how
    the person gave them consent (a `Registration.ConsentVia`)."""

    user: User
    via: str = Registration.ConsentVia.PHONE


@dataclass(frozen=True)
class SignUpResult:
    registration: Registration
    # False: this e-mail address was already signed up; that registration, unchanged. Only for
    # the caller's own bookkeeping: what a person is shown may not depend on it.
    created: bool


def as_on_the_roster(sign_up: SignUp, invitation: Invitation) -> SignUp:
    """The sign-up as the roster entry the invitation went to says: a member or former member
    of that brigade (the roster's word over the form's, so the council report counts them as
    members), and the years of service from the roster when none were given."""
    entry = invitation.roster_entry()
    if entry is None:
        return sign_up
    years = sign_up.years_of_service
    return replace(
        sign_up,
        kind=entry.kind,
        brigade=entry.brigade,
        years_of_service=entry.years_of_service if years is None else years,
    )


def _needs_approval(activity: Activity, email: str, invitation: Invitation | None) -> bool:
    if invitation is not None:
        return False
    if activity.approval_required:
        return True
    if activity.audience == Activity.Audience.PUBLIC:
        return False
    if activity.audience == Activity.Audience.MEMBERS:
        on_roster = RosterEntry.objects.filter(
            programme_id=activity.programme_id, email__iexact=email
        ).exists()
        return not on_roster
    return True  # invitation-only without a code: an organiser decides


def _phone_digits(phone: str) -> str:
    """A phone number as its digits only, to compare "06-1234 5678" with "0612345678"."""
    return re.sub(r"\D", "", phone)


def _already_signed_up(activity: Activity, email: str, sign_up: SignUp) -> Registration | None:
    """The active registration this sign-up repeats: the same e-mail address or, for a person
    without one (an organiser's sign-up by phone), the same name and phone number."""
    active = activity.registrations.filter(status__in=Registration.ACTIVE_STATUSES)
    if email:
        return active.filter(email__iexact=email).order_by("created_at").first()
    digits = _phone_digits(sign_up.phone)
    same_name = active.filter(email="", contact_name__iexact=sign_up.contact_name.strip())
    for registration in same_name.order_by("created_at"):
        if digits and _phone_digits(registration.phone) == digits:
            return registration
    return None


def _admit(registration: Registration, activity: Activity, now: dt.datetime) -> None:
    """Give the party its places: confirmed, or held while they pay."""
    if activity.price > 0:
        registration.hold_for_payment(now + PAYMENT_HOLD)
    else:
        registration.confirm(now)


def _answer_error(question: Question, message: str | Promise) -> InvalidAnswer:
    label = question.label_in(translation.get_language() or "nl")
    text = message % {"label": label, "max": MAX_ANSWER_LENGTH}
    return InvalidAnswer(text, details={"question": question.pk})


def _checked_answers(activity: Activity, answers: dict[int, str]) -> dict[Question, str]:
    """The non-empty answers to store, each checked against its question: every question of
    this activity, every choice among its options, every required question answered."""
    questions = {question.pk: question for question in activity.questions.all()}
    unknown = sorted(set(answers) - set(questions))
    if unknown:
        raise InvalidAnswer(
            _("Deze vraag hoort niet bij deze activiteit."), details={"question": unknown[0]}
        )
    checked: dict[Question, str] = {}
    for question in questions.values():
        value = (answers.get(question.pk) or "").strip()
        if not value:
            if question.required:
                raise _answer_error(question, _("Beantwoord de vraag “%(label)s”."))
            continue
        if question.kind == Question.Kind.TEXT:
            if len(value) > MAX_ANSWER_LENGTH:
                raise _answer_error(
                    question,
                    _("Je antwoord op “%(label)s” mag hoogstens %(max)s tekens lang zijn."),
                )
        elif value not in dict(question.options()):
            raise _answer_error(question, _("Kies een van de antwoorden bij “%(label)s”."))
        checked[question] = value
    return checked


def register(
    activity_id: int,
    sign_up: SignUp,
    *,
    answers: dict[int, str] | None = None,
    taken_by: TakenBy | None = None,
    now: dt.datetime | None = None,
) -> SignUpResult:
    """Sign a party up: confirmed, held for payment, waitlisted, or waiting for approval.

    `answers` holds the answers to the activity's extra questions (question id → value; a
    choice or yes/no by its stored value). They are checked and saved with the registration,
    or the sign-up fails with `InvalidAnswer` and nothing is saved.

    The same e-mail address signing up again for the same activity (a double click, a second
    try, or someone who knows the address) never makes a second registration and changes
    nothing. It goes through every check a new sign-up would, in the same order, so that it
    fails or succeeds exactly as a new one: nothing a stranger sends tells whether an address
    is signed up. Its owner is mailed the personal link instead (at most once an hour).

    `taken_by`: an organiser signs the person up on their behalf (by phone, at the desk). The
    organiser decides, so nothing waits for approval (for an invitation-only activity they
    are the inviter). The e-mail address may then be empty if there is a phone number; such
    a person cannot pay online nor be offered a freed place, so a paid activity and the
    waitlist need an address. A repeat (the same address, or without one the same name and
    phone number) is found before anything else: the organiser may know it was one.
    """
    now = now or timezone.now()
    email = sign_up.email.strip()
    if not (email or (taken_by and sign_up.phone.strip())):
        raise ContactRequired()
    with transaction.atomic():
        activity = lock_activity(activity_id)
        # A lapsed offer or hold is no registration to hand back: its owner starts afresh.
        expire_lapsed(activity, now)
        if not activity.registration_is_open(now):
            raise RegistrationClosed(details={"activity_id": activity.pk})
        if not 1 <= sign_up.party_size <= activity.max_party_size:
            raise _party_too_large(activity)
        if taken_by is not None:
            existing = _already_signed_up(activity, email, sign_up)
            if existing is not None:
                return SignUpResult(existing, created=False)
        invitation = None
        if sign_up.invitation_code:
            invitation = Invitation.objects.filter(
                activity=activity, code=sign_up.invitation_code.strip().upper()
            ).first()
            if invitation is None:
                raise UnknownInvitation()
            # The invitation is personal: once it admits one party it admits no other.
            if invitation.registrations.filter(status__in=Registration.ACTIVE_STATUSES).exists():
                raise InvitationUsed()
            sign_up = as_on_the_roster(sign_up, invitation)
        # Checked under the activity's lock: an organiser changing a question takes it too.
        checked_answers = _checked_answers(activity, answers or {})
        needs_approval = taken_by is None and _needs_approval(activity, email, invitation)
        fits_now = not needs_approval and fits_after_waitlist(activity, sign_up.party_size, now)
        if not (needs_approval or fits_now or activity.waitlist_enabled):
            raise ActivityFull(details={"places_left": places_free(activity, now)})
        if not email and activity.price > 0:
            raise PaymentNeedsEmail()
        if not email and not fits_now:
            raise WaitlistNeedsEmail(details={"places_left": places_free(activity, now)})

        if taken_by is None:
            existing = _already_signed_up(activity, email, sign_up)
            if existing is not None:
                if existing.claim_repeat_mail(now):
                    send_after_commit(existing, MailKind.ALREADY_SIGNED_UP)
                return SignUpResult(existing, created=False)

        registration = Registration(
            activity=activity,
            contact_name=sign_up.contact_name.strip(),
            email=email,
            phone=sign_up.phone.strip(),
            party_size=sign_up.party_size,
            kind=sign_up.kind,
            brigade=sign_up.brigade,
            years_of_service=sign_up.years_of_service,
            language=sign_up.language,
            consent_at=now,
            invitation=invitation,
        )
        if taken_by is not None:
            registration.consent_via = taken_by.via
            registration.consent_taken_by = taken_by.user
        if needs_approval:
            registration.await_approval()
        elif fits_now:
            _admit(registration, activity, now)
        else:
            registration.waitlist(now)
        registration.save()
        Answer.objects.bulk_create(
            Answer(registration=registration, question=question, value=value)
            for question, value in checked_answers.items()
        )
        send_after_commit(registration, mail_kind(registration))
        if needs_approval:
            registration_awaits_approval.send(
                sender=Registration, programme_id=activity.programme_id
            )
    return SignUpResult(registration, created=True)


def tidy_activities(*, now: dt.datetime | None = None) -> int:
    """Expire lapsed offers and holds everywhere and pass their places on; returns how many
    activities were looked at. Safe to run as often as you like."""
    now = now or timezone.now()
    ids = list(Registration.objects.lapsed(now).values_list("activity_id", flat=True).distinct())
    for activity_id in ids:
        with transaction.atomic():
            offer_freed_places(lock_activity(activity_id), now)
    return len(ids)


def claim_offer(registration_id: int, *, now: dt.datetime | None = None) -> Registration:
    """Take up a waitlist offer in time: the places become the party's."""
    now = now or timezone.now()
    with transaction.atomic():
        registration, activity = lock_registration(registration_id)
        if registration.status == Status.CONFIRMED or (
            registration.status == Status.PENDING_PAYMENT and registration.holds_places(now)
        ):
            return registration  # claimed already (a second click)
        if registration.status == Status.EXPIRED:
            raise OfferExpired()
        if registration.status != Status.OFFERED:
            raise InvalidState()
        if not registration.holds_places(now):
            # Through the activity's tidy-up, which tells an approved party their time ran out.
            offer_freed_places(activity, now)
            expired = True
        else:
            _admit(registration, activity, now)
            registration.save()
            send_after_commit(registration, mail_kind(registration))
            expired = False
    if expired:
        raise OfferExpired()
    return registration


def cancel(
    registration_id: int, *, by_organiser: bool = False, now: dt.datetime | None = None
) -> Registration:
    """Cancel a registration and offer its places to the waitlist; what was paid is refunded
    in full (after the commit) and unfinished payments are closed."""
    now = now or timezone.now()
    with transaction.atomic():
        registration, activity = lock_registration(registration_id)
        if registration.status == Status.CANCELLED:
            return registration
        if not registration.is_active:
            raise InvalidState()
        if not by_organiser and not activity.cancellation_is_open(now):
            raise CancellationClosed()
        registration.cancel(now)
        registration.save()
        # Before the e-mail is enqueued: the cancellation e-mail says what will be refunded.
        payments.refund_paid(registration, Payment.RefundReason.CANCELLED, now)
        send_after_commit(registration, "cancelled")
        offer_freed_places(activity, now)
    return registration


def cancel_activity(
    activity_id: int, *, reason: str, alternative: str = "", now: dt.datetime | None = None
) -> list[Registration]:
    """An organiser calls an activity off, saying why (and optionally what people can do
    instead): every active registration is cancelled, whatever was paid is refunded, and
    everyone gets an e-mail with the reason. Returns the registrations cancelled. Safe to
    repeat: a second run finds nobody left to cancel and keeps the first reason."""
    now = now or timezone.now()
    with transaction.atomic():
        activity = lock_activity(activity_id)
        if activity.status != Activity.Status.CANCELLED:
            activity.save(update_fields=[*activity.cancel(reason, alternative), "updated_at"])
        active = activity.registrations.select_for_update().filter(
            status__in=Registration.ACTIVE_STATUSES
        )
        cancelled = list(active.order_by("pk"))
        for registration in cancelled:
            registration.activity = activity
            registration.cancel(now)
            registration.save()
            payments.refund_paid(registration, Payment.RefundReason.ACTIVITY_CANCELLED, now)
            send_after_commit(registration, "activity_cancelled")
    return cancelled


def change_party_size(
    registration_id: int, party_size: int, *, now: dt.datetime | None = None
) -> Registration:
    """Change how many people come. Growing needs free places; shrinking frees them."""
    now = now or timezone.now()
    with transaction.atomic():
        registration, activity = lock_registration(registration_id)
        if not registration.is_active:
            raise InvalidState()
        if party_size < 1 or party_size > activity.max_party_size:
            raise _party_too_large(activity)
        if not activity.cancellation_is_open(now):
            raise CancellationClosed(message=_("Je aanmelding wijzigen kan niet meer."))
        growth = party_size - registration.party_size
        if growth == 0:
            return registration
        _check_payment_allows_change(registration, now)
        if growth > 0 and registration.holds_places(now):
            free = places_free(activity, now)
            if free is not None and growth > free:
                raise NotEnoughPlaces(details={"places_left": free})
        registration.party_size = party_size
        registration.save(update_fields=["party_size", "updated_at"])
        # A session made for the old size could still be paid: it no longer asks the right sum.
        payments.close_attempts(registration, now, "the party size changed")
        if growth < 0:
            offer_freed_places(activity, now)
        send_after_commit(registration, mail_kind(registration))
    return registration


def _check_payment_allows_change(registration: Registration, now: dt.datetime) -> None:
    """What was paid, or is being paid, is for this party size: it cannot change under it."""
    for payment in registration.payments.all():
        if (
            payment.is_paid
            and not payment.settles_nothing
            and payment.refunded_amount < payment.amount
        ):
            raise InvalidState(
                message=_(
                    "Je hebt al betaald voor dit aantal personen; wijzigen kan niet meer. "
                    "Neem contact op met de organisator."
                )
            )
        if payment.is_open(now) or payment.status == Payment.Status.PROCESSING:
            raise InvalidState(
                message=_(
                    "Er staat een betaling open voor dit aantal personen. Breek die eerst af, "
                    "dan kun je het aantal wijzigen."
                )
            )


def approve(registration_id: int, *, now: dt.datetime | None = None) -> Registration:
    """An organiser lets a pending member or guest in: places if there are any, else the
    waitlist (or, without one, places anyway: the organiser decided).

    For a paid activity the places are kept as long as a waitlist offer keeps them
    (`capacity.offer_until`): the party pays when it reads the e-mail, not within the half
    hour after the organiser's click. Pressing "Betalen" claims them as a waitlist offer is
    claimed (`claim_offer`), and the checkout's half-hour hold starts then."""
    now = now or timezone.now()
    with transaction.atomic():
        registration, activity = lock_registration(registration_id)
        if registration.status != Status.PENDING_APPROVAL:
            raise InvalidState()
        if fits(activity, registration.party_size, now) or not activity.waitlist_enabled:
            if activity.price > 0:
                registration.approve(now, offer_until(activity, now))
            else:
                registration.confirm(now)
        else:
            registration.waitlist(now)
        registration.save()
        send_after_commit(registration, mail_kind(registration))
    return registration


def decline(registration_id: int, *, now: dt.datetime | None = None) -> Registration:
    now = now or timezone.now()
    with transaction.atomic():
        registration, _activity = lock_registration(registration_id)
        if registration.status != Status.PENDING_APPROVAL:
            raise InvalidState()
        registration.cancel(now)
        registration.save()
        send_after_commit(registration, "declined")
    return registration


def move(
    registration_id: int, to_activity_id: int, *, now: dt.datetime | None = None
) -> Registration:
    """An organiser moves a party to another activity (another time slot, say).

    Both activities are locked, lower id first, so two moves in opposite directions cannot
    deadlock. The party keeps its status if the new activity has room; otherwise it joins
    that activity's waitlist. The places it leaves go to the old activity's waitlist.
    """
    now = now or timezone.now()
    with transaction.atomic():
        from_activity_id = Registration.objects.values_list("activity_id", flat=True).get(
            pk=registration_id
        )
        if from_activity_id == to_activity_id:
            return Registration.objects.get(pk=registration_id)
        locked = {pk: lock_activity(pk) for pk in sorted({from_activity_id, to_activity_id})}
        source, target = locked[from_activity_id], locked[to_activity_id]
        if source.programme_id != target.programme_id:
            raise InvalidState(message=_("Verplaatsen kan alleen binnen hetzelfde programma."))
        if target.status != Activity.Status.PUBLISHED or target.is_past(now):
            raise InvalidState(
                message=_("Verplaatsen kan alleen naar een gepubliceerde activiteit die nog komt.")
            )
        registration = Registration.objects.select_for_update().get(pk=registration_id)
        if registration.activity_id != from_activity_id or not registration.is_active:
            # Moved or cancelled by someone else between the first read and the locks.
            raise InvalidState()
        paid = (
            registration.payments.filter(paid_at__isnull=False)
            .exclude(refund_reason__in=Payment.NOT_SETTLING_REASONS)
            .exists()
        )
        if paid and target.price != source.price:
            raise InvalidState(
                message=_(
                    "Een betaalde aanmelding kan niet naar een activiteit met een andere prijs."
                )
            )
        if registration.status == Status.PENDING_PAYMENT and target.price != source.price:
            # The payment under way is for the old price; the party should sign up anew.
            raise InvalidState(
                message=_(
                    "Een aanmelding die nog betaald wordt, kan niet naar een activiteit met een "
                    "andere prijs."
                )
            )
        held = registration.holds_places(now)
        registration.activity = target
        if held and not fits(target, registration.party_size, now):
            if not target.waitlist_enabled:
                raise NotEnoughPlaces(details={"places_left": places_free(target, now)})
            registration.waitlist(now)
        registration.save()
        send_after_commit(registration, mail_kind(registration))
        if held:
            offer_freed_places(source, now)
    return registration


def delete_personal_data(registration_id: int, *, now: dt.datetime | None = None) -> None:
    """A person deletes their own data, once the activity is over or they are no longer
    coming (see Registration.may_delete_personal_data)."""
    now = now or timezone.now()
    with transaction.atomic():
        registration, _activity = lock_registration(registration_id)
        if registration.anonymised_at:
            return
        if not registration.may_delete_personal_data(now):
            raise InvalidState(
                message=_(
                    "Je gegevens verwijderen kan als de activiteit voorbij is of je hebt "
                    "geannuleerd."
                )
            )
        anonymise(registration, now=now)


def anonymise(registration: Registration, *, now: dt.datetime | None = None) -> None:
    """Remove the personal data of a registration, keeping what the counts need (activity,
    status, party size, kind of attendee, times). Used when a person deletes their data and
    by the retention purge."""
    now = now or timezone.now()
    Registration.objects.filter(pk=registration.pk).update(
        contact_name="",
        email="",
        phone="",
        years_of_service=None,
        anonymised_at=now,
        updated_at=now,
    )
    Answer.objects.filter(registration=registration).delete()
    # The audit trail holds copies of the same fields.
    registration.history.all().update(contact_name="", email="", phone="", years_of_service=None)

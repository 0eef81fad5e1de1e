"""The resident's pages: signing up on an activity page and the personal page behind the link.

The personal link's token is the only key to a registration, so every page under it is never
cached, is kept out of search engines and sends no Referer to other sites.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable
from functools import wraps

from django.conf import settings
from django.contrib import messages
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from events.calendar import calendar_response
from events.models import Activity
from events.views import registration_status
from jubileum.lib import ratelimit
from jubileum.lib.http import see_other
from jubileum.templatetags.jubileum_format import euro, moment
from registrations import notify, services
from registrations.answers import shown_answers
from registrations.calendar import has_calendar_file, holds_calendar_event, registration_calendar
from registrations.forms import ConfirmForm, PartySizeForm, SignUpForm
from registrations.links import registration_for_token
from registrations.models import Payment, Registration
from registrations.payments import demo
from registrations.payments import services as payments
from registrations.payments.receipts import receipt_line
from registrations.tasks import send_registration_mail
from registrations.tickets import ticket_svg

Status = Registration.Status

# --- Signing up ------------------------------------------------------------------------------


def _get_activity_for_signup(programme_slug: str, slug: str) -> Activity:
    activities: QuerySet[Activity] = (
        Activity.objects.listed().with_places_taken().select_related("programme")
    )
    return get_object_or_404(activities, programme__slug=programme_slug, slug=slug)


# The registrations whose payment this browser started (their ids, in the session): coming
# back from Stripe, only this browser is sent on to the personal page (`payment_return`).
PAYING_HERE = "paying_here"


def _activity_page(
    request: HttpRequest, activity: Activity, form: SignUpForm, error: str = ""
) -> HttpResponse:
    """The activity page again, with the form as it was sent and what went wrong.

    A 200, not a 4xx: the browser shows the page like any other and the person corrects it.
    """
    now = timezone.now()
    return render(
        request,
        "events/activity.html",
        {
            "programme": activity.programme,
            "activity": activity,
            "registration_status": registration_status(activity, now),
            "is_past": activity.is_past(now),
            "signup_form": form,
            "signup_error": error,
        },
    )


def _signed_up(activity: Activity) -> HttpResponse:
    return see_other(
        reverse(
            "registrations:signed_up",
            kwargs={"programme_slug": activity.programme.slug, "slug": activity.slug},
        )
    )


@require_POST
def signup(request: HttpRequest, programme_slug: str, slug: str) -> HttpResponse:
    """Sign up from the activity page. Whatever went through leads to the same page ("look in
    your e-mail"): a new registration, an address signed up already (its owner is mailed the
    link), a bot caught by the honeypot. The personal link goes only to the address, so
    nothing on the page tells a stranger whether someone is signed up."""
    ratelimit.limit(request, "signup")  # one count with the API's sign-ups
    activity = _get_activity_for_signup(programme_slug, slug)
    form = SignUpForm(request.POST, activity=activity)
    if form.is_bot:
        # Never tell a bot it was caught: the same page whatever it sent.
        return _signed_up(activity)
    if not form.is_valid():
        return _activity_page(request, activity, form)
    try:
        services.register(
            activity.pk, form.sign_up(translation.get_language()), answers=form.answers()
        )
    except services.InvalidAnswer as error:
        form.add_answer_error(error.details.get("question"), str(error))
        return _activity_page(request, activity, form)
    except services.UnknownInvitation as error:
        form.add_error("invitation_code", str(error))
        return _activity_page(request, activity, form)
    except services.PartyTooLarge as error:
        form.add_error("party_size", str(error))
        return _activity_page(request, activity, form)
    except services.RegistrationError as error:
        return _activity_page(request, activity, form, str(error))
    return _signed_up(activity)


@require_safe
def signed_up(request: HttpRequest, programme_slug: str, slug: str) -> HttpResponse:
    activity = _get_activity_for_signup(programme_slug, slug)
    return render(
        request,
        "registrations/received.html",
        {
            "programme": activity.programme,
            "activity": activity,
            "message": services.SIGNED_UP_MESSAGE,
        },
    )


# --- The personal page -----------------------------------------------------------------------


def _manage_url(registration: Registration) -> str:
    return reverse("registrations:manage", kwargs={"token": registration.manage_token})


def personal(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """For every view behind the personal link: look the registration up by its token, never
    cache, no Referer to other sites, no search engines."""

    @wraps(view)
    @never_cache
    def wrapped(request: HttpRequest, token: str) -> HttpResponse:
        response = view(request, registration_for_token(request, token))
        # Not "no-referrer": under it browsers send `Origin: null` with the page's own POST
        # forms, and Django's CSRF check rightly refuses those. "same-origin" keeps the link
        # from leaking to any other site, which is what matters.
        response.headers["Referrer-Policy"] = "same-origin"
        response.headers["X-Robots-Tag"] = "noindex, nofollow"
        return response

    return wrapped


def _status_sentence(registration: Registration, status: str) -> str:
    activity = registration.activity
    if status == Status.CONFIRMED:
        return _("Je bent aangemeld. Laat bij de ingang je toegangsbewijs zien.")
    if status == Status.WAITLISTED:
        # "als 3e": the English translation says "number 3", which needs no ordinal suffix.
        return _(
            "Je staat als %(position)se op de wachtlijst. Komt er een plaats vrij, dan krijg je "
            "een e-mail en kun je hier je plaats claimen."
        ) % {"position": registration.waitlist_position()}
    if status == Status.OFFERED and registration.is_approval_offer:
        return _(
            "Je aanmelding is goedgekeurd. We houden je plaatsen vast tot %(moment)s. Betaal "
            "vóór die tijd, dan ben je aangemeld."
        ) % {"moment": moment(registration.hold_expires_at)}
    if status == Status.OFFERED:
        return _("Er is een plaats voor je vrijgekomen. Claim die vóór %(moment)s.") % {
            "moment": moment(registration.hold_expires_at)
        }
    if status == Status.PENDING_APPROVAL:
        return _("Een organisator bekijkt je aanmelding. Je krijgt bericht per e-mail.")
    if status == Status.PENDING_PAYMENT:
        return _(
            "Je plaatsen worden vastgehouden tot %(moment)s. Betaal vóór die tijd, dan ben je "
            "aangemeld."
        ) % {"moment": moment(registration.hold_expires_at)}
    if status == Status.EXPIRED:
        return _("Je aanmelding is verlopen: de plaatsen werden niet op tijd geclaimd.")
    if activity.status == Activity.Status.CANCELLED:
        return _("De activiteit is geannuleerd, en daarmee je aanmelding.")
    return _("Je aanmelding is geannuleerd.")


def _may_change(registration: Registration, status: str, now: dt.datetime) -> bool:
    """Whether the attendee may still change or cancel (the service decides in the end)."""
    return (
        registration.is_active
        and status != Status.EXPIRED
        and registration.activity.cancellation_is_open(now)
    )


def _manage_page(
    request: HttpRequest,
    registration: Registration,
    *,
    size_form: PartySizeForm | None = None,
    delete_form: ConfirmForm | None = None,
) -> HttpResponse:
    if registration.anonymised_at:
        return _deleted_page(request, registration)
    now = timezone.now()
    activity = registration.activity
    status = registration.current_status(now)
    changeable = _may_change(registration, status, now)
    payment = _payment_context(request, registration, status, now)
    # Places kept since an approval are claimed by paying (see `_payment_context`): the party
    # only has to pay, and that is what the page says it waits for.
    claim_by_paying = status == Status.OFFERED and bool(payment.get("can_pay"))
    shown_status = Status.PENDING_PAYMENT if claim_by_paying else status
    context = {
        **payment,
        "programme": activity.programme,
        "activity": activity,
        "registration": registration,
        "status": status,
        "status_label": Status(shown_status).label,
        "status_sentence": _status_sentence(registration, status),
        "answers": shown_answers(registration, translation.get_language()),
        "ticket_svg": ticket_svg(registration.ticket_code) if status == Status.CONFIRMED else "",
        "can_claim": status == Status.OFFERED and not claim_by_paying,
        # What was paid is for this party size (the service refuses a change, too).
        "can_change": changeable and not payment.get("paid_payment"),
        "can_cancel": changeable,
        # What cancelling gives up: places only when the party holds some.
        "holds_places": registration.holds_places(now),
        "can_resend": status != Status.EXPIRED,
        "can_delete": registration.may_delete_personal_data(now),
        # Only a place that is theirs goes in a calendar (see registrations.calendar).
        "show_calendar": holds_calendar_event(registration) and not activity.is_past(now),
        "size_form": size_form
        or PartySizeForm(activity=activity, initial={"party_size": registration.party_size}),
        "delete_form": delete_form or _delete_form(),
    }
    return render(request, "registrations/manage.html", context)


def _payment_context(
    request: HttpRequest, registration: Registration, status: str, now: dt.datetime
) -> dict:
    """What the personal page shows about paying: the total, the payment, what can be done."""
    activity = registration.activity
    if activity.price <= 0:
        return {"is_paid_activity": False}
    paid = registration.paid_payment()
    latest = payments.latest_attempt(registration)
    # Paid another amount or currency than was asked, or less than is owed since the party or
    # the price changed: refunded, and nothing settled. (A session that was not its attempt's
    # own may have been paid by anyone: the organiser sees it, not this page.)
    refunded_unsettled = [
        payment
        for payment in registration.payments.all()
        if payment.settles_nothing and payment.refund_reason != Payment.RefundReason.NOT_ITS_SESSION
    ]
    # An approval's places are claimed by paying (`pay`), a waitlist offer's by claiming first.
    payable = status == Status.PENDING_PAYMENT or (
        status == Status.OFFERED and registration.is_approval_offer
    )
    can_pay = payable and paid is None
    processing = latest is not None and latest.status == Payment.Status.PROCESSING
    return {
        "is_paid_activity": True,
        "total_price": payments.total_price(registration),
        "paid_payment": paid,
        "receipt_line": receipt_line(paid, activity.programme) if paid else "",
        "can_pay": can_pay and not processing,
        "payment_processing": can_pay and processing,
        "payment_open": can_pay and latest is not None and latest.is_open(now),
        # "Nothing was charged" is not true of an attempt whose money came in and goes back.
        "payment_failed": can_pay
        and latest is not None
        and latest.status == Payment.Status.FAILED
        and not refunded_unsettled,
        # Back from Checkout before Stripe's webhook: the money is (nearly) in.
        "payment_returned": can_pay and request.GET.get("betaling") == "klaar",
        "refunded_unsettled": refunded_unsettled,
        "demo_mode": settings.PAYMENTS_DEMO_MODE,
    }


def _deleted_page(request: HttpRequest, registration: Registration) -> HttpResponse:
    return render(
        request, "registrations/deleted.html", {"programme": registration.activity.programme}
    )


def _delete_form(data: dict | None = None) -> ConfirmForm:
    return ConfirmForm(data, label=_("Ja, verwijder mijn gegevens. Dit kan niet ongedaan worden."))


@require_safe
@personal
def manage(request: HttpRequest, registration: Registration) -> HttpResponse:
    return _manage_page(request, registration)


@require_http_methods(["GET", "HEAD", "POST"])
@personal
def claim(request: HttpRequest, registration: Registration) -> HttpResponse:
    """The offer e-mail's button: a GET shows the offer and asks (mail scanners follow links,
    and a link must never act); the page's form POSTs the claim."""
    if registration.anonymised_at:
        return _deleted_page(request, registration)
    if request.method != "POST":  # GET or HEAD: only ask
        return _claim_page(request, registration)
    ratelimit.limit(request, "claim")
    try:
        claimed = services.claim_offer(registration.pk)
    except services.RegistrationError as error:
        messages.error(request, str(error))
    else:
        if claimed.status == Status.PENDING_PAYMENT:
            messages.success(
                request,
                _("Je plaatsen worden vastgehouden tot %(moment)s. Betaal vóór die tijd.")
                % {"moment": moment(claimed.hold_expires_at)},
            )
        else:
            messages.success(request, _("De plaats is van jou. Je bent aangemeld."))
    return see_other(_manage_url(registration))


def _claim_page(request: HttpRequest, registration: Registration) -> HttpResponse:
    """The offer and its deadline with one button to claim it, or, when there is nothing (left)
    to claim, where the registration stands and the way on."""
    activity = registration.activity
    status = registration.current_status()
    return render(
        request,
        "registrations/claim.html",
        {
            "programme": activity.programme,
            "activity": activity,
            "registration": registration,
            "status": status,
            "status_sentence": _status_sentence(registration, status),
            "can_claim": status == Status.OFFERED,
            "total_price": payments.total_price(registration) if activity.price > 0 else None,
        },
    )


@require_POST
@personal
def change_party_size(request: HttpRequest, registration: Registration) -> HttpResponse:
    form = PartySizeForm(request.POST, activity=registration.activity)
    if not form.is_valid():
        return _manage_page(request, registration, size_form=form)
    try:
        changed = services.change_party_size(registration.pk, form.cleaned_data["party_size"])
    except services.RegistrationError as error:
        form.add_error("party_size", str(error))
        return _manage_page(request, registration, size_form=form)
    messages.success(
        request,
        ngettext(
            "Je aanmelding is nu voor %(count)s persoon.",
            "Je aanmelding is nu voor %(count)s personen.",
            changed.party_size,
        )
        % {"count": changed.party_size},
    )
    return see_other(_manage_url(registration))


@require_http_methods(["GET", "HEAD", "POST"])
@personal
def cancel(request: HttpRequest, registration: Registration) -> HttpResponse:
    """A page of its own to confirm: cancelling cannot be undone (a JS confirm() would need
    JavaScript and is easy to click away)."""
    if registration.anonymised_at:
        raise Http404
    if request.method == "POST":
        try:
            cancelled = services.cancel(registration.pk)
        except services.RegistrationError as error:
            messages.error(request, str(error))
        else:
            paid = cancelled.paid_payment()
            if paid is not None and paid.refund_requested_at is not None:
                messages.success(
                    request,
                    _(
                        "Je aanmelding is geannuleerd. Je krijgt %(amount)s terug op de rekening "
                        "of kaart waarmee je betaalde; dat duurt meestal een paar werkdagen."
                    )
                    % {"amount": euro(paid.amount - paid.refunded_amount)},
                )
            else:
                messages.success(request, _("Je aanmelding is geannuleerd."))
        return see_other(_manage_url(registration))
    activity = registration.activity
    now = timezone.now()
    can_cancel = _may_change(registration, registration.current_status(now), now)
    return render(
        request,
        "registrations/cancel.html",
        {
            "programme": activity.programme,
            "activity": activity,
            "registration": registration,
            "can_cancel": can_cancel,
            "status": registration.current_status(now),
            "holds_places": registration.holds_places(now),
        },
    )


@require_POST
@personal
def resend(request: HttpRequest, registration: Registration) -> HttpResponse:
    ratelimit.limit(request, "resend", key=str(registration.pk))
    kind = notify.mail_kind(registration)
    if registration.anonymised_at or kind is None:
        messages.error(request, _("Voor deze aanmelding sturen we geen e-mail meer."))
    else:
        # Nothing changes in the database, so there is no transaction to wait for. `force`:
        # the mail log would otherwise skip an e-mail already sent for this state.
        send_registration_mail.enqueue(registration_id=registration.pk, kind=kind, force=True)
        messages.success(
            request,
            _("We hebben de e-mail opnieuw gestuurd naar %(email)s.")
            % {"email": registration.email},
        )
    return see_other(_manage_url(registration))


@require_POST
@personal
def delete_data(request: HttpRequest, registration: Registration) -> HttpResponse:
    if registration.anonymised_at:
        return _deleted_page(request, registration)
    form = _delete_form(request.POST)
    if not form.is_valid():
        return _manage_page(request, registration, delete_form=form)
    try:
        services.delete_personal_data(registration.pk)
    except services.RegistrationError as error:
        messages.error(request, str(error))
        return see_other(_manage_url(registration))
    return _deleted_page(request, registration)


@require_safe
@personal
def ics(request: HttpRequest, registration: Registration) -> HttpResponse:
    """The registration's event, or its cancellation (a link in an old e-mail still works)."""
    if registration.anonymised_at or not has_calendar_file(registration):
        raise Http404
    activity = registration.activity
    calendar = registration_calendar(registration, request.build_absolute_uri("/").rstrip("/"))
    return calendar_response(calendar, f'attachment; filename="{activity.slug}.ics"')


# --- Paying ----------------------------------------------------------------------------------


@require_http_methods(["GET", "HEAD", "POST"])
@personal
def pay(request: HttpRequest, registration: Registration) -> HttpResponse:
    """To Stripe Checkout (or the demo page): the open session, or a new one. Places kept for
    the party since an approval are claimed first, which starts the checkout's hold. A GET (a
    link opened, a scanner) only leads to the personal page's pay button."""
    if request.method != "POST":  # GET or HEAD: only lead to the button
        return see_other(_manage_url(registration) + "#betalen")
    try:
        if registration.status == Status.OFFERED:
            services.claim_offer(registration.pk)
        payment = payments.start_payment(registration.pk)
    except services.RegistrationError as error:
        messages.error(request, str(error))
        return see_other(_manage_url(registration))
    if payment.status != Payment.Status.OPEN or not payment.checkout_url:
        return see_other(_manage_url(registration))  # settled while we asked: the page says how
    paying_here = request.session.get(PAYING_HERE, [])
    if registration.pk not in paying_here:
        request.session[PAYING_HERE] = [*paying_here, registration.pk][-20:]
    return see_other(payment.checkout_url)


@require_safe
@never_cache
def payment_return(request: HttpRequest, public_id: uuid.UUID) -> HttpResponse:
    """Where Stripe sends the person back to. The address names only the attempt (it can be
    read in Stripe's dashboard), so it leads to the personal page only in the browser that
    started the payment; anyone else is told to use the link in their e-mail."""
    payment = (
        Payment.objects.select_related("registration__activity__programme")
        .filter(public_id=public_id)
        .first()
    )
    if payment is not None and payment.registration_id in request.session.get(PAYING_HERE, []):
        url = _manage_url(payment.registration)
        outcome = request.GET.get("betaling")
        if outcome in ("klaar", "afgebroken"):
            url += f"?betaling={outcome}"
        return see_other(url)
    response = render(request, "registrations/payment_return.html")
    response.headers["Referrer-Policy"] = "same-origin"
    response.headers["X-Robots-Tag"] = "noindex, nofollow"
    return response


@require_POST
@personal
def cancel_payment(request: HttpRequest, registration: Registration) -> HttpResponse:
    try:
        payments.cancel_payment(registration.pk)
    except services.RegistrationError as error:
        messages.error(request, str(error))
    else:
        registration.refresh_from_db()
        messages.success(
            request,
            _(
                "De betaling is afgebroken. Je plaatsen blijven vastgehouden tot %(moment)s; je "
                "kunt tot dan opnieuw betalen."
            )
            % {"moment": moment(registration.hold_expires_at)},
        )
    return see_other(_manage_url(registration))


DEMO_MESSAGES = {
    "paid": gettext_lazy("Demo-betaling gelukt. Er is niets afgeschreven."),
    "failed": gettext_lazy("Demo-betaling mislukt. Er is niets afgeschreven."),
    "expired": gettext_lazy("Demo-betaling afgebroken. Er is niets afgeschreven."),
}


@require_http_methods(["GET", "HEAD", "POST"])
@never_cache
def demo_payment(request: HttpRequest, session_id: str) -> HttpResponse:
    """The stand-in for Stripe Checkout in demo mode (404 otherwise): its buttons send the
    event Stripe would send, through the same handler as the webhook."""
    try:
        payment = demo.demo_payment(session_id)
    except payments.UnknownPayment:
        raise Http404 from None
    registration = payment.registration
    if request.method == "POST":
        outcome = request.POST.get("outcome", "")
        if outcome not in demo.DEMO_OUTCOMES:
            return HttpResponse(status=400)
        demo.complete_demo_payment(session_id, outcome)
        if outcome == "paid":
            messages.success(request, DEMO_MESSAGES[outcome])
        else:
            messages.info(request, DEMO_MESSAGES[outcome])
        return see_other(_manage_url(registration))
    activity = registration.activity
    response = render(
        request,
        "registrations/demo_payment.html",
        {
            "programme": activity.programme,
            "activity": activity,
            "registration": registration,
            "payment": payment,
            "payable": payment.status == Payment.Status.OPEN,
        },
    )
    response.headers["Referrer-Policy"] = "same-origin"
    response.headers["X-Robots-Tag"] = "noindex, nofollow"
    return response

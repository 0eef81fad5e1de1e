"""The organiser area for registrations: activities with their counts, the approval queue, the
waitlist, moving and cancelling, the member roster and invitations.

Every view fetches its programme through `events.access.get_programme_for_organiser`, which
refuses what is not the user's (404) and changes by a viewer (403). Actions are POST-only,
call one service, and redirect with a message; a refused action shows the service's reason.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db.models import Count, Q, QuerySet, Sum
from django.db.models.functions import Coalesce
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from events.access import (
    get_activity_for_organiser,
    get_programme_for_organiser,
    may_change,
    programmes_for,
)
from events.backoffice.history import activity_history
from events.models import (
    CANCELLATION_ALTERNATIVE_MAX_LENGTH,
    CANCELLATION_REASON_MAX_LENGTH,
    Activity,
    Programme,
)
from jubileum.lib.errors import DomainError
from jubileum.lib.http import see_other
from jubileum.templatetags.jubileum_format import euro
from registrations import services
from registrations.backoffice import attendees, invitations
from registrations.backoffice.roster import RosterError, import_roster
from registrations.backoffice.sparklines import sparklines
from registrations.checkin import devices
from registrations.checkin import services as checkin
from registrations.models import CheckIn, Payment, Registration, ScannerDevice
from registrations.payments import services as payments

Status = Registration.Status

ROSTER_MAX_BYTES = 2 * 1024 * 1024


def activities_with_counts(
    programme: Programme, now: dt.datetime | None = None
) -> QuerySet[Activity]:
    """The programme's activities, each with its registration figures, in one grouped pass over
    their registrations.

    `paying_parties` counts payment holds that still hold places (an expired hold is no longer
    waiting for anything). Every figure is a conditional sum over the one join: a correlated
    subquery here would land in the GROUP BY and run once per registration row (57 s at
    50,000 registrations), so the persons checked in come from `checked_in_per_activity`.
    """
    now = now or timezone.now()

    def persons(*statuses: str) -> Coalesce:
        only = Q(registrations__status__in=statuses)
        return Coalesce(Sum("registrations__party_size", filter=only), 0)

    def parties(status: str, **extra: object) -> Count:
        extra = {f"registrations__{key}": value for key, value in extra.items()}
        return Count("registrations", filter=Q(registrations__status=status, **extra))

    # Payments under way: holds while people pay, and places an approval keeps until they pay.
    paying = Q(registrations__hold_expires_at__gt=now) & (
        Q(registrations__status=Status.PENDING_PAYMENT)
        | Q(registrations__status=Status.OFFERED, registrations__approved_at__isnull=False)
    )

    return (
        Activity.objects.filter(programme=programme)
        .with_places_taken(now)
        .annotate(
            confirmed_persons=persons(Status.CONFIRMED),
            waitlisted_parties=parties(Status.WAITLISTED),
            waitlisted_persons=persons(Status.WAITLISTED),
            pending_approvals=parties(Status.PENDING_APPROVAL),
            paying_parties=Count("registrations", filter=paying),
        )
        .order_by("starts_at", "title")
    )


def checked_in_per_activity(programme: Programme) -> dict[int, int]:
    """Activity id -> persons admitted at the door (registrations.checkin.services), grouped
    per activity in one query; an activity without check-ins is absent."""
    rows = (
        CheckIn.objects.filter(registration__activity__programme=programme)
        .values("registration__activity")
        .annotate(persons=Sum("persons"))
        .order_by()
    )
    return {row["registration__activity"]: row["persons"] for row in rows}


def _get_registration_for_organiser(programme: Programme, registration_id: int) -> Registration:
    registrations = Registration.objects.select_related("activity")
    return get_object_or_404(registrations, pk=registration_id, activity__programme=programme)


def _back_to_activity(programme: Programme, activity: Activity) -> HttpResponse:
    return see_other(
        reverse(
            "organiser:activity",
            kwargs={"programme_slug": programme.slug, "activity_slug": activity.slug},
        )
    )


@login_required
@require_safe
def index(request: HttpRequest) -> HttpResponse:
    programmes = programmes_for(request.user).order_by("-starts_on", "name")
    return render(request, "organiser/index.html", {"programmes": programmes})


@login_required
@require_safe
def programme(request: HttpRequest, programme_slug: str) -> HttpResponse:
    item = get_programme_for_organiser(request.user, programme_slug)
    activities = list(activities_with_counts(item))
    lines = sparklines(item, activities)
    checked_in = checked_in_per_activity(item)
    without_english = 0
    for activity_item in activities:
        activity_item.sparkline = lines[activity_item.pk]
        activity_item.checked_in = checked_in.get(activity_item.pk, 0)
        # From the row already loaded: no query per activity.
        labels = english_missing_labels(activity_item)
        activity_item.missing_english_labels = labels
        without_english += 1 if labels else 0
    return render(
        request,
        "organiser/programme.html",
        {
            "programme": item,
            "may_change": may_change(item),
            "activities": activities,
            "without_english": without_english,
            "programme_missing_english": english_missing_labels(item),
        },
    )


def english_missing_labels(obj: Programme | Activity) -> list[str]:
    """The names of the texts `obj` has in Dutch but not yet in English, as the organiser's
    forms call them."""
    fields = [obj._meta.get_field(name) for name in obj.missing_english()]
    return [str(getattr(field, "verbose_name", field.name)) for field in fields]


# The queues an organiser works through, each paged on its own (its page parameter) and
# searched by name together; everyone else is in the attendee list.
QUEUES = {
    "pending": ((Status.PENDING_APPROVAL,), "goedkeuring"),
    "waitlist": ((Status.WAITLISTED,), "wachtlijst"),
    "held": ((Status.OFFERED, Status.PENDING_PAYMENT), "vastgehouden"),
}
QUEUE_SEARCH = "naam"
PER_PAGE = 50
ATTENDEES_PER_PAGE = PER_PAGE


def _queue(activity: Activity, key: str, name: str) -> QuerySet[Registration]:
    statuses, _param = QUEUES[key]
    queued = activity.registrations.filter(status__in=statuses)
    if name:
        queued = queued.filter(contact_name__icontains=name)
    if key == "waitlist":
        # The waitlist is offered in the order people joined it; so is it shown.
        return queued.order_by(Coalesce("waitlisted_at", "created_at"), "pk")
    return queued.order_by("created_at", "pk")


def _query_without(request: HttpRequest, key: str) -> str:
    """The page's query string without `key`: a list's page links keep every other list's."""
    params = request.GET.copy()
    params.pop(key, None)
    return params.urlencode()


def _with_payments(activity: Activity, registrations: QuerySet[Registration]) -> QuerySet:
    return registrations.prefetch_related("payments") if activity.price > 0 else registrations


def _show_payments(activity: Activity, registrations: list[Registration]) -> None:
    if activity.price > 0:
        for registration in registrations:
            registration.payment = payments.payment_of(registration)
            registration.unmatched_payments = payments.unmatched_payments(registration)


def _destinations(programme: Programme, leaving: Activity, now: dt.datetime) -> QuerySet[Activity]:
    """Where a party can go: other activities still to come that take sign-ups."""
    return (
        Activity.objects.filter(programme=programme, status=Activity.Status.PUBLISHED)
        .filter(ends_at__gt=now)
        .exclude(pk=leaving.pk)
        .order_by("starts_at", "title")
    )


@login_required
@require_safe
def activity(request: HttpRequest, programme_slug: str, activity_slug: str) -> HttpResponse:
    """The activity's queues (approvals, waitlist in order, held places) and its attendee list,
    each a page at a time, with search and filters; with htmx, a change of filters answers with
    the attendee list alone."""
    item = get_programme_for_organiser(request.user, programme_slug)
    current = get_activity_for_organiser(item, activity_slug)
    current.programme = item  # for its public link, without fetching the programme again
    now = timezone.now()
    filter_form = attendees.AttendeeFilterForm(request.GET)
    filters = filter_form.filters()
    listed = _with_payments(current, attendees.attendee_list(current, filters, now=now))
    page = Paginator(listed, ATTENDEES_PER_PAGE).get_page(request.GET.get("pagina"))
    rows = list(page.object_list)
    _show_payments(current, rows)
    questions = list(current.questions.all())
    attendees.describe(rows, questions, now)
    query = filters.query()
    changes = may_change(item)
    context = {
        "programme": item,
        "activity": current,
        "may_change": changes,
        "now": now,
        "filter_form": filter_form,
        "filters": filters,
        "page": page,
        "attendees": rows,
        "questions": questions,
        "query": query,
        "query_suffix": f"?{query}" if query else "",
        "can_move": changes and _destinations(item, current, now).exists(),
    }
    if request.htmx and not request.htmx.history_restore_request:
        return render(request, "organiser/activity.html#results", context)
    name = request.GET.get(QUEUE_SEARCH, "").strip()[: attendees.SEARCH_MAX_LENGTH]
    queues = {}
    for key, (_statuses, param) in QUEUES.items():
        queued = _with_payments(current, _queue(current, key, name))
        queue_page = Paginator(queued, PER_PAGE).get_page(request.GET.get(param))
        queue_page.object_list = list(queue_page.object_list)
        _show_payments(current, queue_page.object_list)
        queues[key] = {"page": queue_page, "param": param, "query": _query_without(request, param)}
    takes_invitations = current.audience != Activity.Audience.PUBLIC
    context.update(
        queues=queues,
        groups={key: queue["page"].object_list for key, queue in queues.items()},
        queue_search=name,
        # The search above the queues starts again at their first pages, the list's filters kept.
        queue_search_keeps=[
            (key, value)
            for key, value in request.GET.items()
            if key in ("q", "status", "kind") and value
        ],
        invitations_sent=current.invitations.count() if takes_invitations else 0,
        takes_invitations=takes_invitations,
        can_cancel_activity=changes and current.status != Activity.Status.CANCELLED,
        history=activity_history(current),
    )
    return render(request, "organiser/activity.html", context)


def _act(
    request: HttpRequest,
    programme_slug: str,
    registration_id: int,
    action: Callable[[Registration], object],
    success: str,
) -> HttpResponse:
    """Run one service on one registration of a programme the user may change."""
    item = get_programme_for_organiser(request.user, programme_slug, write=True)
    registration = _get_registration_for_organiser(item, registration_id)
    try:
        action(registration)
    except services.RegistrationError as error:
        messages.error(request, str(error))
    else:
        messages.success(request, success % {"name": registration.contact_name})
    return _back_to_activity(item, registration.activity)


@login_required
@require_POST
def approve(request: HttpRequest, programme_slug: str, registration_id: int) -> HttpResponse:
    return _act(
        request,
        programme_slug,
        registration_id,
        lambda registration: services.approve(registration.pk),
        _("De aanmelding van %(name)s is goedgekeurd; we hebben een e-mail gestuurd."),
    )


def _confirm(
    request: HttpRequest,
    programme_slug: str,
    registration_id: int,
    question: str,
    button: str,
) -> HttpResponse:
    """Ask before an action that cannot be undone; a page of its own works without JavaScript."""
    item = get_programme_for_organiser(request.user, programme_slug, write=True)
    registration = _get_registration_for_organiser(item, registration_id)
    return render(
        request,
        "organiser/confirm.html",
        {
            "programme": item,
            "registration": registration,
            "question": question % {"name": registration.contact_name},
            "button": button,
        },
    )


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def decline(request: HttpRequest, programme_slug: str, registration_id: int) -> HttpResponse:
    if request.method != "POST":  # GET or HEAD: only ask
        return _confirm(
            request,
            programme_slug,
            registration_id,
            _("Wil je de aanmelding van %(name)s afwijzen? We sturen een e-mail."),
            _("Afwijzen"),
        )
    return _act(
        request,
        programme_slug,
        registration_id,
        lambda registration: services.decline(registration.pk),
        _("De aanmelding van %(name)s is afgewezen; we hebben een e-mail gestuurd."),
    )


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def cancel(request: HttpRequest, programme_slug: str, registration_id: int) -> HttpResponse:
    if request.method != "POST":  # GET or HEAD: only ask
        return _confirm(
            request,
            programme_slug,
            registration_id,
            _(
                "Wil je de aanmelding van %(name)s annuleren? We sturen een e-mail en bieden de "
                "plaatsen aan de wachtlijst aan."
            ),
            _("Annuleren"),
        )
    return _act(
        request,
        programme_slug,
        registration_id,
        lambda registration: services.cancel(registration.pk, by_organiser=True),
        _("De aanmelding van %(name)s is geannuleerd; we hebben een e-mail gestuurd."),
    )


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def refund(request: HttpRequest, programme_slug: str, registration_id: int) -> HttpResponse:
    """Give a registration's payment back in full; the registration itself stays as it is."""
    item = get_programme_for_organiser(request.user, programme_slug, write=True)
    registration = _get_registration_for_organiser(item, registration_id)
    payment = (
        Payment.objects.filter(registration=registration, paid_at__isnull=False)
        .exclude(refund_reason__in=Payment.NOT_SETTLING_REASONS)
        .order_by("-pk")
        .first()
    )
    if request.method != "POST":  # GET or HEAD: only ask
        if payment is None:
            messages.error(request, str(payments.NotRefundable.message))
            return _back_to_activity(item, registration.activity)
        return render(
            request,
            "organiser/confirm.html",
            {
                "programme": item,
                "registration": registration,
                "question": _(
                    "Wil je %(amount)s terugbetalen aan %(name)s? De aanmelding blijft staan; "
                    "annuleer die apart als %(name)s niet komt. We sturen een e-mail."
                )
                % {"amount": euro(payment.amount), "name": registration.contact_name},
                "button": _("Terugbetalen"),
            },
        )
    try:
        if payment is None:
            raise payments.NotRefundable()
        payments.refund(payment.pk)
    except services.RegistrationError as error:
        messages.error(request, str(error))
    else:
        messages.success(
            request,
            _("%(amount)s wordt terugbetaald aan %(name)s; we hebben een e-mail gestuurd.")
            % {"amount": euro(payment.amount), "name": registration.contact_name},
        )
    return _back_to_activity(item, registration.activity)


class CancelActivityForm(forms.Form):
    reason = forms.CharField(
        label=gettext_lazy("Reden"),
        max_length=CANCELLATION_REASON_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=gettext_lazy(
            "Staat in de e-mail aan iedereen die zich aanmeldde, en op de pagina van de "
            "activiteit. Bijvoorbeeld: de spreker is ziek."
        ),
        error_messages={
            "required": gettext_lazy("Geef een reden op: die sturen we mee in de e-mail.")
        },
    )
    alternative = forms.CharField(
        label=gettext_lazy("Alternatief (niet verplicht)"),
        max_length=CANCELLATION_ALTERNATIVE_MAX_LENGTH,
        required=False,
        help_text=gettext_lazy("Bijvoorbeeld: dezelfde workshop op 14 maart."),
    )


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def cancel_activity(request: HttpRequest, programme_slug: str, activity_slug: str) -> HttpResponse:
    """Call an activity off with a reason: everyone is cancelled and told why, whatever was
    paid is refunded."""
    item = get_programme_for_organiser(request.user, programme_slug, write=True)
    current = get_activity_for_organiser(item, activity_slug)
    form = CancelActivityForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            cancelled = services.cancel_activity(
                current.pk,
                reason=form.cleaned_data["reason"],
                alternative=form.cleaned_data["alternative"],
            )
        except DomainError as error:
            form.add_error("reason", str(error))
        else:
            messages.success(
                request,
                ngettext(
                    "%(title)s is geannuleerd; %(count)s aanmelding is geannuleerd en gemaild.",
                    "%(title)s is geannuleerd; %(count)s aanmeldingen zijn geannuleerd en gemaild.",
                    len(cancelled),
                )
                % {"title": current.title, "count": len(cancelled)},
            )
            return _back_to_activity(item, current)
    active = current.registrations.filter(status__in=Registration.ACTIVE_STATUSES).count()
    return render(
        request,
        "organiser/cancel_activity.html",
        {
            "programme": item,
            "activity": current,
            "form": form,
            "question": ngettext(
                "Wil je %(title)s annuleren? %(count)s aanmelding wordt geannuleerd en "
                "krijgt een e-mail; wat betaald is, betalen we terug. Dit kan niet ongedaan "
                "worden.",
                "Wil je %(title)s annuleren? %(count)s aanmeldingen worden geannuleerd en "
                "krijgen een e-mail; wat betaald is, betalen we terug. Dit kan niet ongedaan "
                "worden.",
                active,
            )
            % {"title": current.title, "count": active},
        },
        status=422 if form.errors else 200,
    )


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def move(request: HttpRequest, programme_slug: str, registration_id: int) -> HttpResponse:
    """Move a party to another activity of the programme: GET shows the party and where it can
    go (a page of its own, rather than a menu of every activity beside every row), POST moves."""
    item = get_programme_for_organiser(request.user, programme_slug, write=True)
    registration = _get_registration_for_organiser(item, registration_id)
    if request.method != "POST":  # GET or HEAD: only ask
        destinations = _destinations(item, registration.activity, timezone.now())
        return render(
            request,
            "organiser/move.html",
            {"programme": item, "registration": registration, "destinations": destinations},
        )
    choice = request.POST.get("activity", "")
    target = (
        Activity.objects.filter(programme=item, pk=choice).first() if choice.isdigit() else None
    )
    if target is None:
        messages.error(request, _("Kies de activiteit waar de aanmelding heen moet."))
        return _back_to_activity(item, registration.activity)
    try:
        moved = services.move(registration.pk, target.pk)
    except services.RegistrationError as error:
        messages.error(request, str(error))
    else:
        text = _("%(name)s is verplaatst naar %(activity)s.")
        if moved.status == Status.WAITLISTED and registration.status != Status.WAITLISTED:
            text = _("%(name)s is verplaatst naar %(activity)s, op de wachtlijst: het is daar vol.")
        messages.success(
            request, text % {"name": registration.contact_name, "activity": target.title}
        )
    return _back_to_activity(item, registration.activity)


def _entry_ids(values: list[str]) -> set[int]:
    return {int(value) for value in values if value.isdigit()}


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def invite(request: HttpRequest, programme_slug: str, activity_slug: str) -> HttpResponse:
    """GET: the invitation as it would go out and whom it would go to; POST (the confirmation,
    with the ids of those shown): send it to them."""
    item = get_programme_for_organiser(request.user, programme_slug, write=True)
    current = get_activity_for_organiser(item, activity_slug)
    if request.method != "POST":
        return _invite_preview(request, item, current)
    try:
        made = invitations.invite_roster(current.pk, _entry_ids(request.POST.getlist("entry")))
    except services.RegistrationError as error:
        messages.error(request, str(error))
    else:
        if made:
            count = len(made)
            messages.success(
                request,
                ngettext(
                    "%(count)s uitnodiging wordt verstuurd.",
                    "%(count)s uitnodigingen worden verstuurd.",
                    count,
                )
                % {"count": count},
            )
        else:
            messages.info(
                request,
                _("Iedereen op de ledenlijst heeft al een uitnodiging voor deze activiteit."),
            )
    return _back_to_activity(item, current)


def _invite_preview(request: HttpRequest, item: Programme, current: Activity) -> HttpResponse:
    try:
        invitations.check_invitable(current)
    except services.RegistrationError as error:
        messages.error(request, str(error))
        return _back_to_activity(item, current)
    entries = invitations.uninvited(current)
    sample = invitations.preview(current, entries[0] if entries else None)
    return render(
        request,
        "organiser/invite_confirm.html",
        {
            "programme": item,
            "activity": current,
            "entries": entries,
            "subject": sample.subject,
            "body": sample.body,
        },
    )


class RosterUploadForm(forms.Form):
    file = forms.FileField(
        label=gettext_lazy("CSV-bestand"),
        help_text=gettext_lazy(
            "Kolommen naam, e-mail, korps (Soest of Soesterberg), dienstjaren en status "
            "(lid of oud-lid); gescheiden door ; of ,. Excel: opslaan als “CSV UTF-8”."
        ),
    )

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if upload.size > ROSTER_MAX_BYTES:
            raise forms.ValidationError(_("Het bestand is te groot (hoogstens 2 MB)."))
        return upload


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def roster(request: HttpRequest, programme_slug: str) -> HttpResponse:
    write = request.method == "POST"
    item = get_programme_for_organiser(request.user, programme_slug, write=write)
    form = RosterUploadForm(request.POST, request.FILES) if write else RosterUploadForm()
    errors: list[str] = []
    status = 200
    if write and form.is_valid():
        try:
            result = import_roster(item.pk, form.cleaned_data["file"].read())
        except RosterError as error:
            errors = error.errors
        else:
            messages.success(
                request,
                _(
                    "De ledenlijst is ingelezen: %(created)s nieuw, %(updated)s bijgewerkt, "
                    "%(unchanged)s ongewijzigd."
                )
                % {
                    "created": result.created,
                    "updated": result.updated,
                    "unchanged": result.unchanged,
                },
            )
            return see_other(reverse("organiser:roster", args=[item.slug]))
    if write:
        status = 422
    return render(
        request,
        "organiser/roster.html",
        {
            "programme": item,
            "may_change": may_change(item),
            "form": form,
            "errors": errors,
            "entries": item.roster.order_by("name", "email"),
        },
        status=status,
    )


# --- Scanners (door check-in) ---------------------------------------------------------------


class ScannerDeviceForm(forms.Form):
    name = forms.CharField(
        label=gettext_lazy("Naam van de scanner"),
        max_length=100,
        required=False,
        help_text=gettext_lazy("Bijvoorbeeld: Ingang Noord. Leeg laten geeft een nummer."),
    )
    activities = forms.ModelMultipleChoiceField(
        label=gettext_lazy("Activiteiten"),
        queryset=Activity.objects.none(),
        widget=forms.CheckboxSelectMultiple,
        error_messages={"required": gettext_lazy("Kies minstens één activiteit.")},
    )

    def __init__(self, *args, programme: Programme, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["activities"].queryset = Activity.objects.filter(programme=programme).order_by(
            "starts_at", "title"
        )


def _scanner_context(item: Programme) -> dict:
    activities = checkin.activities_with_counts(
        Activity.objects.filter(programme=item).exclude(status=Activity.Status.DRAFT)
    ).order_by("starts_at", "title")
    return {
        "programme": item,
        "may_change": may_change(item),
        "count_activities": activities,
        "counted_at": timezone.now(),
    }


@login_required
@require_safe
def scanners(request: HttpRequest, programme_slug: str) -> HttpResponse:
    item = get_programme_for_organiser(request.user, programme_slug)
    context = _scanner_context(item)
    context.update(
        devices=ScannerDevice.objects.filter(programme=item)
        .prefetch_related("activities")
        .order_by("-created_at", "pk"),
        conflicts=checkin.conflicts([a.pk for a in context["count_activities"]])[:100],
        form=ScannerDeviceForm(programme=item) if context["may_change"] else None,
        now=timezone.now(),
    )
    return render(request, "organiser/scanners.html", context)


@login_required
@require_safe
def scanner_counts(request: HttpRequest, programme_slug: str) -> HttpResponse:
    """Checked in / expected per activity: the fragment htmx polls, or a page of its own."""
    item = get_programme_for_organiser(request.user, programme_slug)
    template = "organiser/scanners.html#counts" if request.htmx else "organiser/counts.html"
    return render(request, template, _scanner_context(item))


@login_required
@require_POST
def scanner_create(request: HttpRequest, programme_slug: str) -> HttpResponse:
    item = get_programme_for_organiser(request.user, programme_slug, write=True)
    form = ScannerDeviceForm(request.POST, programme=item)
    if not form.is_valid():
        context = _scanner_context(item)
        context.update(
            devices=ScannerDevice.objects.filter(programme=item).prefetch_related("activities"),
            conflicts=checkin.conflicts([a.pk for a in context["count_activities"]])[:100],
            form=form,
            now=timezone.now(),
        )
        return render(request, "organiser/scanners.html", context, status=422)
    new = devices.create_device(
        item,
        [activity.pk for activity in form.cleaned_data["activities"]],
        name=form.cleaned_data["name"],
        created_by=request.user,
    )
    messages.success(
        request, _("Scanner %(name)s is aangemaakt. Koppel nu de telefoon.") % {"name": new.device}
    )
    return see_other(reverse("organiser:scanner_pairing", args=[item.slug, new.device.pk]))


def _get_device(item: Programme, device_id: int) -> ScannerDevice:
    return get_object_or_404(ScannerDevice, pk=device_id, programme=item)


@login_required
@require_safe
def scanner_pairing(request: HttpRequest, programme_slug: str, device_id: int) -> HttpResponse:
    """The pairing QR and code, while the code is valid and the device not yet paired."""
    item = get_programme_for_organiser(request.user, programme_slug, write=True)
    device = _get_device(item, device_id)
    now = timezone.now()
    valid = (
        device.pairing_code is not None
        and device.pairing_expires_at is not None
        and device.pairing_expires_at > now
        and device.is_active(now)
    )
    qr = None
    if valid:
        qr = devices.pairing_qr_svg(device.pairing_code)
    return render(
        request,
        "organiser/scanner_pairing.html",
        {
            "programme": item,
            "device": device,
            "valid": valid,
            "qr": qr,
            "scanner_url": devices.scanner_url(),
            "now": now,
        },
    )


@login_required
@require_POST
def scanner_renew(request: HttpRequest, programme_slug: str, device_id: int) -> HttpResponse:
    item = get_programme_for_organiser(request.user, programme_slug, write=True)
    device = _get_device(item, device_id)
    if device.is_active():
        devices.renew_pairing(device)
    else:
        messages.error(request, _("Deze scanner is verlopen of ingetrokken."))
    return see_other(reverse("organiser:scanner_pairing", args=[item.slug, device.pk]))


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def scanner_revoke(request: HttpRequest, programme_slug: str, device_id: int) -> HttpResponse:
    item = get_programme_for_organiser(request.user, programme_slug, write=True)
    device = _get_device(item, device_id)
    if request.method != "POST":  # GET or HEAD: only ask
        return render(
            request,
            "organiser/scanner_revoke.html",
            {"programme": item, "device": device},
        )
    if devices.revoke(item, device.pk):
        messages.success(
            request, _("Scanner %(name)s is ingetrokken; hij werkt niet meer.") % {"name": device}
        )
    else:
        messages.error(request, _("Deze scanner was al ingetrokken."))
    return see_other(reverse("organiser:scanners", args=[item.slug]))

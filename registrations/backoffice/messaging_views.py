"""Organiser pages for messages to attendees: write one (with a confirm step), see the ones
sent with their counts, and follow one message recipient by recipient.

Reading is for everyone with a role in the programme; sending is for organisers (a viewer's
POST is a 403). Everything goes through `events.access`, so another programme is a 404.
"""

from __future__ import annotations

import uuid
from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils.cache import patch_vary_headers
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from django.views.decorators.http import require_http_methods, require_safe

from events.access import get_activity_for_organiser, get_programme_for_organiser, may_change
from events.backoffice.forms import REGISTRANT_NOTICE_FIELDS
from events.models import Activity, Programme
from jubileum.lib.http import see_other
from registrations.backoffice import messaging
from registrations.models import Message, MessageRecipient

Audience = Message.Audience
Delivery = MessageRecipient.Status

RECIPIENTS_PER_PAGE = 100

# Statuses that mean "not done yet": the message page keeps polling while any row has one
# (a `sending` row whose worker died is `possibly_sent` by the time the page counts).
PENDING = (Delivery.QUEUED, Delivery.SENDING)


class MessageForm(forms.Form):
    key = forms.UUIDField(
        widget=forms.HiddenInput,
        error_messages={
            "required": gettext_lazy("Dit formulier is niet compleet; laad de pagina opnieuw."),
            "invalid": gettext_lazy("Dit formulier is niet compleet; laad de pagina opnieuw."),
        },
    )
    audience = forms.ChoiceField(
        label=gettext_lazy("Aan wie?"),
        widget=forms.RadioSelect,
        error_messages={"required": gettext_lazy("Kies wie het bericht krijgt.")},
    )
    subject = forms.CharField(
        label=gettext_lazy("Onderwerp"),
        max_length=Message._meta.get_field("subject").max_length,
        error_messages={
            "required": gettext_lazy("Schrijf een onderwerp."),
            "max_length": gettext_lazy("Het onderwerp mag hoogstens %(limit_value)d tekens zijn."),
        },
    )
    body = forms.CharField(
        label=gettext_lazy("Bericht"),
        max_length=Message._meta.get_field("body").max_length,
        widget=forms.Textarea(attrs={"rows": 12}),
        help_text=gettext_lazy(
            "Gewone tekst, geen opmaak. Onder je bericht zetten wij de activiteit en de "
            "persoonlijke link waarmee iemand de aanmelding kan bekijken of annuleren. "
            "Antwoorden komen bij het e-mailadres van de organisatie."
        ),
        error_messages={
            "required": gettext_lazy("Schrijf een bericht."),
            "max_length": gettext_lazy("Het bericht mag hoogstens %(limit_value)d tekens zijn."),
        },
    )

    def __init__(self, *args: Any, counts: dict[str, int], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.counts = counts
        self.fields["audience"].choices = [
            (
                audience.value,
                ngettext(
                    "%(audience)s (%(count)s ontvanger)",
                    "%(audience)s (%(count)s ontvangers)",
                    counts[audience.value],
                )
                % {"audience": audience.label, "count": counts[audience.value]},
            )
            for audience in Audience
        ]

    def clean_audience(self) -> str:
        audience = self.cleaned_data["audience"]
        if self.counts[audience] == 0:
            raise forms.ValidationError(
                _("In deze groep staat niemand met een e-mailadres. Kies een andere groep.")
            )
        return audience


def _sent_messages(activity: Activity) -> list[Message]:
    """The activity's messages, newest first, each with `tallies`: (status label, count) for
    every status it has recipients in."""
    sent = list(
        messaging.with_status_counts(Message.objects.filter(activity=activity))
        .select_related("sent_by")
        .order_by("-created_at", "-pk")
    )
    for item in sent:
        item.tallies = [
            (status.label, getattr(item, f"count_{status.value}"))
            for status in Delivery
            if getattr(item, f"count_{status.value}")
        ]
    return sent


def _list_page(
    request: HttpRequest,
    programme: Programme,
    activity: Activity,
    form: MessageForm | None,
    *,
    status: int = 200,
) -> HttpResponse:
    return render(
        request,
        "organiser/message_list.html",
        {
            "programme": programme,
            "activity": activity,
            "may_change": may_change(programme),
            "form": form,
            "sent_messages": _sent_messages(activity),
        },
        status=status,
    )


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def messages_page(request: HttpRequest, programme_slug: str, activity_slug: str) -> HttpResponse:
    """The messages of an activity and the form for a new one.

    A POST goes through two steps: first the confirm page (how many people get it), whose
    "Versturen" posts again with `step=send`; "Aanpassen" (`step=edit`) shows the form again
    with the text kept. The form's hidden key makes a repeated send find the first message.
    """
    write = request.method == "POST"
    item = get_programme_for_organiser(request.user, programme_slug, write=write)
    current = get_activity_for_organiser(item, activity_slug)
    counts = messaging.audience_counts(current)
    if not write:
        form = None
        if may_change(item):
            form = MessageForm(
                counts=counts, initial={"key": uuid.uuid4(), "audience": Audience.CONFIRMED}
            )
        return _list_page(request, item, current, form)

    form = MessageForm(request.POST, counts=counts)
    step = request.POST.get("step", "")
    if not form.is_valid():
        return _list_page(request, item, current, form, status=422)
    data = form.cleaned_data
    if step == "edit":
        return _list_page(request, item, current, form)
    if step != "send":
        return render(
            request,
            "organiser/message_confirm.html",
            {
                "programme": item,
                "activity": current,
                "form": form,
                "audience_label": Audience(data["audience"]).label,
                "count": counts[data["audience"]],
            },
        )
    try:
        message = messaging.send_message(
            current,
            data["audience"],
            data["subject"],
            data["body"],
            request.user,
            idempotency_key=data["key"],
        )
    except messaging.MessagingError as error:
        form.add_error(None, str(error))
        return _list_page(request, item, current, form, status=422)
    count = message.recipients.count()
    messages.success(
        request,
        ngettext(
            "Het bericht “%(subject)s” wordt verstuurd naar %(count)s ontvanger.",
            "Het bericht “%(subject)s” wordt verstuurd naar %(count)s ontvangers.",
            count,
        )
        % {"subject": message.subject, "count": count},
    )
    return see_other(
        reverse(
            "organiser:message",
            kwargs={
                "programme_slug": item.slug,
                "activity_slug": current.slug,
                "message_id": message.pk,
            },
        )
    )


@login_required
@require_safe
def message_page(
    request: HttpRequest, programme_slug: str, activity_slug: str, message_id: int
) -> HttpResponse:
    """One message: its text, counts per status, and its recipients page by page (optionally
    only one status). With htmx, only the recipients part, which polls while any are queued
    or really being sent.

    A claim abandoned by a dead worker is given up here too, not only by the scheduled
    `requeue_stale_tasks`: what the organiser reads must not wait for cron, and one UPDATE on
    this message's rows is cheap."""
    item = get_programme_for_organiser(request.user, programme_slug)
    current = get_activity_for_organiser(item, activity_slug)
    message = get_object_or_404(
        Message.objects.select_related("sent_by"), pk=message_id, activity=current
    )
    messaging.give_up_stale_claims(message_id=message.pk)
    counts = messaging.status_counts(message)
    shown = request.GET.get("status", "")
    if shown not in Delivery.values:
        shown = ""
    recipients = message.recipients.select_related("registration").order_by("pk")
    if shown:
        recipients = recipients.filter(status=shown)
    page = Paginator(recipients, RECIPIENTS_PER_PAGE).get_page(request.GET.get("pagina"))
    for recipient in page.object_list:
        recipient.detail_text = messaging.detail_text(recipient)
    query = request.GET.copy()
    query.pop("pagina", None)
    context = {
        "programme": item,
        "activity": current,
        "sent_message": message,
        "counts": [(status, counts[status.value]) for status in Delivery],
        "total": sum(counts.values()),
        "pending": any(counts[status] for status in PENDING),
        "possibly_sent": counts[Delivery.POSSIBLY_SENT],
        "shown": shown,
        "shown_label": Delivery(shown).label if shown else "",
        "page": page,
        "query": query.urlencode(),
        "refresh_url": request.get_full_path(),
    }
    if request.htmx and not request.htmx.history_restore_request:
        response = render(request, "organiser/message_detail.html#recipients", context)
    else:
        response = render(request, "organiser/message_detail.html", context)
    # The same URL answers with a page or a fragment: caches must keep them apart.
    patch_vary_headers(response, ["HX-Request"])
    return response


@login_required
@require_safe
def change_notice(request: HttpRequest, programme_slug: str, activity_slug: str) -> HttpResponse:
    """After an edit moved the activity's time or place (`?versie=`: the history record of that
    edit): the message to everyone still registered, shown before it goes, through the messages'
    own confirm step. "Versturen" posts it to `messages_page` with a fresh key, so a double
    click sends it once; "Niet versturen" just goes back to the activity."""
    item = get_programme_for_organiser(request.user, programme_slug, write=True)
    current = get_activity_for_organiser(item, activity_slug)
    back = reverse(
        "organiser:activity", kwargs={"programme_slug": item.slug, "activity_slug": current.slug}
    )
    try:
        version = int(request.GET.get("versie", ""))
    except ValueError:
        return see_other(back)
    after = current.history.filter(history_id=version).first()
    before = after.prev_record if after is not None else None
    if before is None:
        return see_other(back)
    changed = [
        name for name in REGISTRANT_NOTICE_FIELDS if getattr(before, name) != getattr(after, name)
    ]
    counts = messaging.audience_counts(current)
    count = counts[Audience.REGISTERED]
    if not changed or not count:
        return see_other(back)
    subject, body = messaging.change_notice(before, after, changed)
    form = MessageForm(
        {"key": uuid.uuid4(), "audience": Audience.REGISTERED, "subject": subject, "body": body},
        counts=counts,
    )
    form.is_valid()
    return render(
        request,
        "organiser/message_confirm.html",
        {
            "programme": item,
            "activity": current,
            "form": form,
            "audience_label": Audience.REGISTERED.label,
            "count": count,
            "intro": _(
                "Je hebt de tijd of de plaats gewijzigd. Wil je iedereen die zich heeft "
                "aangemeld dit bericht sturen?"
            ),
            "skip_url": back,
        },
    )

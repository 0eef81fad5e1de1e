from __future__ import annotations

from collections.abc import Callable

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext
from simple_history.admin import SimpleHistoryAdmin

from events.access import ProgrammeScopedAdmin, SuperusersOnlyAdmin, programmes_for
from registrations import services
from registrations.models import (
    Answer,
    Invitation,
    Payment,
    Refund,
    Registration,
    RosterEntry,
    StripeEvent,
)


class AnswerInline(admin.TabularInline):
    """The answers to the activity's extra questions, read only: they are the attendee's."""

    model = Answer
    fields = ["question", "value"]
    readonly_fields = ["question", "value"]
    extra = 0
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj=None) -> bool:
        return False


@admin.register(Registration)
class RegistrationAdmin(ProgrammeScopedAdmin, SimpleHistoryAdmin):
    programme_path = "activity__programme"
    inlines = [AnswerInline]
    list_display = [
        "contact_name",
        "activity",
        "party_size",
        "status",
        "kind",
        "brigade",
        "created_at",
    ]
    list_filter = [
        "status",
        "kind",
        "brigade",
        ("activity__programme", admin.RelatedOnlyFieldListFilter),
        ("activity", admin.RelatedOnlyFieldListFilter),
    ]
    search_fields = ["contact_name", "email", "phone"]
    list_select_related = ["activity"]
    date_hierarchy = "created_at"
    raw_id_fields = ["activity", "invitation"]
    # Status, places and times change only through the services (the actions below), which
    # lock the activity and keep capacity and the waitlist right. The manage token is the
    # attendee's personal link and stays out of sight.
    exclude = ["manage_token"]
    readonly_fields = [
        "activity",
        "status",
        "party_size",
        "ticket_code",
        "invitation",
        "consent_at",
        "consent_via",
        "consent_taken_by",
        "hold_expires_at",
        "waitlisted_at",
        "confirmed_at",
        "cancelled_at",
        "reminder_sent_at",
        "anonymised_at",
        "created_at",
        "updated_at",
    ]
    actions = ["approve", "decline", "cancel"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # people sign up through the site or the API, which check everything

    def _run(
        self,
        request: HttpRequest,
        queryset: QuerySet[Registration],
        service: Callable[[int], Registration],
        done: str,
    ) -> None:
        writable = queryset.filter(activity__programme__in=programmes_for(request.user, write=True))
        refused = queryset.exclude(pk__in=writable.values("pk")).count()
        count = 0
        for registration in writable:
            try:
                service(registration.pk)
            except services.RegistrationError as error:
                self.message_user(
                    request, f"{registration.contact_name}: {error}", level=messages.ERROR
                )
            else:
                count += 1
        if count:
            self.message_user(request, done % {"count": count}, level=messages.SUCCESS)
        if refused:
            self.message_user(
                request,
                ngettext(
                    "%(count)s aanmelding overgeslagen: je mag dit programma niet wijzigen.",
                    "%(count)s aanmeldingen overgeslagen: je mag dit programma niet wijzigen.",
                    refused,
                )
                % {"count": refused},
                level=messages.WARNING,
            )

    @admin.action(description=_("Goedkeuren (stuurt een e-mail)"))
    def approve(self, request: HttpRequest, queryset: QuerySet[Registration]) -> None:
        self._run(request, queryset, services.approve, _("%(count)s goedgekeurd."))

    @admin.action(description=_("Afwijzen (stuurt een e-mail)"))
    def decline(self, request: HttpRequest, queryset: QuerySet[Registration]) -> None:
        self._run(request, queryset, services.decline, _("%(count)s afgewezen."))

    @admin.action(description=_("Annuleren (stuurt een e-mail, biedt de plaatsen aan)"))
    def cancel(self, request: HttpRequest, queryset: QuerySet[Registration]) -> None:
        self._run(
            request,
            queryset,
            lambda pk: services.cancel(pk, by_organiser=True),
            _("%(count)s geannuleerd."),
        )


@admin.register(RosterEntry)
class RosterEntryAdmin(ProgrammeScopedAdmin):
    programme_path = "programme"
    list_display = ["name", "email", "brigade", "years_of_service", "is_former", "programme"]
    list_filter = [("programme", admin.RelatedOnlyFieldListFilter), "brigade", "is_former"]
    search_fields = ["name", "email"]
    list_select_related = ["programme"]


@admin.register(Invitation)
class InvitationAdmin(ProgrammeScopedAdmin):
    programme_path = "activity__programme"
    list_display = ["name", "email", "activity", "created_at", "sent_at"]
    list_filter = [
        ("activity__programme", admin.RelatedOnlyFieldListFilter),
        ("activity", admin.RelatedOnlyFieldListFilter),
    ]
    search_fields = ["name", "email", "code"]
    list_select_related = ["activity"]
    raw_id_fields = ["activity"]
    readonly_fields = ["code", "sent_at", "created_at"]


@admin.register(Payment)
class PaymentAdmin(ProgrammeScopedAdmin):
    """Payments are read here; they change only through Stripe events and the organiser's
    refund action (registrations.payments.services), so nothing can be edited by hand."""

    programme_path = "registration__activity__programme"
    list_display = ["registration", "attempt", "status", "amount", "refunded_amount", "demo"]
    list_filter = [
        "status",
        "demo",
        ("registration__activity__programme", admin.RelatedOnlyFieldListFilter),
    ]
    search_fields = ["checkout_session_id", "payment_intent_id", "registration__contact_name"]
    list_select_related = ["registration__activity"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


@admin.register(Refund)
class RefundAdmin(PaymentAdmin):
    """Refunds as Stripe reported them; read only, like the payments."""

    list_display = ["stripe_refund_id", "payment", "amount", "status", "reason", "updated_at"]
    list_filter = ["status", "reason"]
    search_fields = ["stripe_refund_id", "payment__payment_intent_id"]
    list_select_related = ["payment"]


@admin.register(StripeEvent)
class StripeEventAdmin(SuperusersOnlyAdmin):
    """Stripe's events belong to no programme: superusers only, and read only."""

    list_display = ["event_id", "type", "outcome", "received_at"]
    list_filter = ["type"]
    search_fields = ["event_id"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

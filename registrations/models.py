"""Registrations: one party for one activity, the member roster and personal invitations.

Models own their state changes. Each model with a workflow status writes down, once, which
status may follow which (`TRANSITIONS`), and changes its status only through a method named
for the transition (`Registration.confirm`, `Payment.mark_paid`, ...). Such a method checks the
table first and raises `errors.InvalidTransition` without touching anything if the move is not
allowed; otherwise it sets the status and every field that belongs to the transition (the
times, the reason) on the instance. It does not save: the service that called it holds the
locks and saves inside its transaction. It returns the names of the fields it set, for
`save(update_fields=[...])`.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Collection, Mapping
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from events.models import Activity, Programme, Question
from registrations.errors import InvalidTransition
from registrations.tokens import new_manage_token, new_ticket_code


def _check_transition(
    model: type[models.Model], table: Mapping[str, Collection[str]], source: str, target: str
) -> None:
    if target not in table.get(source, ()):
        raise InvalidTransition(
            details={"model": model._meta.model_name, "from": source, "to": target}
        )


class Brigade(models.TextChoices):
    SOEST = "soest", _("Soest")
    SOESTERBERG = "soesterberg", _("Soesterberg")


class RegistrationQuerySet(models.QuerySet):
    def lapsed(self, now: dt.datetime) -> RegistrationQuerySet:
        """Offers and payment holds whose time has passed (no longer counting against capacity,
        whether or not anything has marked them expired yet)."""
        return self.filter(status__in=Registration.HELD_STATUSES, hold_expires_at__lte=now)

    def expire_lapsed(self, now: dt.datetime) -> int:
        """`Registration.expire` for every lapsed offer and hold here, in one UPDATE (nobody is
        told: `capacity.expire_lapsed` also mails whoever an approval had given time to pay)."""
        return self.lapsed(now).update(status=Registration.Status.EXPIRED, updated_at=now)


# A repeated sign-up mails the owner of the address at most this often (Registration).
REPEAT_MAIL_INTERVAL = dt.timedelta(hours=1)


class Registration(models.Model):
    class Status(models.TextChoices):
        PENDING_APPROVAL = "pending_approval", _("Wacht op goedkeuring")
        PENDING_PAYMENT = "pending_payment", _("Wacht op betaling")
        CONFIRMED = "confirmed", _("Bevestigd")
        WAITLISTED = "waitlisted", _("Op de wachtlijst")
        OFFERED = "offered", _("Plaats aangeboden")
        EXPIRED = "expired", _("Verlopen")
        CANCELLED = "cancelled", _("Geannuleerd")

    class Kind(models.TextChoices):
        RESIDENT = "resident", _("Inwoner")
        MEMBER = "member", _("Lid")
        FORMER_MEMBER = "former_member", _("Oud-lid")
        GUEST = "guest", _("Gast")

    class ConsentVia(models.TextChoices):
        """How the person gave consent: ticking the box on the site, or saying so to an
        organiser who signed them up (`consent_taken_by`)."""

        WEB = "web", _("Op de website")
        PHONE = "phone", _("Telefonisch, aan een organisator")
        DESK = "desk", _("Aan de balie, aan een organisator")

    ACTIVE_STATUSES = (
        Status.PENDING_APPROVAL,
        Status.PENDING_PAYMENT,
        Status.CONFIRMED,
        Status.WAITLISTED,
        Status.OFFERED,
    )
    # Places kept until `hold_expires_at`.
    HELD_STATUSES = (Status.OFFERED, Status.PENDING_PAYMENT)
    # The order in which the waitlist is offered freed places (registrations.capacity).
    WAITLIST_ORDER = (models.F("waitlisted_at").asc(nulls_last=True), "pk")

    # Which status may follow which (DESIGN.md's state diagram); "" is a new, unsaved party.
    TRANSITIONS: dict[str, frozenset[str]] = {
        "": frozenset(
            {Status.PENDING_APPROVAL, Status.CONFIRMED, Status.PENDING_PAYMENT, Status.WAITLISTED}
        ),
        # OFFERED: approved for a paid activity, the places kept while they decide to pay.
        Status.PENDING_APPROVAL: frozenset(
            {
                Status.CONFIRMED,
                Status.PENDING_PAYMENT,
                Status.OFFERED,
                Status.WAITLISTED,
                Status.CANCELLED,
            }
        ),
        Status.WAITLISTED: frozenset({Status.OFFERED, Status.CANCELLED}),
        # WAITLISTED from any state that holds places: moved to a full activity (services.move).
        Status.OFFERED: frozenset(
            {
                Status.CONFIRMED,
                Status.PENDING_PAYMENT,
                Status.EXPIRED,
                Status.WAITLISTED,
                Status.CANCELLED,
            }
        ),
        Status.PENDING_PAYMENT: frozenset(
            {Status.CONFIRMED, Status.EXPIRED, Status.WAITLISTED, Status.CANCELLED}
        ),
        Status.CONFIRMED: frozenset({Status.WAITLISTED, Status.CANCELLED}),
        # Paid after the hold lapsed while a place was still free.
        Status.EXPIRED: frozenset({Status.CONFIRMED}),
        Status.CANCELLED: frozenset(),
    }

    activity = models.ForeignKey(
        Activity,
        on_delete=models.PROTECT,
        related_name="registrations",
        verbose_name=_("activiteit"),
    )
    status = models.CharField(_("status"), max_length=20, choices=Status.choices)
    contact_name = models.CharField(_("naam"), max_length=200)
    # Blank only for a walk-in registered at the door (registrations.checkin.services.walk_in).
    email = models.EmailField(_("e-mailadres"), blank=True)
    phone = models.CharField(_("telefoonnummer"), max_length=40, blank=True)
    party_size = models.PositiveSmallIntegerField(
        _("aantal personen"), validators=[MinValueValidator(1)]
    )
    kind = models.CharField(
        _("ik kom als"), max_length=20, choices=Kind.choices, default=Kind.RESIDENT
    )
    brigade = models.CharField(_("korps"), max_length=20, choices=Brigade.choices, blank=True)
    years_of_service = models.PositiveSmallIntegerField(
        _("dienstjaren"), null=True, blank=True, validators=[MaxValueValidator(80)]
    )
    language = models.CharField(_("taal"), max_length=8, default="nl")
    consent_at = models.DateTimeField(_("toestemming gegeven op"))
    consent_via = models.CharField(
        _("toestemming gegeven via"),
        max_length=10,
        choices=ConsentVia.choices,
        default=ConsentVia.WEB,
    )
    # The organiser who heard the consent (and typed the sign-up in); kept if their account goes.
    consent_taken_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("toestemming opgenomen door"),
    )
    manage_token = models.CharField(max_length=32, unique=True, default=new_manage_token)
    ticket_code = models.CharField(max_length=32, unique=True, default=new_ticket_code)
    # Until when a waitlist offer, an approval or a payment hold keeps its places (see
    # events.models.ActivityQuerySet.with_places_taken).
    hold_expires_at = models.DateTimeField(_("plaatsen vastgehouden tot"), null=True, blank=True)
    waitlisted_at = models.DateTimeField(_("op de wachtlijst sinds"), null=True, blank=True)
    # Set while the places an organiser's approval gave are the party's to pay for (`approve`);
    # an offer from the waitlist leaves it empty.
    approved_at = models.DateTimeField(_("goedgekeurd op"), null=True, blank=True)
    confirmed_at = models.DateTimeField(_("bevestigd op"), null=True, blank=True)
    cancelled_at = models.DateTimeField(_("geannuleerd op"), null=True, blank=True)
    invitation = models.ForeignKey(
        "Invitation",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="registrations",
        verbose_name=_("uitnodiging"),
    )
    reminder_sent_at = models.DateTimeField(_("herinnering verstuurd op"), null=True, blank=True)
    # When a sign-up with this address, for this activity, last mailed its owner the link
    # (`claim_repeat_mail`). Set by an UPDATE: it moves no `updated_at`, which keys the state
    # the other e-mails report, and writes no history.
    repeat_mailed_at = models.DateTimeField(
        _("opnieuw aangemeld, gemaild op"), null=True, blank=True, editable=False
    )
    anonymised_at = models.DateTimeField(_("geanonimiseerd op"), null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    history = HistoricalRecords()

    objects = RegistrationQuerySet.as_manager()

    class Meta:
        ordering = ["created_at"]
        verbose_name = _("aanmelding")
        verbose_name_plural = _("aanmeldingen")
        indexes = [
            models.Index(fields=["activity", "status"]),
            models.Index(fields=["activity", "email"]),
            # The incremental scan manifest: what changed in an activity since a moment.
            models.Index(fields=["activity", "updated_at"], name="registration_changed"),
        ]

    def __str__(self) -> str:
        return f"{self.contact_name} ({self.party_size}) — {self.activity}"

    # --- Transitions (see the module's docstring) ---

    def _move_to(self, status: str) -> None:
        _check_transition(type(self), self.TRANSITIONS, self.status, status)
        self.status = status

    def claim_repeat_mail(self, now: dt.datetime) -> bool:
        """Whether a repeated sign-up with this address may mail the owner their link now: at
        most once per REPEAT_MAIL_INTERVAL, however many sign-ups and from wherever, so that
        an address someone else types cannot be flooded. Records the time when it may.

        One conditional UPDATE: of two sign-ups at once, the second waits for the first's row
        lock, finds the time just set, and mails nobody.
        """
        due = models.Q(repeat_mailed_at__isnull=True) | models.Q(
            repeat_mailed_at__lte=now - REPEAT_MAIL_INTERVAL
        )
        claimed = Registration.objects.filter(due, pk=self.pk).update(repeat_mailed_at=now)
        if claimed:
            self.repeat_mailed_at = now
        return bool(claimed)

    def await_approval(self) -> list[str]:
        """A new party an organiser has to let in (services.approve or decline)."""
        self._move_to(self.Status.PENDING_APPROVAL)
        return ["status"]

    def confirm(self, now: dt.datetime) -> list[str]:
        self._move_to(self.Status.CONFIRMED)
        self.confirmed_at = now
        self.hold_expires_at = None
        return ["status", "confirmed_at", "hold_expires_at"]

    def hold_for_payment(self, until: dt.datetime) -> list[str]:
        """The places are the party's until `until`, while they pay."""
        self._move_to(self.Status.PENDING_PAYMENT)
        self.hold_expires_at = until
        return ["status", "hold_expires_at"]

    def waitlist(self, now: dt.datetime) -> list[str]:
        """To the end of the waitlist; any places held are let go, an approval's with them."""
        self._move_to(self.Status.WAITLISTED)
        self.waitlisted_at = now
        self.hold_expires_at = None
        self.approved_at = None
        return ["status", "waitlisted_at", "hold_expires_at", "approved_at"]

    def approve(self, now: dt.datetime, until: dt.datetime) -> list[str]:
        """Let in by an organiser for a paid activity: the places are kept until `until` (as a
        waitlist offer's are), and the party claims them by starting to pay."""
        # Only from waiting for approval: a waitlisted party is offered places, not approved.
        approvable = {self.Status.PENDING_APPROVAL: self.TRANSITIONS[self.Status.PENDING_APPROVAL]}
        _check_transition(type(self), approvable, self.status, self.Status.OFFERED)
        self._move_to(self.Status.OFFERED)
        self.approved_at = now
        self.hold_expires_at = until
        return ["status", "approved_at", "hold_expires_at"]

    def offer(self, until: dt.datetime) -> list[str]:
        """Freed places, kept for this waiting party until `until`."""
        self._move_to(self.Status.OFFERED)
        self.hold_expires_at = until
        return ["status", "hold_expires_at"]

    def expire(self) -> list[str]:
        """An offer or payment hold ran out (`hold_expires_at` stays: it says when)."""
        self._move_to(self.Status.EXPIRED)
        return ["status"]

    def cancel(self, now: dt.datetime) -> list[str]:
        self._move_to(self.Status.CANCELLED)
        self.cancelled_at = now
        self.hold_expires_at = None
        return ["status", "cancelled_at", "hold_expires_at"]

    # --- Reading ---

    def holds_places(self, now: dt.datetime | None = None) -> bool:
        """Whether this party counts against capacity now (mirrors with_places_taken)."""
        now = now or timezone.now()
        if self.status == self.Status.CONFIRMED:
            return True
        if self.status in self.HELD_STATUSES:
            return self.hold_expires_at is not None and self.hold_expires_at > now
        return False

    @property
    def is_approval_offer(self) -> bool:
        """Places an organiser's approval keeps for this party to pay for, not a waitlist offer."""
        return self.status == self.Status.OFFERED and self.approved_at is not None

    @property
    def is_active(self) -> bool:
        return self.status in self.ACTIVE_STATUSES

    def current_status(self, now: dt.datetime | None = None) -> str:
        """The status as it stands now: an offer or payment hold whose time has passed is
        expired even when no job has marked it yet."""
        held = self.status in self.HELD_STATUSES
        return self.Status.EXPIRED if held and not self.holds_places(now) else self.status

    def paid_payment(self) -> Payment | None:
        """The attempt that brought the money in (the latest, should there ever be two); money
        that settles nothing (`Payment.NOT_SETTLING_REASONS`) is not it."""
        paid = [p for p in self.payments.all() if p.is_paid and not p.settles_nothing]
        return paid[-1] if paid else None

    def waitlist_position(self) -> int | None:
        """The party's place in the queue for freed places (1: next), while on the waitlist."""
        if self.status != self.Status.WAITLISTED:
            return None
        waiting = Registration.objects.filter(
            activity_id=self.activity_id, status=self.Status.WAITLISTED
        ).order_by(*self.WAITLIST_ORDER)
        return list(waiting.values_list("pk", flat=True)).index(self.pk) + 1

    def may_delete_personal_data(self, now: dt.datetime | None = None) -> bool:
        """People delete their data themselves once it no longer serves the activity."""
        now = now or timezone.now()
        return (
            self.current_status(now) in (self.Status.CANCELLED, self.Status.EXPIRED)
            or self.activity.status == Activity.Status.CANCELLED
            or self.activity.is_past(now)
        )


class RosterEntry(models.Model):
    """A current or former member on the programme's roster, imported from CSV by e-mail."""

    programme = models.ForeignKey(
        Programme, on_delete=models.CASCADE, related_name="roster", verbose_name=_("programma")
    )
    name = models.CharField(_("naam"), max_length=200)
    email = models.EmailField(_("e-mailadres"))
    brigade = models.CharField(_("korps"), max_length=20, choices=Brigade.choices)
    years_of_service = models.PositiveSmallIntegerField(_("dienstjaren"), null=True, blank=True)
    is_former = models.BooleanField(_("oud-lid"), default=False)

    class Meta:
        ordering = ["name"]
        verbose_name = _("lid op de ledenlijst")
        verbose_name_plural = _("ledenlijst")
        constraints = [
            models.UniqueConstraint(
                fields=["programme", "email"], name="roster_email_per_programme"
            )
        ]

    def __str__(self) -> str:
        return f"{self.name} <{self.email}>"

    @property
    def kind(self) -> str:
        """As what this person signs up: a member, or a former member."""
        return Registration.Kind.FORMER_MEMBER if self.is_former else Registration.Kind.MEMBER

    def get_kind_display(self) -> str:
        return str(Registration.Kind(self.kind).label)


class Invitation(models.Model):
    """A personal invitation code for one activity, for one person (and their party)."""

    activity = models.ForeignKey(
        Activity,
        on_delete=models.CASCADE,
        related_name="invitations",
        verbose_name=_("activiteit"),
    )
    code = models.CharField(_("code"), max_length=32, unique=True, default=new_ticket_code)
    name = models.CharField(_("naam"), max_length=200)
    email = models.EmailField(_("e-mailadres"))
    sent_at = models.DateTimeField(_("verstuurd op"), null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("uitnodiging")
        verbose_name_plural = _("uitnodigingen")

    def __str__(self) -> str:
        return f"{self.name} — {self.activity}"

    def roster_entry(self) -> RosterEntry | None:
        """The roster entry this invitation went to (by e-mail address, case-insensitively,
        as the roster matches people), while it is on the roster."""
        return (
            RosterEntry.objects.filter(
                programme_id=self.activity.programme_id, email__iexact=self.email
            )
            .order_by("pk")
            .first()
        )


class MailKind(models.TextChoices):
    """The e-mails the mail log records; each is a function in `registrations.emails` with
    templates of the same name."""

    CONFIRMATION = "confirmation", _("Bevestiging")
    WAITLISTED = "waitlisted", _("Op de wachtlijst")
    OFFER = "offer", _("Plaats aangeboden")
    PENDING_APPROVAL = "pending_approval", _("Wacht op goedkeuring")
    PENDING_PAYMENT = "pending_payment", _("Wacht op betaling")
    CANCELLED = "cancelled", _("Geannuleerd")
    ACTIVITY_CANCELLED = "activity_cancelled", _("Activiteit afgelast")
    DECLINED = "declined", _("Afgewezen")
    REMINDER = "reminder", _("Herinnering")
    REFUNDED = "refunded", _("Terugbetaald")
    LATE_PAYMENT_REFUNDED = "late_payment_refunded", _("Te laat betaald, terugbetaald")
    INVITATION = "invitation", _("Uitnodiging")
    ALREADY_SIGNED_UP = "already_signed_up", _("Was al aangemeld")
    APPROVED = "approved", _("Goedgekeurd, te betalen")
    APPROVAL_EXPIRED = "approval_expired", _("Goedgekeurd, niet op tijd betaald")


class SentMail(models.Model):
    """One e-mail that went out (or is going out) for a registration or an invitation.

    The mail tasks record each e-mail here *before* sending it, under a key that names the state
    it reports (for a confirmation: activity, party size and confirmation time). A task that runs
    again for the same state finds the row and sends nothing; a new state (a bigger party, a new
    offer) has a new key and is mailed. A resend on request is marked `forced` and never blocks
    or is blocked. No address or text is kept: the row holds no personal data.
    """

    registration = models.ForeignKey(
        Registration, on_delete=models.CASCADE, null=True, blank=True, related_name="mails"
    )
    invitation = models.ForeignKey(
        Invitation, on_delete=models.CASCADE, null=True, blank=True, related_name="mails"
    )
    kind = models.CharField(max_length=30, choices=MailKind.choices)
    key = models.CharField(max_length=120)
    forced = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["created_at"]
        verbose_name = _("verstuurde e-mail")
        verbose_name_plural = _("verstuurde e-mails")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(registration__isnull=True) ^ models.Q(invitation__isnull=True),
                name="sentmail_for_registration_or_invitation",
            ),
            models.UniqueConstraint(
                fields=["registration", "kind", "key"],
                condition=models.Q(forced=False, registration__isnull=False),
                name="sentmail_once_per_registration_state",
            ),
            models.UniqueConstraint(
                fields=["invitation", "kind", "key"],
                condition=models.Q(forced=False, invitation__isnull=False),
                name="sentmail_once_per_invitation",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kind} ({self.key})"


class Payment(models.Model):
    """One attempt to pay for a registration: one Stripe Checkout Session (or one demo session).

    A registration may need several attempts (a session expires, a payment fails); each has its
    own idempotency key, so a retried request can never create a second session or charge twice.
    Amounts are EUR with two places. What our own rules asked to give back
    (`refund_requested_amount`) is kept apart from what is on its way back or back
    (`refunded_amount`, the sum of the refunds that are pending or succeeded, kept in line with
    the `Refund` rows by `settle_refunds` in the same transaction): a refund made in Stripe's
    Dashboard counts without anyone here having asked for it, and the net ticket income is
    always `amount - refunded_amount` for a paid attempt.
    """

    class Status(models.TextChoices):
        CREATED = "created", _("Wordt aangemaakt")
        OPEN = "open", _("Open")
        PROCESSING = "processing", _("In behandeling")
        PAID = "paid", _("Betaald")
        FAILED = "failed", _("Mislukt")
        EXPIRED = "expired", _("Verlopen")
        REFUNDED = "refunded", _("Terugbetaald")

    class RefundReason(models.TextChoices):
        CANCELLED = "cancelled", _("Aanmelding geannuleerd")
        ACTIVITY_CANCELLED = "activity_cancelled", _("Activiteit geannuleerd")
        ORGANISER = "organiser", _("Door een organisator")
        LATE_NO_PLACE = "late_no_place", _("Te laat betaald, geen plaats meer vrij")
        DUPLICATE = "duplicate", _("Dubbel betaald")
        NOT_ADMITTED = "not_admitted", _("Betaald voor een aanmelding die niet meer geldt")
        # Paid for a party size or price that has since changed, and not enough for what is owed.
        OUTDATED = "outdated", _("Betaald voor een bedrag dat niet meer geldt")
        # Money that settles nothing (see UNMATCHED_REASONS).
        WRONG_AMOUNT = "wrong_amount", _("Ander bedrag of andere valuta betaald")
        NOT_ITS_SESSION = (
            "not_its_session",
            _("Betaald via een sessie die niet bij de poging hoort"),
        )

    # Money that came in for no attempt as it was asked for: a session paid with another amount
    # or currency, or a session of ours that is not its attempt's own. It gets a row of its own
    # (amount: what arrived), recorded as income and refunded at once, so the budget nets it; it
    # never settles the registration, and the attempt it named keeps its own amount.
    UNMATCHED_REASONS = (RefundReason.WRONG_AMOUNT, RefundReason.NOT_ITS_SESSION)
    # Money refunded because it pays for nothing the registration owes: it does not make the
    # registration paid (the party may pay again, or change its size).
    NOT_SETTLING_REASONS = (*UNMATCHED_REASONS, RefundReason.OUTDATED)

    # Attempts that may still turn into money.
    UNSETTLED_STATUSES = (Status.CREATED, Status.OPEN, Status.PROCESSING)

    # Which status may follow which. Stripe reports what happened to a session whatever we
    # thought of it, so an attempt we failed or closed may still turn out processing or paid;
    # once paid, only a refund follows.
    TRANSITIONS: dict[str, frozenset[str]] = {
        Status.CREATED: frozenset(
            {Status.OPEN, Status.PROCESSING, Status.PAID, Status.FAILED, Status.EXPIRED}
        ),
        Status.OPEN: frozenset({Status.PROCESSING, Status.PAID, Status.FAILED, Status.EXPIRED}),
        Status.PROCESSING: frozenset({Status.PAID, Status.FAILED, Status.EXPIRED}),
        # OPEN: the session whose creation we gave up on exists after all.
        Status.FAILED: frozenset({Status.OPEN, Status.PROCESSING, Status.PAID, Status.FAILED}),
        Status.EXPIRED: frozenset({Status.PROCESSING, Status.PAID, Status.FAILED}),
        Status.PAID: frozenset({Status.REFUNDED}),
        # A refund that succeeded may still fail later (the bank sends it back).
        Status.REFUNDED: frozenset({Status.PAID}),
    }

    registration = models.ForeignKey(
        Registration,
        on_delete=models.PROTECT,
        related_name="payments",
        verbose_name=_("aanmelding"),
    )
    attempt = models.PositiveSmallIntegerField(_("poging"), default=1)
    # In the addresses Stripe sends the person back to: names the attempt, grants nothing.
    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    status = models.CharField(
        _("status"), max_length=20, choices=Status.choices, default=Status.CREATED
    )
    amount = models.DecimalField(_("bedrag"), max_digits=8, decimal_places=2)
    currency = models.CharField(_("valuta"), max_length=3, default="eur")
    demo = models.BooleanField(_("demo"), default=False)
    idempotency_key = models.CharField(max_length=80, unique=True)
    checkout_session_id = models.CharField(
        _("Checkout Session"), max_length=255, unique=True, null=True, blank=True
    )
    checkout_url = models.CharField(max_length=2000, blank=True)
    payment_intent_id = models.CharField(_("PaymentIntent"), max_length=255, blank=True)
    expires_at = models.DateTimeField(_("verloopt op"), null=True, blank=True)
    paid_at = models.DateTimeField(_("betaald op"), null=True, blank=True)
    failure = models.CharField(_("reden van mislukken"), max_length=200, blank=True)
    refund_reason = models.CharField(
        _("reden van terugbetalen"), max_length=30, choices=RefundReason.choices, blank=True
    )
    refund_requested_at = models.DateTimeField(
        _("terugbetaling gevraagd op"), null=True, blank=True
    )
    refund_requested_amount = models.DecimalField(
        _("terug te betalen bedrag"), max_digits=8, decimal_places=2, default=0
    )
    refunded_amount = models.DecimalField(
        _("terugbetaald bedrag"), max_digits=8, decimal_places=2, default=0
    )
    refund_pending_amount = models.DecimalField(
        _("terugbetaling onderweg"), max_digits=8, decimal_places=2, default=0
    )
    refund_failure = models.CharField(_("terugbetaling mislukt"), max_length=200, blank=True)
    refunded_at = models.DateTimeField(_("terugbetaald op"), null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    history = HistoricalRecords()

    class Meta:
        ordering = ["created_at", "pk"]
        verbose_name = _("betaling")
        verbose_name_plural = _("betalingen")
        constraints = [
            models.UniqueConstraint(
                fields=["registration", "attempt"], name="payment_attempt_per_registration"
            ),
            models.CheckConstraint(
                condition=models.Q(amount__gt=0), name="payment_amount_positive"
            ),
            models.CheckConstraint(
                condition=models.Q(refunded_amount__gte=0)
                & models.Q(refunded_amount__lte=models.F("amount")),
                name="payment_refund_within_amount",
            ),
            models.CheckConstraint(
                condition=models.Q(refund_pending_amount__gte=0)
                & models.Q(refund_pending_amount__lte=models.F("refunded_amount")),
                name="payment_refund_pending_within_refunded",
            ),
            models.CheckConstraint(
                condition=models.Q(refund_requested_amount__gte=0)
                & models.Q(refund_requested_amount__lte=models.F("amount")),
                name="payment_refund_requested_within_amount",
            ),
        ]
        indexes = [models.Index(fields=["payment_intent_id"])]

    def __str__(self) -> str:
        return f"{self.registration_id}#{self.attempt} {self.status} € {self.amount}"

    @property
    def is_paid(self) -> bool:
        """Money came in (whether or not some or all of it went back since)."""
        return self.paid_at is not None

    @property
    def refund_succeeded_amount(self) -> Decimal:
        """What is back with the person."""
        return self.refunded_amount - self.refund_pending_amount

    @property
    def refund_to_come(self) -> Decimal:
        """What is on its way back or still to be sent back (asked for, or a pending refund)."""
        return max(self.refund_requested_amount, self.refunded_amount) - (
            self.refund_succeeded_amount
        )

    @property
    def refund_outstanding(self) -> Decimal:
        """What our rules asked to give back and no pending or succeeded refund covers yet."""
        return max(self.refund_requested_amount - self.refunded_amount, Decimal(0))

    @property
    def is_unmatched(self) -> bool:
        """Money that settles nothing and is refunded (see UNMATCHED_REASONS)."""
        return self.refund_reason in self.UNMATCHED_REASONS

    @property
    def settles_nothing(self) -> bool:
        return self.refund_reason in self.NOT_SETTLING_REASONS

    @property
    def is_refunding(self) -> bool:
        return self.refund_to_come > 0

    # --- Transitions (see the module's docstring) ---

    def _move_to(self, status: str) -> None:
        _check_transition(type(self), self.TRANSITIONS, self.status, status)
        self.status = status

    def mark_open(self) -> list[str]:
        """The Checkout Session exists (its id and address are set by whoever learnt them)."""
        self._move_to(self.Status.OPEN)
        self.failure = ""
        return ["status", "failure"]

    def mark_processing(self) -> list[str]:
        """Checkout is done but the money is not in yet."""
        self._move_to(self.Status.PROCESSING)
        return ["status"]

    def mark_paid(self, now: dt.datetime, payment_intent_id: str) -> list[str]:
        if self.is_paid:
            # REFUNDED -> PAID is a refund failing afterwards (`settle_refunds`), not new money.
            raise InvalidTransition(
                details={"model": "payment", "from": self.status, "to": self.Status.PAID}
            )
        self._move_to(self.Status.PAID)
        self.paid_at = now
        self.payment_intent_id = payment_intent_id
        return ["status", "paid_at", "payment_intent_id"]

    def mark_failed(self, why: str) -> list[str]:
        self._move_to(self.Status.FAILED)
        self.failure = why[:200]
        return ["status", "failure"]

    def mark_expired(self, why: str) -> list[str]:
        """Closed, by Stripe's expiry or by us: it can no longer be paid (should it be all the
        same, the payment is handled as a late one)."""
        self._move_to(self.Status.EXPIRED)
        self.failure = why[:200]
        return ["status", "failure"]

    def request_refund(self, reason: str, now: dt.datetime) -> list[str]:
        """Ask for the whole payment back (carried out later by `refunds.execute_refund`)."""
        if not self.is_paid or self.refund_requested_at is not None:
            raise InvalidTransition(
                details={"model": "payment", "from": self.status, "to": "refund_requested"}
            )
        self.refund_reason = reason
        self.refund_requested_at = now
        self.refund_requested_amount = self.amount
        return ["refund_reason", "refund_requested_at", "refund_requested_amount"]

    def settle_refunds(self, refunds: Collection[Refund], now: dt.datetime) -> list[str]:
        """Bring the refund figures in line with all of this payment's refunds as they stand:
        refunded in full once the succeeded ones make the amount (and PAID again should one of
        them fail afterwards). A refund made in Stripe's Dashboard counts here too, but does not
        change what our rules asked for (`refund_requested_amount`)."""
        counted = sum((r.amount for r in refunds if r.counts), Decimal(0))
        pending = sum((r.amount for r in refunds if r.is_pending), Decimal(0))
        if not self.is_paid or counted > self.amount:
            raise InvalidTransition(
                details={"model": "payment", "from": self.status, "to": "refunded"}
            )
        fields = ["refunded_amount", "refund_pending_amount", "refund_failure"]
        target = self.Status.REFUNDED if counted - pending == self.amount else self.Status.PAID
        if target != self.status:
            self._move_to(target)
            fields.append("status")
        if counted - pending > self.refund_succeeded_amount:
            self.refunded_at = now
            fields.append("refunded_at")
        self.refunded_amount, self.refund_pending_amount = counted, pending
        latest = max(refunds, key=lambda r: (r.created_at or now, r.pk or 0), default=None)
        self.refund_failure = latest.failure_reason if latest and not latest.counts else ""
        return fields

    # --- Reading ---

    def stripe_metadata(self) -> dict[str, str]:
        """The ids we give Stripe with this attempt's session and refunds, to find it by."""
        return {
            "registration_id": str(self.registration_id),
            "payment_id": str(self.pk),
            "activity_id": str(self.registration.activity_id),
            "installation_id": settings.INSTALLATION_ID,
        }

    def is_open(self, now: dt.datetime | None = None) -> bool:
        """A session the person can still go back to."""
        now = now or timezone.now()
        return (
            self.status == self.Status.OPEN
            and self.expires_at is not None
            and self.expires_at > now
        )


class Refund(models.Model):
    """One refund of a payment, as Stripe reports it (or as the demo makes it): ours, asked for
    by `refunds.execute_refund`, or one made in Stripe's Dashboard (no `reason`).

    Pending, requires-action and succeeded refunds count (the money is on its way back or back;
    requires_action waits for the person to give Stripe their bank details); a failed or
    canceled one does not, and what it should have given back is asked for again by
    `reconcile_payments`. Stripe's reports may arrive out of order: a status that cannot follow
    the one recorded is an old report and is ignored (`follow`).
    """

    class Status(models.TextChoices):
        PENDING = "pending", _("Onderweg")
        REQUIRES_ACTION = "requires_action", _("Wacht op actie")
        SUCCEEDED = "succeeded", _("Terugbetaald")
        FAILED = "failed", _("Mislukt")
        CANCELED = "canceled", _("Geannuleerd")

    COUNTING_STATUSES = (Status.PENDING, Status.REQUIRES_ACTION, Status.SUCCEEDED)
    TRANSITIONS: dict[str, frozenset[str]] = {
        Status.PENDING: frozenset(
            {Status.REQUIRES_ACTION, Status.SUCCEEDED, Status.FAILED, Status.CANCELED}
        ),
        Status.REQUIRES_ACTION: frozenset(
            {Status.PENDING, Status.SUCCEEDED, Status.FAILED, Status.CANCELED}
        ),
        # The card issuer or bank may send a refund back after Stripe reported it succeeded.
        Status.SUCCEEDED: frozenset({Status.FAILED}),
        Status.FAILED: frozenset(),
        Status.CANCELED: frozenset(),
    }

    payment = models.ForeignKey(
        Payment, on_delete=models.PROTECT, related_name="refunds", verbose_name=_("betaling")
    )
    stripe_refund_id = models.CharField(
        _("Refund"), max_length=255, unique=True, null=True, blank=True
    )
    amount = models.DecimalField(_("bedrag"), max_digits=8, decimal_places=2)
    status = models.CharField(_("status"), max_length=20, choices=Status.choices)
    # Why we gave it back; blank: made in Stripe's Dashboard, not asked for by our rules.
    reason = models.CharField(
        _("reden"), max_length=30, choices=Payment.RefundReason.choices, blank=True
    )
    failure_reason = models.CharField(_("reden van mislukken"), max_length=200, blank=True)
    idempotency_key = models.CharField(max_length=120, unique=True, null=True, blank=True)
    # Claimed before the organisers are mailed about a failure, so a repeated task mails once.
    organisers_told_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    history = HistoricalRecords()

    class Meta:
        ordering = ["created_at", "pk"]
        verbose_name = _("terugbetaling")
        verbose_name_plural = _("terugbetalingen")
        constraints = [
            models.CheckConstraint(condition=models.Q(amount__gt=0), name="refund_amount_positive")
        ]

    def __str__(self) -> str:
        return f"{self.stripe_refund_id or self.pk} {self.status} € {self.amount}"

    @property
    def counts(self) -> bool:
        """The money is on its way back or back."""
        return self.status in self.COUNTING_STATUSES

    @property
    def is_pending(self) -> bool:
        return self.status in (self.Status.PENDING, self.Status.REQUIRES_ACTION)

    def follow(self, status: str, failure_reason: str = "") -> list[str]:
        """Stripe reports the refund in `status` now; returns the fields set (none: the same
        status, reported again). Raises `InvalidTransition` for a status that cannot follow."""
        if status == self.status:
            return []
        _check_transition(type(self), self.TRANSITIONS, self.status, status)
        self.status = status
        self.failure_reason = "" if self.counts else (failure_reason or status)[:200]
        return ["status", "failure_reason"]


class StripeEvent(models.Model):
    """A Stripe event that was handled, stored once: a second delivery finds it and does nothing.

    Only ids and what was done are kept, no payload (it holds names and e-mail addresses)."""

    event_id = models.CharField(max_length=255, unique=True)
    type = models.CharField(max_length=100)
    outcome = models.CharField(max_length=200, blank=True)
    received_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["received_at"]
        verbose_name = _("Stripe-gebeurtenis")
        verbose_name_plural = _("Stripe-gebeurtenissen")

    def __str__(self) -> str:
        return f"{self.event_id} ({self.type})"


class ScannerDevice(models.Model):
    """A volunteer's phone (or a hardware scanner) that may check people in at chosen activities.

    Not a user and holds no role. It proves itself with a bearer token stored only as a SHA-256
    hash (`token_hash`); the token is handed out once, when the device is paired with its
    single-use `pairing_code` (or printed once by `manage.py create_scanner_device`). A device
    is refused (401) from the moment it expires or is revoked. See `registrations.checkin.devices`.
    """

    name = models.CharField(_("naam"), max_length=100)
    programme = models.ForeignKey(
        Programme,
        on_delete=models.CASCADE,
        related_name="scanner_devices",
        verbose_name=_("programma"),
    )
    activities = models.ManyToManyField(
        Activity, related_name="scanner_devices", verbose_name=_("activiteiten")
    )
    token_hash = models.CharField(max_length=64, unique=True, null=True, blank=True)
    pairing_code = models.CharField(max_length=8, unique=True, null=True, blank=True)
    pairing_expires_at = models.DateTimeField(_("koppelcode geldig tot"), null=True, blank=True)
    paired_at = models.DateTimeField(_("gekoppeld op"), null=True, blank=True)
    expires_at = models.DateTimeField(_("verloopt op"))
    revoked_at = models.DateTimeField(_("ingetrokken op"), null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("aangemaakt door"),
    )
    created_at = models.DateTimeField(auto_now_add=True)
    last_seen_at = models.DateTimeField(_("laatst gezien"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "pk"]
        verbose_name = _("scanner")
        verbose_name_plural = _("scanners")

    def __str__(self) -> str:
        return self.name

    def is_active(self, now: dt.datetime | None = None) -> bool:
        now = now or timezone.now()
        return self.revoked_at is None and self.expires_at > now


class CheckIn(models.Model):
    """Persons of one registration admitted at the door by one scan.

    How many of a party are in is derived, never stored: the sum of `persons` over a
    registration's check-ins (`registrations.checkin.services.checked_in_of`). Every redeem locks
    the registration row before it sums and adds, so two scans cannot both admit the last person.
    `at` is when the scan was made (for an offline scan: the phone's `scanned_at`);
    `created_at` is when the server learnt of it (what an incremental manifest compares).
    """

    registration = models.ForeignKey(
        Registration, on_delete=models.CASCADE, related_name="checkins"
    )
    device = models.ForeignKey(
        ScannerDevice, on_delete=models.SET_NULL, null=True, blank=True, related_name="checkins"
    )
    persons = models.PositiveSmallIntegerField(validators=[MinValueValidator(1)])
    at = models.DateTimeField()
    offline = models.BooleanField(default=False)
    nonce = models.CharField(max_length=64, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["at", "pk"]
        verbose_name = _("binnenkomst")
        verbose_name_plural = _("binnenkomsten")
        constraints = [
            models.UniqueConstraint(
                fields=["device", "nonce"],
                condition=~models.Q(nonce=""),
                name="checkin_nonce_per_device",
            ),
            models.CheckConstraint(condition=models.Q(persons__gte=1), name="checkin_persons"),
        ]
        indexes = [
            models.Index(fields=["registration", "at"]),
            # The incremental scan manifest: the check-ins the server learnt of since a moment.
            models.Index(fields=["created_at"], name="checkin_created"),
        ]

    def __str__(self) -> str:
        return f"{self.registration_id}: {self.persons} @ {self.at:%H:%M}"


class ScanLog(models.Model):
    """Every scan attempt, whatever came of it: result, device, time, offline or not.

    The first attempt with a nonce (`replay=False`, unique per device) keeps the answer it got
    in `response`; a repeat of that nonce gets the same answer back, changes nothing and is
    logged with `replay=True`. `conflict` marks an offline admission that another device had
    made earlier (by `scanned_at`) for the same ticket: the organiser sees these.
    """

    class Result(models.TextChoices):
        """What a scan came to; the scanner shows each one differently."""

        OK = "ok", _("Binnengelaten")
        PARTIAL = "partial", _("Deels binnengelaten")
        ALREADY = "already_checked_in", _("Al binnen")
        WRONG_ACTIVITY = "wrong_activity", _("Voor een andere activiteit")
        CANCELLED = "cancelled", _("Geannuleerd of niet geldig")
        UNPAID = "unpaid", _("Niet betaald")
        NOT_YET_OPEN = "not_yet_open", _("Check-in nog niet open")
        UNKNOWN = "unknown", _("Onbekend ticket")

    device = models.ForeignKey(
        ScannerDevice, on_delete=models.SET_NULL, null=True, blank=True, related_name="scans"
    )
    activity = models.ForeignKey(
        Activity, on_delete=models.CASCADE, null=True, blank=True, related_name="scans"
    )
    registration = models.ForeignKey(
        Registration, on_delete=models.SET_NULL, null=True, blank=True, related_name="scans"
    )
    # For a code that matched nothing: its SHA-256, so garbage is never stored as such.
    code_hash = models.CharField(max_length=64, blank=True)
    result = models.CharField(max_length=30, choices=Result.choices)
    count = models.PositiveSmallIntegerField(default=0)
    at = models.DateTimeField(default=timezone.now)
    scanned_at = models.DateTimeField(null=True, blank=True)
    offline = models.BooleanField(default=False)
    nonce = models.CharField(max_length=64, blank=True)
    replay = models.BooleanField(default=False)
    conflict = models.BooleanField(default=False)
    response = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["at", "pk"]
        verbose_name = _("scanpoging")
        verbose_name_plural = _("scanpogingen")
        constraints = [
            models.UniqueConstraint(
                fields=["device", "nonce"],
                condition=~models.Q(nonce="") & models.Q(replay=False),
                name="scanlog_first_nonce_per_device",
            ),
        ]
        indexes = [models.Index(fields=["activity", "conflict"])]

    def __str__(self) -> str:
        return f"{self.result} ({self.at:%H:%M:%S})"


class Answer(models.Model):
    """A registration's answer to one of its activity's extra questions. Personal data:
    deleted together with the registration's other personal data (services.anonymise)."""

    registration = models.ForeignKey(Registration, on_delete=models.CASCADE, related_name="answers")
    question = models.ForeignKey(Question, on_delete=models.CASCADE, related_name="answers")
    value = models.TextField(_("antwoord"), max_length=1000)

    class Meta:
        ordering = ["question__position", "question_id"]
        verbose_name = _("antwoord")
        verbose_name_plural = _("antwoorden")
        constraints = [
            models.UniqueConstraint(
                fields=["registration", "question"], name="one_answer_per_question"
            )
        ]

    def __str__(self) -> str:
        return f"{self.question}: {self.value}"


class Message(models.Model):
    """One message an organiser writes to everyone confirmed (or waitlisted) for an activity.
    Sent in batches by background tasks; one MessageRecipient row per person records whether
    it went out, so a retried task never mails anyone twice."""

    class Audience(models.TextChoices):
        CONFIRMED = "confirmed", _("Iedereen die is aangemeld")
        WAITLISTED = "waitlisted", _("Iedereen op de wachtlijst")
        # Everyone whose registration is still on: who holds a place, waits for one, for
        # payment or for approval (the notice of a changed time or place goes to them).
        REGISTERED = "registered", _("Iedereen met een lopende aanmelding")

    activity = models.ForeignKey(
        Activity, on_delete=models.CASCADE, related_name="messages", verbose_name=_("activiteit")
    )
    audience = models.CharField(_("aan"), max_length=20, choices=Audience.choices)
    subject = models.CharField(_("onderwerp"), max_length=150)
    body = models.TextField(_("bericht"), max_length=5000)
    sent_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("verstuurd door"),
    )
    created_at = models.DateTimeField(auto_now_add=True)
    # From the organiser's form: a form submitted twice (a double click, a retried request)
    # finds the message the first submission made instead of sending it again.
    idempotency_key = models.UUIDField(null=True, blank=True, unique=True, editable=False)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("bericht aan deelnemers")
        verbose_name_plural = _("berichten aan deelnemers")

    def __str__(self) -> str:
        return self.subject


class MessageRecipientQuerySet(models.QuerySet):
    def move(self, source: str | Collection[str], target: str, **fields: Any) -> int:
        """Compare-and-set: the rows here still in `source` (a status, or any of several) go to
        `target`, with `fields` set too, in one UPDATE that only one worker can win; returns how
        many moved (0: they had moved on). Raises InvalidTransition for a move that
        MessageRecipient.TRANSITIONS does not allow."""
        sources = {source} if isinstance(source, str) else set(source)
        for status in sources:
            _check_transition(self.model, MessageRecipient.TRANSITIONS, status, target)
        fields.setdefault("updated_at", timezone.now())
        return self.filter(status__in=sources).update(status=target, **fields)


class MessageRecipient(models.Model):
    """One person a Message goes to, and what became of it (the provider's tracking webhook
    reports deliveries, bounces and complaints by `provider_message_id`).

    Several workers may handle the same row, so its status changes only by compare-and-set:
    `MessageRecipient.objects.filter(...).move(source, target)`."""

    class Status(models.TextChoices):
        QUEUED = "queued", _("Wacht op verzenden")
        # Claimed by a task that is sending it now: no other task may send it too.
        SENDING = "sending", _("Wordt verstuurd")
        # Claimed longer ago than any task runs: its worker died between the claim and the
        # outcome, so whether the provider took the e-mail is unknown. Never sent again by
        # itself (that could mail someone twice); `messaging.give_up_stale_claims` moves it here.
        POSSIBLY_SENT = "possibly_sent", _("Misschien verstuurd")
        SENT = "sent", _("Verstuurd")
        DELIVERED = "delivered", _("Afgeleverd")
        FAILED = "failed", _("Mislukt")
        # The person left the audience before their turn (cancelled, data removed).
        SKIPPED = "skipped", _("Niet verstuurd")
        BOUNCED = "bounced", _("Onbestelbaar")
        COMPLAINED = "complained", _("Gemeld als spam")

    # Which status may follow which. Sending: claimed, then sent, refused (bounced), failed, or
    # back in the queue for a retry; a claim abandoned for too long is possibly sent, for good
    # (one send takes at most the provider's timeout, so its worker is dead). Tracking events
    # may come twice or out of order: a repeat writes the same status again, and a late
    # "delivered" never hides a bounce or complaint.
    TRANSITIONS: dict[str, frozenset[str]] = {
        Status.QUEUED: frozenset({Status.SENDING, Status.SKIPPED, Status.FAILED}),
        Status.SENDING: frozenset(
            {Status.SENT, Status.QUEUED, Status.FAILED, Status.BOUNCED, Status.POSSIBLY_SENT}
        ),
        Status.POSSIBLY_SENT: frozenset(),
        Status.SENT: frozenset(
            {Status.DELIVERED, Status.FAILED, Status.BOUNCED, Status.COMPLAINED}
        ),
        Status.DELIVERED: frozenset({Status.DELIVERED, Status.BOUNCED, Status.COMPLAINED}),
        Status.FAILED: frozenset({Status.FAILED, Status.BOUNCED}),
        Status.BOUNCED: frozenset({Status.BOUNCED}),
        Status.COMPLAINED: frozenset({Status.COMPLAINED}),
        Status.SKIPPED: frozenset(),
    }

    message = models.ForeignKey(Message, on_delete=models.CASCADE, related_name="recipients")
    registration = models.ForeignKey(
        Registration, on_delete=models.CASCADE, related_name="message_deliveries"
    )
    status = models.CharField(
        _("status"), max_length=20, choices=Status.choices, default=Status.QUEUED
    )
    attempts = models.PositiveSmallIntegerField(_("pogingen"), default=0)
    provider_message_id = models.CharField(max_length=255, blank=True, db_index=True)
    detail = models.CharField(_("toelichting"), max_length=300, blank=True)
    sent_at = models.DateTimeField(_("verstuurd op"), null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = MessageRecipientQuerySet.as_manager()

    class Meta:
        ordering = ["message", "id"]
        verbose_name = _("ontvanger van een bericht")
        verbose_name_plural = _("ontvangers van een bericht")
        constraints = [
            models.UniqueConstraint(
                fields=["message", "registration"], name="one_delivery_per_recipient"
            )
        ]

    def __str__(self) -> str:
        return f"{self.message} → {self.registration_id}: {self.status}"

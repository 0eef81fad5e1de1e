"""Registrations: one party for one activity, the member roster and personal invitations."""

from __future__ import annotations

import datetime as dt

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from events.models import Activity, Programme
from registrations.tokens import new_manage_token, new_ticket_code


class Brigade(models.TextChoices):
    SOEST = "soest", _("Soest")
    SOESTERBERG = "soesterberg", _("Soesterberg")


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

    ACTIVE_STATUSES = (
        Status.PENDING_APPROVAL,
        Status.PENDING_PAYMENT,
        Status.CONFIRMED,
        Status.WAITLISTED,
        Status.OFFERED,
    )

    activity = models.ForeignKey(
        Activity,
        on_delete=models.PROTECT,
        related_name="registrations",
        verbose_name=_("activiteit"),
    )
    status = models.CharField(_("status"), max_length=20, choices=Status.choices)
    contact_name = models.CharField(_("naam"), max_length=200)
    email = models.EmailField(_("e-mailadres"))
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
    manage_token = models.CharField(max_length=32, unique=True, default=new_manage_token)
    ticket_code = models.CharField(max_length=32, unique=True, default=new_ticket_code)
    # Until when a waitlist offer or a payment hold keeps its places (see
    # events.models.ActivityQuerySet.with_places_taken).
    hold_expires_at = models.DateTimeField(_("plaatsen vastgehouden tot"), null=True, blank=True)
    waitlisted_at = models.DateTimeField(_("op de wachtlijst sinds"), null=True, blank=True)
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
    anonymised_at = models.DateTimeField(_("geanonimiseerd op"), null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    history = HistoricalRecords()

    class Meta:
        ordering = ["created_at"]
        verbose_name = _("aanmelding")
        verbose_name_plural = _("aanmeldingen")
        indexes = [
            models.Index(fields=["activity", "status"]),
            models.Index(fields=["activity", "email"]),
        ]

    def __str__(self) -> str:
        return f"{self.contact_name} ({self.party_size}) — {self.activity}"

    def holds_places(self, now: dt.datetime | None = None) -> bool:
        """Whether this party counts against capacity now (mirrors with_places_taken)."""
        now = now or timezone.now()
        if self.status == self.Status.CONFIRMED:
            return True
        if self.status in (self.Status.OFFERED, self.Status.PENDING_PAYMENT):
            return self.hold_expires_at is not None and self.hold_expires_at > now
        return False

    @property
    def is_active(self) -> bool:
        return self.status in self.ACTIVE_STATUSES

    def current_status(self, now: dt.datetime | None = None) -> str:
        """The status as it stands now: an offer or payment hold whose time has passed is
        expired even when no job has marked it yet."""
        held = self.status in (self.Status.OFFERED, self.Status.PENDING_PAYMENT)
        return self.Status.EXPIRED if held and not self.holds_places(now) else self.status

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
    kind = models.CharField(max_length=30)
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

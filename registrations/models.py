"""Registrations: one party for one activity.

This is the part of the model the public listings need (who holds places); sign-up, waitlist,
tickets and payments build on it.
"""

from __future__ import annotations

from django.core.validators import MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from events.models import Activity


class Registration(models.Model):
    class Status(models.TextChoices):
        PENDING_APPROVAL = "pending_approval", _("Wacht op goedkeuring")
        PENDING_PAYMENT = "pending_payment", _("Wacht op betaling")
        CONFIRMED = "confirmed", _("Bevestigd")
        WAITLISTED = "waitlisted", _("Op de wachtlijst")
        OFFERED = "offered", _("Plaats aangeboden")
        EXPIRED = "expired", _("Verlopen")
        CANCELLED = "cancelled", _("Geannuleerd")

    # Statuses that hold places; pending_payment only until hold_expires_at. Mirrored by
    # events.models.ActivityQuerySet.with_places_taken (tests/registrations/test_capacity.py
    # keeps the two in step).
    HOLDING_STATUSES = (Status.CONFIRMED, Status.OFFERED)

    activity = models.ForeignKey(
        Activity,
        on_delete=models.PROTECT,
        related_name="registrations",
        verbose_name=_("activiteit"),
    )
    status = models.CharField(_("status"), max_length=20, choices=Status.choices)
    contact_name = models.CharField(_("naam"), max_length=200)
    email = models.EmailField(_("e-mailadres"))
    party_size = models.PositiveSmallIntegerField(
        _("aantal personen"), validators=[MinValueValidator(1)]
    )
    hold_expires_at = models.DateTimeField(_("plaatsen vastgehouden tot"), null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at"]
        verbose_name = _("aanmelding")
        verbose_name_plural = _("aanmeldingen")
        indexes = [models.Index(fields=["activity", "status"])]

    def __str__(self) -> str:
        return f"{self.contact_name} ({self.party_size}) — {self.activity}"

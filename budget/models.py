"""The programme's budget: categories, expenses with their approval and status steps,
attachments, and income (ticket sales recorded from payments, sponsorship, other).

Money is Decimal in EUR with two places. An expense stores its amount excluding VAT and the
VAT rate; the VAT amount is computed once (rounded half up to the cent) and stored, so every
total, page, API answer and export adds up the same stored cents.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable
from decimal import ROUND_HALF_UP, Decimal
from types import SimpleNamespace
from typing import Any

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from budget.errors import (
    ApprovalRequired,
    ApproverChangedExpense,
    OwnExpense,
    StatusBackwards,
    UnknownStatus,
)
from events.models import Activity, Programme
from jubileum.lib import storage
from jubileum.lib.money import format_euro

CENT = Decimal("0.01")


def money_field(verbose_name, **kwargs) -> models.DecimalField:
    return models.DecimalField(verbose_name, max_digits=10, decimal_places=2, **kwargs)


class Budget(models.Model):
    programme = models.OneToOneField(
        Programme, on_delete=models.CASCADE, related_name="budget", verbose_name=_("programma")
    )
    total = money_field(
        _("totaalbudget (€)"),
        validators=[MinValueValidator(Decimal("0"), _("Het budget mag niet negatief zijn."))],
    )
    includes_vat = models.BooleanField(
        _("budget inclusief btw"),
        default=True,
        help_text=_("Of uitgaven inclusief of exclusief btw tegen het budget tellen."),
    )
    approval_threshold = money_field(
        _("goedkeuring nodig boven (€)"),
        default=Decimal("500.00"),
        validators=[MinValueValidator(Decimal("0"))],
        help_text=_(
            "Uitgaven boven dit bedrag moeten door een tweede organisator worden goedgekeurd."
        ),
    )
    warning_percentage = models.PositiveSmallIntegerField(
        _("waarschuwen bij (% van het budget)"),
        default=80,
        validators=[MinValueValidator(1), MaxValueValidator(100)],
    )

    history = HistoricalRecords()

    class Meta:
        verbose_name = _("budget")
        verbose_name_plural = _("budgetten")

    def __str__(self) -> str:
        return f"{self.programme}: € {self.total}"

    @property
    def approval_threshold_label(self) -> str:
        """The approval threshold as organisers read it, counted as the budget counts: "€ 500,00
        incl. btw"."""
        amount = format_euro(self.approval_threshold)
        if self.includes_vat:
            return gettext("%(amount)s incl. btw") % {"amount": amount}
        return gettext("%(amount)s excl. btw") % {"amount": amount}


class Category(models.Model):
    """A budget category (catering, materials, ...) with an optional planned amount."""

    budget = models.ForeignKey(
        Budget, on_delete=models.CASCADE, related_name="categories", verbose_name=_("budget")
    )
    name = models.CharField(_("naam"), max_length=100)
    planned_amount = money_field(
        _("begroot (€)"), null=True, blank=True, validators=[MinValueValidator(Decimal("0"))]
    )
    position = models.PositiveSmallIntegerField(_("volgorde"), default=0)

    class Meta:
        ordering = ["position", "name"]
        verbose_name = _("categorie")
        verbose_name_plural = _("categorieën")
        constraints = [
            models.UniqueConstraint(fields=["budget", "name"], name="category_name_per_budget")
        ]

    def __str__(self) -> str:
        return self.name


# The categories a new budget starts with (DESIGN.md), in this order.
DEFAULT_CATEGORIES = [
    _("Catering"),
    _("Materialen"),
    _("Promotie en drukwerk"),
    _("Huur"),
    _("Vergunningen"),
    _("Geschenken"),
    _("Vervoer"),
    _("Overig"),
]


class ActivityAllocation(models.Model):
    """An optional part of the budget set aside for one activity."""

    budget = models.ForeignKey(
        Budget, on_delete=models.CASCADE, related_name="allocations", verbose_name=_("budget")
    )
    activity = models.OneToOneField(
        Activity, on_delete=models.CASCADE, related_name="allocation", verbose_name=_("activiteit")
    )
    amount = money_field(_("toegewezen (€)"), validators=[MinValueValidator(Decimal("0"))])

    class Meta:
        verbose_name = _("toewijzing aan een activiteit")
        verbose_name_plural = _("toewijzingen aan activiteiten")

    def __str__(self) -> str:
        return f"{self.activity}: € {self.amount}"


class VatRate(models.IntegerChoices):
    ZERO = 0, _("0 %")
    LOW = 9, _("9 %")
    HIGH = 21, _("21 %")


def vat_on(amount_excl_vat: Decimal, rate: int) -> Decimal:
    """The VAT on an amount, rounded half up to the cent (as on a Dutch invoice)."""
    return (amount_excl_vat * Decimal(rate) / 100).quantize(CENT, rounding=ROUND_HALF_UP)


# What an approval approves: a change to any of these withdraws it.
APPROVED_FIELDS = ("amount_excl_vat", "vat_rate", "supplier", "description")


def approved_terms_of(row: Any) -> dict[str, str]:
    """The approved fields of an expense or of one of its history records, as the approval
    keeps them."""
    return {
        "amount_excl_vat": f"{row.amount_excl_vat:.2f}",
        "vat_rate": str(row.vat_rate),
        "supplier": row.supplier,
        "description": row.description,
    }


class Expense(models.Model):
    class Status(models.TextChoices):
        PLANNED = "planned", _("Gepland")
        COMMITTED = "committed", _("Besteld")
        INVOICED = "invoiced", _("Gefactureerd")
        PAID = "paid", _("Betaald")

    # Expenses move forward only, one step or more at a time.
    STATUS_ORDER = [Status.PLANNED, Status.COMMITTED, Status.INVOICED, Status.PAID]
    # The date each step after planning keeps.
    STEP_DATES = {
        Status.COMMITTED: "committed_on",
        Status.INVOICED: "invoiced_on",
        Status.PAID: "paid_on",
    }

    budget = models.ForeignKey(
        Budget, on_delete=models.PROTECT, related_name="expenses", verbose_name=_("budget")
    )
    category = models.ForeignKey(
        Category, on_delete=models.PROTECT, related_name="expenses", verbose_name=_("categorie")
    )
    activity = models.ForeignKey(
        Activity,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="expenses",
        verbose_name=_("activiteit"),
    )
    supplier = models.CharField(_("leverancier"), max_length=200)
    description = models.CharField(_("omschrijving"), max_length=300)
    invoice_number = models.CharField(_("factuurnummer"), max_length=100, blank=True)
    date = models.DateField(_("datum"))
    amount_excl_vat = money_field(
        _("bedrag excl. btw (€)"),
        validators=[MinValueValidator(CENT, _("Het bedrag moet groter zijn dan nul."))],
    )
    vat_rate = models.PositiveSmallIntegerField(
        _("btw-tarief"), choices=VatRate.choices, default=VatRate.HIGH
    )
    vat_amount = money_field(_("btw (€)"))
    status = models.CharField(
        _("status"), max_length=20, choices=Status.choices, default=Status.PLANNED
    )
    committed_on = models.DateField(_("besteld op"), null=True, blank=True)
    invoiced_on = models.DateField(_("gefactureerd op"), null=True, blank=True)
    paid_on = models.DateField(_("betaald op"), null=True, blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("ingevoerd door"),
    )
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("goedgekeurd door"),
    )
    approved_at = models.DateTimeField(_("goedgekeurd op"), null=True, blank=True)
    # The amount, VAT rate, supplier and description the approval was given for
    # (`approved_terms_of`): the approval holds only while they are unchanged.
    approved_terms = models.JSONField(
        _("goedgekeurde gegevens"), null=True, blank=True, editable=False
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    history = HistoricalRecords()

    class Meta:
        ordering = ["-date", "-pk"]
        verbose_name = _("uitgave")
        verbose_name_plural = _("uitgaven")
        indexes = [models.Index(fields=["budget", "status"])]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(amount_excl_vat__gt=0), name="expense_amount_positive"
            ),
            models.CheckConstraint(
                condition=models.Q(vat_rate__in=[0, 9, 21]), name="expense_vat_rate_known"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.supplier}: {self.description}"

    def save(self, *args, **kwargs) -> None:
        self.vat_amount = vat_on(self.amount_excl_vat, self.vat_rate)
        if self.approved_by_id is not None and not self.is_approved:
            # Whatever changed the approved fields, the approval goes with the change, and the
            # history record of this save shows both.
            self.withdraw_approval()
        super().save(*args, **kwargs)

    @property
    def amount_incl_vat(self) -> Decimal:
        return self.amount_excl_vat + self.vat_amount

    @property
    def counted_amount(self) -> Decimal:
        """What this expense weighs against the budget, by the budget's VAT setting; from the
        amount and rate as they are now, also when a change is not saved yet."""
        if not self.budget.includes_vat:
            return self.amount_excl_vat
        return self.amount_excl_vat + vat_on(self.amount_excl_vat, self.vat_rate)

    @property
    def needs_approval(self) -> bool:
        """Whether the expense is above its budget's approval threshold (counted as the budget
        counts: including or excluding VAT). Needing approval and having it are separate facts."""
        return self.counted_amount > self.budget.approval_threshold

    @property
    def is_approved(self) -> bool:
        """Approved, for the amount, VAT rate, supplier and description it has now (also when a
        change of them is not saved yet)."""
        return self.approved_by_id is not None and self.approved_terms == approved_terms_of(self)

    @property
    def awaiting_approval(self) -> bool:
        """Needs approval and has none: it is in the approval queue."""
        return self.needs_approval and not self.is_approved

    def advance_to(self, status: str, *, on: dt.date) -> bool:
        """Move forward to `status` (planned → committed → invoiced → paid), one step or more;
        False when it is there already.

        Each step passed keeps its date: one skipped over (planned straight to paid) is dated
        `on` with the step that passed it; a date already kept stays. Refused, changing nothing:
        an unknown status, a step backwards, and past `planned` an expense above the approval
        threshold that has no approval.
        """
        if status not in self.Status.values:
            raise UnknownStatus(details={"allowed": self.Status.values})
        order = [str(step) for step in self.STATUS_ORDER]
        current, target = order.index(self.status), order.index(status)
        if target == current:
            return False
        if target < current:
            raise StatusBackwards(details={"from": self.status, "to": status})
        if self.needs_approval and not self.is_approved:
            raise ApprovalRequired(
                details={
                    "approval_threshold": f"{self.budget.approval_threshold:.2f}",
                    "counted_amount": f"{self.counted_amount:.2f}",
                }
            )
        for step in self.STATUS_ORDER[current + 1 : target + 1]:
            field = self.STEP_DATES[step]
            if getattr(self, field) is None:
                setattr(self, field, on)
        self.status = self.Status(status)
        return True

    def changed_by(self) -> set[int]:
        """The ids of those who changed the approved fields after the expense was recorded."""
        return changers_of([self.pk])[self.pk] if self.pk is not None else set()

    def may_be_approved_by(
        self, user: AbstractBaseUser, *, changed_by: set[int] | None = None
    ) -> bool:
        """Neither the one who recorded it nor anyone who changed what an approval approves
        (`changed_by`, if the caller read it already for many expenses at once)."""
        if changed_by is None:
            changed_by = self.changed_by()
        return user.pk != self.recorded_by_id and user.pk not in changed_by

    def approve(self, *, by: AbstractBaseUser, now: dt.datetime) -> bool:
        """Approve the expense as it is now (amount, VAT rate, supplier, description) as a second
        organiser: never the one who recorded it, nor one who changed those fields (whether `by`
        organises the programme is the service's question). False when it is approved already:
        the first approval stays."""
        if by.pk == self.recorded_by_id:
            raise OwnExpense
        if by.pk in self.changed_by():
            raise ApproverChangedExpense
        if self.is_approved:
            return False
        self.approved_by = by
        self.approved_at = now
        self.approved_terms = approved_terms_of(self)
        return True

    def withdraw_approval(self) -> bool:
        """Clear the approval, so the expense waits for a second organiser again; False when it
        had none."""
        if self.approved_by_id is None:
            return False
        self.approved_by = None
        self.approved_at = None
        self.approved_terms = None
        return True


def changers_of(expense_ids: Iterable[int]) -> dict[int, set[int]]:
    """Per expense, the ids of those who changed its approved fields after it was recorded, in
    one query: from the history, where every save names who made it."""
    records = (
        Expense.history.filter(id__in=list(expense_ids))
        .order_by("id", "history_id")
        .values("id", "history_user_id", *APPROVED_FIELDS)
    )
    changers: dict[int, set[int]] = defaultdict(set)
    previous: dict[int, dict[str, str]] = {}
    for record in records:
        expense_id, user_id = record["id"], record["history_user_id"]
        terms = approved_terms_of(SimpleNamespace(**record))
        if expense_id in previous and terms != previous[expense_id] and user_id is not None:
            changers[expense_id].add(user_id)
        previous[expense_id] = terms
    return changers


def private_storage():
    # The lazy proxy follows changes to STORAGES (tests point it at a temporary folder).
    return storage.private_storage


def attachment_path(attachment: Attachment, filename: str) -> str:
    return f"budget/{attachment.expense.budget_id}/{attachment.expense_id}/{filename}"


# The types an attachment may have (recognised by their first bytes, see budget.services) and
# the extension each is stored and downloaded with.
ATTACHMENT_EXTENSIONS = {"application/pdf": ".pdf", "image/png": ".png", "image/jpeg": ".jpg"}


class Attachment(models.Model):
    """A quote, invoice or receipt. Kept in private storage (settings.PRIVATE_MEDIA_ROOT),
    served only to organisers and viewers of the programme."""

    class Kind(models.TextChoices):
        QUOTE = "quote", _("Offerte")
        INVOICE = "invoice", _("Factuur")
        RECEIPT = "receipt", _("Bon")

    # The start of a downloaded file's name, in Dutch whatever the reader's language.
    FILE_NAMES = {Kind.QUOTE: "offerte", Kind.INVOICE: "factuur", Kind.RECEIPT: "bon"}

    expense = models.ForeignKey(
        Expense, on_delete=models.CASCADE, related_name="attachments", verbose_name=_("uitgave")
    )
    kind = models.CharField(_("soort"), max_length=20, choices=Kind.choices)
    file = models.FileField(_("bestand"), upload_to=attachment_path, storage=private_storage)
    original_name = models.CharField(_("bestandsnaam"), max_length=255)
    content_type = models.CharField(max_length=100)
    size = models.PositiveIntegerField()
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    uploaded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["uploaded_at"]
        verbose_name = _("bijlage")
        verbose_name_plural = _("bijlagen")

    def __str__(self) -> str:
        return self.original_name

    @property
    def download_name(self) -> str:
        """The name a download gets, e.g. `bon-12-34.pdf`: never the name it was uploaded with
        (`poly.html`), and with the extension of the type its content was recognised as."""
        return (
            f"{self.FILE_NAMES[self.Kind(self.kind)]}-{self.expense_id}-{self.pk}"
            f"{ATTACHMENT_EXTENSIONS[self.content_type]}"
        )


class Income(models.Model):
    class Kind(models.TextChoices):
        TICKETS = "tickets", _("Kaartverkoop")
        SPONSORSHIP = "sponsorship", _("Sponsoring")
        OTHER = "other", _("Overig")

    budget = models.ForeignKey(
        Budget, on_delete=models.PROTECT, related_name="income", verbose_name=_("budget")
    )
    kind = models.CharField(_("soort"), max_length=20, choices=Kind.choices)
    activity = models.ForeignKey(
        Activity,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="income",
        verbose_name=_("activiteit"),
    )
    description = models.CharField(_("omschrijving"), max_length=300)
    date = models.DateField(_("datum"))
    # Negative for a refund of ticket income.
    amount = money_field(_("bedrag (€)"))
    # For ticket income: the payment event it records ("payment:12", "refund:re_..."), so
    # recording the same event twice changes nothing.
    source = models.CharField(max_length=100, blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("ingevoerd door"),
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    history = HistoricalRecords()

    class Meta:
        ordering = ["-date", "-pk"]
        verbose_name = _("inkomst")
        verbose_name_plural = _("inkomsten")
        constraints = [
            models.UniqueConstraint(
                fields=["source"],
                condition=~models.Q(source=""),
                name="income_source_recorded_once",
            )
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()}: {self.description} (€ {self.amount})"


class BudgetAlert(models.Model):
    """One row per threshold crossing of the forecast, so each crossing mails once.

    The row lives while the forecast stays at or above its level; when the forecast falls back
    below, `budget.services.check_alerts` removes it, so crossing again is news again.
    """

    budget = models.ForeignKey(
        Budget, on_delete=models.CASCADE, related_name="alerts", verbose_name=_("budget")
    )
    percentage = models.PositiveSmallIntegerField(_("drempel (%)"))
    crossed_at = models.DateTimeField(_("overschreden op"), auto_now_add=True)
    # Set when the alert e-mail is claimed for sending (cleared again if sending fails), so a
    # task that runs twice mails the organisers once.
    mailed_at = models.DateTimeField(_("gemaild op"), null=True, blank=True)

    class Meta:
        verbose_name = _("budgetwaarschuwing")
        verbose_name_plural = _("budgetwaarschuwingen")
        constraints = [
            models.UniqueConstraint(fields=["budget", "percentage"], name="alert_once_per_level")
        ]

    def __str__(self) -> str:
        return f"{self.budget}: {self.percentage} %"

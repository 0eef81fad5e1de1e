"""The programme's budget. Expenses, income and approvals build on this."""

from __future__ import annotations

from decimal import Decimal

from django.core.validators import MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from events.models import Programme


class Budget(models.Model):
    programme = models.OneToOneField(
        Programme, on_delete=models.CASCADE, related_name="budget", verbose_name=_("programma")
    )
    total = models.DecimalField(
        _("totaalbudget (€)"),
        max_digits=10,
        decimal_places=2,
        validators=[MinValueValidator(Decimal("0"), _("Het budget mag niet negatief zijn."))],
    )
    includes_vat = models.BooleanField(
        _("budget inclusief btw"),
        default=True,
        help_text=_("Of uitgaven inclusief of exclusief btw tegen het budget tellen."),
    )

    class Meta:
        verbose_name = _("budget")
        verbose_name_plural = _("budgetten")

    def __str__(self) -> str:
        return f"{self.programme}: € {self.total}"

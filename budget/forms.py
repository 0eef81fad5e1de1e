"""Forms of the budget pages. They check the input and say in plain Dutch what is wrong, with the
rules of `budget.inputs` (an amount, a text's length), and hand the services the typed input
(`ExpenseInput`, `ExpenseChange`, ...) built from `cleaned_data`; whether a status step or an
approval is allowed is `budget.services`' call."""

from __future__ import annotations

from dataclasses import asdict
from decimal import Decimal
from typing import Any

from django import forms
from django.forms.models import model_to_dict
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from budget.errors import InvalidAmount
from budget.inputs import (
    ExpenseChange,
    ExpenseInput,
    IncomeChange,
    IncomeInput,
    max_length,
    parse_amount,
)
from budget.models import Attachment, Budget, Category, Expense, Income, VatRate
from events.models import Activity
from jubileum.lib.money import is_unclear_amount, parse_typed_euros


def _pk(choice: Category | Activity | None) -> int | None:
    return None if choice is None else choice.pk


def _only(complete: ExpenseInput | IncomeInput, names: list[str]) -> dict[str, Any]:
    """The input's values of the form fields in `names`; a form field holds a choice
    ("category"), the input its id ("category_id")."""
    return {
        key: value for key, value in asdict(complete).items() if key.removesuffix("_id") in names
    }


def _optional_activity_field() -> forms.ModelChoiceField:
    """The activity a line belongs to, if any; the form narrows the queryset to the programme."""
    return forms.ModelChoiceField(
        label=_("Activiteit (niet verplicht)"),
        queryset=Activity.objects.none(),
        required=False,
        empty_label=_("Geen bepaalde activiteit"),
        error_messages={"invalid_choice": _("Kies een activiteit uit de lijst.")},
    )


def _date_field(*, label: Any = None, **kwargs: Any) -> forms.DateField:
    return forms.DateField(
        label=label or _("Datum"),
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        error_messages={
            "required": _("Vul de datum in."),
            "invalid": _("Vul een geldige datum in, bijvoorbeeld 2026-12-12."),
        },
        **kwargs,
    )


class AmountField(forms.Field):
    """An amount in euros as people type it: "1250", "12,50", "12.50", "1.234,56" or "€ 99".

    A lone comma or point is the decimal separator; with both, the last one is. More than two
    decimals is an error, not something to round silently. A lone point before three digits
    ("8.000") is refused as unclear: read as decimals, a Dutch total of eight thousand would
    silently become eight euros.
    """

    # One point, no comma, three digits after it: thousands in Dutch, decimals in English.
    default_error_messages = {
        "required": _("Vul het bedrag in."),
        "invalid": _("Vul het bedrag in als getal, bijvoorbeeld 125,50."),
        "unclear": _(
            "Met alleen een punt is niet duidelijk of je duizenden bedoelt. Schrijf het bedrag "
            "zonder punt (8000) of met centen erbij (8.000,00)."
        ),
        # By the code of the error `parse_amount` raises.
        "amount_too_precise": _("Een bedrag heeft hoogstens twee cijfers achter de komma."),
        "amount_not_positive": _("Het bedrag moet groter zijn dan nul."),
        "amount_too_large": _("Dit bedrag is te groot."),
    }

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault(
            "widget",
            forms.TextInput(attrs={"inputmode": "decimal", "class": "input--amount"}),
        )
        # A prefilled amount reads as people type it (1234,56 in Dutch), not as 1234.56.
        kwargs.setdefault("localize", True)
        super().__init__(**kwargs)

    def to_python(self, value: Any) -> Decimal | None:
        if value is None or not str(value).strip():
            return None
        if is_unclear_amount(value):
            raise forms.ValidationError(self.error_messages["unclear"], code="unclear")
        amount = parse_typed_euros(value)
        if amount is None:
            raise forms.ValidationError(self.error_messages["invalid"], code="invalid")
        try:
            return parse_amount(amount)
        except InvalidAmount as error:
            message = self.error_messages.get(error.code, self.error_messages["invalid"])
            raise forms.ValidationError(message, code=error.code) from None


class ExpenseForm(forms.Form):
    supplier = forms.CharField(
        label=_("Leverancier"),
        max_length=max_length(Expense, "supplier"),
        error_messages={
            "required": _("Vul de leverancier in."),
            "max_length": _("De leverancier is hoogstens %(limit_value)d tekens lang."),
        },
    )
    description = forms.CharField(
        label=_("Omschrijving"),
        max_length=max_length(Expense, "description"),
        error_messages={
            "required": _("Vul in waarvoor de uitgave is."),
            "max_length": _("De omschrijving is hoogstens %(limit_value)d tekens lang."),
        },
    )
    category = forms.ModelChoiceField(
        label=_("Categorie"),
        queryset=Category.objects.none(),
        empty_label=_("Kies een categorie"),
        error_messages={
            "required": _("Kies een categorie."),
            "invalid_choice": _("Kies een categorie uit de lijst."),
        },
    )
    activity = _optional_activity_field()
    amount_excl_vat = AmountField(
        label=_("Bedrag exclusief btw (€)"),
        help_text=_("Bijvoorbeeld 1250,00. De btw rekenen we zelf uit."),
    )
    vat_rate = forms.TypedChoiceField(
        label=_("Btw-tarief"),
        choices=VatRate.choices,
        coerce=int,
        initial=VatRate.HIGH,
        error_messages={
            "required": _("Kies het btw-tarief."),
            "invalid_choice": _("Kies een btw-tarief van 0, 9 of 21 procent."),
        },
    )
    date = _date_field(help_text=_("De datum van de offerte, bestelling of factuur."))
    invoice_number = forms.CharField(
        label=_("Factuurnummer (niet verplicht)"),
        max_length=max_length(Expense, "invoice_number"),
        required=False,
        error_messages={
            "max_length": _("Het factuurnummer is hoogstens %(limit_value)d tekens lang."),
        },
    )
    status = forms.ChoiceField(
        label=_("Status"),
        choices=Expense.Status.choices,
        initial=Expense.Status.PLANNED,
        error_messages={
            "required": _("Kies de status."),
            "invalid_choice": _("Kies een status uit de lijst."),
        },
    )

    def __init__(self, *args: Any, budget: Budget, **kwargs: Any) -> None:
        kwargs.setdefault("initial", {}).setdefault("date", timezone.localdate())
        super().__init__(*args, **kwargs)
        self.fields["category"].queryset = budget.categories.all()
        self.fields["activity"].queryset = Activity.objects.filter(
            programme_id=budget.programme_id
        ).order_by("starts_at", "title")
        if "status" in self.fields:
            # Next to the status: what a later status does above the threshold (see
            # budget.services.record_expense, hold_for_approval).
            self.fields["status"].help_text = _(
                "Goedkeuring nodig boven %(threshold)s: een uitgave daarboven slaan we op als "
                "gepland tot een andere organisator haar goedkeurt, ook als je een latere status "
                "kiest."
            ) % {"threshold": budget.approval_threshold_label}

    def expense_input(self) -> ExpenseInput:
        data = self.cleaned_data
        return ExpenseInput(
            category_id=data["category"].pk,
            activity_id=_pk(data["activity"]),
            supplier=data["supplier"],
            description=data["description"],
            invoice_number=data["invoice_number"],
            date=data["date"],
            amount_excl_vat=data["amount_excl_vat"],
            vat_rate=data["vat_rate"],
        )


class ExpenseEditForm(ExpenseForm):
    """Correct an expense: the add form, prefilled. The status is not here: it only moves
    forward, through `AdvanceForm` on the expense page."""

    status = None

    def __init__(self, *args: Any, expense: Expense, **kwargs: Any) -> None:
        kwargs["initial"] = model_to_dict(expense, fields=list(self.base_fields))
        super().__init__(*args, budget=expense.budget, **kwargs)

    def expense_change(self) -> ExpenseChange:
        """The fields that were changed, and only those."""
        return ExpenseChange.of(**_only(self.expense_input(), self.changed_data))


class IncomeForm(forms.Form):
    """Income other than ticket sales, which the payments record by themselves."""

    kind = forms.ChoiceField(
        label=_("Soort"),
        choices=[(k.value, k.label) for k in (Income.Kind.SPONSORSHIP, Income.Kind.OTHER)],
        initial=Income.Kind.SPONSORSHIP,
        error_messages={
            "required": _("Kies de soort inkomst."),
            "invalid_choice": _("Kies sponsoring of overig."),
        },
    )
    description = forms.CharField(
        label=_("Omschrijving"),
        max_length=max_length(Income, "description"),
        help_text=_("Bijvoorbeeld: bijdrage van de Veiligheidsregio Utrecht."),
        error_messages={
            "required": _("Vul in van wie of waarvoor de inkomst is."),
            "max_length": _("De omschrijving is hoogstens %(limit_value)d tekens lang."),
        },
    )
    activity = _optional_activity_field()
    amount = AmountField(label=_("Bedrag (€)"))
    date = _date_field()

    def __init__(self, *args: Any, budget: Budget, **kwargs: Any) -> None:
        kwargs.setdefault("initial", {}).setdefault("date", timezone.localdate())
        super().__init__(*args, **kwargs)
        self.fields["activity"].queryset = Activity.objects.filter(
            programme_id=budget.programme_id
        ).order_by("starts_at", "title")

    def income_input(self) -> IncomeInput:
        data = self.cleaned_data
        return IncomeInput(
            kind=Income.Kind(data["kind"]),
            activity_id=_pk(data["activity"]),
            description=data["description"],
            date=data["date"],
            amount=data["amount"],
        )


class IncomeEditForm(IncomeForm):
    """Correct a line of income recorded by hand: the add form, prefilled."""

    def __init__(self, *args: Any, income: Income, **kwargs: Any) -> None:
        kwargs["initial"] = model_to_dict(income, fields=list(self.base_fields))
        super().__init__(*args, budget=income.budget, **kwargs)

    def income_change(self) -> IncomeChange:
        """The fields that were changed, and only those."""
        return IncomeChange.of(**_only(self.income_input(), self.changed_data))


class ExpenseFilterForm(forms.Form):
    """The filters above the expense list (GET); a bad value is ignored, not an error page."""

    status = forms.ChoiceField(
        label=_("Status"),
        required=False,
        choices=[("", _("Alle statussen")), *Expense.Status.choices],
    )
    category = forms.ModelChoiceField(
        label=_("Categorie"),
        required=False,
        queryset=Category.objects.none(),
        empty_label=_("Alle categorieën"),
    )
    activity = forms.ModelChoiceField(
        label=_("Activiteit"),
        required=False,
        queryset=Activity.objects.none(),
        empty_label=_("Alle activiteiten"),
    )

    def __init__(self, *args: Any, budget: Budget, **kwargs: Any) -> None:
        # The add form on the same page has fields of these names: ids of its own for each.
        kwargs.setdefault("auto_id", "filter_%s")
        super().__init__(*args, **kwargs)
        self.fields["category"].queryset = budget.categories.all()
        self.fields["activity"].queryset = Activity.objects.filter(
            programme_id=budget.programme_id
        ).order_by("starts_at", "title")

    def filters(self) -> dict[str, Any]:
        """The valid filters as queryset lookups."""
        self.is_valid()
        data = getattr(self, "cleaned_data", {})
        lookups: dict[str, Any] = {}
        if data.get("status"):
            lookups["status"] = data["status"]
        if data.get("category"):
            lookups["category"] = data["category"]
        if data.get("activity"):
            lookups["activity"] = data["activity"]
        return lookups


class AdvanceForm(forms.Form):
    """Move an expense one or more steps forward. The list offers only the steps ahead; a
    step backwards sent anyway reaches the service, which refuses it with its reason."""

    to_status = forms.ChoiceField(
        label=_("Nieuwe status"),
        choices=Expense.Status.choices,
        error_messages={
            "required": _("Kies de nieuwe status."),
            "invalid_choice": _("Kies een status uit de lijst."),
        },
    )
    on_date = _date_field(label=_("Op datum"))

    def __init__(self, *args: Any, expense: Expense, **kwargs: Any) -> None:
        kwargs.setdefault("initial", {}).setdefault("on_date", timezone.localdate())
        super().__init__(*args, **kwargs)
        order = Expense.STATUS_ORDER
        self.steps_ahead = order[order.index(Expense.Status(expense.status)) + 1 :]
        field = self.fields["to_status"]
        field.widget.choices = [(s.value, s.label) for s in self.steps_ahead]
        if self.steps_ahead:
            field.initial = self.steps_ahead[0].value


class AttachmentForm(forms.Form):
    kind = forms.ChoiceField(
        label=_("Soort bijlage"),
        choices=Attachment.Kind.choices,
        initial=Attachment.Kind.INVOICE,
        error_messages={
            "required": _("Kies de soort bijlage."),
            "invalid_choice": _("Kies offerte, factuur of bon."),
        },
    )
    file = forms.FileField(
        label=_("Bestand"),
        help_text=_("PDF, PNG of JPEG, hoogstens 10 MB."),
        error_messages={
            "required": _("Kies een bestand."),
            "empty": _("Dit bestand is leeg."),
            "invalid": _("Kies een bestand."),
        },
        widget=forms.ClearableFileInput(
            attrs={"accept": "application/pdf,image/png,image/jpeg,.pdf,.png,.jpg,.jpeg"}
        ),
    )


def _warning_percentage_field() -> forms.IntegerField:
    return forms.IntegerField(
        label=_("Waarschuwen bij (% van het budget)"),
        min_value=1,
        max_value=100,
        help_text=_(
            "Als de verwachte uitgaven dit deel van het budget bereiken, krijgen de "
            "organisatoren een e-mail. Bij 100 % komt er altijd een."
        ),
        error_messages={
            "required": _("Vul het percentage in."),
            "invalid": _("Vul een heel getal in, bijvoorbeeld 80."),
            "min_value": _("Het percentage is minstens %(limit_value)s."),
            "max_value": _("Het percentage is hoogstens %(limit_value)s."),
        },
    )


class BudgetSettingsForm(forms.Form):
    """The budget's total, VAT mode, approval threshold and warning percentage."""

    total = AmountField(
        label=_("Totaalbudget (€)"),
        help_text=_("Bijvoorbeeld 8000 of 1.250,50."),
        error_messages={"required": _("Vul het totaalbudget in.")},
    )
    includes_vat = forms.BooleanField(
        label=_("Uitgaven tellen inclusief btw tegen het budget"),
        required=False,
        help_text=_("Uit: uitgaven tellen exclusief btw, bijvoorbeeld als de btw wordt verrekend."),
    )
    approval_threshold = AmountField(
        label=_("Goedkeuring nodig boven (€)"),
        help_text=_(
            "Een uitgave boven dit bedrag moet een tweede organisator goedkeuren voordat ze "
            "verder kan dan gepland."
        ),
        error_messages={"required": _("Vul de grens voor goedkeuring in.")},
    )
    warning_percentage = _warning_percentage_field()

    def __init__(self, *args: Any, budget: Budget, **kwargs: Any) -> None:
        kwargs["initial"] = model_to_dict(budget, fields=list(self.base_fields))
        super().__init__(*args, **kwargs)

    def changes(self) -> dict[str, Any]:
        """The fields that were changed, and only those, for `services.update_budget`."""
        return {name: self.cleaned_data[name] for name in self.changed_data}


class NewBudgetForm(forms.Form):
    """A programme's first budget: the total and the approval threshold."""

    total = BudgetSettingsForm.base_fields["total"]
    approval_threshold = BudgetSettingsForm.base_fields["approval_threshold"]
    includes_vat = BudgetSettingsForm.base_fields["includes_vat"]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault(
            "initial",
            {
                "approval_threshold": Budget._meta.get_field("approval_threshold").default,
                "includes_vat": True,
            },
        )
        super().__init__(*args, **kwargs)


class CategoryForm(forms.Form):
    """Add a category, or rename one and change its planned amount."""

    name = forms.CharField(
        label=_("Naam van de categorie"),
        max_length=max_length(Category, "name"),
        error_messages={
            "required": _("Vul de naam van de categorie in."),
            "max_length": _("De naam is hoogstens %(limit_value)d tekens lang."),
        },
    )
    planned_amount = AmountField(
        label=_("Begroot (€, niet verplicht)"),
        required=False,
        help_text=_("Hoeveel je voor deze categorie verwacht uit te geven."),
    )

    def __init__(self, *args: Any, category: Category | None = None, **kwargs: Any) -> None:
        if category is not None:
            kwargs["initial"] = model_to_dict(category, fields=list(self.base_fields))
        super().__init__(*args, **kwargs)

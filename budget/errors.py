"""The budget's domain errors: what the models and services raise when a rule refuses a change.

Each has a machine-readable `code`, a translated `message` and the HTTP `status` an API client
sees (`jubileum.lib.errors`); the pages show the message.
"""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from jubileum.lib.errors import DomainError


class BudgetError(DomainError):
    code = "budget_error"
    status = 409
    message = _("Dit kan niet met dit budget.")


class InvalidAmount(BudgetError):
    code = "invalid_amount"
    status = 422
    message = _("Dit is geen geldig bedrag. Schrijf het als 1234.56.")


class AmountNotPositive(InvalidAmount):
    code = "amount_not_positive"
    message = _("Het bedrag moet groter zijn dan nul.")


class AmountTooPrecise(InvalidAmount):
    code = "amount_too_precise"
    message = _("Een bedrag heeft hoogstens twee cijfers achter de komma (hele centen).")


class AmountTooLarge(InvalidAmount):
    code = "amount_too_large"
    message = _("Dit bedrag is te groot.")


class InvalidVatRate(BudgetError):
    code = "invalid_vat_rate"
    status = 422
    message = _("Het btw-tarief moet 0, 9 of 21 % zijn.")


class InvalidField(BudgetError):
    code = "invalid_field"
    status = 422
    message = _("Niet alle velden zijn goed ingevuld.")


class UnknownCategory(BudgetError):
    code = "unknown_category"
    status = 422
    message = _("Kies een categorie van dit budget.")


class UnknownActivity(BudgetError):
    code = "unknown_activity"
    status = 422
    message = _("Kies een activiteit van dit programma.")


class UnknownStatus(BudgetError):
    code = "unknown_status"
    status = 422
    message = _("Deze status bestaat niet. Kies gepland, besteld, gefactureerd of betaald.")


class StatusBackwards(BudgetError):
    code = "status_backwards"
    message = _(
        "Een uitgave gaat alleen vooruit (gepland, besteld, gefactureerd, betaald); "
        "terug naar een eerdere status kan niet."
    )


class ApprovalRequired(BudgetError):
    code = "approval_required"
    message = _(
        "Deze uitgave is hoger dan de goedkeuringsgrens. Een tweede organisator moet haar eerst "
        "goedkeuren; daarna kan ze verder dan gepland."
    )


class OwnExpense(BudgetError):
    code = "own_expense"
    status = 403
    message = _(
        "Je kunt een uitgave die je zelf hebt ingevoerd niet zelf goedkeuren; "
        "vraag een andere organisator."
    )


class ApproverChangedExpense(OwnExpense):
    code = "approver_changed_expense"
    message = _(
        "Je hebt het bedrag, de btw, de leverancier of de omschrijving van deze uitgave "
        "gewijzigd, dus je kunt haar niet zelf goedkeuren; vraag een andere organisator."
    )


class NotAnOrganiser(BudgetError):
    code = "not_an_organiser"
    status = 403
    message = _("Alleen een organisator van dit programma kan dit doen.")


class ApproverNotOrganiser(NotAnOrganiser):
    code = "approver_not_organiser"
    message = _("Alleen een organisator van dit programma kan uitgaven goedkeuren.")


class InvalidAttachment(BudgetError):
    code = "invalid_attachment"
    status = 422
    message = _("Een bijlage moet een PDF-, PNG- of JPEG-bestand zijn.")


class AttachmentTooLarge(InvalidAttachment):
    code = "attachment_too_large"
    message = _("Een bijlage mag hoogstens 10 MB groot zijn.")


class TicketIncomeLocked(BudgetError):
    code = "ticket_income_locked"
    message = _(
        "Kaartverkoop wordt vanzelf uit de betalingen geboekt en kan niet met de hand worden "
        "gewijzigd."
    )


class BudgetExists(BudgetError):
    code = "budget_exists"
    message = _("Dit programma heeft al een budget.")


class CategoryInUse(BudgetError):
    code = "category_in_use"
    message = _(
        "Deze categorie heeft uitgaven en kan daarom niet weg. Zet die uitgaven eerst in een "
        "andere categorie."
    )

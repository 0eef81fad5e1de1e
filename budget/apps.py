from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class BudgetConfig(AppConfig):
    name = "budget"
    verbose_name = _("Budget")

    def ready(self) -> None:
        from django.db.models.signals import post_save

        from budget import copying, income, tasks
        from budget.models import Budget
        from events.copying import programme_copied
        from registrations import signals

        programme_copied.connect(copying.copy_budget, dispatch_uid="budget.copy_budget")

        signals.ticket_income_received.connect(
            income.on_ticket_income_received, dispatch_uid="budget.ticket_income_received"
        )
        signals.ticket_income_refunded.connect(
            income.on_ticket_income_refunded, dispatch_uid="budget.ticket_income_refunded"
        )
        signals.registration_awaits_approval.connect(
            tasks.on_registration_awaits_approval, dispatch_uid="budget.organiser_digest"
        )
        post_save.connect(
            _default_categories, sender=Budget, dispatch_uid="budget.default_categories"
        )


def _default_categories(sender, instance, created: bool, raw: bool = False, **kwargs) -> None:
    # Every new budget starts with the default categories, however it is made (page, admin,
    # demo, ticket income for a programme without one); fixtures (`raw`) bring their own.
    if created and not raw:
        # apps.py loads before the models; the services import them.
        from budget.services import ensure_default_categories

        ensure_default_categories(instance)

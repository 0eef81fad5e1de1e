"""The budget's part of copying a programme (`events.copying`): the budget's settings (total,
VAT mode, approval threshold, warning percentage), its categories with their planned amounts and
the allocations to the copied activities. Never expenses, attachments, income or alerts: those
record what happened in the source programme, not a plan for the next one.
"""

from __future__ import annotations

from typing import Any

from budget.models import ActivityAllocation, Budget, Category
from events.models import Activity, Programme

OWN_BUDGET_FIELDS = {"id", "programme"}


def copy_budget(
    sender: Any,
    *,
    source: Programme,
    copy: Programme,
    activities: dict[int, Activity],
    **kwargs: Any,
) -> None:
    """Receiver of `events.copying.programme_copied`; runs inside the copy's transaction."""
    budget = Budget.objects.filter(programme=source).first()
    if budget is None:
        return
    new = Budget(programme=copy)
    for field in Budget._meta.concrete_fields:
        if field.name not in OWN_BUDGET_FIELDS:
            setattr(new, field.attname, getattr(budget, field.attname))
    new.save()
    # A new budget starts with the default categories (budget.apps); the copy keeps exactly the
    # source's, so one the organisers removed does not come back.
    categories = list(budget.categories.all())
    new.categories.exclude(name__in=[category.name for category in categories]).delete()
    for category in categories:
        Category.objects.update_or_create(
            budget=new,
            name=category.name,
            defaults={"planned_amount": category.planned_amount, "position": category.position},
        )
    ActivityAllocation.objects.bulk_create(
        ActivityAllocation(
            budget=new, activity=activities[allocation.activity_id], amount=allocation.amount
        )
        for allocation in budget.allocations.all()
        if allocation.activity_id in activities
    )

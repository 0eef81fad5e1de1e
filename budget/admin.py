"""The budget in Django admin: settings and categories editable; expenses, income and alerts to
read (with their history). Amounts, status steps and approvals change only through the
services (the budget pages and the API), which keep the rules: forward-only status, a second
organiser's approval, alerts."""

from __future__ import annotations

from django.contrib import admin
from django.http import HttpRequest
from simple_history.admin import SimpleHistoryAdmin

from budget.models import (
    ActivityAllocation,
    Attachment,
    Budget,
    BudgetAlert,
    Category,
    Expense,
    Income,
)
from events.access import ProgrammeScopedAdmin, ScopedChoices


class ReadOnlyAdmin(ProgrammeScopedAdmin):
    programme_path = "budget__programme"

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


class CategoryInline(admin.TabularInline):
    model = Category
    extra = 0
    fields = ["name", "planned_amount", "position"]


class AllocationInline(ScopedChoices, admin.TabularInline):
    model = ActivityAllocation
    extra = 0
    raw_id_fields = ["activity"]


@admin.register(Budget)
class BudgetAdmin(ProgrammeScopedAdmin, SimpleHistoryAdmin):
    programme_path = "programme"
    list_display = ["programme", "total", "includes_vat", "approval_threshold"]
    list_select_related = ["programme"]
    inlines = [CategoryInline, AllocationInline]


class AttachmentInline(admin.TabularInline):
    model = Attachment
    extra = 0
    fields = ["kind", "original_name", "content_type", "size", "uploaded_by", "uploaded_at"]
    readonly_fields = fields
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


@admin.register(Expense)
class ExpenseAdmin(ReadOnlyAdmin, SimpleHistoryAdmin):
    list_display = [
        "date",
        "supplier",
        "description",
        "category",
        "amount_excl_vat",
        "vat_amount",
        "status",
        "approved_by",
    ]
    list_filter = [
        "status",
        ("budget__programme", admin.RelatedOnlyFieldListFilter),
        "category__name",
    ]
    search_fields = ["supplier", "description", "invoice_number"]
    list_select_related = ["category", "approved_by"]
    date_hierarchy = "date"
    inlines = [AttachmentInline]


@admin.register(Income)
class IncomeAdmin(ReadOnlyAdmin, SimpleHistoryAdmin):
    list_display = ["date", "kind", "description", "activity", "amount"]
    list_filter = ["kind", ("budget__programme", admin.RelatedOnlyFieldListFilter)]
    search_fields = ["description", "source"]
    list_select_related = ["activity"]
    date_hierarchy = "date"


@admin.register(BudgetAlert)
class BudgetAlertAdmin(ReadOnlyAdmin):
    list_display = ["budget", "percentage", "crossed_at", "mailed_at"]
    list_select_related = ["budget__programme"]

from django.contrib import admin

from budget.models import Budget


@admin.register(Budget)
class BudgetAdmin(admin.ModelAdmin):
    list_display = ["programme", "total", "includes_vat"]
    list_select_related = ["programme"]

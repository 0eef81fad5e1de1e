from django.contrib import admin

from registrations.models import Registration


@admin.register(Registration)
class RegistrationAdmin(admin.ModelAdmin):
    list_display = ["contact_name", "activity", "party_size", "status", "created_at"]
    list_filter = ["status", "activity__programme", "activity"]
    search_fields = ["contact_name", "email"]
    list_select_related = ["activity"]
    raw_id_fields = ["activity"]

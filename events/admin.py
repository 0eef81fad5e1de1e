from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from events.models import Activity, Programme, ProgrammeRole


class ActivityInline(admin.TabularInline):
    model = Activity
    fields = ["title", "starts_at", "audience", "capacity", "price", "status"]
    extra = 0
    show_change_link = True


@admin.register(Programme)
class ProgrammeAdmin(admin.ModelAdmin):
    list_display = ["name", "starts_on", "ends_on", "is_public", "organiser_name"]
    list_filter = ["is_public"]
    search_fields = ["name", "organiser_name", "organiser_email"]
    prepopulated_fields = {"slug": ["name"]}
    date_hierarchy = "starts_on"
    inlines = [ActivityInline]
    fieldsets = [
        (None, {"fields": ["name", "slug", "starts_on", "ends_on", "description", "is_public"]}),
        (_("Organisator"), {"fields": ["organiser_name", "organiser_email", "organiser_phone"]}),
        (_("Huisstijl"), {"fields": ["theme_colour", "logo", "logo_alt"]}),
        (
            _("Privacy en toegankelijkheid"),
            {"fields": ["retention_days", "privacy_statement", "accessibility_statement"]},
        ),
    ]


@admin.register(Activity)
class ActivityAdmin(admin.ModelAdmin):
    list_display = [
        "title",
        "programme",
        "starts_at",
        "audience",
        "capacity",
        "places_left_display",
        "price",
        "status",
    ]
    list_filter = ["programme", "status", "audience", "registration_required"]
    search_fields = ["title", "summary", "location_name"]
    prepopulated_fields = {"slug": ["title"]}
    date_hierarchy = "starts_at"
    list_select_related = ["programme"]
    fieldsets = [
        (None, {"fields": ["programme", "title", "slug", "summary", "description", "status"]}),
        (
            _("Wanneer en waar"),
            {"fields": ["starts_at", "ends_at", "location_name", "location_address"]},
        ),
        (
            _("Aanmelden"),
            {
                "fields": [
                    "audience",
                    "registration_required",
                    "capacity",
                    "max_party_size",
                    "price",
                    "registration_opens_at",
                    "registration_closes_at",
                    "waitlist_enabled",
                ]
            },
        ),
    ]

    def get_queryset(self, request):
        return super().get_queryset(request).with_places_taken()

    @admin.display(description=_("plaatsen vrij"))
    def places_left_display(self, activity: Activity) -> str:
        left = activity.places_left
        return "∞" if left is None else str(left)


@admin.register(ProgrammeRole)
class ProgrammeRoleAdmin(admin.ModelAdmin):
    list_display = ["user", "programme", "role", "created_at"]
    list_filter = ["role", "programme"]
    search_fields = ["user__username", "user__email", "programme__name"]
    list_select_related = ["user", "programme"]
    raw_id_fields = ["user"]

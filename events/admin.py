from django import forms
from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.translation import gettext_lazy as _

from events.access import ProgrammeScopedAdmin
from events.backoffice.copy import copied_message, copy_step
from events.models import Activity, Programme, ProgrammeRole, Question
from events.signals import activity_price_changed


class ActivityInline(admin.TabularInline):
    model = Activity
    fields = ["title", "starts_at", "audience", "capacity", "price", "status"]
    extra = 0
    show_change_link = True


class QuestionAdminForm(forms.ModelForm):
    # The admin supplies model and fields (QuestionInline.fields).

    def clean_kind(self) -> str:
        kind = self.cleaned_data["kind"]
        question = self.instance
        # The organiser pages refuse this too (registrations.backoffice.questions.save_question):
        # the answers given would no longer fit the question.
        if question.pk and kind != question.kind and question.answers.exists():
            raise forms.ValidationError(
                _(
                    "Op deze vraag is al geantwoord, dus de soort antwoord kan niet meer "
                    "veranderen. Maak een nieuwe vraag als je iets anders wilt vragen."
                )
            )
        return kind


class QuestionInline(admin.StackedInline):
    model = Question
    form = QuestionAdminForm
    fields = [
        ("position", "kind", "required"),
        ("label", "label_en"),
        ("help_text", "help_text_en"),
        "choices",
    ]
    extra = 0


@admin.register(Programme)
class ProgrammeAdmin(ProgrammeScopedAdmin):
    programme_path = ""
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
        (_("Betalen"), {"fields": ["ticket_vat_rate"]}),
        (
            _("Privacy en toegankelijkheid"),
            {"fields": ["retention_days", "privacy_statement", "accessibility_statement"]},
        ),
    ]
    actions = ["copy_selected"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        # A new programme has no roles yet: only a superuser could give anyone access to it.
        return request.user.is_superuser and super().has_add_permission(request)

    def get_urls(self):
        copy = path(
            "<path:object_id>/kopieren/",
            self.admin_site.admin_view(self.copy_view),
            name="events_programme_copy",
        )
        return [copy, *super().get_urls()]

    @admin.action(description=_("Programma kopiëren"), permissions=["add"])
    def copy_selected(self, request: HttpRequest, queryset: QuerySet[Programme]):
        if queryset.count() != 1:
            self.message_user(
                request, _("Kies precies één programma om te kopiëren."), messages.ERROR
            )
            return None
        return redirect("admin:events_programme_copy", object_id=queryset.get().pk)

    def copy_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        """Ask for the copy's name, web address and dates, preview the new dates, then copy
        (events.backoffice.copy, as on the organiser pages)."""
        if not self.has_add_permission(request):
            raise PermissionDenied
        source = self.get_object(request, unquote(object_id))
        if not isinstance(source, Programme):
            raise Http404
        step = copy_step(source, request.POST if request.method == "POST" else None)
        if step.result is not None:
            self.message_user(request, copied_message(step.result), messages.SUCCESS)
            return redirect("admin:events_programme_change", step.result.programme.pk)
        context = {
            **self.admin_site.each_context(request),
            "title": _("Programma kopiëren"),
            "opts": self.model._meta,
            "source": source,
            "form": step.form,
            "plan": step.plan,
            "cancel_url": reverse("admin:events_programme_change", args=[source.pk]),
        }
        return TemplateResponse(request, "admin/events/programme/copy.html", context)


@admin.register(Activity)
class ActivityAdmin(ProgrammeScopedAdmin):
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
    list_filter = [
        ("programme", admin.RelatedOnlyFieldListFilter),
        "status",
        "audience",
        "registration_required",
    ]
    search_fields = ["title", "summary", "location_name"]
    prepopulated_fields = {"slug": ["title"]}
    date_hierarchy = "starts_at"
    list_select_related = ["programme"]
    inlines = [QuestionInline]
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

    def save_model(self, request, obj, form, change) -> None:
        super().save_model(request, obj, form, change)
        if change and "price" in form.changed_data:
            # Sessions under way ask the old price (registrations closes them).
            activity_price_changed.send(sender=Activity, activity=obj)

    @admin.display(description=_("plaatsen vrij"))
    def places_left_display(self, activity: Activity) -> str:
        left = activity.places_left
        return "∞" if left is None else str(left)


@admin.register(ProgrammeRole)
class ProgrammeRoleAdmin(ProgrammeScopedAdmin):
    """Organisers see who else has a role in their programmes; granting, changing and taking
    away roles is for superusers only (an organiser could otherwise make themself organiser
    of any programme)."""

    list_display = ["user", "programme", "role", "created_at"]
    list_filter = ["role", ("programme", admin.RelatedOnlyFieldListFilter)]
    search_fields = ["user__username", "user__email", "programme__name"]
    list_select_related = ["user", "programme"]
    raw_id_fields = ["user"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return request.user.is_superuser and super().has_add_permission(request)

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return request.user.is_superuser and super().has_change_permission(request, obj)

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return request.user.is_superuser and super().has_delete_permission(request, obj)

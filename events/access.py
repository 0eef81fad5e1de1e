"""Who may use the organiser area (/beheer/) and the Django admin for which programme: the one
place that decides.

Access is granted per programme through `ProgrammeRole`: an organiser runs everything, a viewer
reads and changes nothing. Superusers see every programme. Every organiser page and action goes
through `get_programme_for_organiser` (and an activity page then through
`get_activity_for_organiser`), so "not yours" is a 404 everywhere (whether a programme exists is
nobody else's business) and a viewer attempting a change is a 403. The Django admin applies the
same roles through `ProgrammeScopedAdmin`.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.contrib.auth import get_user_model
from django.contrib.auth.models import AnonymousUser, User
from django.core.exceptions import PermissionDenied
from django.db.models import ForeignKey, Model, OuterRef, QuerySet, Subquery, Value
from django.db.models.fields import CharField
from django.forms import ModelChoiceField
from django.http import Http404, HttpRequest
from django.shortcuts import get_object_or_404

from events.models import Activity, Programme, ProgrammeRole

Role = ProgrammeRole.Role


def programmes_for(user: User | AnonymousUser, *, write: bool = False) -> QuerySet[Programme]:
    """The programmes this user may read (or, with `write`, change) in the organiser area.

    Each carries `access_role` ("organiser" or "viewer"), so a page knows whether to offer
    changes without another query.
    """
    if not (user.is_authenticated and user.is_active):
        return Programme.objects.none()
    if user.is_superuser:
        return Programme.objects.annotate(
            access_role=Value(Role.ORGANISER, output_field=CharField())
        )
    roles = ProgrammeRole.objects.filter(user=user, programme=OuterRef("pk"))
    if write:
        roles = roles.filter(role=Role.ORGANISER)
    return Programme.objects.annotate(access_role=Subquery(roles.values("role")[:1])).filter(
        access_role__isnull=False
    )


def organiser_addresses(programme_id: int) -> list[str]:
    """The e-mail addresses of the programme's organisers (not viewers), each once."""
    users = get_user_model().objects.filter(
        is_active=True,
        programme_roles__programme_id=programme_id,
        programme_roles__role=Role.ORGANISER,
    )
    return sorted({email for email in users.values_list("email", flat=True) if email})


def may_change(programme: Programme) -> bool:
    """Whether the user this programme was fetched for (via `programmes_for`) may change it."""
    return getattr(programme, "access_role", None) == Role.ORGANISER


def get_programme_for_organiser(
    user: User | AnonymousUser, slug: str, *, write: bool = False
) -> Programme:
    """The programme with this slug if the user has a role in it: else 404; a viewer asking
    to change something gets 403 (they may know the programme, they may not change it)."""
    programme = get_object_or_404(programmes_for(user), slug=slug)
    if write and not may_change(programme):
        raise PermissionDenied
    return programme


def get_activity_for_organiser(programme: Programme, slug: str) -> Activity:
    """The programme's activity with this slug, else 404; the programme comes from
    `get_programme_for_organiser`, which decided who may see it. It carries `places_taken`, which
    the organiser pages show."""
    activities = Activity.objects.filter(programme=programme).with_places_taken()
    return get_object_or_404(activities, slug=slug)


class ScopedChoices(admin.options.BaseModelAdmin):
    """Foreign-key choices in an admin form: only the rows of the programmes the user may change
    (as the related model's own `ProgrammeScopedAdmin` scopes them), for a select as for a
    raw id, so nobody files something under another programme."""

    def formfield_for_foreignkey(
        self, db_field: ForeignKey, request: HttpRequest, **kwargs: Any
    ) -> ModelChoiceField | None:
        related = db_field.related_model
        if (
            "queryset" not in kwargs
            and not request.user.is_superuser
            and self.admin_site.is_registered(related)
        ):
            related_admin = self.admin_site.get_model_admin(related)
            if isinstance(related_admin, ProgrammeScopedAdmin):
                rows = related._default_manager.all()
                kwargs["queryset"] = related_admin.scope(rows, request.user, write=True)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)


class ProgrammeScopedAdmin(ScopedChoices, admin.ModelAdmin):
    """The Django admin of a model that belongs to a programme: staff see the rows of the
    programmes they have a role in, change, delete and add only where they are organiser, and
    pick only those in foreign keys; superusers see all. Another programme's row is a 404 (not
    in the queryset) or, reached some other way (its history), a 403. Django's model
    permissions still apply on top.

    `programme_path` leads from the model to its programme; "" for the programme itself.
    """

    programme_path = "programme"

    def scope(
        self, queryset: QuerySet, user: User | AnonymousUser, *, write: bool = False
    ) -> QuerySet:
        if user.is_superuser:
            return queryset
        lookup = f"{self.programme_path}__in" if self.programme_path else "pk__in"
        return queryset.filter(**{lookup: programmes_for(user, write=write)})

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        return self.scope(super().get_queryset(request), request.user)

    def get_object(
        self, request: HttpRequest, object_id: str, from_field: str | None = None
    ) -> Model | None:
        obj = super().get_object(request, object_id, from_field)
        if obj is None and not request.user.is_superuser:
            # Another programme's row is a 404, as in the organiser area, and looks like one
            # that does not exist (the admin would redirect, "perhaps it was deleted").
            raise Http404
        return obj

    def _reaches(self, request: HttpRequest, obj: Model | None, *, write: bool) -> bool:
        if obj is None or request.user.is_superuser:
            return True
        row = type(obj)._default_manager.filter(pk=obj.pk)
        return self.scope(row, request.user, write=write).exists()

    def has_view_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return super().has_view_permission(request, obj) and self._reaches(
            request, obj, write=False
        )

    def has_add_permission(self, request: HttpRequest) -> bool:
        return super().has_add_permission(request) and (
            request.user.is_superuser or programmes_for(request.user, write=True).exists()
        )

    def has_change_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return super().has_change_permission(request, obj) and self._reaches(
            request, obj, write=True
        )

    def has_delete_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return super().has_delete_permission(request, obj) and self._reaches(
            request, obj, write=True
        )

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet) -> None:
        # "Delete selected" asks has_delete_permission without an object; a viewer may have
        # selected rows of a programme they only read.
        if self.scope(queryset, request.user, write=True).count() != queryset.count():
            raise PermissionDenied
        super().delete_queryset(request, queryset)


class SuperusersOnlyAdmin(admin.ModelAdmin):
    """For what belongs to no programme or hands out access (roles, users, Stripe's events):
    superusers only, whatever model permissions a staff user holds."""

    def has_module_permission(self, request: HttpRequest) -> bool:
        return request.user.is_superuser and super().has_module_permission(request)

    def has_view_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return request.user.is_superuser and super().has_view_permission(request, obj)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return request.user.is_superuser and super().has_add_permission(request)

    def has_change_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return request.user.is_superuser and super().has_change_permission(request, obj)

    def has_delete_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return request.user.is_superuser and super().has_delete_permission(request, obj)

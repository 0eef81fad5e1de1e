from __future__ import annotations

from axes.models import AccessAttempt, AccessFailureLog, AccessLog
from django.contrib import admin
from django.contrib.auth.models import Group, User
from django.db.models import Model
from django.http import HttpRequest
from django_tasks_db.models import DBTaskResult

from events.access import SuperusersOnlyAdmin
from jubileum.login import AdminLoginForm
from jubileum.models import ApiToken

# The admin's login counts at the same per-address limit as the organisers' login page.
admin.site.login_form = AdminLoginForm


def superusers_only(model: type[Model]) -> None:
    """Re-register another app's admin (registered before ours: INSTALLED_APPS order) for
    superusers only: users and groups hand out every permission, and the task queue and login
    failures belong to no programme."""
    model_admin = type(admin.site.get_model_admin(model))
    admin.site.unregister(model)
    admin.site.register(model, type(model_admin.__name__, (SuperusersOnlyAdmin, model_admin), {}))


for _model in (User, Group, DBTaskResult, AccessAttempt, AccessLog, AccessFailureLog):
    superusers_only(_model)


@admin.register(ApiToken)
class ApiTokenAdmin(SuperusersOnlyAdmin):
    """Tokens are made by `manage.py create_api_token` (shown once); here superusers list them
    and can revoke them (set "revoked at"), never read them back."""

    list_display = ["user", "name", "prefix", "created_at", "last_used_at", "revoked_at"]
    list_select_related = ["user"]
    search_fields = ["user__username", "name", "prefix"]
    fields = ["user", "name", "prefix", "created_at", "last_used_at", "revoked_at"]
    readonly_fields = ["user", "name", "prefix", "created_at", "last_used_at"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

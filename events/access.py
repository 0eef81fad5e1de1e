"""Who may use the organiser area (/beheer/) for which programme: the one place that decides.

Access is granted per programme through `ProgrammeRole`: an organiser runs everything, a viewer
reads and changes nothing. Superusers see every programme. Every organiser page and action goes
through `get_programme_for_organiser` (and an activity page then through
`get_activity_for_organiser`), so "not yours" is a 404 everywhere (whether a programme exists is
nobody else's business) and a viewer attempting a change is a 403.
"""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.contrib.auth.models import AnonymousUser, User
from django.core.exceptions import PermissionDenied
from django.db.models import OuterRef, QuerySet, Subquery, Value
from django.db.models.fields import CharField
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

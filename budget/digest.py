"""What waits for the organisers, and the e-mail that tells each of them so at most once an hour.

Two things wait for an organiser: registrations waiting for approval (`Registration.Status.
PENDING_APPROVAL`) and expenses waiting for a second organiser's approval (`Expense.
awaiting_approval`; only those the person may approve: not one they recorded or changed). It
lives in the budget app for the reason the council report does: it joins the registrations'
figures with the budget's (apps depend one way: budget → registrations → events).

How the e-mail is planned: when something starts to wait (a sign-up that needs approval, an
expense above the threshold), `plan` claims a send for every organiser of that programme who
wants the e-mail (`events.models.OrganiserDigest`) and has none planned, at the first moment
allowed (now, or an hour after the last one), and the task runs then (`budget.tasks`). What
waits is read when the task runs, not when it was planned: whatever an organiser dealt with
meanwhile is left out, and nothing waiting means no e-mail. `send` claims the hour by recording
`last_sent_at` before sending, so a task that runs twice mails once; a failed send gives the
claim back for the retry.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass, field

from django.contrib.auth import get_user_model
from django.db.models import Count, Q, QuerySet
from django.utils import timezone

from budget import emails
from budget.models import changers_of
from budget.summary import expenses_awaiting_approval
from events.models import DIGEST_INTERVAL, Activity, OrganiserDigest, Programme, ProgrammeRole
from registrations.models import Registration

logger = logging.getLogger(__name__)

ORGANISER = ProgrammeRole.Role.ORGANISER


# --- What waits --------------------------------------------------------------------------------


def registrations_awaiting_approval() -> QuerySet[Registration]:
    return Registration.objects.filter(status=Registration.Status.PENDING_APPROVAL)


@dataclass(frozen=True)
class WaitingCounts:
    registrations: int = 0
    expenses: int = 0

    @property
    def any(self) -> bool:
        return bool(self.registrations or self.expenses)


def waiting_counts(programme_ids: list[int]) -> dict[int, WaitingCounts]:
    """Per programme, the registrations and the expenses waiting for approval: two queries,
    however many programmes (the organiser's overview)."""
    registrations = dict(
        registrations_awaiting_approval()
        .filter(activity__programme_id__in=programme_ids)
        .values("activity__programme_id")
        .annotate(n=Count("pk"))
        .order_by()
        .values_list("activity__programme_id", "n")
    )
    expenses = dict(
        expenses_awaiting_approval()
        .filter(budget__programme_id__in=programme_ids)
        .values("budget__programme_id")
        .annotate(n=Count("pk"))
        .order_by()
        .values_list("budget__programme_id", "n")
    )
    return {
        pk: WaitingCounts(registrations.get(pk, 0), expenses.get(pk, 0)) for pk in programme_ids
    }


@dataclass
class ProgrammeWaiting:
    """What waits for one organiser in one programme."""

    programme: Programme
    # The activities with registrations waiting, and how many parties wait for each.
    activities: list[tuple[Activity, int]] = field(default_factory=list)
    expenses: int = 0

    @property
    def registrations(self) -> int:
        return sum(parties for _activity, parties in self.activities)


def waiting_for(user_id: int) -> list[ProgrammeWaiting]:
    """What waits for this person in the programmes they organise (not those they only view),
    by programme; empty when nothing does. A fixed number of queries."""
    programme_ids = list(
        ProgrammeRole.objects.filter(user_id=user_id, role=ORGANISER).values_list(
            "programme_id", flat=True
        )
    )
    if not programme_ids:
        return []
    per_activity = dict(
        registrations_awaiting_approval()
        .filter(activity__programme_id__in=programme_ids)
        .values("activity_id")
        .annotate(n=Count("pk"))
        .order_by()
        .values_list("activity_id", "n")
    )
    expenses = list(
        expenses_awaiting_approval()
        .filter(budget__programme_id__in=programme_ids)
        .exclude(recorded_by_id=user_id)
        .values_list("pk", "budget__programme_id")
    )
    changers = changers_of(pk for pk, _programme in expenses)
    found: dict[int, ProgrammeWaiting] = {}
    programmes = Programme.objects.in_bulk(programme_ids)

    def of(programme_id: int) -> ProgrammeWaiting:
        if programme_id not in found:
            found[programme_id] = ProgrammeWaiting(programmes[programme_id])
        return found[programme_id]

    activities = Activity.objects.filter(pk__in=per_activity).order_by("starts_at", "pk")
    for activity in activities:
        of(activity.programme_id).activities.append((activity, per_activity[activity.pk]))
    for pk, programme_id in expenses:
        if user_id not in changers.get(pk, set()):
            of(programme_id).expenses += 1
    return sorted(found.values(), key=lambda item: (item.programme.starts_on, item.programme.pk))


# --- Planning and sending ----------------------------------------------------------------------


def plan(programme_id: int, *, now: dt.datetime | None = None) -> list[tuple[int, dt.datetime]]:
    """Claim an e-mail for every organiser of the programme who wants one and has none planned;
    returns (user id, when) for each, for the caller to enqueue the task.

    A plan more than an hour overdue was lost (its task failed for good, or the queue was
    emptied): it no longer blocks a new one.
    """
    now = now or timezone.now()
    users = (
        get_user_model()
        .objects.filter(
            is_active=True,
            programme_roles__programme_id=programme_id,
            programme_roles__role=ORGANISER,
        )
        .exclude(email="")
        .values_list("pk", flat=True)
    )
    planned = []
    for user_id in users:
        digest, _created = OrganiserDigest.objects.get_or_create(user_id=user_id)
        if not digest.enabled:
            continue
        when = digest.next_allowed(now)
        free = Q(due_at__isnull=True) | Q(due_at__lt=now - DIGEST_INTERVAL)
        if OrganiserDigest.objects.filter(free, pk=user_id, enabled=True).update(due_at=when):
            planned.append((user_id, when))
    return planned


def send(user_id: int, *, now: dt.datetime | None = None) -> bool:
    """Mail this person what waits for them now; True when the e-mail went out.

    Nothing is sent when they switched the e-mail off, have no address, were mailed less than
    an hour ago, or nothing waits. Errors from the mail backend propagate so the task can
    retry; the hour's claim is then given back.
    """
    now = now or timezone.now()
    # This plan is being carried out: whatever starts to wait from here on plans the next.
    OrganiserDigest.objects.filter(pk=user_id, due_at__lte=now).update(due_at=None)
    digest = OrganiserDigest.objects.select_related("user").filter(pk=user_id).first()
    if digest is None or not digest.enabled:
        return False
    user = digest.user
    if not (user.is_active and user.email):
        return False
    if digest.last_sent_at is not None and digest.last_sent_at > now - DIGEST_INTERVAL:
        logger.info("No digest for user %s: one went out less than an hour ago", user_id)
        return False
    programmes = waiting_for(user_id)
    if not programmes:
        return False
    # Built before the claim: a broken template must not use up the hour.
    message = emails.organiser_digest(user, programmes)
    previous = digest.last_sent_at
    hour_free = Q(last_sent_at__isnull=True) | Q(last_sent_at__lte=now - DIGEST_INTERVAL)
    claimed = OrganiserDigest.objects.filter(hour_free, pk=user_id, enabled=True).update(
        last_sent_at=now
    )
    if not claimed:
        return False
    try:
        message.send(using=emails.MAILER)
    except BaseException:
        OrganiserDigest.objects.filter(pk=user_id, last_sent_at=now).update(last_sent_at=previous)
        raise
    return True

"""How the demo writes: its content kept in line with the script, everything people do through
the product's services, moments in the past dated as such, and each row made once.

- Content (programmes, activities, questions, budgets, categories) is the script itself:
  `sync_row` makes a row or brings it in line, and saves only when something differs.
- What people do (sign up, be approved, pay, record and approve an expense, record income) goes
  through the same service functions as the site, so the demo holds exactly what the product
  makes: statuses, history, ticket income via the payment signals, e-mails queued. The callers
  find such rows by a stable key (an e-mail address and an activity, a supplier and a
  description) and skip them: loading again calls no service and queues no e-mail.
- `happened_at` dates a step in the past: the services take `now` for the moments they decide,
  while the database stamps the rest with the clock.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db.models import Model
from django.tasks import TaskResultStatus
from django_tasks_db.models import DBTaskResult

from budget.tasks import send_organiser_digest
from events.models import Activity, OrganiserDigest
from registrations import services
from registrations.models import Registration
from registrations.payments import demo, stripe_events
from registrations.payments import services as payments
from registrations.tasks import send_registration_mail

Status = Registration.Status

# The moment `happened_at` dates the history and the rows with; None outside it.
_moment: ContextVar[dt.datetime | None] = ContextVar("demo_moment", default=None)

# A member or guest who is not let in by the site waits this long for an organiser.
APPROVAL_AFTER = dt.timedelta(days=1, hours=2)
# Someone asked to pay does so at once.
PAYMENT_AFTER = dt.timedelta(minutes=4)


def sync_row[M: Model](
    model: type[M], lookup: dict[str, Any], values: dict[str, Any], *, on_create: dict | None = None
) -> M:
    """The row `lookup` finds, made with `values` or brought in line with them.

    Saved only when a value differs, so loading the demo again changes nothing, not even
    `updated_at` or the history. `on_create` is what only a new row gets: an activity's status,
    which afterwards changes only through the product.
    """
    row = model._default_manager.filter(**lookup).first()
    if row is None:
        row = model(**lookup, **values, **(on_create or {}))
        row.save()
        return row
    changed = [name for name, value in values.items() if getattr(row, name) != value]
    for name in changed:
        setattr(row, name, values[name])
    if changed:
        row.save()
    return row


@contextmanager
def happened_at(moment: dt.datetime) -> Iterator[None]:
    """Date what the block does at `moment`: a step of the held programme (2023) or a budget
    line entered weeks ago.

    The services take `now` where they decide a moment (consent, confirmation, payment, a
    scan, an expense step's date), but `created_at` and `updated_at` (auto_now), the history's
    `history_date` and an expense's `approved_at` come from the clock, and have no `now` to
    pass. Inside the block each history row is dated `moment` as it is written, and the row it
    records gets `moment` in those timestamp fields (`date_history`, `date_row`): a queryset
    `.update()` of timestamps only, never of a status.
    """
    token = _moment.set(moment)
    try:
        yield
    finally:
        _moment.reset(token)


def _stamps(row: Model, history_type: str, moment: dt.datetime) -> dict[str, dt.datetime]:
    fields = {field.name for field in row._meta.concrete_fields}
    stamps = {"updated_at": moment}
    if history_type == "+":
        stamps["created_at"] = moment
    # Approved now by the clock, which is later than any moment in the past.
    approved_at = getattr(row, "approved_at", None)
    if approved_at is not None and approved_at > moment:
        stamps["approved_at"] = moment
    return {name: value for name, value in stamps.items() if name in fields}


def date_history(sender: Any, *, history_instance: Any, **kwargs: Any) -> None:
    """`pre_create_historical_record`: inside `happened_at`, the history row is dated then."""
    moment = _moment.get()
    if moment is None:
        return
    history_instance.history_date = moment
    for name, value in _stamps(history_instance, history_instance.history_type, moment).items():
        setattr(history_instance, name, value)


def date_row(sender: Any, *, instance: Model, history_instance: Any, **kwargs: Any) -> None:
    """`post_create_historical_record`: inside `happened_at`, the row just saved is dated then."""
    moment = _moment.get()
    if moment is None or history_instance.history_type == "-":
        return
    stamps = _stamps(instance, history_instance.history_type, moment)
    type(instance)._default_manager.filter(pk=instance.pk).update(**stamps)
    for name, value in stamps.items():
        setattr(instance, name, value)


def require_demo_payments() -> None:
    """Stop unless payments go to the demo payment page: the demo must never reach Stripe."""
    if not settings.PAYMENTS_DEMO_MODE:
        raise ImproperlyConfigured(
            "The demo pays for its paid activities on the demo payment page; load it with "
            "PAYMENTS_DEMO_MODE on (DJANGO_DEBUG=1 and no STRIPE_SECRET_KEY)."
        )


@contextmanager
def _at(moment: dt.datetime | None) -> Iterator[None]:
    if moment is None:
        yield
    else:
        with happened_at(moment):
            yield


def sign_up(
    activity: Activity, party: services.SignUp, *, at: dt.datetime | None = None
) -> Registration:
    """A party signs up the way the site lets them, at `at` (None: now).

    A member or guest whom the site does not let in straight away is approved by an organiser
    a day later; a party asked to pay pays at once (the demo payment page's "paid"). Each step
    is dated when it happened.
    """
    with _at(at):
        registration = services.register(activity.pk, party, now=at).registration
    if registration.status == Status.PENDING_APPROVAL:
        if at is not None:
            at += APPROVAL_AFTER
        with _at(at):
            registration = services.approve(registration.pk, now=at)
    if registration.status == Status.OFFERED and registration.approved_at is not None:
        # Approved for a paid activity: "Betalen" claims the places kept since the approval.
        with _at(at):
            registration = services.claim_offer(registration.pk, now=at)
    if registration.status == Status.PENDING_PAYMENT:
        require_demo_payments()
        if at is not None:
            at += PAYMENT_AFTER
        with _at(at):
            payment = payments.start_payment(registration.pk, now=at)
            # The event the demo page's "paid" button sends, handled at `at`: the button goes
            # through `process_event`, which takes no `now` and adds only the Stripe event log.
            stripe_events.handle_event(demo.demo_event(payment, "paid", now=at), now=at)
        registration.refresh_from_db()
    return registration


def unqueue_registration_mail(registration_ids: list[int], *, since: dt.datetime) -> int:
    """Take the registration e-mails queued since `since` for these registrations out of the
    queue again, before a worker sends them; returns how many.

    For the held programme: its people signed up in 2023, when those e-mails would have gone
    out; sent now they would be news about an activity long over, hundreds at once.
    """
    queued = DBTaskResult.objects.filter(
        status=TaskResultStatus.READY,
        task_path=send_registration_mail.module_path,
        enqueued_at__gte=since,
        args_kwargs__kwargs__registration_id__in=registration_ids,
    )
    deleted, _per_model = queued.delete()
    return deleted


def unqueue_digests(*, since: dt.datetime) -> int:
    """Take the organisers' digests planned since `since` out of the queue again (and forget
    the plan), for the held programme: what waited for approval in 2023 was decided then."""
    queued = DBTaskResult.objects.filter(
        status=TaskResultStatus.READY,
        task_path=send_organiser_digest.module_path,
        enqueued_at__gte=since,
    )
    users = [result.args_kwargs["kwargs"]["user_id"] for result in queued]
    OrganiserDigest.objects.filter(user_id__in=users).update(due_at=None)
    deleted, _per_model = queued.delete()
    return deleted

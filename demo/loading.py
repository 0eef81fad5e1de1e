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
from functools import cache
from typing import Any

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db.models import Max, Model
from django.tasks import TaskResultStatus
from django_tasks_db.models import DBTaskResult

from budget.models import Expense, Income
from events.models import Activity
from registrations import services
from registrations.models import Payment, Registration
from registrations.payments import services as payments
from registrations.tasks import send_registration_mail

Status = Registration.Status

# Models whose rows the services stamp with the clock (created_at, updated_at, the history).
STAMPED: tuple[type[Model], ...] = (Registration, Payment, Expense, Income)

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


@cache
def _history_of(model: type[Model]) -> type[Model]:
    # `Model.history` builds a manager class on every access: slow in a loop.
    return model.history.model  # type: ignore[attr-defined]


def _last_history_id(model: type[Model]) -> int:
    history = _history_of(model)._default_manager
    return history.aggregate(last=Max("history_id"))["last"] or 0


@contextmanager
def happened_at(moment: dt.datetime) -> Iterator[None]:
    """Date what the block does at `moment`: a step of the held programme (2023) or a budget
    line entered weeks ago.

    The services take `now` where they decide a moment (consent, confirmation, payment, a
    scan, an expense step's date), but `created_at` and `updated_at` (auto_now), the history's
    `history_date` and an expense's `approved_at` come from the clock, and have no `now` to
    pass. So afterwards the rows the block wrote (found through their history) get `moment` in
    those timestamp fields: a queryset `.update()` of timestamps only, never of a status.
    """
    # The block's rows are found by their history rows' ids, not by the clock: a test may
    # have stopped the clock.
    last = {model: _last_history_id(model) for model in STAMPED}
    yield
    for model, after in last.items():
        records = _history_of(model)._default_manager.filter(history_id__gt=after)
        changes = list(records.values_list("id", "history_type"))
        if not changes:
            continue
        records.update(history_date=moment)
        rows = model._default_manager.filter(pk__in={pk for pk, _kind in changes})
        rows.update(updated_at=moment)
        rows.filter(pk__in={pk for pk, kind in changes if kind == "+"}).update(created_at=moment)
        if model is Expense:
            rows.filter(approved_at__gt=moment).update(approved_at=moment)


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
    if registration.status == Status.PENDING_PAYMENT:
        require_demo_payments()
        if at is not None:
            at += PAYMENT_AFTER
        with _at(at):
            payment = payments.start_payment(registration.pk, now=at)
            # The event the demo page's "paid" button sends, handled at `at`: the button goes
            # through `process_event`, which takes no `now` and adds only the Stripe event log.
            payments.handle_event(payments.demo_event(payment, "paid", now=at), now=at)
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

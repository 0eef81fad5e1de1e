"""Queued payment tasks survive the move of their code: migration 0007 points unfinished rows
at the new import path and leaves finished ones as they were."""

from __future__ import annotations

import importlib
import types

import pytest
from django.apps import apps
from django.db import connection
from django.tasks import Task
from django.utils import timezone
from django.utils.module_loading import import_string
from django_tasks_db.models import DBTaskResult

moved = importlib.import_module("registrations.migrations.0009_payment_tasks_moved")

REFUND = "registrations.tasks.refund_payment"
EXPIRE = "registrations.tasks.expire_checkout_session"


def _queued(task_path: str, status: str = "READY") -> DBTaskResult:
    return DBTaskResult.objects.create(
        task_path=task_path,
        status=status,
        args_kwargs={"args": [], "kwargs": {"payment_id": 1}},
        backend_name="default",
        run_after=timezone.now(),
    )


def _path(result: DBTaskResult) -> str:
    return DBTaskResult.objects.values_list("task_path", flat=True).get(pk=result.pk)


@pytest.mark.parametrize("path", [REFUND, EXPIRE])
def test_the_new_paths_are_tasks(path):
    assert isinstance(import_string(path), Task)


@pytest.mark.django_db
def test_unfinished_payment_tasks_are_pointed_at_their_new_path_and_back():
    editor = types.SimpleNamespace(connection=connection)
    ready = _queued("registrations.payments.services.refund_payment")
    older = _queued("registrations.payments.refund_payment")
    running = _queued("registrations.payments.services.expire_checkout_session", "RUNNING")
    done = _queued("registrations.payments.services.refund_payment", "SUCCESSFUL")
    mail = _queued("registrations.tasks.send_registration_mail")

    moved.forwards(apps, editor)

    assert [_path(r) for r in (ready, older, running)] == [REFUND, REFUND, EXPIRE]
    assert _path(done) == "registrations.payments.services.refund_payment"
    assert _path(mail) == "registrations.tasks.send_registration_mail"

    moved.backwards(apps, editor)

    assert [_path(r) for r in (ready, older, running)] == [
        "registrations.payments.services.refund_payment",
        "registrations.payments.services.refund_payment",
        "registrations.payments.services.expire_checkout_session",
    ]

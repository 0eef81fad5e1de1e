"""The payment tasks moved to `registrations.tasks`. django-tasks-db stores each task by its
import path, so refunds and session expiries still waiting in the queue (or running, should a
worker die and the task be queued again) are pointed at the new path: a deploy loses none.
Going back points them at the path the code before this one used."""

from django.db import migrations

UNFINISHED = ["READY", "RUNNING"]

# New path: the paths the same task had before (the first one is the latest).
MOVED = {
    "registrations.tasks.refund_payment": [
        "registrations.payments.services.refund_payment",
        "registrations.payments.refund_payment",
    ],
    "registrations.tasks.expire_checkout_session": [
        "registrations.payments.services.expire_checkout_session",
        "registrations.payments.expire_checkout_session",
    ],
}


def _unfinished(apps, schema_editor):
    DBTaskResult = apps.get_model("django_tasks_database", "DBTaskResult")
    return DBTaskResult.objects.using(schema_editor.connection.alias).filter(
        status__in=UNFINISHED
    )


def forwards(apps, schema_editor):
    for new, old_paths in MOVED.items():
        _unfinished(apps, schema_editor).filter(task_path__in=old_paths).update(task_path=new)


def backwards(apps, schema_editor):
    for new, old_paths in MOVED.items():
        _unfinished(apps, schema_editor).filter(task_path=new).update(task_path=old_paths[0])


class Migration(migrations.Migration):
    dependencies = [
        ("registrations", "0008_sentmail_kind_choices"),
        ("django_tasks_database", "0021_conditional_partial_index_ordering"),
    ]

    operations = [migrations.RunPython(forwards, backwards)]

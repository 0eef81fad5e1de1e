"""The organisers' e-mail about what waits for their approval: at most one an hour per person,
only for organisers who want it, only when something still waits; and the counts on the
overview pages."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.contrib.auth import get_user_model
from django.core import mail
from django.urls import reverse

from budget import digest, services
from budget.inputs import ExpenseInput
from budget.models import Budget, Expense
from budget.tasks import send_organiser_digest
from events.models import Activity, OrganiserDigest, ProgrammeRole
from registrations import services as registrations
from registrations.models import Registration

DIGEST_TASK = "budget.tasks.send_organiser_digest"
NOW = dt.datetime(2026, 12, 1, 10, 0, tzinfo=ZoneInfo("Europe/Amsterdam"))

pytestmark = [pytest.mark.usefixtures("commit_hooks"), pytest.mark.engine_dependent]


@pytest.fixture
def clock(time_machine):
    time_machine.move_to(NOW, tick=False)
    return time_machine


@pytest.fixture
def organisers(programme):
    """Anne and Bert organise the programme; Vera only views it."""
    users = {}
    for name, role in (("anne", "organiser"), ("bert", "organiser"), ("vera", "viewer")):
        user = get_user_model().objects.create_user(username=name, email=f"{name}@example.org")
        ProgrammeRole.objects.create(user=user, programme=programme, role=role)
        users[name] = user
    return users


@pytest.fixture
def approval_activity(make_activity):
    """Members only, and nobody on the roster: every sign-up waits for an organiser."""
    return make_activity(title="Reüniediner", audience=Activity.Audience.MEMBERS)


def _sign_up(activity: Activity, email: str) -> Registration:
    sign_up = registrations.SignUp(contact_name="Anna", email=email, party_size=1)
    registration = registrations.register(activity.pk, sign_up).registration
    assert registration.status == Registration.Status.PENDING_APPROVAL
    return registration


def _digest_tasks(tasks) -> list:
    return [r for r in tasks.results if r.task.module_path == DIGEST_TASK]


def _run_due(tasks, now: dt.datetime) -> None:
    """Run the digest tasks whose time has come, as the worker would, once each."""
    for result in _digest_tasks(tasks):
        run_after = result.task.run_after
        if run_after is None or run_after <= now:
            tasks.results.remove(result)
            result.task.call(**result.kwargs)


def _recipients() -> list[str]:
    return sorted(address for message in mail.outbox for address in message.to)


def test_one_email_an_hour_per_organiser_however_much_starts_waiting(
    clock, tasks, organisers, approval_activity
):
    _sign_up(approval_activity, "een@example.org")
    _run_due(tasks, NOW)

    # Both organisers, one e-mail each; the viewer none.
    assert _recipients() == ["anne@example.org", "bert@example.org"]
    message = mail.outbox[0]
    assert message.subject == "Wacht op jouw goedkeuring: 1 aanmelding"
    assert "Reüniediner (1)" in message.body
    activity_url = reverse(
        "organiser:activity",
        kwargs={
            "programme_slug": approval_activity.programme.slug,
            "activity_slug": approval_activity.slug,
        },
    )
    assert f"{activity_url}#pending-heading" in message.body

    # Two more within the hour: one task each, due when the hour is over; nothing before.
    clock.move_to(NOW + dt.timedelta(minutes=10), tick=False)
    _sign_up(approval_activity, "twee@example.org")
    clock.move_to(NOW + dt.timedelta(minutes=20), tick=False)
    _sign_up(approval_activity, "drie@example.org")
    planned = _digest_tasks(tasks)
    assert len(planned) == 2
    assert {r.task.run_after for r in planned} == {NOW + dt.timedelta(hours=1)}
    _run_due(tasks, NOW + dt.timedelta(minutes=20))
    assert len(mail.outbox) == 2

    # After the hour: the next e-mail, with all that still waits.
    clock.move_to(NOW + dt.timedelta(hours=1), tick=False)
    _run_due(tasks, NOW + dt.timedelta(hours=1))
    assert len(mail.outbox) == 4
    assert [m.subject for m in mail.outbox[2:]] == ["Wacht op jouw goedkeuring: 3 aanmeldingen"] * 2
    assert _digest_tasks(tasks) == []


def test_a_task_run_twice_mails_once(clock, tasks, organisers, approval_activity):
    _sign_up(approval_activity, "een@example.org")
    anne = organisers["anne"]

    assert send_organiser_digest.call(user_id=anne.pk) is True
    assert send_organiser_digest.call(user_id=anne.pk) is False

    assert _recipients() == ["anne@example.org"]
    assert OrganiserDigest.objects.get(pk=anne.pk).last_sent_at == NOW


def test_a_failed_send_gives_the_hour_back_for_the_retry(
    clock, tasks, organisers, approval_activity, monkeypatch
):
    _sign_up(approval_activity, "een@example.org")
    anne = organisers["anne"]

    def refuse(self, *args, **kwargs):
        raise OSError("mail server down")

    with monkeypatch.context() as patch:
        patch.setattr("django.core.mail.EmailMessage.send", refuse)
        with pytest.raises(OSError):
            digest.send(anne.pk)
    assert OrganiserDigest.objects.get(pk=anne.pk).last_sent_at is None

    assert digest.send(anne.pk) is True
    assert _recipients() == ["anne@example.org"]


def test_an_organiser_who_switched_it_off_gets_none(clock, tasks, organisers, approval_activity):
    OrganiserDigest.objects.create(user=organisers["anne"], enabled=False)

    _sign_up(approval_activity, "een@example.org")
    _run_due(tasks, NOW)

    assert _recipients() == ["bert@example.org"]
    # Switched off after the plan: the task sends nothing either.
    assert digest.send(organisers["anne"].pk) is False


def test_a_viewer_gets_none_even_when_asked(clock, tasks, organisers, approval_activity):
    _sign_up(approval_activity, "een@example.org")
    vera = organisers["vera"]

    assert {r.kwargs["user_id"] for r in _digest_tasks(tasks)} == {
        organisers["anne"].pk,
        organisers["bert"].pk,
    }
    assert digest.send(vera.pk) is False
    assert digest.waiting_for(vera.pk) == []


def test_nothing_waiting_any_more_sends_nothing(clock, tasks, organisers, approval_activity):
    registration = _sign_up(approval_activity, "een@example.org")
    registrations.decline(registration.pk)

    _run_due(tasks, NOW)

    assert mail.outbox == []
    assert not OrganiserDigest.objects.filter(last_sent_at__isnull=False).exists()
    assert not OrganiserDigest.objects.filter(due_at__isnull=False).exists()


def _expense(budget: Budget, by, amount: str) -> Expense:
    return services.record_expense(
        budget,
        ExpenseInput(
            category_id=budget.categories.first().pk,
            supplier="Drukker",
            description="Affiches",
            date=dt.date(2027, 1, 1),
            amount_excl_vat=Decimal(amount),
            vat_rate=0,
        ),
        by=by,
    )


def test_an_expense_waiting_for_approval_is_in_it_for_those_who_may_approve(
    clock, tasks, organisers, programme
):
    budget = Budget.objects.create(
        programme=programme, total=Decimal("10000.00"), approval_threshold=Decimal("500.00")
    )
    _expense(budget, organisers["bert"], "400.00")  # below the threshold: nothing waits
    assert _digest_tasks(tasks) == []

    _expense(budget, organisers["bert"], "800.00")
    _run_due(tasks, NOW)

    # Bert recorded it and may not approve it: only Anne hears of it.
    assert _recipients() == ["anne@example.org"]
    message = mail.outbox[0]
    assert message.subject == "Wacht op jouw goedkeuring: 1 uitgave"
    approvals = reverse("budget:approvals", kwargs={"programme_slug": programme.slug})
    assert approvals in message.body
    assert f'{approvals}"' in message.alternatives[0][0]


def test_switching_it_off_and_on_on_the_settings_page(client, organisers):
    anne = organisers["anne"]
    client.force_login(anne)
    url = reverse("organiser:notifications")

    page = client.get(url).content.decode()
    assert 'name="enabled"' in page and "checked" in page  # on until switched off

    response = client.post(url, {})
    assert response.status_code == 303
    assert OrganiserDigest.objects.get(pk=anne.pk).enabled is False
    assert "checked" not in client.get(url).content.decode()

    client.post(url, {"enabled": "on"})
    assert OrganiserDigest.objects.get(pk=anne.pk).enabled is True


def test_the_overview_shows_what_waits_with_links_in_a_fixed_number_of_queries(
    client,
    organisers,
    programme,
    make_programme,
    make_activity,
    approval_activity,
    django_assert_max_num_queries,
):
    _sign_up(approval_activity, "een@example.org")
    budget = Budget.objects.create(
        programme=programme, total=Decimal("10000.00"), approval_threshold=Decimal("100.00")
    )
    _expense(budget, organisers["bert"], "300.00")
    _expense(budget, organisers["bert"], "50.00")
    client.force_login(organisers["anne"])

    page = client.get(reverse("organiser:index")).content.decode()
    assert "1 aanmelding wacht op goedkeuring" in page
    assert "1 uitgave wacht op goedkeuring" in page
    approvals = reverse("budget:approvals", kwargs={"programme_slug": programme.slug})
    assert f'href="{approvals}"' in page
    programme_page = client.get(
        reverse("organiser:programme", kwargs={"programme_slug": programme.slug})
    ).content.decode()
    assert "1 aanmelding wacht op goedkeuring" in programme_page
    assert f'href="{approvals}"' in programme_page

    with django_assert_max_num_queries(6) as few:
        client.get(reverse("organiser:index"))
    for _ in range(5):
        other = make_programme()
        ProgrammeRole.objects.create(user=organisers["anne"], programme=other, role="organiser")
        _sign_up(
            make_activity(programme=other, audience=Activity.Audience.MEMBERS), "x@example.org"
        )
    with django_assert_max_num_queries(len(few.captured_queries)):
        page = client.get(reverse("organiser:index")).content.decode()
    assert page.count("1 aanmelding wacht op goedkeuring") == 6

from __future__ import annotations

import datetime as dt
import itertools
from decimal import Decimal

import pytest
from django.contrib.auth import get_user_model
from django.core.files.uploadedfile import SimpleUploadedFile

from budget import errors, services
from budget.inputs import (
    ExpenseChange,
    ExpenseInput,
    IncomeChange,
    IncomeInput,
    parse_amount,
    parse_vat_rate,
)
from budget.models import Attachment, Budget, Category, Expense, Income
from budget.summary import summarise
from events.models import ProgrammeRole

# Engine-dependent, so CI runs it on SQLite too: money is summed and multiplied in SQL, where each
# engine keeps decimals its own way.
pytestmark = pytest.mark.engine_dependent

Status = Expense.Status
_counter = itertools.count(1)

# Smallest files the content check recognises.
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32


@pytest.fixture
def make_user(db):
    def make(programme=None, role=ProgrammeRole.Role.ORGANISER, **fields):
        n = next(_counter)
        user = get_user_model().objects.create_user(
            username=fields.pop("username", f"gebruiker{n}"),
            email=fields.pop("email", f"gebruiker{n}@example.org"),
            **fields,
        )
        if programme is not None:
            ProgrammeRole.objects.create(user=user, programme=programme, role=role)
        return user

    return make


@pytest.fixture
def budget(programme) -> Budget:
    return Budget.objects.create(programme=programme, total=Decimal("8000.00"))


@pytest.fixture
def organiser(make_user, programme):
    return make_user(programme, username="anne")


@pytest.fixture
def second_organiser(make_user, programme):
    return make_user(programme, username="bert")


@pytest.fixture
def catering(budget) -> Category:
    return budget.categories.get(name="Catering")


@pytest.fixture
def make_expense(budget, organiser, catering):
    def make(*, by=None, status=Status.PLANNED, category=None, activity=None, **fields) -> Expense:
        values = {
            "category_id": (category or catering).pk,
            "activity_id": activity and activity.pk,
            "supplier": "Bakkerij Van der Pol",
            "description": "Koffie en gebak",
            "date": dt.date(2027, 1, 15),
            "amount_excl_vat": Decimal("100.00"),
            "vat_rate": 9,
        }
        values.update(fields)
        return services.record_expense(
            budget, ExpenseInput(**values), by=by or organiser, status=status
        )

    return make


# --- Recording ---------------------------------------------------------------------------------


def test_new_budget_starts_with_the_default_categories(budget):
    assert list(budget.categories.values_list("name", flat=True)) == [
        "Catering",
        "Materialen",
        "Promotie en drukwerk",
        "Huur",
        "Vergunningen",
        "Geschenken",
        "Vervoer",
        "Overig",
    ]


def test_record_expense_stores_vat_and_who_recorded_it(make_expense, organiser):
    expense = make_expense(amount_excl_vat=Decimal("33.33"), vat_rate=21)
    assert expense.vat_amount == Decimal("7.00")
    assert expense.amount_incl_vat == Decimal("40.33")
    assert expense.status == Status.PLANNED
    assert expense.recorded_by == organiser
    history = expense.history.get()
    assert history.history_user == organiser
    assert history.history_type == "+"


@pytest.mark.parametrize(
    ("amount", "code"),
    [
        ("1234.565", "amount_too_precise"),
        (Decimal("0.001"), "amount_too_precise"),
        ("-5.00", "amount_not_positive"),
        ("0", "amount_not_positive"),
        ("twaalf", "invalid_amount"),
        (12.5, "invalid_amount"),
        ("NaN", "invalid_amount"),
        ("100000000.00", "amount_too_large"),
    ],
)
def test_the_amount_rule_refuses_bad_amounts(amount, code):
    with pytest.raises(errors.InvalidAmount) as caught:
        parse_amount(amount)
    assert caught.value.code == code
    assert caught.value.status == 422
    assert str(caught.value.message)


def test_amount_with_trailing_zero_is_two_places():
    assert parse_amount("12.500") == Decimal("12.50")
    assert parse_amount("-27.50", allow_negative=True) == Decimal("-27.50")


@pytest.mark.parametrize("rate", [6, 19, "21%", None, True])
def test_vat_rate_outside_the_list_is_refused(rate):
    with pytest.raises(errors.InvalidVatRate) as caught:
        parse_vat_rate(rate)
    assert "0, 9 of 21" in str(caught.value)


def test_category_and_activity_must_belong_to_the_budget(
    make_expense, make_programme, make_activity
):
    other = Budget.objects.create(programme=make_programme(), total=Decimal("100.00"))
    with pytest.raises(errors.UnknownCategory):
        make_expense(category=other.categories.first())
    foreign_activity = make_activity(programme=other.programme)
    with pytest.raises(errors.UnknownActivity):
        make_expense(activity=foreign_activity)
    assert not Expense.objects.exists()


def test_a_viewer_or_stranger_cannot_record(make_expense, make_user, programme):
    viewer = make_user(programme, role=ProgrammeRole.Role.VIEWER)
    stranger = make_user()
    for user in (viewer, stranger):
        with pytest.raises(errors.NotAnOrganiser):
            make_expense(by=user)
    assert not Expense.objects.exists()


# --- Status steps ------------------------------------------------------------------------------


def test_advance_keeps_the_date_of_each_step(make_expense, organiser):
    expense = make_expense()
    services.advance_expense(
        expense.pk, Status.COMMITTED, by=organiser, on_date=dt.date(2027, 1, 2)
    )
    services.advance_expense(expense.pk, Status.PAID, by=organiser, on_date=dt.date(2027, 2, 3))
    expense.refresh_from_db()
    assert expense.status == Status.PAID
    assert expense.committed_on == dt.date(2027, 1, 2)
    # Invoiced was skipped over: it is dated with the step that passed it.
    assert expense.invoiced_on == dt.date(2027, 2, 3)
    assert expense.paid_on == dt.date(2027, 2, 3)
    assert [h.status for h in expense.history.order_by("history_id")] == [
        "planned",
        "committed",
        "paid",
    ]


def test_a_step_backwards_is_refused(make_expense, organiser):
    expense = make_expense()
    services.advance_expense(expense.pk, Status.INVOICED, by=organiser)
    with pytest.raises(errors.StatusBackwards) as caught:
        services.advance_expense(expense.pk, Status.COMMITTED, by=organiser)
    assert "terug" in str(caught.value)
    expense.refresh_from_db()
    assert expense.status == Status.INVOICED


def test_the_same_status_again_changes_nothing(make_expense, organiser):
    expense = make_expense()
    services.advance_expense(expense.pk, Status.COMMITTED, by=organiser)
    services.advance_expense(expense.pk, Status.COMMITTED, by=organiser)
    assert expense.history.count() == 2


def test_unknown_status_is_refused(make_expense, organiser):
    expense = make_expense()
    with pytest.raises(errors.UnknownStatus):
        services.advance_expense(expense.pk, "cancelled", by=organiser)


# --- Approval ----------------------------------------------------------------------------------


def test_needs_approval_counts_as_the_budget_counts(make_expense, budget):
    # 460.00 + 9 % = 501.40: above the threshold including VAT, not excluding it.
    expense = make_expense(amount_excl_vat=Decimal("460.00"), vat_rate=9)
    assert expense.needs_approval
    budget.includes_vat = False
    budget.save()
    expense.refresh_from_db()
    assert not expense.needs_approval
    assert not make_expense(amount_excl_vat=Decimal("500.00")).needs_approval


def test_large_expense_cannot_move_past_planned_without_approval(
    make_expense, organiser, second_organiser, budget
):
    expense = make_expense(amount_excl_vat=Decimal("1000.00"))
    assert list(services.approval_queue(budget)) == [expense]
    with pytest.raises(errors.ApprovalRequired):
        services.advance_expense(expense.pk, Status.COMMITTED, by=organiser)
    services.approve_expense(expense.pk, by=second_organiser)
    assert list(services.approval_queue(budget)) == []
    services.advance_expense(expense.pk, Status.COMMITTED, by=organiser)
    expense.refresh_from_db()
    assert expense.status == Status.COMMITTED
    assert expense.approved_by == second_organiser
    assert expense.approved_at is not None


def test_large_expense_cannot_be_recorded_as_paid_without_approval(make_expense):
    with pytest.raises(errors.ApprovalRequired):
        make_expense(amount_excl_vat=Decimal("2000.00"), status=Status.PAID)
    assert not Expense.objects.exists()


def test_a_large_expense_asked_for_as_paid_may_be_held_as_planned_for_approval(
    budget, catering, organiser, second_organiser
):
    held = services.record_expense(
        budget,
        ExpenseInput(
            category_id=catering.pk,
            activity_id=None,
            supplier="Partycentrum De Eng",
            description="Zaalhuur reünie",
            date=dt.date(2027, 1, 15),
            amount_excl_vat=Decimal("2000.00"),
            vat_rate=21,
        ),
        by=organiser,
        status=Status.PAID,
        hold_for_approval=True,
    )

    held.refresh_from_db()
    assert (held.status, held.paid_on, held.committed_on) == (Status.PLANNED, None, None)
    assert list(services.approval_queue(budget)) == [held]
    # Approved, it moves on like any other.
    services.approve_expense(held.pk, by=second_organiser)
    assert services.advance_expense(held.pk, Status.PAID, by=organiser).status == Status.PAID


def test_approving_your_own_expense_is_refused(make_expense, organiser):
    expense = make_expense(amount_excl_vat=Decimal("1000.00"))
    with pytest.raises(errors.OwnExpense) as caught:
        services.approve_expense(expense.pk, by=organiser)
    assert "zelf" in str(caught.value)
    expense.refresh_from_db()
    assert expense.approved_by is None


def test_approver_must_be_an_organiser_of_the_programme(
    make_expense, make_user, programme, make_programme
):
    expense = make_expense(amount_excl_vat=Decimal("1000.00"))
    viewer = make_user(programme, role=ProgrammeRole.Role.VIEWER)
    elsewhere = make_user(make_programme())
    for user in (viewer, elsewhere):
        with pytest.raises(errors.ApproverNotOrganiser):
            services.approve_expense(expense.pk, by=user)
    expense.refresh_from_db()
    assert expense.approved_by is None


@pytest.mark.parametrize(
    "change",
    [
        {"amount_excl_vat": Decimal("1500.00")},
        {"amount_excl_vat": Decimal("900.00")},  # lower, but not what was approved
        {"vat_rate": 0},
        {"supplier": "Groothandel Oost"},
        {"description": "Koffie, gebak en lunch"},
    ],
)
def test_changing_what_was_approved_withdraws_the_approval(
    make_expense, organiser, second_organiser, budget, change
):
    expense = make_expense(amount_excl_vat=Decimal("1000.00"))
    services.approve_expense(expense.pk, by=second_organiser)
    services.update_expense(expense.pk, ExpenseChange.of(**change), by=organiser)
    expense.refresh_from_db()
    assert (expense.approved_by, expense.approved_at) == (None, None)
    assert list(services.approval_queue(budget)) == [expense]
    latest = expense.history.latest()
    assert (latest.history_user, latest.approved_by) == (organiser, None)


def test_changing_other_fields_keeps_the_approval(
    make_expense, organiser, second_organiser, budget, activity
):
    expense = make_expense(amount_excl_vat=Decimal("1000.00"))
    services.approve_expense(expense.pk, by=second_organiser)
    services.update_expense(
        expense.pk,
        ExpenseChange.of(
            invoice_number="F-1",
            date=dt.date(2027, 2, 1),
            activity_id=activity.pk,
            category_id=budget.categories.get(name="Huur").pk,
            # The same as approved, only typed again.
            amount_excl_vat=Decimal("1000"),
            supplier="Bakkerij Van der Pol",
        ),
        by=organiser,
    )
    expense.refresh_from_db()
    assert expense.approved_by == second_organiser and expense.is_approved


def test_update_with_status_changes_and_advances_in_one_step(make_expense, organiser):
    expense = make_expense()
    services.update_expense(
        expense.pk,
        ExpenseChange.of(invoice_number="F-2027-001"),
        by=organiser,
        status=Status.INVOICED,
    )
    expense.refresh_from_db()
    assert (expense.invoice_number, expense.status) == ("F-2027-001", Status.INVOICED)
    # The fields not given keep their value.
    assert (expense.supplier, expense.amount_excl_vat) == ("Bakkerij Van der Pol", Decimal("100"))
    latest = expense.history.latest()
    assert latest.history_user == organiser
    assert latest.invoice_number == "F-2027-001"


# --- Attachments -------------------------------------------------------------------------------


def test_attachment_recognised_by_content_and_stored_privately(
    make_expense, organiser, private_media
):
    expense = make_expense()
    upload = SimpleUploadedFile("offerte.txt", PDF, content_type="text/plain")
    attachment = services.add_attachment(expense.pk, upload, "quote", by=organiser)
    assert attachment.content_type == "application/pdf"
    assert attachment.original_name == "offerte.txt"
    assert attachment.file.name.endswith(".pdf")
    assert attachment.file.path.startswith(str(private_media))
    with attachment.file.open("rb") as stored:
        assert stored.read() == PDF
    png = services.add_attachment(
        expense.pk, SimpleUploadedFile("bon.png", PNG), "receipt", by=organiser
    )
    assert png.content_type == "image/png"


def test_attachment_that_is_not_pdf_png_or_jpeg_is_refused(make_expense, organiser, private_media):
    expense = make_expense()
    fake = SimpleUploadedFile(
        "factuur.pdf", b"MZ\x90\x00 not a pdf", content_type="application/pdf"
    )
    with pytest.raises(errors.InvalidAttachment):
        services.add_attachment(expense.pk, fake, "invoice", by=organiser)
    assert not Attachment.objects.exists()


def test_attachment_over_10_mb_is_refused(make_expense, organiser, private_media):
    expense = make_expense()
    big = SimpleUploadedFile("scan.pdf", PDF + b"0" * (10 * 1024 * 1024))
    with pytest.raises(errors.AttachmentTooLarge):
        services.add_attachment(expense.pk, big, "invoice", by=organiser)
    assert not Attachment.objects.exists()


# --- Income ------------------------------------------------------------------------------------


def test_record_income_by_hand(budget, organiser):
    income = services.record_income(
        budget,
        IncomeInput(
            kind=Income.Kind.SPONSORSHIP,
            description="Bijdrage Rabobank",
            date=dt.date(2027, 1, 10),
            amount=Decimal("750.00"),
        ),
        by=organiser,
    )
    assert income.amount == Decimal("750.00")
    assert (income.activity, income.recorded_by) == (None, organiser)
    assert income.history.get().history_user == organiser


def test_update_income_changes_only_the_fields_given(budget, organiser, make_activity):
    dinner = make_activity()
    income = services.record_income(
        budget,
        IncomeInput(
            kind=Income.Kind.SPONSORSHIP,
            description="Bijdrage Rabobank",
            date=dt.date(2027, 1, 10),
            amount=Decimal("750.00"),
            activity_id=dinner.pk,
        ),
        by=organiser,
    )
    services.update_income(income.pk, IncomeChange.of(amount=Decimal("800.00")), by=organiser)
    income.refresh_from_db()
    assert (income.amount, income.description, income.activity) == (
        Decimal("800.00"),
        "Bijdrage Rabobank",
        dinner,
    )
    services.update_income(income.pk, IncomeChange.of(activity_id=None), by=organiser)
    income.refresh_from_db()
    assert (income.amount, income.activity) == (Decimal("800.00"), None)


# --- Summary -----------------------------------------------------------------------------------


def test_summary_figures(make_expense, budget, organiser, second_organiser, make_activity):
    dinner = make_activity(title="Reüniediner")
    make_expense(amount_excl_vat=Decimal("100.00"), vat_rate=21)  # planned 121.00
    committed = make_expense(amount_excl_vat=Decimal("200.00"), vat_rate=9, activity=dinner)
    services.advance_expense(committed.pk, Status.COMMITTED, by=organiser)  # 218.00
    paid = make_expense(amount_excl_vat=Decimal("1000.00"), vat_rate=0, date=dt.date(2027, 1, 1))
    services.approve_expense(paid.pk, by=second_organiser)
    services.advance_expense(paid.pk, Status.PAID, by=organiser, on_date=dt.date(2027, 2, 1))
    services.record_income(
        budget,
        IncomeInput(
            kind=Income.Kind.SPONSORSHIP,
            description="Sponsor",
            date=dt.date(2027, 1, 5),
            amount=Decimal("500.00"),
        ),
        by=organiser,
    )
    summary = summarise(budget)
    assert summary.counted_vat_mode == "incl"
    assert (summary.planned, summary.committed, summary.invoiced, summary.paid) == (
        Decimal("121.00"),
        Decimal("218.00"),
        Decimal("0.00"),
        Decimal("1000.00"),
    )
    assert summary.spent == Decimal("1000.00")
    assert summary.open_commitments == Decimal("218.00")
    assert summary.income_total == Decimal("500.00")
    assert summary.remaining == Decimal("8000.00") + 500 - 1000 - 218
    assert summary.forecast == Decimal("8000.00") + 500 - 1339
    assert summary.forecast_percentage == Decimal("10.5")  # (1339 - 500) / 8000
    assert summary.alerts == []
    catering = next(line for line in summary.per_category if line.name == "Catering")
    assert catering.forecast == Decimal("1339.00")
    assert all(line.forecast == 0 for line in summary.per_category if line.name != "Catering")
    dinner_line = next(line for line in summary.per_activity if line.activity_id == dinner.pk)
    assert dinner_line.committed == Decimal("218.00")
    unassigned = summary.per_activity[-1]
    assert unassigned.activity_id is None
    assert unassigned.forecast == Decimal("1121.00")
    assert summary.over_time[-1].forecast == Decimal("1339.00")
    assert summary.over_time[-1].paid == Decimal("1000.00")
    paid_day = next(p for p in summary.over_time if p.date == dt.date(2027, 2, 1))
    assert paid_day.paid == Decimal("1000.00")


def test_summary_excluding_vat(make_expense, budget):
    make_expense(amount_excl_vat=Decimal("33.33"), vat_rate=21)
    budget.includes_vat = False
    budget.save()
    summary = summarise(budget)
    assert summary.counted_vat_mode == "excl"
    assert summary.planned == Decimal("33.33")


@pytest.mark.parametrize("count", [10, 60])
def test_summary_queries_do_not_grow_with_expenses(
    budget, organiser, catering, make_activity, django_assert_max_num_queries, count
):
    activities = [make_activity() for _ in range(3)]
    statuses = list(Status)
    Expense.objects.bulk_create(
        Expense(
            budget=budget,
            category=catering,
            activity=activities[n % 3] if n % 4 else None,
            supplier=f"Leverancier {n}",
            description="Regel",
            date=dt.date(2027, 1, 1) + dt.timedelta(days=n % 90),
            amount_excl_vat=Decimal("33.33"),
            vat_rate=21,
            vat_amount=Decimal("7.00"),
            status=statuses[n % 4],
            paid_on=dt.date(2027, 3, 1) if statuses[n % 4] == Status.PAID else None,
            recorded_by=organiser,
        )
        for n in range(count)
    )
    with django_assert_max_num_queries(8):
        summary = summarise(budget)
    expected = Decimal("40.33") * count
    assert summary.planned + summary.committed + summary.invoiced + summary.paid == expected
    assert summary.over_time[-1].forecast == expected
    assert sum(line.forecast for line in summary.per_category) == expected
    assert sum(line.forecast for line in summary.per_activity) == expected


# --- Budget settings ---------------------------------------------------------------------------


def test_update_budget_and_allocation_and_category(
    make_expense, budget, organiser, make_activity, make_user, programme
):
    make_expense(amount_excl_vat=Decimal("300.00"), vat_rate=0)
    budget = services.update_budget(budget.pk, by=organiser, total="350.00")
    assert summarise(budget).alerts == [80]
    assert budget.alerts.get().percentage == 80
    with pytest.raises(errors.AmountTooPrecise):
        services.update_budget(budget.pk, by=organiser, total="350.001")
    viewer = make_user(programme, role=ProgrammeRole.Role.VIEWER)
    with pytest.raises(errors.NotAnOrganiser):
        services.update_budget(budget.pk, by=viewer, total="1.00")

    dinner = make_activity()
    services.set_allocation(budget, dinner, "250.00", by=organiser)
    line = next(a for a in summarise(budget).per_activity if a.activity_id == dinner.pk)
    assert (line.allocation, line.remaining) == (Decimal("250.00"), Decimal("250.00"))
    services.set_allocation(budget, dinner, "", by=organiser)
    assert not budget.allocations.exists()

    category = services.save_category(
        budget, by=organiser, name="Beveiliging", planned_amount="400"
    )
    assert category.planned_amount == Decimal("400.00")
    with pytest.raises(errors.InvalidField):
        services.save_category(budget, by=organiser, name="catering")

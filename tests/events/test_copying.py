"""Copying a programme as the start of the next one (events.copying, manage.py copy_programme)."""

from __future__ import annotations

import datetime as dt
import io
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from budget.models import ActivityAllocation, Budget, Expense, Income
from events.copying import CopyRefused, SlugTaken, copy_programme, programme_copied, shift
from events.models import Activity, Programme, ProgrammeRole, Question
from registrations.models import Registration, ScannerDevice

AMSTERDAM = ZoneInfo("Europe/Amsterdam")


def local(*args: int) -> dt.datetime:
    return dt.datetime(*args, tzinfo=AMSTERDAM)


@pytest.fixture
def source(programme) -> Programme:
    """The centenary: starts on Saturday 5 September 2026 (summer time)."""
    programme.starts_on = dt.date(2026, 9, 5)
    programme.ends_on = dt.date(2026, 10, 10)
    programme.theme_colour = "#1F4E79"
    programme.logo = "programmes/logos/brandweer.png"
    programme.logo_alt = "Embleem van honderd jaar brandweer"
    programme.retention_days = 120
    programme.offer_valid_hours = 24
    programme.organiser_phone = "14 035"
    programme.save()
    return programme


@pytest.fixture
def evening(make_activity, source) -> Activity:
    """A lecture at 19:30 in summer time, with a registration window and a question."""
    item = make_activity(
        programme=source,
        title="Lezing 100 jaar brandweer",
        slug="lezing",
        starts_at=local(2026, 10, 3, 19, 30),
        ends_at=local(2026, 10, 3, 21, 30),
        registration_opens_at=local(2026, 9, 1, 9, 0),
        registration_closes_at=local(2026, 10, 3, 12, 0),
        cancellation_closes_at=local(2026, 10, 2, 18, 0),
        audience=Activity.Audience.MEMBERS,
        capacity=80,
        max_party_size=4,
        price=Decimal("7.50"),
        waitlist_enabled=False,
    )
    Question.objects.create(
        activity=item,
        position=2,
        label="Dieetwensen",
        label_en="Dietary wishes",
        help_text="Voor de pauze",
        help_text_en="For the break",
        kind=Question.Kind.CHOICE,
        choices="Geen | None\nVegetarisch | Vegetarian",
        required=True,
    )
    return item


@pytest.fixture
def organiser(django_user_model, source):
    user = django_user_model.objects.create_user("anne", password="wachtwoord-123")
    ProgrammeRole.objects.create(user=user, programme=source, role=ProgrammeRole.Role.ORGANISER)
    return user


@pytest.fixture
def budget(source, evening, organiser) -> Budget:
    """€ 8,000 excluding VAT, one removed default category, one custom one, an allocation, and
    an expense and income line that must not come along."""
    budget = Budget.objects.create(
        programme=source,
        total=Decimal("8000.00"),
        includes_vat=False,
        approval_threshold=Decimal("750.00"),
        warning_percentage=90,
    )
    budget.categories.filter(name="Vervoer").delete()
    catering = budget.categories.get(name="Catering")
    catering.planned_amount = Decimal("2000.00")
    catering.save()
    budget.categories.create(name="Sprekers", planned_amount=Decimal("300.00"), position=20)
    ActivityAllocation.objects.create(budget=budget, activity=evening, amount=Decimal("450.00"))
    Expense.objects.create(
        budget=budget,
        category=catering,
        activity=evening,
        supplier="Bakkerij Van der Pol",
        description="Koffie en gebak",
        date=dt.date(2026, 10, 1),
        amount_excl_vat=Decimal("120.00"),
        vat_rate=9,
        recorded_by=organiser,
    )
    Income.objects.create(
        budget=budget,
        kind=Income.Kind.SPONSORSHIP,
        description="Bijdrage Rabobank",
        date=dt.date(2026, 9, 1),
        amount=Decimal("500.00"),
        recorded_by=organiser,
    )
    return budget


def copy(source: Programme, **fields):
    values = {
        "name": "Brandveiligheidsweek 2027",
        "slug": "brandveiligheidsweek-2027",
        # Monday 4 January 2027, winter time: every activity keeps its weekday in the
        # corresponding week (the source starts on a Saturday).
        "starts_on": dt.date(2027, 1, 4),
    }
    values.update(fields)
    return copy_programme(source, **values)


def test_copy_takes_the_settings_but_starts_hidden(source):
    result = copy(source)

    new = Programme.objects.get(slug="brandveiligheidsweek-2027")
    assert result.programme == new
    assert new.name == "Brandveiligheidsweek 2027"
    # The last day, Saturday 10 October (week 6), lands on Saturday 13 February.
    assert (new.starts_on, new.ends_on) == (dt.date(2027, 1, 4), dt.date(2027, 2, 13))
    assert not new.is_public
    for field in [
        "description",
        "organiser_name",
        "organiser_email",
        "organiser_phone",
        "theme_colour",
        "logo_alt",
        "retention_days",
        "offer_valid_hours",
        "privacy_statement",
        "accessibility_statement",
    ]:
        assert getattr(new, field) == getattr(source, field), field
    # The same stored logo, not a second file.
    assert new.logo.name == "programmes/logos/brandweer.png"
    source.refresh_from_db()
    assert source.logo.name == "programmes/logos/brandweer.png"
    assert source.is_public


def test_activities_become_drafts_at_the_same_local_times_across_daylight_saving(
    source, evening, make_activity
):
    cancelled = make_activity(
        programme=source,
        slug="optocht",
        starts_at=local(2026, 9, 5, 10, 0),
        status=Activity.Status.CANCELLED,
    )

    result = copy(source)

    assert result.activities == 2
    new = Activity.objects.get(programme=result.programme, slug="lezing")
    assert new.status == Activity.Status.DRAFT
    # Saturday 3 October 2026 (summer time, week 5) becomes Saturday 6 February 2027 (winter
    # time), 126 days later and still 19:30; its sign-up and cancellation moments move as much.
    assert timezone.localtime(new.starts_at, AMSTERDAM) == local(2027, 2, 6, 19, 30)
    assert timezone.localtime(new.ends_at, AMSTERDAM) == local(2027, 2, 6, 21, 30)
    assert timezone.localtime(new.registration_opens_at, AMSTERDAM) == local(2027, 1, 5, 9, 0)
    assert timezone.localtime(new.registration_closes_at, AMSTERDAM) == local(2027, 2, 6, 12, 0)
    assert timezone.localtime(new.cancellation_closes_at, AMSTERDAM) == local(2027, 2, 5, 18, 0)
    # A raw UTC delta would have made it 18:30.
    assert new.starts_at - evening.starts_at == dt.timedelta(days=126, hours=1)
    for field in [
        "title",
        "summary",
        "description",
        "location_name",
        "location_address",
        "audience",
        "registration_required",
        "capacity",
        "max_party_size",
        "price",
        "waitlist_enabled",
    ]:
        assert getattr(new, field) == getattr(evening, field), field
    new.full_clean()
    assert Activity.objects.get(programme=result.programme, slug="optocht").status == "draft"
    # The source keeps its own activities untouched.
    evening.refresh_from_db()
    cancelled.refresh_from_db()
    assert evening.status == Activity.Status.PUBLISHED
    assert cancelled.status == Activity.Status.CANCELLED
    assert evening.starts_at == local(2026, 10, 3, 19, 30)


def test_shift_keeps_wall_clock_time_and_leaves_empty_moments_empty():
    summer = local(2026, 3, 28, 20, 0)  # the day before summer time starts
    assert shift(summer, 1) == local(2026, 3, 29, 20, 0)
    # Only 23 real hours later: the clocks went forward that night.
    assert shift(summer, 1).astimezone(dt.UTC) - summer.astimezone(dt.UTC) == dt.timedelta(hours=23)
    assert shift(None, 10) is None


def test_questions_come_along_with_their_activity(source, evening):
    result = copy(source)

    assert result.questions == 1
    question = Question.objects.get(activity__programme=result.programme)
    assert question.activity.slug == "lezing"
    original = evening.questions.get()
    for field in [
        "position",
        "label",
        "label_en",
        "help_text",
        "help_text_en",
        "kind",
        "choices",
        "required",
    ]:
        assert getattr(question, field) == getattr(original, field), field
    assert evening.questions.count() == 1


def test_budget_settings_categories_and_allocations_come_along(source, evening, budget):
    result = copy(source)

    new = Budget.objects.get(programme=result.programme)
    assert new.total == Decimal("8000.00")
    assert new.includes_vat is False
    assert new.approval_threshold == Decimal("750.00")
    assert new.warning_percentage == 90
    categories = {c.name: (c.planned_amount, c.position) for c in new.categories.all()}
    assert categories == {c.name: (c.planned_amount, c.position) for c in budget.categories.all()}
    assert "Vervoer" not in categories  # removed in the source, not brought back
    assert categories["Sprekers"] == (Decimal("300.00"), 20)
    allocation = ActivityAllocation.objects.get(budget=new)
    assert allocation.activity.programme == result.programme
    assert allocation.amount == Decimal("450.00")


def test_nothing_personal_or_financial_comes_along(
    source, evening, budget, organiser, make_registration
):
    make_registration(activity=evening)
    device = ScannerDevice.objects.create(
        name="Telefoon bij de deur", programme=source, expires_at=evening.ends_at
    )
    device.activities.add(evening)

    result = copy(source)
    new = result.programme

    assert not Registration.objects.filter(activity__programme=new).exists()
    assert not Expense.objects.filter(budget__programme=new).exists()
    assert not Income.objects.filter(budget__programme=new).exists()
    assert not ProgrammeRole.objects.filter(programme=new).exists()
    assert not ScannerDevice.objects.filter(programme=new).exists()
    assert not ScannerDevice.objects.filter(activities__programme=new).exists()
    # The source keeps everything.
    assert Registration.objects.filter(activity=evening).count() == 1
    assert budget.expenses.count() == 1 and budget.income.count() == 1
    assert device.activities.get() == evening


def test_a_programme_without_budget_is_copied_without_one(source, evening):
    result = copy(source)

    assert not Budget.objects.filter(programme=result.programme).exists()


def test_existing_slug_is_refused_and_nothing_is_made(source, evening, make_programme):
    make_programme(slug="brandveiligheidsweek-2027")
    before = (Programme.objects.count(), Activity.objects.count(), Question.objects.count())

    with pytest.raises(SlugTaken) as refused:
        copy(source)

    assert "brandveiligheidsweek-2027" in str(refused.value)
    assert "al een programma" in str(refused.value)
    assert (Programme.objects.count(), Activity.objects.count(), Question.objects.count()) == before


@pytest.mark.parametrize(
    ("fields", "words"),
    [
        ({"name": "  "}, "naam"),
        ({"name": "x" * 201}, "200 tekens"),
        ({"slug": "met spaties"}, "zonder spaties"),
        ({"slug": "a" * 81}, "80 tekens"),
    ],
)
def test_bad_name_or_slug_is_refused(source, fields, words):
    with pytest.raises(CopyRefused) as refused:
        copy(source, **fields)

    assert words in str(refused.value)
    assert Programme.objects.count() == 1


def test_failure_half_way_leaves_no_half_copy(source, evening, budget):
    def fail(**kwargs):
        raise RuntimeError("disk full")

    programme_copied.connect(fail, dispatch_uid="test-fail")
    try:
        with pytest.raises(RuntimeError):
            copy(source)
    finally:
        programme_copied.disconnect(dispatch_uid="test-fail")

    assert list(Programme.objects.all()) == [source]
    assert Activity.objects.count() == 1
    assert Question.objects.count() == 1
    assert Budget.objects.count() == 1


# --- The command -------------------------------------------------------------------------------


def test_command_copies_and_says_what_it_made(source, evening, budget):
    out = io.StringIO()

    call_command(
        "copy_programme",
        source.slug,
        "--name",
        "Brandveiligheidsweek 2027",
        "--slug",
        "brandveiligheidsweek-2027",
        "--starts-on",
        "2027-10-04",
        stdout=out,
    )

    new = Programme.objects.get(slug="brandveiligheidsweek-2027")
    assert new.starts_on == dt.date(2027, 10, 4)
    assert new.activities.get().status == Activity.Status.DRAFT
    assert Budget.objects.get(programme=new).total == Decimal("8000.00")
    assert "1 draft activities, 1 questions" in out.getvalue()
    assert "not public yet" in out.getvalue()


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["bestaat-niet", "--slug", "nieuw", "--starts-on", "2027-10-04"], "No programme"),
        (["brandweer-100", "--slug", "nieuw", "--starts-on", "4-10-2027"], "YYYY-MM-DD"),
        (["brandweer-100", "--slug", "brandweer-100", "--starts-on", "2027-10-04"], "al een"),
    ],
)
def test_command_refuses_bad_input_with_a_clear_message(source, arguments, message):
    with pytest.raises(CommandError, match=message):
        call_command("copy_programme", *arguments, "--name", "Nieuw", stdout=io.StringIO())

    assert Programme.objects.count() == 1

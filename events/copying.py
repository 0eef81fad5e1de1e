"""Copy a programme as the start of the next one (`manage.py copy_programme`, the admin action
"Programma kopiëren" and the organiser page /beheer/<programme>/kopieren/).

The copy gets the source's settings (theme colour, logo, retention, offer hours, privacy and
accessibility statements, organiser contact, description) but starts hidden; its activities come
along as drafts with their extra questions, each on the same weekday as before (`DateMapping`):
the organiser either moves everything by whole weeks or picks the new first day, and a Saturday
open day stays a Saturday. `plan_copy` shows the new dates before anything is made. Nothing
personal or financial moves along: no registrations, roles (but the organiser who copies on the
organiser pages runs the copy) or scanner devices here, and the budget app copies only the
budget's settings and categories (it listens to `programme_copied`, since budget sits above
events and events never imports it).
Everything happens in one transaction: a failure anywhere leaves no half copy behind.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.core.validators import validate_slug
from django.db import IntegrityError, models, transaction
from django.dispatch import Signal
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from events.models import (
    RESERVED_PROGRAMME_SLUGS,
    RESERVED_SLUG_MESSAGE,
    Activity,
    Programme,
    ProgrammeRole,
    Question,
)
from jubileum.lib.errors import DomainError

# Sent inside the copy's transaction, once the programme, activities and questions exist, with
# `source`, `copy` and `activities` ({source activity id: its copy}). A receiver that raises
# undoes the whole copy.
programme_copied = Signal()

# Programme fields that belong to the copy itself, not to the settings it inherits.
OWN_PROGRAMME_FIELDS = {"id", "name", "slug", "starts_on", "ends_on", "is_public"}
# Activity and question fields set by the copy (or by the database) rather than copied.
OWN_ACTIVITY_FIELDS = {"id", "programme", "status"}
OWN_QUESTION_FIELDS = {"id", "activity"}


class CopyRefused(DomainError):
    code = "copy_refused"
    status = 422
    message = _("Het programma kon niet worden gekopieerd.")


class SlugTaken(CopyRefused):
    code = "slug_taken"
    status = 409


@dataclass(frozen=True)
class DateMapping:
    """Where a date of the source lands in the copy: on the same weekday, in the corresponding
    week.

    Weeks count from each programme's first day: the source's week k is `source_start + 7k`
    to six days later, the copy's `first_day + 7k` onwards, and a date keeps its weekday within
    its week. When both first days share a weekday this is a shift by whole weeks (and moving
    by N weeks is exactly the mapping to `source_start + 7N`); otherwise days within a week may
    swap order, but every activity stays on its weekday and inside the copy's weeks.
    """

    source_start: dt.date
    first_day: dt.date

    @classmethod
    def by_weeks(cls, source_start: dt.date, weeks: int) -> DateMapping:
        return cls(source_start, source_start + dt.timedelta(weeks=weeks))

    def date(self, old: dt.date) -> dt.date:
        week = (old - self.source_start).days // 7
        into_week = (old.weekday() - self.first_day.weekday()) % 7
        return self.first_day + dt.timedelta(days=7 * week + into_week)

    def days(self, old: dt.date) -> int:
        """How many days a moment on `old` moves (each activity by its own start's)."""
        return (self.date(old) - old).days


@dataclass(frozen=True)
class PlannedActivity:
    activity: Activity
    old_start: dt.datetime
    new_start: dt.datetime


@dataclass(frozen=True)
class CopyPlan:
    """The copy's dates, shown before copying and used by it."""

    mapping: DateMapping
    starts_on: dt.date
    ends_on: dt.date
    activities: list[PlannedActivity]


def local_date(moment: dt.datetime) -> dt.date:
    return timezone.localtime(moment, timezone.get_default_timezone()).date()


def plan_copy(source: Programme, mapping: DateMapping) -> CopyPlan:
    """Every activity's old and new start, and the copy's first and last day; saves nothing."""
    planned, last_days = [], []
    for activity in source.activities.order_by("starts_at", "pk"):
        days = mapping.days(local_date(activity.starts_at))
        planned.append(
            PlannedActivity(activity, activity.starts_at, shift_moment(activity.starts_at, days))
        )
        last_days.append(local_date(shift_moment(activity.ends_at, days)))
    ends_on = max([mapping.date(source.ends_on), mapping.first_day, *last_days])
    return CopyPlan(mapping, mapping.first_day, ends_on, planned)


@dataclass(frozen=True)
class CopyResult:
    programme: Programme
    activities: int
    questions: int


def shift(moment: dt.datetime | None, days: int) -> dt.datetime | None:
    """The same wall-clock time `days` later, in the site's time zone (Europe/Amsterdam).

    Adding a raw UTC delta would move a 19:30 evening to 18:30 or 20:30 whenever the old and new
    dates lie on different sides of a daylight-saving change.
    """
    if moment is None:
        return None
    zone = timezone.get_default_timezone()
    wall_clock = timezone.localtime(moment, zone).replace(tzinfo=None)
    return (wall_clock + dt.timedelta(days=days)).replace(tzinfo=zone)


def shift_moment(moment: dt.datetime, days: int) -> dt.datetime:
    """`shift` of a moment that is never empty."""
    moved = shift(moment, days)
    assert moved is not None
    return moved


def _copyable(model: type[models.Model], own: set[str]) -> list[models.Field]:
    """Concrete fields to carry over: everything but the keys, the fields the copy sets itself
    and the automatic timestamps (which would otherwise keep the source's moments)."""
    return [
        field
        for field in model._meta.concrete_fields
        if field.name not in own
        and not getattr(field, "auto_now", False)
        and not getattr(field, "auto_now_add", False)
    ]


def _check(name: str, slug: str) -> tuple[str, str]:
    name, slug = name.strip(), slug.strip()
    name_field = Programme._meta.get_field("name")
    slug_field = Programme._meta.get_field("slug")
    if not name:
        raise CopyRefused(_("Geef de kopie een naam."), details={"field": "name"})
    if name_field.max_length is not None and len(name) > name_field.max_length:
        raise CopyRefused(
            _("De naam mag hoogstens %(max)s tekens lang zijn.") % {"max": name_field.max_length},
            details={"field": "name"},
        )
    try:
        validate_slug(slug)
    except ValidationError:
        raise CopyRefused(
            _(
                "Het webadres (slug) mag alleen letters, cijfers, streepjes en liggende streepjes "
                "bevatten, zonder spaties."
            ),
            details={"field": "slug"},
        ) from None
    if slug in RESERVED_PROGRAMME_SLUGS:
        raise CopyRefused(RESERVED_SLUG_MESSAGE, details={"field": "slug"})
    if slug_field.max_length is not None and len(slug) > slug_field.max_length:
        raise CopyRefused(
            _("Het webadres (slug) mag hoogstens %(max)s tekens lang zijn.")
            % {"max": slug_field.max_length},
            details={"field": "slug"},
        )
    return name, slug


def slug_taken(slug: str) -> SlugTaken:
    return SlugTaken(
        _(
            "Er is al een programma met het webadres (slug) “%(slug)s”; kies een ander webadres "
            "voor de kopie."
        )
        % {"slug": slug},
        details={"field": "slug"},
    )


def copy_programme(
    source: Programme,
    *,
    name: str,
    slug: str,
    starts_on: dt.date,
    organiser: User | None = None,
) -> CopyResult:
    """Copy `source` as a hidden programme `name` at `slug`, starting on `starts_on`; each
    activity keeps its weekday (`DateMapping`), and its registration and cancellation moments
    move with it, at the same local times. `organiser` (the organiser who copies on the
    organiser pages) becomes the copy's organiser: no other role comes along.

    Raises `SlugTaken` when `slug` is in use and `CopyRefused` for a bad name or slug; nothing
    is saved then.
    """
    name, slug = _check(name, slug)
    if Programme.objects.filter(slug=slug).exists():
        raise slug_taken(slug)
    with transaction.atomic():
        plan = plan_copy(source, DateMapping(source.starts_on, starts_on))
        copy = Programme(
            name=name, slug=slug, starts_on=plan.starts_on, ends_on=plan.ends_on, is_public=False
        )
        for field in _copyable(Programme, OWN_PROGRAMME_FIELDS):
            value = getattr(source, field.attname)
            if isinstance(field, models.FileField):
                # The same stored file (the logo): the copy refers to it, nothing is duplicated.
                value = value.name
            setattr(copy, field.attname, value)
        try:
            # A savepoint: another copy may take the slug between the check and this insert.
            with transaction.atomic():
                copy.save()
        except IntegrityError:
            raise slug_taken(slug) from None

        activity_fields = _copyable(Activity, OWN_ACTIVITY_FIELDS)
        copies: dict[int, Activity] = {}
        for item in plan.activities:
            activity = item.activity
            days = plan.mapping.days(local_date(activity.starts_at))
            new = Activity(programme=copy, status=Activity.Status.DRAFT)
            for field in activity_fields:
                value = getattr(activity, field.attname)
                if isinstance(field, models.DateTimeField):
                    value = shift(value, days)
                setattr(new, field.attname, value)
            new.save()
            copies[activity.pk] = new

        question_fields = _copyable(Question, OWN_QUESTION_FIELDS)
        questions = [
            Question(
                activity=copies[question.activity_id],
                **{field.attname: getattr(question, field.attname) for field in question_fields},
            )
            for question in Question.objects.filter(activity__programme=source).order_by("pk")
        ]
        Question.objects.bulk_create(questions)
        if organiser is not None:
            ProgrammeRole.objects.create(
                user=organiser, programme=copy, role=ProgrammeRole.Role.ORGANISER
            )

        programme_copied.send(sender=Programme, source=source, copy=copy, activities=copies)
    return CopyResult(programme=copy, activities=len(copies), questions=len(questions))


# A single activity's copy starts as a fresh draft: not called off, with its own title and slug.
OWN_ACTIVITY_COPY_FIELDS = OWN_ACTIVITY_FIELDS | {
    "title",
    "title_en",
    "slug",
    "cancellation_reason",
    "cancellation_alternative",
}


def copy_title(title: str, suffix: str, max_length: int) -> str:
    """`title` with `suffix` after it, the title shortened so both fit in `max_length`."""
    return f"{title[: max_length - len(suffix)].rstrip()}{suffix}"


def copy_activity(source: Activity, *, slug: str) -> Activity:
    """A draft copy of `source` in the same programme, at `slug`, with its extra questions and
    "(kopie)" after its title; nothing of its registrations. One transaction: no half copy."""
    title_length = Activity._meta.get_field("title").max_length or 200
    copy = Activity(
        programme=source.programme,
        status=Activity.Status.DRAFT,
        slug=slug,
        title=copy_title(source.title, " (kopie)", title_length),
        title_en=copy_title(source.title_en, " (copy)", title_length) if source.title_en else "",
    )
    for field in _copyable(Activity, OWN_ACTIVITY_COPY_FIELDS):
        value = getattr(source, field.attname)
        if isinstance(field, models.FileField):
            # The same stored image: the copy refers to it, nothing is duplicated.
            value = value.name
        setattr(copy, field.attname, value)
    question_fields = _copyable(Question, OWN_QUESTION_FIELDS)
    with transaction.atomic():
        copy.save()
        Question.objects.bulk_create(
            [
                Question(
                    activity=copy,
                    **{
                        field.attname: getattr(question, field.attname) for field in question_fields
                    },
                )
                for question in source.questions.order_by("position", "pk")
            ]
        )
    return copy

"""Next year's programme keeps its weekdays (issue 18 part 7): events.copying.DateMapping and
plan_copy, the organiser's copy page with its preview, and copy_programme's --weeks and
--first-day."""

from __future__ import annotations

import datetime as dt
import io
from zoneinfo import ZoneInfo

import pytest
from django.core.exceptions import ValidationError
from django.core.management import CommandError, call_command
from django.urls import reverse
from django.utils import timezone

from events.copying import CopyRefused, DateMapping, copy_programme, plan_copy
from events.models import Activity, Programme, ProgrammeRole

AMSTERDAM = ZoneInfo("Europe/Amsterdam")
SATURDAY = 5


def local(*args: int) -> dt.datetime:
    return dt.datetime(*args, tzinfo=AMSTERDAM)


def wall_clock(moment: dt.datetime) -> dt.datetime:
    return timezone.localtime(moment, AMSTERDAM)


@pytest.fixture
def source(programme, make_activity) -> Programme:
    """Thursday 1 October to Sunday 25 October 2026 (summer time ends that Sunday), with an open
    day on Saturday 3 October and a lecture on Saturday 24 October."""
    programme.starts_on = dt.date(2026, 10, 1)
    programme.ends_on = dt.date(2026, 10, 25)
    programme.save()
    make_activity(
        programme=programme,
        slug="open-dag",
        title="Open dag",
        starts_at=local(2026, 10, 3, 10, 0),
        ends_at=local(2026, 10, 3, 16, 0),
        registration_opens_at=local(2026, 9, 1, 9, 0),
        registration_closes_at=local(2026, 10, 2, 23, 0),
        cancellation_closes_at=local(2026, 10, 1, 12, 0),
    )
    make_activity(
        programme=programme,
        slug="lezing",
        title="Lezing",
        starts_at=local(2026, 10, 24, 19, 30),
        ends_at=local(2026, 10, 24, 21, 0),
    )
    return programme


def new_activity(slug: str, programme_slug: str = "editie-2027") -> Activity:
    return Activity.objects.get(programme__slug=programme_slug, slug=slug)


# --- The mapping -------------------------------------------------------------------------------


def test_a_saturday_stays_a_saturday_a_year_later_either_way():
    saturday = dt.date(2026, 10, 3)
    by_weeks = DateMapping.by_weeks(dt.date(2026, 10, 1), 52)
    # The organiser picks Friday 1 October 2027 as the first day: the open day goes to the
    # Saturday of the first week, 2 October, not to 3 October (a Sunday).
    from_first_day = DateMapping(dt.date(2026, 10, 1), dt.date(2027, 10, 1))

    assert by_weeks.date(saturday) == dt.date(2027, 10, 2)
    assert from_first_day.date(saturday) == dt.date(2027, 10, 2)
    for mapping in (by_weeks, from_first_day):
        for day in range(40):
            old = dt.date(2026, 10, 1) + dt.timedelta(days=day)
            assert mapping.date(old).weekday() == old.weekday()


def test_the_first_day_mapping_keeps_activities_in_the_corresponding_week():
    # Source week 0: Thursday 1 to Wednesday 7 October 2026. New first day: Monday 4 October 2027.
    mapping = DateMapping(dt.date(2026, 10, 1), dt.date(2027, 10, 4))

    assert mapping.date(dt.date(2026, 10, 1)) == dt.date(2027, 10, 7)  # Thursday, week 0
    assert mapping.date(dt.date(2026, 10, 3)) == dt.date(2027, 10, 9)  # Saturday, week 0
    assert mapping.date(dt.date(2026, 10, 24)) == dt.date(2027, 10, 30)  # Saturday, week 3
    assert mapping.date(dt.date(2026, 10, 5)) == dt.date(2027, 10, 4)  # Monday, week 0


def test_plan_across_daylight_saving_keeps_local_times_and_saves_nothing(source):
    plan = plan_copy(source, DateMapping.by_weeks(source.starts_on, 1))

    lecture = next(item for item in plan.activities if item.activity.slug == "lezing")
    # 24 October is summer time, 31 October winter time: still 19:30 on a Saturday.
    assert wall_clock(lecture.new_start) == local(2026, 10, 31, 19, 30)
    assert lecture.new_start - lecture.old_start == dt.timedelta(days=7, hours=1)
    assert (plan.starts_on, plan.ends_on) == (dt.date(2026, 10, 8), dt.date(2026, 11, 1))
    assert Programme.objects.count() == 1


# --- The organiser's page ----------------------------------------------------------------------


@pytest.fixture
def url(source) -> str:
    return reverse("organiser:copy", kwargs={"programme_slug": source.slug})


def values(**changes) -> dict[str, str]:
    return {
        "name": "Jubileum 2027",
        "slug": "editie-2027",
        "move": "weeks",
        "weeks": "52",
        "starts_on": "",
        **changes,
    }


def test_preview_shows_old_and_new_dates_and_saves_nothing(client, organiser, source, url):
    client.force_login(organiser)

    form = client.get(url)
    preview = client.post(url, values())

    assert form.status_code == 200
    assert preview.status_code == 200
    html = preview.content.decode()
    assert "Nieuwe datums van de activiteiten" in html
    assert "zaterdag 3 oktober 2026, 10:00" in html
    assert "zaterdag 2 oktober 2027, 10:00" in html
    assert 'name="confirm"' in html
    assert '<input type="hidden" name="weeks" value="52">' in html
    assert Programme.objects.count() == 1
    assert Activity.objects.count() == 2


@pytest.mark.parametrize(
    ("slug", "message"),
    [
        ("meldingen", "gebruikt de site zelf al"),
        ("brandweer-100", "Er is al een programma met het webadres"),
    ],
)
def test_a_web_address_in_use_is_said_before_the_preview(
    client, organiser, source, url, slug, message
):
    client.force_login(organiser)

    preview = client.post(url, values(slug=slug))

    assert message in preview.content.decode()
    assert "Nieuwe datums van de activiteiten" not in preview.content.decode()
    assert Programme.objects.count() == 1


def test_the_site_s_own_paths_are_no_programme_slug(source):
    source.slug = "meldingen"
    with pytest.raises(ValidationError) as refused:
        source.full_clean()
    assert "slug" in refused.value.message_dict
    with pytest.raises(CopyRefused):
        copy_programme(source, name="Meldingen", slug="meldingen", starts_on=source.starts_on)


def test_confirm_copies_with_weekdays_and_deadlines_moved(client, organiser, source, url):
    client.force_login(organiser)

    response = client.post(
        url, values(move="first_day", weeks="", starts_on="2027-09-30", confirm="1")
    )

    copy = Programme.objects.get(slug="editie-2027")
    assert response.status_code == 303
    assert response["Location"] == reverse(
        "organiser:programme", kwargs={"programme_slug": "editie-2027"}
    )
    assert not copy.is_public
    assert copy.starts_on == dt.date(2027, 9, 30)
    open_day = new_activity("open-dag")
    assert wall_clock(open_day.starts_at) == local(2027, 10, 2, 10, 0)
    assert open_day.starts_at.astimezone(AMSTERDAM).weekday() == SATURDAY
    # 364 days later, as the activity itself.
    assert wall_clock(open_day.registration_opens_at) == local(2027, 8, 31, 9, 0)
    assert wall_clock(open_day.registration_closes_at) == local(2027, 10, 1, 23, 0)
    assert wall_clock(open_day.cancellation_closes_at) == local(2027, 9, 30, 12, 0)
    # The organiser who copied runs the copy.
    assert ProgrammeRole.objects.get(programme=copy).user == organiser


def test_bad_copy_details_are_refused_at_the_field(client, organiser, source, url):
    client.force_login(organiser)

    no_weeks = client.post(url, values(weeks=""))
    no_day = client.post(url, values(move="first_day", starts_on=""))
    taken = client.post(url, values(slug=source.slug, confirm="1"))

    assert no_weeks.status_code == 422
    assert "Geef het aantal weken." in no_weeks.content.decode()
    assert "Geef de eerste dag van de kopie." in no_day.content.decode()
    assert taken.status_code == 422
    assert "Er is al een programma met het webadres" in taken.content.decode()
    assert Programme.objects.count() == 1


def test_viewer_gets_403_and_another_programmes_organiser_404(client, viewer, stranger, url):
    client.force_login(viewer)
    assert client.get(url).status_code == 403
    assert client.post(url, values(confirm="1")).status_code == 403

    client.force_login(stranger)
    assert client.get(url).status_code == 404
    assert client.post(url, values(confirm="1")).status_code == 404
    assert Programme.objects.count() == 2  # the source and the stranger's own


# --- The command -------------------------------------------------------------------------------


def test_command_moves_by_weeks_and_prints_the_mapping(source):
    out = io.StringIO()

    call_command(
        "copy_programme", source.slug, "--name", "Jubileum 2027", "--slug", "editie-2027",
        "--weeks", "52", stdout=out,
    )  # fmt: skip

    printed = out.getvalue()
    assert "open-dag: Sat 2026-10-03 10:00 -> Sat 2027-10-02 10:00" in printed
    assert "lezing: Sat 2026-10-24 19:30 -> Sat 2027-10-23 19:30" in printed
    assert wall_clock(new_activity("lezing").starts_at) == local(2027, 10, 23, 19, 30)


def test_command_first_day_and_dry_run(source):
    out = io.StringIO()

    call_command(
        "copy_programme", source.slug, "--name", "Jubileum 2027", "--slug", "editie-2027",
        "--first-day", "2027-10-04", "--dry-run", stdout=out,
    )  # fmt: skip

    assert "open-dag: Sat 2026-10-03 10:00 -> Sat 2027-10-09 10:00" in out.getvalue()
    assert "nothing was copied" in out.getvalue()
    assert Programme.objects.count() == 1


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["--weeks", "0"], "--weeks"),
        (["--weeks", "2", "--first-day", "2027-10-04"], "not allowed with"),
        ([], "one of the arguments"),
    ],
)
def test_command_refuses_a_bad_move(source, arguments, message):
    with pytest.raises(CommandError, match=message):
        call_command(
            "copy_programme", source.slug, "--name", "X", "--slug", "x", *arguments,
            stdout=io.StringIO(),
        )  # fmt: skip

    assert Programme.objects.count() == 1


def test_back_to_the_form_keeps_what_was_filled_in(client, organiser, source, url):
    client.force_login(organiser)

    response = client.post(url, values(edit="1"))

    html = response.content.decode()
    assert response.status_code == 200
    assert "Nieuwe datums van de activiteiten" not in html
    assert 'value="Jubileum 2027"' in html
    assert Programme.objects.count() == 1

"""Public programme and activity pages: listing, filters, htmx fragment, detail, statements."""

from __future__ import annotations

import datetime as dt
import zoneinfo
from decimal import Decimal

import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone
from django.utils.html import escape

from events.models import Activity, Programme

AMS = zoneinfo.ZoneInfo("Europe/Amsterdam")
NOW = dt.datetime(2026, 11, 20, 12, 0, tzinfo=AMS)


@pytest.fixture
def frozen():
    with time_machine.travel(NOW, tick=False):
        yield NOW


@pytest.fixture
def programme_url(programme) -> str:
    return reverse("events:programme", kwargs={"slug": programme.slug})


def _text(response) -> str:
    return response.content.decode()


def test_programme_lists_listed_activities_only(
    client, programme, make_activity, make_programme, programme_url
):
    make_activity(title="Open dag Soest")
    make_activity(title="Geheim concept", status=Activity.Status.DRAFT)
    make_activity(title="Afgeblazen optocht", status=Activity.Status.CANCELLED)
    other = make_programme()
    make_activity(title="Rookmelderactie", programme=other)

    response = client.get(programme_url)

    assert response.status_code == 200
    html = _text(response)
    assert "Open dag Soest" in html
    assert "Afgeblazen optocht" in html
    assert "Geannuleerd" in html
    assert "Geheim concept" not in html
    assert "Rookmelderactie" not in html
    assert "2 activiteiten" in html


def test_home_shows_featured_programme_like_its_own_page(client, activity, programme):
    response = client.get("/")

    assert response.status_code == 200
    html = _text(response)
    assert escape(programme.name) in html
    assert programme.description in html
    assert activity.title in html
    assert response.templates[0].name == "events/programme.html"


def test_home_without_public_programme_is_a_friendly_page(client, programme):
    programme.is_public = False
    programme.save()

    response = client.get("/")

    assert response.status_code == 200
    assert "geen programma" in _text(response)


def test_programme_page_of_hidden_programme_is_404(client, programme, programme_url):
    programme.is_public = False
    programme.save()

    assert client.get(programme_url).status_code == 404


def test_programme_page_shows_logo_with_its_alternative_text(client, programme, programme_url):
    programme.logo = "programmes/logos/brandweer.png"
    programme.logo_alt = "Embleem van honderd jaar brandweer"
    programme.save()

    html = _text(client.get(programme_url))

    assert 'src="/media/programmes/logos/brandweer.png"' in html
    assert 'alt="Embleem van honderd jaar brandweer"' in html


def test_filter_by_audience(client, make_activity, programme_url):
    make_activity(title="Open dag", audience=Activity.Audience.PUBLIC)
    make_activity(title="Reüniediner", audience=Activity.Audience.MEMBERS)

    html = _text(client.get(programme_url, {"audience": "members"}))

    assert "Reüniediner" in html
    assert "Open dag" not in html
    assert "1 activiteit<" in html
    assert '<option value="members" selected>' in html


def test_filter_by_month(client, frozen, make_activity, programme_url):
    make_activity(title="Decemberlezing", starts_at=dt.datetime(2026, 12, 31, 20, 0, tzinfo=AMS))
    # 00:30 on 1 January in Amsterdam is still 31 December in UTC: the month is the local one.
    make_activity(title="Nieuwjaarsrit", starts_at=dt.datetime(2027, 1, 1, 0, 30, tzinfo=AMS))

    december = _text(client.get(programme_url, {"month": "2026-12"}))
    january = _text(client.get(programme_url, {"month": "2027-01"}))

    assert "Decemberlezing" in december
    assert "Nieuwjaarsrit" not in december
    assert "Nieuwjaarsrit" in january
    assert "Decemberlezing" not in january
    assert '<option value="2027-01">januari 2027</option>' in december


def test_available_hides_activity_filled_by_confirmed_registrations(
    client, activity, make_activity, make_registration, programme_url
):
    make_activity(title="Lezing met ruimte")
    activity.capacity = 4
    activity.max_party_size = 4
    activity.save()
    make_registration(party_size=2)
    make_registration(party_size=2)

    everything = _text(client.get(programme_url))
    with_room = _text(client.get(programme_url, {"available": "1"}))

    assert activity.title in everything
    assert "<dd>Vol</dd>" in everything
    assert activity.title not in with_room
    assert "Lezing met ruimte" in with_room


def test_expired_payment_hold_does_not_take_places(
    client, frozen, activity, make_registration, programme_url
):
    activity.capacity = 4
    activity.max_party_size = 4
    activity.save()
    make_registration(status="pending_payment", party_size=4, hold_expires_at=NOW)
    make_registration(status="cancelled", party_size=4)

    html = _text(client.get(programme_url, {"available": "1"}))

    assert activity.title in html
    assert "Nog 4 plaatsen" in html


def test_running_payment_hold_takes_places(
    client, frozen, activity, make_registration, programme_url
):
    activity.capacity = 4
    activity.max_party_size = 4
    activity.save()
    make_registration(
        status="pending_payment", party_size=3, hold_expires_at=NOW + dt.timedelta(minutes=5)
    )

    assert "Nog 1 plaats<" in _text(client.get(programme_url))


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"audience": "brandweermannen"}, "Kies voor wie de activiteit is uit de lijst."),
        ({"month": "december"}, "Kies een maand als JJJJ-MM"),
        ({"month": "2026-13"}, "Kies een maand als JJJJ-MM"),
        ({"month": "9999-12"}, "Kies een maand als JJJJ-MM"),
        ({"available": "misschien"}, "Kies of je alleen activiteiten met vrije plaatsen"),
    ],
)
def test_invalid_filter_is_reported_in_dutch_and_ignored(
    client, activity, programme_url, params, message
):
    response = client.get(programme_url, params)

    assert response.status_code == 200
    html = _text(response)
    assert message in html
    assert "We tonen de activiteiten zonder die filters." in html
    assert 'aria-invalid="true"' in html
    assert activity.title in html


def test_invalid_filter_keeps_the_valid_ones(client, make_activity, programme_url):
    make_activity(title="Open dag", audience=Activity.Audience.PUBLIC)
    make_activity(title="Reüniediner", audience=Activity.Audience.MEMBERS)

    html = _text(client.get(programme_url, {"audience": "members", "month": "gisteren"}))

    assert "Reüniediner" in html
    assert "Open dag" not in html


def test_htmx_request_gets_only_the_results_fragment(client, activity, programme_url):
    response = client.get(programme_url, {"audience": "public"}, headers={"HX-Request": "true"})

    assert response.status_code == 200
    html = _text(response)
    assert "<html" not in html
    assert "<form" not in html
    assert activity.title in html
    assert '<span id="result-count" data-hx-swap-oob="innerHTML">1 activiteit</span>' in html
    assert "HX-Request" in response.headers["Vary"]


def test_htmx_history_restore_gets_the_whole_page(client, activity, programme_url):
    headers = {"HX-Request": "true", "HX-History-Restore-Request": "true"}

    html = _text(client.get(programme_url, headers=headers))

    assert "<html" in html
    assert "hx-swap-oob" not in html


def test_filter_form_works_with_and_without_htmx(client, activity, programme_url):
    html = _text(client.get(programme_url))

    assert f'<form class="filters" method="get" action="{programme_url}"' in html
    assert f'data-hx-get="{programme_url}"' in html
    assert 'data-hx-target="#results"' in html
    assert 'data-hx-push-url="true"' in html
    assert '<button type="submit">' in html
    assert 'id="result-count" class="result-count" role="status" aria-live="polite"' in html


@pytest.mark.parametrize(
    ("fields", "taken", "label"),
    [
        ({"capacity": 20}, 0, "Nog 20 plaatsen"),
        ({"capacity": 20}, 19, "Nog 1 plaats"),
        ({"capacity": 6}, 6, "Vol"),
        ({"capacity": None}, 5, "Onbeperkt"),
        ({"capacity": None, "registration_required": False}, 0, "Geen aanmelding nodig"),
    ],
)
def test_places_left_on_card_and_detail(
    client, make_activity, make_registration, fields, taken, label
):
    activity = make_activity(max_party_size=6, **fields)
    while taken:
        size = min(taken, 6)
        make_registration(activity=activity, party_size=size)
        taken -= size

    card = _text(client.get(activity.programme.get_absolute_url()))
    detail = _text(client.get(activity.get_absolute_url()))

    assert f"<dd>{label}</dd>" in card
    assert f"<dd>{label}</dd>" in detail


def test_card_shows_dutch_date_place_audience_and_price(client, frozen, make_activity):
    activity = make_activity(
        title="Reüniediner",
        starts_at=dt.datetime(2026, 12, 12, 14, 0, tzinfo=AMS),
        audience=Activity.Audience.MEMBERS,
        price=Decimal("12.50"),
        location_name="Kazerne Soesterberg",
    )

    html = _text(client.get(activity.programme.get_absolute_url()))

    assert "za 12 december 2026, 14:00\u201316:00" in html
    assert 'datetime="2026-12-12T14:00:00+01:00"' in html
    assert "Kazerne Soesterberg" in html
    assert "Leden en oud-leden" in html
    assert "€ 12,50 per persoon" in html
    assert f'href="{activity.get_absolute_url()}"' in html


def test_free_activity_says_gratis(client, activity):
    assert '<dd class="nowrap">Gratis</dd>' in _text(client.get(activity.get_absolute_url()))


def test_past_activity_is_marked_afgelopen(client, make_activity):
    past = make_activity(title="Oude optocht", starts_at=timezone.now() - dt.timedelta(days=3))

    html = _text(client.get(past.programme.get_absolute_url()))

    assert "Oude optocht" in html
    assert "Afgelopen" in html


def test_activity_detail_shows_everything_a_visitor_needs(client, frozen, make_activity):
    activity = make_activity(
        title="Rit in de oude brandweerauto",
        summary="Een rondje door Soest in de TLF uit 1958.",
        description="Eerste alinea.\n\nTweede alinea.",
        starts_at=dt.datetime(2026, 12, 12, 14, 0, tzinfo=AMS),
        location_name="Kazerne Soest",
        location_address="Birkstraat 1, 3768 HD Soest",
        price=Decimal("5.00"),
        capacity=8,
        registration_closes_at=dt.datetime(2026, 12, 11, 18, 0, tzinfo=AMS),
    )

    response = client.get(activity.get_absolute_url())

    assert response.status_code == 200
    html = _text(response)
    assert "<h1>Rit in de oude brandweerauto</h1>" in html
    assert "Een rondje door Soest in de TLF uit 1958." in html
    assert "<p>Eerste alinea.</p>" in html
    assert "<p>Tweede alinea.</p>" in html
    assert "za 12 december 2026, 14:00\u201316:00" in html
    assert "Birkstraat 1, 3768 HD Soest" in html
    assert "€ 5,00 per persoon" in html
    assert "Iedereen" in html
    assert "Nog 8 plaatsen" in html
    assert "Aanmelden kan tot vr 11 december 2026, 18:00." in html
    ics = reverse(
        "events:activity_ics",
        kwargs={"programme_slug": activity.programme.slug, "slug": activity.slug},
    )
    assert f'href="{ics}"' in html
    assert "Zet in je agenda" in html


@pytest.mark.parametrize(
    ("fields", "status"),
    [
        ({"registration_opens_at": NOW + dt.timedelta(days=2)}, "Aanmelden kan vanaf"),
        ({"registration_closes_at": NOW - dt.timedelta(hours=1)}, "Aanmelden is gesloten."),
        ({"registration_required": False}, "Je hoeft je niet aan te melden"),
        ({"status": Activity.Status.CANCELLED}, "Deze activiteit is geannuleerd."),
        ({"starts_at": NOW - dt.timedelta(days=1)}, "Deze activiteit is afgelopen."),
    ],
)
def test_detail_states_the_registration_window(client, frozen, make_activity, fields, status):
    activity = make_activity(**fields)

    assert status in _text(client.get(activity.get_absolute_url()))


def test_programme_page_links_to_the_programme_feed(client, programme, programme_url):
    feed = reverse("events:programme_ics", kwargs={"slug": programme.slug})

    assert f'href="{feed}"' in _text(client.get(programme_url))


def test_draft_activity_detail_is_404(client, make_activity):
    draft = make_activity(status=Activity.Status.DRAFT)

    assert client.get(draft.get_absolute_url()).status_code == 404


def test_activity_of_hidden_programme_is_404(client, activity, programme):
    programme.is_public = False
    programme.save()

    assert client.get(activity.get_absolute_url()).status_code == 404


def test_activity_under_another_programme_slug_is_404(client, activity):
    url = reverse(
        "events:activity", kwargs={"programme_slug": "iets-anders", "slug": activity.slug}
    )

    assert client.get(url).status_code == 404


# The programme page needs three queries (programme, months, activities) and the detail page one;
# one spare each. The bound is the same for 5 and for 50 activities: that is the point.
PAGE_QUERIES = 4
DETAIL_QUERIES = 2


@pytest.mark.parametrize("count", [5, 50])
def test_programme_page_query_count_does_not_grow(
    client, programme_url, many_activities, django_assert_max_num_queries, count
):
    many_activities(count)

    with django_assert_max_num_queries(PAGE_QUERIES):
        response = client.get(programme_url)
    with django_assert_max_num_queries(PAGE_QUERIES):
        client.get("/", {"available": "1", "audience": "public"})

    assert _text(response).count('<li class="card') == count


@pytest.mark.parametrize("count", [5, 50])
def test_activity_page_query_count_does_not_grow(
    client, many_activities, django_assert_max_num_queries, count
):
    activity = many_activities(count)[1]

    with django_assert_max_num_queries(DETAIL_QUERIES):
        response = client.get(activity.get_absolute_url())

    assert response.status_code == 200


def test_privacy_statement_page(client, programme):
    response = client.get(reverse("events:privacy", kwargs={"slug": programme.slug}))

    assert response.status_code == 200
    html = _text(response)
    assert "<h1>Privacyverklaring</h1>" in html
    assert "Wij bewaren alleen wat nodig is." in html


def test_accessibility_statement_page(client, programme):
    response = client.get(reverse("events:accessibility", kwargs={"slug": programme.slug}))

    html = _text(response)
    assert "<h1>Toegankelijkheidsverklaring</h1>" in html
    assert "Deze site is getest met toetsenbord en schermlezer." in html


def test_empty_statements_get_a_sensible_default(client, programme):
    programme.privacy_statement = ""
    programme.accessibility_statement = ""
    programme.save()

    privacy = _text(client.get(reverse("events:privacy", kwargs={"slug": programme.slug})))
    access = _text(client.get(reverse("events:accessibility", kwargs={"slug": programme.slug})))

    assert "Uiterlijk 180 dagen na het einde van het programma" in privacy
    assert "jubileum@example.org" in privacy
    assert "WCAG 2.1" in access


def test_statements_of_hidden_programme_are_404(client, programme):
    programme.is_public = False
    programme.save()

    for name in ("events:privacy", "events:accessibility", "events:theme_css"):
        assert client.get(reverse(name, kwargs={"slug": programme.slug})).status_code == 404


def test_footer_links_to_statements_and_organiser(client, programme, programme_url):
    programme.organiser_phone = "035 609 34 11"
    programme.save()

    html = _text(client.get(programme_url))

    assert f'href="{reverse("events:privacy", kwargs={"slug": programme.slug})}"' in html
    assert f'href="{reverse("events:accessibility", kwargs={"slug": programme.slug})}"' in html
    assert 'href="mailto:jubileum@example.org"' in html
    assert 'href="tel:0356093411"' in html


def test_theme_css_serves_the_programme_colour(client, programme, programme_url):
    programme.theme_colour = "#1D4F91"
    programme.save()
    url = reverse("events:theme_css", kwargs={"slug": programme.slug})

    response = client.get(url)

    assert response["Content-Type"] == "text/css; charset=utf-8"
    assert "--theme: #1D4F91;" in _text(response)
    assert f'<link rel="stylesheet" href="{url}?v=' in _text(client.get(programme_url))


def test_theme_css_never_serves_an_unreadable_colour(client, programme):
    # Saved past the model's validation, as a fixture or raw SQL could.
    Programme.objects.filter(pk=programme.pk).update(theme_colour="#FFFF00")

    css = _text(client.get(reverse("events:theme_css", kwargs={"slug": programme.slug})))

    assert "--theme: #B41E1E;" in css


def test_time_elements_carry_a_valid_moment(client, make_activity):
    """A start with microseconds (as `timezone.now()` gives) was written with six digits of a
    second's fraction, which HTML does not allow in `datetime`."""
    activity = make_activity(starts_at=dt.datetime(2026, 12, 12, 14, 0, 7, 123456, tzinfo=AMS))
    moment = 'datetime="2026-12-12T14:00:07+01:00"'
    assert moment in client.get(activity.get_absolute_url()).content.decode()
    assert moment in client.get(activity.programme.get_absolute_url()).content.decode()

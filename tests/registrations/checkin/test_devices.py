"""Scanner devices: pairing codes, tokens stored as hashes, expiry, revocation, the command."""

from __future__ import annotations

import datetime as dt
import re
from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import timezone, translation

from registrations.checkin import devices
from registrations.models import ScannerDevice

# Engine-dependent, so CI runs it on SQLite too: pairing locks the device row and compares expiry
# times in SQL.
pytestmark = pytest.mark.engine_dependent


@pytest.fixture
def evening(make_activity):
    # 18:00-21:00 UTC on 10 Dec 2026 is 19:00-22:00 in Amsterdam.
    starts = dt.datetime(2026, 12, 10, 18, 0, tzinfo=dt.UTC)
    return make_activity(starts_at=starts)


def test_pairing_code_shape_and_single_use(evening):
    new = devices.create_device(evening.programme, [evening.pk], name="Ingang Noord")
    assert re.fullmatch(r"[ABCDEFGHJKMNPQRSTUVWXYZ23456789]{8}", new.pairing_code)
    assert new.token is None and new.device.token_hash is None

    device, token = devices.pair(f"jubscan:{new.pairing_code.lower()}")

    assert device == new.device
    stored = ScannerDevice.objects.get()
    assert stored.token_hash == devices.hash_token(token)
    assert token not in str(ScannerDevice.objects.values().get())
    assert devices.device_for_token(token) == stored
    with pytest.raises(devices.UnknownPairingCode):
        devices.pair(new.pairing_code)


def test_pairing_qr_is_a_link_to_the_scanner_page_with_the_code_in_its_fragment(settings):
    settings.SITE_URL = "https://jubileum.example.nl"
    assert devices.pairing_url("ABCD2345") == "https://jubileum.example.nl/scan/#pair=ABCD2345"
    with translation.override("en"):
        assert devices.pairing_url("ABCD2345") == (
            "https://jubileum.example.nl/en/scan/#pair=ABCD2345"
        )


def test_pairing_code_expires_after_fifteen_minutes(evening, time_machine):
    new = devices.create_device(evening.programme, [evening.pk])
    time_machine.move_to(timezone.now() + dt.timedelta(minutes=16), tick=False)
    with pytest.raises(devices.UnknownPairingCode):
        devices.pair(new.pairing_code)


def test_default_expiry_is_the_end_of_the_activity_day_in_amsterdam(evening):
    device = devices.create_device(evening.programme, [evening.pk]).device
    # Midnight 11 Dec in Amsterdam is 23:00 UTC on 10 Dec.
    assert device.expires_at == dt.datetime(2026, 12, 10, 23, 0, tzinfo=dt.UTC)


def test_expired_and_revoked_devices_have_no_access(evening, time_machine):
    new = devices.create_device(evening.programme, [evening.pk], with_token=True)
    assert devices.device_for_token(new.token) == new.device
    assert devices.revoke(evening.programme, new.device.pk) is True
    assert devices.device_for_token(new.token) is None
    assert devices.revoke(evening.programme, new.device.pk) is False

    other = devices.create_device(evening.programme, [evening.pk], with_token=True)
    time_machine.move_to(other.device.expires_at + dt.timedelta(seconds=1), tick=False)
    assert devices.device_for_token(other.token) is None


def test_activities_of_another_programme_are_refused(evening, make_programme, make_activity):
    foreign = make_activity(programme=make_programme())
    with pytest.raises(devices.NoActivities):
        devices.create_device(evening.programme, [evening.pk, foreign.pk])


def test_command_prints_token_once_and_pairing_code(evening, make_activity, settings):
    settings.SITE_URL = "https://jubileum.example.nl"
    second = make_activity()
    out = StringIO()
    call_command(
        "create_scanner_device",
        "--activity",
        str(evening.pk),
        "--activity",
        str(second.pk),
        "--name",
        "Ingang Zuid",
        stdout=out,
    )
    text = out.getvalue()
    token = re.search(r"Token \(shown once\): (\S+)", text).group(1)
    device = ScannerDevice.objects.get()
    assert device.name == "Ingang Zuid"
    assert set(device.activities.all()) == {evening, second}
    assert device.token_hash == devices.hash_token(token)
    code = re.search(r"Pairing code: ([A-Z2-9]{8}) \(link (\S+),", text)
    assert code[2] == f"https://jubileum.example.nl/scan/#pair={code[1]}"


def test_command_takes_activities_by_programme_and_activity_slug(evening, make_activity):
    # Organisers know an activity by its web address, /programma/<programme>/activiteit/<slug>/.
    second = make_activity(slug="open-dag")
    call_command(
        "create_scanner_device",
        "--activity",
        f"{evening.programme.slug}/{evening.slug}",
        "--activity",
        f"/{second.programme.slug}/open-dag/",
        stdout=StringIO(),
    )

    assert set(ScannerDevice.objects.get().activities.all()) == {evening, second}


@pytest.mark.parametrize("value", ["geen-programma/open-dag", "open-dag", "999999"])
def test_command_refuses_an_unknown_activity_and_makes_no_device(evening, value):
    expected = f"No activity '{value}': give its id or <programme-slug>/<activity-slug>"
    with pytest.raises(CommandError, match=re.escape(expected)):
        call_command(
            "create_scanner_device",
            "--activity",
            f"{evening.programme.slug}/{evening.slug}",
            "--activity",
            value,
            stdout=StringIO(),
        )

    assert not ScannerDevice.objects.exists()


def test_command_refuses_activities_of_two_programmes(evening, make_programme, make_activity):
    foreign = make_activity(programme=make_programme())
    with pytest.raises(CommandError, match="one programme"):
        call_command(
            "create_scanner_device",
            "--activity",
            str(evening.pk),
            "--activity",
            f"{foreign.programme.slug}/{foreign.slug}",
            stdout=StringIO(),
        )


# --- The organiser's scanner page ----------------------------------------------------------


@pytest.fixture
def user_with(django_user_model):
    from events.models import ProgrammeRole

    def make(username: str, role: str, programme):
        user = django_user_model.objects.create_user(username=username, password="x-123456789")
        ProgrammeRole.objects.create(user=user, programme=programme, role=role)
        return user

    return make


def _url(name: str, programme, **kwargs) -> str:
    from django.urls import reverse

    return reverse(f"organiser:{name}", kwargs={"programme_slug": programme.slug, **kwargs})


def test_organiser_creates_pairs_and_revokes_a_scanner(client, user_with, evening, settings):
    settings.SITE_URL = "https://jubileum.example.nl"
    client.force_login(user_with("org", "organiser", evening.programme))
    page = client.get(_url("scanners", evening.programme))
    assert page.status_code == 200
    assert b'data-hx-trigger="every 5s"' in page.content
    assert b"Scanner aanmaken" in page.content

    response = client.post(
        _url("scanner_create", evening.programme),
        {"name": "Ingang Noord", "activities": [evening.pk]},
    )
    device = ScannerDevice.objects.get()
    assert response.status_code == 303
    assert response["Location"] == _url("scanner_pairing", evening.programme, device_id=device.pk)
    pairing = client.get(response["Location"])
    assert device.pairing_code.encode() in pairing.content
    assert b"<svg" in pairing.content
    # The full address, not just "/scan/": the volunteer types it on their own phone.
    address = b'<code class="scanner-address">https://jubileum.example.nl/scan/</code>'
    assert address in pairing.content

    devices.pair(device.pairing_code)
    assert (
        client.get(_url("scanner_revoke", evening.programme, device_id=device.pk)).status_code
        == 200
    )
    client.post(_url("scanner_revoke", evening.programme, device_id=device.pk))
    device.refresh_from_db()
    assert device.revoked_at is not None and device.token_hash is None


def test_create_without_activities_shows_the_error(client, user_with, evening):
    client.force_login(user_with("org", "organiser", evening.programme))
    response = client.post(_url("scanner_create", evening.programme), {"name": "X"})
    assert response.status_code == 422
    assert "Kies minstens één activiteit." in response.content.decode()
    assert ScannerDevice.objects.count() == 0


def test_counts_fragment_and_fallback_page(client, user_with, evening, make_registration):
    from registrations.checkin import services as checkin

    make_registration(activity=evening, party_size=3)
    client.force_login(user_with("kijker", "viewer", evening.programme))
    fragment = client.get(_url("scanner_counts", evening.programme), HTTP_HX_REQUEST="true")
    assert fragment.status_code == 200
    assert b"<html" not in fragment.content
    assert b'id="checkin-counts"' in fragment.content
    page = client.get(_url("scanner_counts", evening.programme))
    assert b"<html" in page.content
    assert checkin.counts(evening.pk) == {"checked_in": 0, "expected": 3}


def test_viewer_reads_but_changes_nothing(client, user_with, evening):
    new = devices.create_device(evening.programme, [evening.pk], name="Noord")
    client.force_login(user_with("kijker", "viewer", evening.programme))
    page = client.get(_url("scanners", evening.programme))
    assert page.status_code == 200
    assert b"Noord" in page.content
    assert b"Scanner aanmaken" not in page.content
    assert b"Intrekken" not in page.content
    create = client.post(_url("scanner_create", evening.programme), {"activities": [evening.pk]})
    assert create.status_code == 403
    revoke = client.post(_url("scanner_revoke", evening.programme, device_id=new.device.pk))
    assert revoke.status_code == 403
    pairing = client.get(_url("scanner_pairing", evening.programme, device_id=new.device.pk))
    assert pairing.status_code == 403


def test_stranger_gets_404(client, user_with, evening, make_programme):
    new = devices.create_device(evening.programme, [evening.pk])
    client.force_login(user_with("buurman", "organiser", make_programme()))
    assert client.get(_url("scanners", evening.programme)).status_code == 404
    assert client.get(_url("scanner_counts", evening.programme)).status_code == 404
    revoke = client.post(_url("scanner_revoke", evening.programme, device_id=new.device.pk))
    assert revoke.status_code == 404

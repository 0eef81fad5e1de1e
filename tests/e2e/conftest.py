from __future__ import annotations

import datetime as dt

import pytest
from django.core.cache import cache
from django.utils import timezone
from playwright.sync_api import Page

from registrations.checkin import devices
from tests.conftest import CHROMIUM, CHROMIUM_ARGS
from tests.e2e.journey import collect_console_errors


@pytest.fixture
def console_errors(page: Page) -> list[str]:
    """Errors the page logs to the console (a CSP violation shows up here)."""
    return collect_console_errors(page)


@pytest.fixture
def camera_browser(playwright, tmp_path):
    """(video, launch): a separate Chromium, started by `launch()`, whose fake camera plays
    `video` (write it with tests.e2e.camera.write_y4m)."""
    video = tmp_path / "camera.y4m"
    args = [
        *CHROMIUM_ARGS,
        "--disable-quic",
        "--use-fake-device-for-media-stream",
        "--use-fake-ui-for-media-stream",
        f"--use-file-for-fake-video-capture={video}",
    ]
    return video, lambda: playwright.chromium.launch(executable_path=str(CHROMIUM), args=args)


@pytest.fixture
def door(programme, make_activity, make_registration):
    """(activity, parties by name, device token): an activity whose doors are open, three
    confirmed parties (Jansen 4, Bakker 2, Smit 1) and a scanner device for it."""
    cache.clear()  # rate limits live in the cache
    activity = make_activity(
        title="Open dag", slug="open-dag", starts_at=timezone.now() + dt.timedelta(minutes=30)
    )
    parties = {
        name: make_registration(activity=activity, contact_name=f"Familie {name}", party_size=size)
        for name, size in [("Jansen", 4), ("Bakker", 2), ("Smit", 1)]
    }
    device = devices.create_device(programme, [activity.pk], name="Ingang Noord", with_token=True)
    return activity, parties, device.token

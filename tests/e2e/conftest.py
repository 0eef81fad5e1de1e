from __future__ import annotations

import pytest
from playwright.sync_api import Page

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

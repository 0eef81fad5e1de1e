from __future__ import annotations

import pytest
from playwright.sync_api import Page

from tests.e2e.journey import collect_console_errors


@pytest.fixture
def console_errors(page: Page) -> list[str]:
    """Errors the page logs to the console (a CSP violation shows up here)."""
    return collect_console_errors(page)

"""Debian's Chromium driven by Playwright: found on this machine, never downloaded.

Playwright cannot fetch its own browser builds here, so it is pointed at the system's
Chromium (``KTRDR_CHROMIUM``, else the first of ``CHROMIUM_NAMES`` on the PATH). A
missing browser is a failure with the command that installs it, never a skip.
"""

from __future__ import annotations

import json
import os
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from playwright.sync_api import Page

from tests.support.paths import REPO_ROOT
from tests.support.stack import Stack

CHROMIUM_NAMES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
# Headless, and quiet: no sandbox (root in CI), no GPU, nothing fetched in the background.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
]
ARTIFACTS = Path(os.environ.get("KTRDR_TEST_ARTIFACTS", REPO_ROOT / "test-artifacts"))
SCREENSHOTS = ARTIFACTS / "browser"
SAVED_SCREENSHOTS: list[Path] = []
TOKEN = "browser-test-token"  # the live stack's KTRDR_API_TOKEN
INSTALL_HINT = (
    "Chromium is needed for the browser tests and was not found: install it with "
    "`make browser` (apt-get install chromium) or point KTRDR_CHROMIUM at a "
    "Chromium/Chrome binary."
)


def find_chromium() -> str | None:
    given = os.environ.get("KTRDR_CHROMIUM")
    if given:
        return given if Path(given).is_file() else None
    for name in CHROMIUM_NAMES:
        found = shutil.which(name)
        if found:
            return found
    return None


@dataclass
class LiveStack:
    stack: Stack
    training_id: str
    backtest_id: str
    quiet_backtest_id: str
    failed_id: str
    results: dict[str, dict[str, Any]] = field(default_factory=dict)

    @property
    def url(self) -> str:
        return self.stack.api_url

    def report_url(self, op_id: str) -> str:
        return f"{self.url}/api/v1/operations/{op_id}/report"

    def result(self, op_id: str) -> dict[str, Any]:
        if op_id not in self.results:
            self.results[op_id] = self.stack.get(f"/operations/{op_id}/results")["result"]
        return self.results[op_id]


def screenshot(page: Page, name: str) -> Path:
    """Keep the whole page as a test artifact (listed at the end of the run)."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    SAVED_SCREENSHOTS.append(path)
    print(f"screenshot: {path}")
    return path


def json_value(text: str | None) -> Any:
    return None if text in (None, "") else json.loads(text)

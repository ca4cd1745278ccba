"""Every control of every page is reached with the Tab key alone."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page

from tests.support.browser import LiveStack, screenshot

pytestmark = pytest.mark.browser

# Tags every visible control with its index and returns how many there are.
TAG_CONTROLS = """() => {
    const selector = 'a[href], button:not([disabled]), input:not([disabled]), select,'
        + ' textarea, summary, [tabindex]:not([tabindex="-1"])';
    const shown = el => el.getClientRects().length > 0
        && getComputedStyle(el).visibility !== 'hidden';
    const controls = Array.from(document.querySelectorAll(selector)).filter(shown);
    controls.forEach((el, i) => { el.dataset.kb = String(i); });
    const name = el => (el.textContent || el.id).trim().slice(0, 30);
    return controls.map(el => el.tagName.toLowerCase() + ':' + name(el));
}"""


def _tab_through(page: Page) -> tuple[list[str], set[int]]:
    controls = page.evaluate(TAG_CONTROLS)
    reached: set[int] = set()
    page.evaluate("document.activeElement && document.activeElement.blur()")
    for _ in range(len(controls) + 5):
        page.keyboard.press("Tab")
        index = page.evaluate("document.activeElement ? document.activeElement.dataset.kb : null")
        if index is not None:
            reached.add(int(index))
    return controls, reached


def _pages(live: LiveStack) -> list[tuple[str, str, str]]:
    dashboard = f"{live.url}/dashboard/#/"
    model_id = live.result(live.training_id)["model_id"]
    return [
        ("dashboard-operations-keyboard", dashboard + "operations", "#operations tbody tr"),
        ("dashboard-workers-keyboard", dashboard + "workers", "#workers tbody tr"),
        ("dashboard-strategies-keyboard", dashboard + "strategies", "#strategies tbody tr"),
        ("dashboard-strategy-keyboard", dashboard + "strategies/canary_smoke", "#strategy-yaml"),
        ("dashboard-models", dashboard + "models", "#models tbody tr"),
        (
            "dashboard-failed-operation-keyboard",
            dashboard + f"operations/{live.failed_id}",
            "#no-report",
        ),
        ("dashboard-model-keyboard", dashboard + f"models/{model_id}", "#model-metrics tbody tr"),
        ("backtest-report-keyboard", live.report_url(live.backtest_id), "body[data-rendered]"),
        ("training-report-keyboard", live.report_url(live.training_id), "body[data-rendered]"),
    ]


def test_keyboard_reaches_every_control(live: LiveStack, page: Page) -> None:
    missed: dict[str, list[str]] = {}
    for name, url, ready in _pages(live):
        page.goto(url)
        page.wait_for_selector(ready, state="attached", timeout=15_000)
        if "dashboard-operations" in name:
            page.uncheck("#filter-live")  # a steady page: rows do not come and go while tabbing
        controls, reached = _tab_through(page)
        assert len(controls) >= 3, f"{name}: too few controls found: {controls}"
        not_reached = [c for i, c in enumerate(controls) if i not in reached]
        if not_reached:
            missed[name] = not_reached
        screenshot(page, name)
    assert not missed, f"controls the Tab key never reached: {missed}"


def test_focus_is_visible(live: LiveStack, page: Page) -> None:
    page.goto(f"{live.url}/dashboard/#/operations")
    page.wait_for_selector("#operations tbody tr")
    page.keyboard.press("Tab")
    page.keyboard.press("Tab")
    outline = page.evaluate("getComputedStyle(document.activeElement).outlineStyle")
    assert outline not in ("", "none")

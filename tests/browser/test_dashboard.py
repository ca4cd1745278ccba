"""The dashboard in a real Chromium against a live backend and real workers."""

from __future__ import annotations

import time

import pytest
from playwright.sync_api import Page, expect

from tests.support.browser import TOKEN, LiveStack, screenshot
from tests.support.stack import canary_strategy

pytestmark = pytest.mark.browser


def _dashboard(live: LiveStack, route: str) -> str:
    return f"{live.url}/dashboard/#/{route}"


def _row(page: Page, op_id: str):
    return page.locator(f'#operations tr[data-operation-id="{op_id}"]')


def test_a_training_appears_and_its_progress_advances(live: LiveStack, page: Page) -> None:
    page.goto(_dashboard(live, "operations"))
    expect(page.locator("#operations tbody tr").first).to_be_visible()
    live.stack.put_strategy("canary_watch", canary_strategy("canary_watch", epochs=400))
    op_id = live.stack.post("/trainings/start", {"strategy_name": "canary_watch"})["operation_id"]

    row = _row(page, op_id)
    expect(row).to_be_visible(timeout=10_000)  # the page found it on its own (live updates)
    seen: list[float] = []
    statuses: list[str] = []
    kept_running = False
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        statuses.append(row.locator(".status").inner_text())
        seen.append(float(row.locator("progress").evaluate("bar => bar.value")))
        if not kept_running and statuses[-1] == "running" and 0 < seen[-1] < 100:
            kept_running = bool(screenshot(page, "dashboard-training-running"))
        if statuses[-1] in {"completed", "failed", "cancelled"}:
            break
        time.sleep(0.2)
    assert statuses[-1] == "completed", statuses
    assert "running" in statuses
    moving = [v for v in seen if 0 < v < 100]
    assert len(set(moving)) >= 2, f"progress never moved on the page: {seen}"
    assert seen == sorted(seen), "progress went backwards"
    assert seen[-1] == 100
    expect(row.get_by_role("link", name=f"Report of operation {op_id}")).to_be_visible()
    screenshot(page, "dashboard-operations")


def test_filters_narrow_the_list(live: LiveStack, page: Page) -> None:
    page.goto(_dashboard(live, "operations"))
    expect(_row(page, live.backtest_id)).to_be_visible()
    page.select_option("#filter-type", "training")
    expect(_row(page, live.backtest_id)).to_have_count(0)
    expect(_row(page, live.training_id)).to_be_visible()
    page.select_option("#filter-type", "")
    page.select_option("#filter-status", "failed")
    expect(_row(page, live.failed_id)).to_be_visible()
    expect(_row(page, live.training_id)).to_have_count(0)
    page.select_option("#filter-status", "")
    page.fill("#filter-strategy", "quiet")
    expect(_row(page, live.quiet_backtest_id)).to_be_visible()
    expect(_row(page, live.backtest_id)).to_have_count(0)


def test_cancel_needs_the_token_and_works_from_the_keyboard(live: LiveStack, page: Page) -> None:
    live.stack.put_strategy("canary_long", canary_strategy("canary_long", epochs=5000))
    op_id = live.stack.post("/trainings/start", {"strategy_name": "canary_long"})["operation_id"]
    live.stack.wait_running(op_id)
    page.goto(_dashboard(live, "operations"))
    cancel = _row(page, op_id).get_by_role("button", name=f"Cancel operation {op_id}")
    expect(cancel).to_be_visible(timeout=10_000)

    cancel.focus()
    page.keyboard.press("Enter")  # no token yet: the backend refuses, the page says why
    expect(page.locator("#problem")).to_contain_text("needs its API token")
    assert live.stack.operation(op_id)["status"] == "running"

    page.focus("#token")
    page.keyboard.type(TOKEN)
    page.keyboard.press("Enter")
    expect(page.locator("#token-state")).to_have_text("token set for this tab")
    cancel.focus()
    page.keyboard.press("Enter")
    expect(_row(page, op_id).locator(".status")).to_have_text("cancelled", timeout=10_000)
    assert live.stack.operation(op_id)["status"] == "cancelled"


def test_workers_strategies_and_models_pages(live: LiveStack, page: Page) -> None:
    page.goto(_dashboard(live, "workers"))
    trainer = page.locator('#workers tr[data-worker-id="trainer"]')
    expect(trainer).to_be_visible()
    expect(trainer).to_contain_text("training")
    expect(trainer.locator("td").nth(3)).to_have_text("no")  # GPU: these workers have none
    expect(page.locator('#workers tr[data-worker-id="backtester"]')).to_contain_text("backtesting")
    screenshot(page, "dashboard-workers")

    page.goto(_dashboard(live, "strategies"))
    expect(page.get_by_role("link", name="canary_smoke")).to_be_visible()
    screenshot(page, "dashboard-strategies")
    page.get_by_role("link", name="canary_smoke").click()
    expect(page.locator("#strategy-validity")).to_contain_text("validates")
    expect(page.locator("#strategy-yaml")).to_contain_text("name: canary_smoke")
    page.fill("#strategy-editor", "name: broken\nindicators: {rsi_14: {type: nope}}\n")
    page.get_by_role("button", name="Validate").click()
    expect(page.locator("#validation-result")).to_contain_text("Not valid")
    expect(page.locator("#validation-result code").first).to_be_visible()  # the YAML path
    screenshot(page, "dashboard-strategy")

    model_id = live.result(live.training_id)["model_id"]
    page.goto(_dashboard(live, "models"))
    page.get_by_role("link", name=model_id).click()
    expect(page.locator("#model-metrics tr[data-split='test']")).to_be_visible()
    test_accuracy = live.result(live.training_id)["metrics"]["test"]["accuracy"]
    expect(page.locator("#model-metrics tr[data-split='test'] td").nth(3)).to_have_text(
        f"{test_accuracy * 100:.1f}%"
    )
    screenshot(page, "dashboard-model")


def test_a_finished_operation_shows_its_report(live: LiveStack, page: Page) -> None:
    page.goto(_dashboard(live, f"operations/{live.backtest_id}"))
    frame = page.frame_locator("iframe.report")
    expect(frame.locator("body[data-rendered='true']")).to_be_attached(timeout=15_000)
    expect(frame.locator("#metrics")).to_be_visible()
    screenshot(page, "dashboard-operation-report")


def test_broken_operations_show_a_clear_message(live: LiveStack, page: Page) -> None:
    page.goto(_dashboard(live, "operations/does-not-exist"))
    expect(page.locator("#not-found")).to_have_text("There is no operation does-not-exist.")
    screenshot(page, "dashboard-missing-operation")

    page.goto(_dashboard(live, f"operations/{live.failed_id}"))
    expect(page.locator("#operation-error")).to_contain_text("no bars of IBM")
    expect(page.locator("#no-report")).to_contain_text("No report")
    screenshot(page, "dashboard-failed-operation")

    page.goto(_dashboard(live, "nowhere"))
    expect(page.locator("main .problem")).to_contain_text("There is no page")

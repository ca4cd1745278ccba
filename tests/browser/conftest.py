"""A live stack (real backend, real workers) and a real Chromium for the browser tests.

The session starts the backend with an API token, one training and one backtest worker,
trains two small strategies and leaves behind the operations the tests look at: a
completed training, a completed backtest with trades, one with no trade (its strategy
never trusts a signal), and a failed backtest (a window without data).
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from typing import Any

import pytest
from playwright.sync_api import BrowserContext, Page, sync_playwright

from tests.support.browser import (
    CHROMIUM_ARGS,
    INSTALL_HINT,
    SAVED_SCREENSHOTS,
    TOKEN,
    LiveStack,
    find_chromium,
)
from tests.support.stack import Stack, canary_strategy


def _completed(stack: Stack, op_id: str) -> dict[str, Any]:
    final = stack.wait_status(op_id, "completed", "failed", "cancelled", timeout_s=180)
    assert final["status"] == "completed", final["error"]
    return final


# Per package (this folder): stopped once the last browser test has run, rather than
# staying up, heartbeating, for the rest of the session.
@pytest.fixture(scope="package")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveStack]:
    stack = Stack(home=tmp_path_factory.mktemp("browser") / "home")
    stack.env_overrides["KTRDR_API_TOKEN"] = TOKEN
    stack.start_backend()
    try:
        stack.start_worker("trainer", "training")
        stack.start_worker("backtester", "backtesting")
        stack.wait_for_workers(backtesting=1, training=1)
        stack.put_strategy("canary_smoke", canary_strategy("canary_smoke", epochs=8))
        # The same network, but no signal is ever confident enough to trade.
        quiet = canary_strategy("canary_quiet", epochs=2).replace(
            "confidence_threshold: 0.0", "confidence_threshold: 1.0"
        )
        stack.put_strategy("canary_quiet", quiet)
        training = stack.post("/trainings/start", {"strategy_name": "canary_smoke"})
        quiet_training = stack.post("/trainings/start", {"strategy_name": "canary_quiet"})
        _completed(stack, training["operation_id"])
        _completed(stack, quiet_training["operation_id"])
        backtest = stack.post("/backtests/start", {"strategy_name": "canary_smoke"})
        quiet_backtest = stack.post("/backtests/start", {"strategy_name": "canary_quiet"})
        failed = stack.post(
            "/backtests/start",
            {"strategy_name": "canary_smoke", "start_date": "1990-01-01", "end_date": "1990-12-31"},
        )
        _completed(stack, backtest["operation_id"])
        _completed(stack, quiet_backtest["operation_id"])
        failed_final = stack.wait_status(failed["operation_id"], "failed", "completed")
        assert failed_final["status"] == "failed"
        yield LiveStack(
            stack=stack,
            training_id=training["operation_id"],
            backtest_id=backtest["operation_id"],
            quiet_backtest_id=quiet_backtest["operation_id"],
            failed_id=failed["operation_id"],
        )
    finally:
        stack.stop_all()


# Per module, not per session: while it runs, Playwright keeps an event loop running in
# this thread, and later tests that start their own (anyio.run) would fail.
@pytest.fixture(scope="module")
def browser_context() -> Iterator[BrowserContext]:
    executable = find_chromium()
    if executable is None:
        pytest.fail(INSTALL_HINT, pytrace=False)
    with (
        tempfile.TemporaryDirectory(prefix="ktrdr-chromium-") as profile,
        sync_playwright() as playwright,
    ):
        context = playwright.chromium.launch_persistent_context(
            profile,  # a fresh user-data-dir for every run
            executable_path=executable,
            headless=True,
            args=CHROMIUM_ARGS,
            viewport={"width": 1280, "height": 900},
            accept_downloads=False,
        )
        try:
            yield context
        finally:
            context.close()


@pytest.fixture
def page(browser_context: BrowserContext) -> Iterator[Page]:
    """A new tab; any script error on it fails the test."""
    tab = browser_context.new_page()
    errors: list[str] = []
    tab.on("pageerror", lambda error: errors.append(str(error)))
    yield tab
    tab.close()
    assert not errors, f"script errors on the page: {errors}"


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if SAVED_SCREENSHOTS:
        terminalreporter.write_sep("-", "browser screenshots")
        for path in SAVED_SCREENSHOTS:
            terminalreporter.write_line(str(path))

"""Reports in a real Chromium: drawn from the stored results of a live stack."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from ktrdr.reports.formatting import format_metric
from tests.support.browser import TOKEN, LiveStack, json_value, screenshot

pytestmark = pytest.mark.browser

# Counts the pixels of a chart's canvases that are not the white background.
INKED_PIXELS = """box => Array.from(box.querySelectorAll('canvas')).reduce((inked, canvas) => {
    if (!canvas.width || !canvas.height) return inked;
    const pixels = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height).data;
    for (let i = 0; i < pixels.length; i += 4) {
        const [r, g, b, a] = pixels.slice(i, i + 4);
        if (a > 0 && (r < 240 || g < 240 || b < 240)) inked++;
    }
    return inked;
}, 0)"""


def _rendered(page: Page) -> dict[str, Any]:
    page.wait_for_selector("body[data-rendered='true']", state="attached", timeout=15_000)
    return page.evaluate(
        "({charts: ktrdrReport.charts, markers: ktrdrReport.markers, trades: ktrdrReport.trades})"
    )


def _metric_cells(page: Page) -> dict[str, dict[str, tuple[Any, str]]]:
    rows = page.locator("#metrics tbody tr")
    table: dict[str, dict[str, tuple[Any, str]]] = {}
    for index in range(rows.count()):
        row = rows.nth(index)
        key = row.get_attribute("data-metric")
        assert key is not None
        table[key] = {
            column: (
                json_value(row.locator(f"td[data-column={column}]").get_attribute("data-value")),
                row.locator(f"td[data-column={column}]").inner_text(),
            )
            for column in ("strategy", "benchmark")
        }
    return table


def test_backtest_report_draws_its_charts_markers_and_metrics(live: LiveStack, page: Page) -> None:
    result = live.result(live.backtest_id)
    trades = result["metrics"]["num_trades"]
    assert trades > 0
    page.goto(live.report_url(live.backtest_id))
    state = _rendered(page)
    assert state["charts"] == 3
    assert state["markers"] == 2 * trades  # an entry and an exit for every trade
    for chart in ("#chart-price", "#chart-equity", "#chart-drawdown"):
        assert page.locator(chart).evaluate(INKED_PIXELS) > 1_000, f"{chart} is blank"

    # The metrics table is the result JSON: every key, the strategy and buy and hold.
    cells = _metric_cells(page)
    assert list(cells) == list(result["metrics"])
    for key, value in result["metrics"].items():
        assert cells[key]["strategy"] == (value, format_metric(key, value))
        benchmark = result["benchmark"][key]
        assert cells[key]["benchmark"] == (benchmark, format_metric(key, benchmark))
    excess = page.locator("#summary-excess")
    assert json_value(excess.get_attribute("data-value")) == result["excess_return"]

    # The trade list: one row per trade, sorted by a header's button.
    rows = page.locator("#trades tbody tr")
    assert rows.count() == trades
    page.get_by_role("button", name="P&L").click()
    pnls = [float(v) for v in rows.evaluate_all("rs => rs.map(r => r.cells[7].dataset.sort)")]
    assert pnls == sorted(pnls)
    expect(page.locator("#trades th", has_text="P&L")).to_have_attribute("aria-sort", "ascending")
    page.get_by_role("button", name="P&L").click()
    pnls = [float(v) for v in rows.evaluate_all("rs => rs.map(r => r.cells[7].dataset.sort)")]
    assert pnls == sorted(pnls, reverse=True)

    # Interactive: the crosshair reads values, the toolbar zooms and pans.
    chart = page.locator("#chart-price")
    box = chart.bounding_box()
    assert box is not None
    chart.hover(position={"x": box["width"] * 0.3, "y": box["height"] * 0.5})
    legend = page.locator("#legend-price").inner_text()
    assert legend[:10] != result["range"]["end"][:10]
    assert " O " in legend
    assert page.locator("#legend-equity").inner_text()[:10] == legend[:10]  # linked charts
    width = """() => {
        const range = ktrdrReport.chartApis[0].timeScale().getVisibleLogicalRange();
        return range.to - range.from;
    }"""
    before = page.evaluate(width)
    page.get_by_role("button", name="Zoom in").click()
    # Applied on the next frame: poll (a function, as the report's policy forbids eval).
    page.wait_for_function(f"limit => ({width})() < limit", arg=before * 0.9, timeout=5_000)
    page.get_by_role("button", name="Show all").click()
    page.mouse.move(0, 0)
    screenshot(page, "backtest-report")


def test_saved_report_opens_offline_and_fetches_nothing(
    live: LiveStack, page: Page, tmp_path: Path
) -> None:
    saved = tmp_path / "report.html"
    env = {**os.environ, "KTRDR_API_URL": live.url, "KTRDR_API_TOKEN": TOKEN}
    subprocess.run(
        [sys.executable, "-m", "ktrdr.cli.main", "ops", "report", live.backtest_id, "-o", saved],
        env=env,
        check=True,
        timeout=60,
    )
    refused = subprocess.run(
        [sys.executable, "-m", "ktrdr.cli.main", "ops", "report", live.failed_id, "-o", saved],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert refused.returncode == 1
    assert "failed, so it has no report" in refused.stderr.replace("\n", " ")
    assert saved.exists()  # the good report is still there, untouched

    requests: list[str] = []
    page.on("request", lambda request: requests.append(request.url))
    page.route("http*://**/*", lambda route: route.abort())  # no network at all
    page.goto(saved.as_uri())
    state = _rendered(page)
    assert state["charts"] == 3
    assert requests == [saved.as_uri()]
    # Its policy forbids any fetch, so nothing could be fetched even with a network.
    blocked = page.evaluate(
        f"fetch('{live.url}/api/v1/health').then(() => 'fetched', () => 'blocked')"
    )
    assert blocked == "blocked"
    assert requests == [saved.as_uri()]


def test_training_report_draws_curves_and_matrices(live: LiveStack, page: Page) -> None:
    result = live.result(live.training_id)
    page.goto(live.report_url(live.training_id))
    state = _rendered(page)
    assert state["charts"] == 2
    assert state["markers"] == 1  # the epoch whose weights were kept
    for chart in ("#chart-loss", "#chart-accuracy"):
        assert page.locator(chart).evaluate(INKED_PIXELS) > 500, f"{chart} is blank"
    for split in ("validation", "test"):
        cells = page.locator(f"#confusion-{split} tbody tr").evaluate_all(
            "rows => rows.slice(0, 3).map(r => Array.from(r.querySelectorAll('td'))"
            ".slice(0, 3).map(td => Number(td.textContent.replace(/,/g, ''))))"
        )
        assert cells == result["metrics"][split]["confusion"]
    balance = page.locator("#class-balance tbody tr").first.inner_text()
    counts = result["metrics"]["train"]["label_counts"]
    assert all(f"{counts[c]:,}" in balance for c in ("SELL", "HOLD", "BUY"))
    expect(page.locator(".subtitle")).to_contain_text(
        f"the weights kept are those of epoch {result['best_epoch']}"
    )
    screenshot(page, "training-report")


def test_reports_of_broken_operations_say_why(live: LiveStack, page: Page) -> None:
    response = page.goto(live.report_url("does-not-exist"))
    assert response is not None
    assert response.status == 404
    expect(page.locator("#problem-message")).to_contain_text("does-not-exist")
    screenshot(page, "report-missing-operation")

    response = page.goto(live.report_url(live.failed_id))
    assert response is not None
    assert response.status == 409
    expect(page.locator("#problem-message")).to_contain_text("failed, so it has no report")
    expect(page.locator("main")).to_contain_text("no bars of IBM 1d")
    screenshot(page, "report-failed-operation")

    response = page.goto(live.report_url(live.quiet_backtest_id))
    assert response is not None
    assert response.status == 200
    state = _rendered(page)
    assert (state["charts"], state["markers"], state["trades"]) == (3, 0, 0)
    expect(page.locator("#no-trades")).to_contain_text("No trades")
    assert live.result(live.quiet_backtest_id)["metrics"]["num_trades"] == 0
    screenshot(page, "report-zero-trades")


def test_cli_writes_reports_of_runs_through_the_api(
    live: LiveStack, page: Page, tmp_path: Path
) -> None:
    env = {
        **os.environ,
        "KTRDR_API_URL": live.url,
        "KTRDR_API_TOKEN": TOKEN,
        "KTRDR_STRATEGIES_DIR": str(live.stack.home / "strategies"),
    }
    for command in ("train", "backtest"):
        target = tmp_path / f"{command}.html"
        run = subprocess.run(
            [sys.executable, "-m", "ktrdr.cli.main", command, "canary_smoke", "--report", target],
            env=env,
            capture_output=True,
            text=True,
            timeout=180,
        )
        assert run.returncode == 0, run.stderr
        assert f"report written to {target}" in run.stderr.replace("\n", "")
        page.goto(target.as_uri())
        state = _rendered(page)
        assert state["charts"] == (2 if command == "train" else 3)

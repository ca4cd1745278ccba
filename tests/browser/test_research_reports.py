"""Walk-forward and sweep reports in a real Chromium: drawn offline, from results made
by the real drivers in this process (--local), saved to a file."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page
from typer.testing import CliRunner

from ktrdr.cli.app import app
from ktrdr.core.settings import get_settings
from tests.support.stack import canary_strategy

pytestmark = pytest.mark.browser


@pytest.fixture
def reports(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, Path]:
    strategies = tmp_path / "strategies"
    strategies.mkdir()
    monkeypatch.setenv("KTRDR_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("KTRDR_STRATEGIES_DIR", str(strategies))
    get_settings.cache_clear()
    (strategies / "browser_scale.yaml").write_text(canary_strategy("browser_scale", epochs=3))
    space = tmp_path / "browser.space.yaml"
    space.write_text("params:\n  indicators.rsi_14.params.period: {low: 7, high: 21}\n")
    out = {"walkforward": tmp_path / "wf.html", "sweep": tmp_path / "sweep.html"}
    runner = CliRunner()
    walked = runner.invoke(
        app,
        [
            "walkforward",
            "browser_scale",
            "--local",
            "--folds",
            "3",
            "--report",
            str(out["walkforward"]),
        ],
    )
    assert walked.exit_code == 0, walked.output
    swept = runner.invoke(
        app,
        [
            "sweep",
            "browser_scale",
            "--local",
            "--space",
            str(space),
            "--trials",
            "3",
            "--objective",
            "total_return",
            "--report",
            str(out["sweep"]),
        ],
    )
    assert swept.exit_code == 0, swept.output
    get_settings.cache_clear()
    return out


def _open(page: Page, path: Path) -> dict[str, Any]:
    requests: list[str] = []
    page.on("request", lambda request: requests.append(request.url))
    page.route("http*://**/*", lambda route: route.abort())  # no network at all
    page.goto(path.as_uri())
    page.wait_for_selector("body[data-rendered='true']", state="attached", timeout=15_000)
    assert requests == [path.as_uri()]  # self-contained: nothing else was fetched
    assert page.locator("#chart-error").is_hidden()
    return page.evaluate("({charts: ktrdrReport.charts, markers: ktrdrReport.markers})")


def test_walkforward_and_sweep_reports_draw_offline(reports: dict[str, Path], page: Page) -> None:
    state = _open(page, reports["walkforward"])
    assert state == {"charts": 1, "markers": 3}  # the equity chart, a marker per fold start
    assert page.locator("#folds tbody tr").count() == 3
    assert page.locator("#stitched-metrics tr[data-metric='total_return']").count() == 1
    assert page.locator("#chart-equity canvas").count() > 0
    page.screenshot(path=str(reports["walkforward"].with_suffix(".png")), full_page=True)

    state = _open(page, reports["sweep"])
    assert state["charts"] == 1
    assert page.locator("#trials tbody tr").count() == 3
    assert page.locator("#test-metrics").count() == 1
    assert page.locator("#chart-history canvas").count() > 0
    page.screenshot(path=str(reports["sweep"].with_suffix(".png")), full_page=True)

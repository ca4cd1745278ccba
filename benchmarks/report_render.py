"""Backtest report figures for the full bundled IBM series (3,270 daily bars, 2000-2013).

Trains the canary strategy (its training window widened to the whole series) in a
throw-away home, backtests it with explicit full dates, renders the report and prints:
the bars drawn, the report's size (raw and gzipped), the render time in Python, and the
time to first render in a real Chromium (the page's own ``performance.now()`` once its
charts have painted, over a fresh tab per run).

Run: ``make benchmark-report`` (or ``.venv/bin/python benchmarks/report_render.py``).
Needs Chromium (``make browser``). Prints figures, asserts nothing.
"""

from __future__ import annotations

import gzip
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

from playwright.sync_api import sync_playwright

from ktrdr.compute.backtesting.pipeline import backtest_model
from ktrdr.compute.device import limit_threads
from ktrdr.compute.training.pipeline import train_strategy
from ktrdr.core.settings import Settings
from ktrdr.reports import render_backtest_report
from ktrdr.research.data.store import DataStore
from ktrdr.research.strategies import parse_strategy

REPO = Path(__file__).resolve().parent.parent
START, END = "2000-03-01", "2013-03-01"  # every bar of the bundled IBM series
BROWSER_RUNS = 7
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
]


def chromium() -> str:
    given = os.environ.get("KTRDR_CHROMIUM")
    for candidate in (given, *map(shutil.which, ("chromium", "chromium-browser", "google-chrome"))):
        if candidate:
            return candidate
    sys.exit("Chromium not found: run `make browser` or set KTRDR_CHROMIUM")


def main() -> None:
    limit_threads(int(os.environ.get("KTRDR_TORCH_THREADS", "1")))
    home = Path(tempfile.mkdtemp(prefix="ktrdr-report-bench-"))
    try:
        settings = Settings(home=home, strategies_dir=REPO / "strategies")
        store = DataStore.from_settings(settings)
        text = (REPO / "ktrdr/infra/canary_smoke.yaml").read_text()
        strategy = parse_strategy(text.replace("start_date: 2005-01-01", f"start_date: {START}"))
        trained = train_strategy(strategy, store, settings.models_path)
        result = backtest_model(
            Path(trained["model_path"]), store, symbol="IBM", start=START, end=END
        )
        started = time.perf_counter()
        html = render_backtest_report(result, "benchmark")
        render_ms = (time.perf_counter() - started) * 1000
        report = home / "report.html"
        report.write_text(html, encoding="utf-8")
        raw = report.stat().st_size
        packed = len(gzip.compress(html.encode("utf-8")))

        timings = []
        with tempfile.TemporaryDirectory() as profile, sync_playwright() as playwright:
            context = playwright.chromium.launch_persistent_context(
                profile,
                executable_path=chromium(),
                headless=True,
                args=CHROMIUM_ARGS,
                viewport={"width": 1280, "height": 900},
            )
            for _ in range(BROWSER_RUNS):
                page = context.new_page()
                page.goto(report.as_uri())
                page.wait_for_selector(
                    "body[data-rendered='true']", state="attached", timeout=30_000
                )
                timings.append(page.evaluate("ktrdrReport.renderMs"))
                markers = page.evaluate("ktrdrReport.markers")
                page.close()
            context.close()

        print(
            f"series: IBM 1d {START} .. {END}, backtest {result['bars']:,} bars "
            f"({result['range']['start'][:10]} .. {result['range']['end'][:10]}; the first "
            "bars feed the indicators' warm-up), "
            f"{result['metrics']['num_trades']:,} trades, {markers:,} markers"
        )
        print(
            f"report size: {raw:,} bytes ({raw / 1024:,.0f} KiB), gzipped {packed:,} bytes "
            f"({packed / 1024:,.0f} KiB)"
        )
        print(f"render in Python: {render_ms:.0f} ms")
        print(
            f"time to first render in Chromium over {BROWSER_RUNS} fresh tabs: median "
            f"{statistics.median(timings):.0f} ms, min {min(timings):.0f} ms, "
            f"max {max(timings):.0f} ms"
        )
    finally:
        shutil.rmtree(home, ignore_errors=True)


if __name__ == "__main__":
    main()

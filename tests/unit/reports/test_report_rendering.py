"""Reports rendered from stored results: self-contained, escaped, faithful to the JSON."""

from __future__ import annotations

import base64
import hashlib
import json
import re
from html.parser import HTMLParser
from importlib.resources import files
from typing import Any

import pytest

from ktrdr.reports import (
    ReportDataError,
    render_backtest_report,
    render_problem_page,
    render_report,
    render_training_report,
)
from ktrdr.reports.formatting import format_metric
from ktrdr.reports.render import (
    LIBRARY_FILE,
    LIBRARY_SHA256,
    LIBRARY_VERSION,
    trade_markers,
    underwater,
)
from ktrdr.reports.results import TradeRow
from tests.support.report_results import (
    DAY,
    T0,
    backtest_result,
    legacy_backtest_result,
    training_result,
    with_changes,
    zero_trade_result,
)


class Page(HTMLParser):
    """Every element's attributes, the inline scripts and the visible text."""

    def __init__(self, html: str) -> None:
        super().__init__()
        self.elements: list[tuple[str, dict[str, str | None]]] = []
        self.scripts: list[tuple[dict[str, str | None], str]] = []
        self.text: list[str] = []
        self._script: dict[str, str | None] | None = None
        self.feed(html)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.elements.append((tag, dict(attrs)))
        if tag == "script":
            self._script = dict(attrs)

    def handle_endtag(self, tag: str) -> None:
        if tag == "script":
            self._script = None

    def handle_data(self, data: str) -> None:
        if self._script is not None:
            self.scripts.append((self._script, data))
        else:
            self.text.append(data)

    def having(self, name: str) -> list[dict[str, str | None]]:
        return [attrs for _, attrs in self.elements if name in attrs]

    def payload(self) -> dict[str, Any]:
        (data,) = [text for attrs, text in self.scripts if attrs.get("id") == "report-data"]
        return json.loads(data)


def _csp(page: Page) -> str:
    (meta,) = [a for t, a in page.elements if t == "meta" and a.get("http-equiv")]
    return str(meta["content"])


def test_a_backtest_report_is_one_self_contained_file() -> None:
    page = Page(render_backtest_report(backtest_result(), "op-1"))
    assert not [a for t, a in page.elements if t in {"link", "img", "iframe"}]
    assert not page.having("src")  # no script, image or frame is loaded from anywhere
    links = [a["href"] for t, a in page.elements if t == "a"]
    assert links == ["#main", "https://www.tradingview.com/"]  # skip link; the credit
    csp = _csp(page)
    assert "default-src 'none'" in csp
    assert "connect-src" not in csp  # default-src 'none' forbids every fetch
    code = [text for attrs, text in page.scripts if "type" not in attrs]
    assert len(code) == 3  # the library, the shared helpers, the backtest charts
    assert f"Lightweight Charts™ v{LIBRARY_VERSION}" in code[0]
    for text in code:  # each inline script is allowed by its hash, and nothing else is
        digest = base64.b64encode(hashlib.sha256(text.encode()).digest()).decode()
        assert f"'sha256-{digest}'" in csp
    assert "'unsafe-inline'" not in csp.split("script-src")[1].split(";")[0]


def test_the_metrics_table_is_the_result_json() -> None:
    result = backtest_result()
    page = Page(render_backtest_report(result))
    cells = {
        (a["data-column"], a["data-value"])
        for a in page.having("data-column")
        if a.get("data-value") is not None
    }
    rows = [a["data-metric"] for a in page.having("data-metric")]
    assert rows == list(result["metrics"])
    for key, value in result["metrics"].items():
        assert ("strategy", json.dumps(value)) in cells
        assert format_metric(key, value) in page.text
    for value in result["benchmark"].values():
        assert ("benchmark", json.dumps(value)) in cells
    assert "-4.00%" in page.text  # the excess return


def test_provenance_names_strategy_model_range_split_and_costs() -> None:
    text = " ".join(Page(render_backtest_report(backtest_result(), "op-7")).text)
    for fact in (
        "demo/1d_v3",
        "2024-01-01 .. 2024-01-10, 10 bars (the model's test split (out of sample))",
        "Model's train split",
        "2020-01-01 .. 2022-12-30",
        "commission 0.100% per side, slippage 0.050%",
        "confidence >= 0.5",
        "op-7",
    ):
        assert fact in text


def test_two_markers_per_trade_long_and_short_told_apart() -> None:
    result = backtest_result()
    markers = Page(render_backtest_report(result)).payload()["markers"]
    assert len(markers) == 2 * len(result["trades"])
    by_id = {m["id"]: m for m in markers}
    long_in, long_out = by_id["entry-1"], by_id["exit-1"]
    short_in, short_out = by_id["entry-2"], by_id["exit-2"]
    assert (long_in["shape"], long_in["position"]) == ("arrowUp", "belowBar")
    assert (short_in["shape"], short_in["position"]) == ("arrowDown", "aboveBar")
    assert long_out["shape"] == short_out["shape"] == "circle"
    assert long_in["color"] == long_out["color"] != short_in["color"] == short_out["color"]
    assert long_in["time"] == T0 + DAY  # on the candle of the fill
    assert [m["time"] for m in markers] == sorted(m["time"] for m in markers)


def test_markers_land_on_the_candle_holding_the_fill() -> None:
    trade = TradeRow(
        side="long",
        entry_time="2024-01-05T12:00:00+00:00",  # inside the candle starting 2024-01-04
        exit_time="2024-01-09T00:00:00+00:00",
    )
    candles = [T0 + i * 3 * DAY for i in range(4)]  # 3-day candles: 01-01, 01-04, 01-07, 01-10
    entry, exit_ = trade_markers([trade], candles)
    assert (entry["time"], exit_["time"]) == (candles[1], candles[2])


def test_underwater_is_the_fall_from_the_running_peak() -> None:
    assert underwater([100.0, 110.0, 99.0, None, 121.0]) == pytest.approx(
        [0.0, 0.0, -0.1, None, 0.0]
    )


def test_user_text_is_escaped_everywhere() -> None:
    hostile = '</script><script>alert("x")</script><img src=x onerror=alert(1)>'
    result = with_changes(backtest_result(strategy="x"), strategy=hostile, symbol=hostile)
    result["trades"][0]["exit_reason"] = hostile
    html = render_backtest_report(result, operation_id=hostile)
    page = Page(html)
    assert not [a for t, a in page.elements if t == "img"]
    assert len([1 for t, _ in page.elements if t == "script"]) == 4  # data + three scripts
    assert hostile in " ".join(page.text)  # shown as text
    assert page.payload()["symbol"] == hostile  # and intact in the data block
    assert "</script><script>alert" not in html
    problem = render_problem_page(hostile, hostile, [(hostile, hostile)])
    assert "<script>" not in problem
    assert "<img" not in problem


def test_zero_trades_say_so_and_still_draw_the_equity() -> None:
    page = Page(render_backtest_report(zero_trade_result()))
    (note,) = [a for t, a in page.elements if a.get("id") == "no-trades"]
    assert note is not None
    assert any("No trades" in t for t in page.text)
    assert not page.having("data-sort-key")  # no trade table
    payload = page.payload()
    assert payload["markers"] == []
    assert payload["chart"]["equity"] == [100_000.0] * 10


def test_an_older_result_draws_what_it_has_and_says_what_is_missing() -> None:
    page = Page(render_backtest_report(legacy_backtest_result()))
    text = " ".join(page.text)
    assert "holds no price bars" in text
    assert "no buy-and-hold benchmark" in text
    chart = page.payload()["chart"]
    assert chart["equity"][:2] == [100_000.0, 101_000.0]  # from equity_curve
    assert not [a for a in page.having("id") if a["id"] == "chart-price"]


def test_an_older_long_equity_curve_is_thinned_to_the_bound() -> None:
    result = legacy_backtest_result()
    result["equity_curve"] = [
        [f"2000-01-01T00:{i // 60:02d}:{i % 60:02d}+00:00", 1000.0 + i] for i in range(3_000)
    ]
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr("ktrdr.reports.render.MAX_CHART_POINTS", 1_000)
        chart = Page(render_backtest_report(result)).payload()["chart"]
    assert len(chart["time"]) == 1_000
    assert chart["equity"][-1] == 3_999.0  # the last point is kept


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"metrics": None}, "metrics"),
        ({"trades": [{"side": "sideways"}]}, "trades.0"),
        ({"chart": {**backtest_result()["chart"], "close": [1.0]}}, "chart"),
        ({"strategy": None}, "strategy"),
    ],
)
def test_a_result_that_cannot_be_drawn_names_the_field(change: dict[str, Any], field: str) -> None:
    with pytest.raises(ReportDataError) as raised:
        render_backtest_report(with_changes(backtest_result(), **change))
    assert raised.value.field is not None
    assert raised.value.field.startswith(field)
    assert "cannot be drawn" in str(raised.value)


def test_a_result_that_is_not_an_object_is_refused() -> None:
    with pytest.raises(ReportDataError):
        render_report("backtesting", ["not", "an", "object"])  # type: ignore[arg-type]
    with pytest.raises(ReportDataError):
        render_report("something_else", backtest_result())


def test_a_training_report_has_curves_stopping_point_balance_and_confusion() -> None:
    result = training_result()
    page = Page(render_training_report(result, "op-9"))
    text = " ".join(page.text)
    assert "Ran 6 of 50 epochs, stopped early" in text
    assert "weights kept are those of epoch 3" in text
    payload = page.payload()
    assert payload["best_epoch"] == 3
    assert [row["epoch"] for row in payload["history"]] == [1, 2, 3, 4, 5, 6]
    ids = {a["id"] for a in page.having("id")}
    assert {"chart-loss", "chart-accuracy", "confusion-validation", "confusion-test"} <= ids
    assert "confusion-train" not in ids
    # Class balance of the train split: true SELL 20, HOLD 30, BUY 20 of 70 rows.
    assert {"20 (28.6%)", "30 (42.9%)"} <= set(page.text)
    code = [t for a, t in page.scripts if "type" not in a]
    assert len(code) == 3


def test_a_training_result_without_history_still_shows_its_matrices() -> None:
    result = training_result()
    del result["history"]
    page = Page(render_training_report(result))
    ids = {a["id"] for a in page.having("id")}
    assert "chart-loss" not in ids
    assert "confusion-test" in ids
    assert any("no per-epoch history" in t for t in page.text)


def test_the_vendored_library_is_the_pinned_release_with_its_licence() -> None:
    package = files("ktrdr.reports")
    library = package.joinpath(LIBRARY_FILE).read_bytes()
    assert hashlib.sha256(library).hexdigest() == LIBRARY_SHA256
    licence = package.joinpath("vendor/lightweight-charts/LICENSE").read_text()
    assert "Apache License" in licence
    assert re.search(rf"v{re.escape(LIBRARY_VERSION)}\b", library[:300].decode())


def test_a_training_report_says_what_the_purge_dropped_and_whether_it_resumed() -> None:
    result = with_changes(
        training_result(),
        data_split={"train": 0.7, "validation": 0.15, "test": 0.15, "embargo_bars": 5},
        purge={
            "label_horizon": 10,
            "embargo_bars": 5,
            "purged": {"train": 10, "validation": 10, "test": 10},
            "embargoed": {"validation": 5, "test": 5},
        },
        resumed_from_epoch=4,
    )
    text = " ".join(Page(render_training_report(result)).text)
    assert (
        "label horizon 10 bars: train 10, validation 10 + 5 embargoed, test 10 + 5 embargoed"
        in text
    )
    assert "from the checkpoint of epoch 4" in text
    assert "train 70%, validation 15%, test 15%" in text  # the embargo is no fraction

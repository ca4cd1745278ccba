"""Build the bundled sample series in ktrdr/research/data/samples/ from the bokeh-sampledata wheel.

Usage:
    pip download --no-deps bokeh-sampledata -d /tmp/bk
    python scripts/make_sample_data.py /tmp/bk/bokeh_sampledata-*.whl

The wheel holds Quandl WIKI daily prices (public domain) up to 2013-03-01, unadjusted,
plus an adjusted close. Prices are adjusted for splits and dividends with
factor = adj_close / close (open, high, low, close times the factor, rounded to 4
decimals; volume divided by it, rounded to an integer). Every source row must pass the
project's CSV rules before and after adjustment: nothing is dropped or repaired.
Standard library only.
"""

from __future__ import annotations

import argparse
import csv
import gzip
import io
import math
import sys
import zipfile
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from ktrdr.research.data.csv_format import (  # noqa: E402  (needs the sys.path line above)
    Bar,
    CsvReport,
    format_bars_csv,
    parse_ohlcv_csv,
    parse_timestamp,
)

MEMBER = "bokeh_sampledata/_data/stocks.csv.gz"
TICKERS = ("AAPL", "MSFT", "IBM", "GOOG")
DEFAULT_OUT = ROOT / "ktrdr" / "data" / "samples"
TIMEFRAME = "1d"


class SourceError(Exception):
    pass


def read_source(wheel: Path) -> dict[str, list[dict[str, str]]]:
    with zipfile.ZipFile(wheel) as archive:
        raw = gzip.decompress(archive.read(MEMBER)).decode("utf-8")
    rows: dict[str, list[dict[str, str]]] = {ticker: [] for ticker in TICKERS}
    reader = csv.DictReader(io.StringIO(raw, newline=""))
    expected = {"Ticker", "Date", "Open", "High", "Low", "Close", "Volume", "Adj Close"}
    if not expected <= set(reader.fieldnames or ()):
        raise SourceError(f"{MEMBER} has columns {reader.fieldnames}, expected {sorted(expected)}")
    for row in reader:
        if row["Ticker"] in rows:
            rows[row["Ticker"]].append(row)
    return rows


def raw_csv(rows: list[dict[str, str]]) -> str:
    lines = ["date,open,high,low,close,volume"]
    lines += [
        ",".join(r[k] for k in ("Date", "Open", "High", "Low", "Close", "Volume")) for r in rows
    ]
    return "\n".join(lines) + "\n"


def adjust(ticker: str, rows: list[dict[str, str]]) -> list[Bar]:
    bars = []
    for line, row in enumerate(rows, start=2):
        try:
            close, adj_close = float(row["Close"]), float(row["Adj Close"])
            factor = adj_close / close
        except (ValueError, ZeroDivisionError) as exc:
            raise SourceError(f"{ticker} line {line}: no adjustment factor ({exc})") from None
        if not (math.isfinite(factor) and factor > 0):
            raise SourceError(f"{ticker} line {line}: bad adjustment factor {factor}")
        bars.append(
            Bar(
                parse_timestamp(row["Date"]),
                round(float(row["Open"]) * factor, 4),
                round(float(row["High"]) * factor, 4),
                round(float(row["Low"]) * factor, 4),
                round(close * factor, 4),
                float(round(float(row["Volume"]) / factor)),
            )
        )
    return bars


def check(ticker: str, stage: str, text: str) -> CsvReport:
    report = parse_ohlcv_csv(text, TIMEFRAME)
    if not report.ok:
        raise SourceError(f"{ticker} ({stage}) breaks the CSV rules:\n{report.summary()}")
    return report


README = """# Bundled sample data

Daily OHLCV bars for {tickers}, used when the data directory holds no
file for a series (a user import of the same symbol and timeframe takes precedence).

- **Source:** Quandl WIKI Prices, as redistributed in the PyPI package
  `bokeh-sampledata` (`{wheel}`,
  file `{member}`).
- **Licence:** public domain (Quandl declared the WIKI data public domain and permitted
  redistribution). Provided as is, with no accuracy guarantee.
- **Date range** (the gap in September 2001 is the market closure after 9/11):
{ranges}
- **Adjustment:** split- and dividend-adjusted with `factor = adj_close / close` from
  the source: open, high, low and close are multiplied by the factor and rounded to 4
  decimals; volume is divided by it and rounded to an integer. No row was dropped or
  repaired: every source row passed the project's CSV rules.
- **Format:** `timestamp,open,high,low,close,volume`, timestamps ISO-8601 UTC
  (`2005-01-03T00:00:00Z`, the start of the trading day).

Regenerate with `python scripts/make_sample_data.py <bokeh-sampledata wheel>`.
"""


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("wheel", nargs="?", type=Path, help="path to the bokeh-sampledata wheel")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="output directory")
    args = parser.parse_args(argv)
    if args.wheel is None:
        print(
            "Give the bokeh-sampledata wheel. Fetch it with:\n"
            "  pip download --no-deps bokeh-sampledata -d /tmp/bk\n"
            "then run: python scripts/make_sample_data.py /tmp/bk/bokeh_sampledata-*.whl",
            file=sys.stderr,
        )
        return 2
    try:
        source = read_source(args.wheel)
        outputs: dict[str, tuple[str, date, date, CsvReport]] = {}
        for ticker in TICKERS:
            rows = source[ticker]
            if not rows:
                raise SourceError(f"{ticker} is not in {MEMBER}")
            check(ticker, "source", raw_csv(rows))
            text = format_bars_csv(adjust(ticker, rows))
            report = check(ticker, "adjusted", text)
            first, last = rows[0]["Date"], rows[-1]["Date"]
            outputs[ticker] = (text, date.fromisoformat(first), date.fromisoformat(last), report)
    except (OSError, KeyError, zipfile.BadZipFile, SourceError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1

    args.out.mkdir(parents=True, exist_ok=True)
    ranges = []
    for ticker, (text, first, last, report) in outputs.items():
        (args.out / f"{ticker}_{TIMEFRAME}.csv").write_text(text, encoding="utf-8", newline="")
        print(f"{ticker}_{TIMEFRAME}.csv: {len(report.bars)} bars, {first} to {last}")
        gaps = ", ".join(f"{g.start:%Y-%m-%d} and {g.end:%Y-%m-%d}" for g in report.unexpected_gaps)
        ranges.append(
            f"  - {ticker}: {first} to {last} ({len(report.bars)} bars"
            + (f"; no bars between {gaps}" if gaps else "")
            + ")"
        )
    (args.out / "README.md").write_text(
        README.format(
            tickers=", ".join(TICKERS),
            wheel=args.wheel.name,
            member=MEMBER,
            ranges="\n".join(ranges),
        ),
        encoding="utf-8",
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())

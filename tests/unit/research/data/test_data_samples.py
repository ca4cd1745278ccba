"""The bundled samples and the script that builds them."""

import gzip
import importlib.util
import zipfile
from pathlib import Path

import pytest

from ktrdr.research.data.csv_format import HEADER, parse_ohlcv_csv
from ktrdr.research.data.store import DEFAULT_SAMPLE_DIR, DataStore
from tests.support.paths import REPO_ROOT as ROOT

SCRIPT = ROOT / "scripts" / "make_sample_data.py"


@pytest.mark.parametrize("symbol", ["AAPL", "MSFT", "IBM", "GOOG"])
def test_sample_is_canonical_and_valid(symbol: str):
    text = (DEFAULT_SAMPLE_DIR / f"{symbol}_1d.csv").read_text(encoding="utf-8")
    assert text.startswith(HEADER + "\n")
    report = parse_ohlcv_csv(text, "1d")
    assert report.ok, report.summary()
    if symbol != "GOOG":
        assert len(report.bars) >= 3000
    # the only unexpected gap allowed is the market closure after 9/11
    assert [g.start.date().isoformat() for g in report.unexpected_gaps] in ([], ["2001-09-10"])


def test_samples_are_listed_with_readme(tmp_path: Path):
    infos = {i.symbol: i for i in DataStore(tmp_path / "empty").list_series()}
    assert {"AAPL", "MSFT", "IBM", "GOOG"} <= set(infos)
    assert all(i.source == "sample" for i in infos.values())
    assert infos["AAPL"].bars >= 3000
    readme = (DEFAULT_SAMPLE_DIR / "README.md").read_text(encoding="utf-8")
    assert "public domain" in readme.lower()
    assert "adj_close / close" in readme


# --- the script, on a tiny fake wheel --------------------------------------------------


def load_script():
    spec = importlib.util.spec_from_file_location("make_sample_data", SCRIPT)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


SOURCE_HEADER = "Ticker,Date,Open,High,Low,Close,Volume,Adj Close"


def fake_wheel(tmp_path: Path, extra_rows: list[str] | None = None) -> Path:
    rows = [SOURCE_HEADER]
    for ticker in ("AAPL", "MSFT", "IBM", "GOOG"):
        rows.append(f"{ticker},2005-01-03,100.0,110.0,90.0,105.0,1000,52.5")
        rows.append(f"{ticker},2005-01-04,105.0,106.0,100.0,101.0,3000,50.5")
    rows += extra_rows or []
    payload = gzip.compress(("\n".join(rows) + "\n").encode())
    wheel = tmp_path / "bokeh_sampledata-0-py3-none-any.whl"
    with zipfile.ZipFile(wheel, "w") as archive:
        archive.writestr("bokeh_sampledata/_data/stocks.csv.gz", payload)
    return wheel


def test_script_adjusts_prices_and_volume(tmp_path: Path):
    out = tmp_path / "out"
    assert load_script().main([str(fake_wheel(tmp_path)), "--out", str(out)]) == 0
    lines = (out / "AAPL_1d.csv").read_text().splitlines()
    assert lines == [
        HEADER,
        "2005-01-03T00:00:00Z,50,55,45,52.5,2000",
        "2005-01-04T00:00:00Z,52.5,53,50,50.5,6000",
    ]
    assert sorted(p.name for p in out.iterdir()) == [
        "AAPL_1d.csv",
        "GOOG_1d.csv",
        "IBM_1d.csv",
        "MSFT_1d.csv",
        "README.md",
    ]


def test_script_fails_on_a_bad_source_row_and_writes_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
):
    wheel = fake_wheel(tmp_path, ["IBM,2005-01-05,100.0,99.0,90.0,95.0,10,95.0"])
    out = tmp_path / "out"
    assert load_script().main([str(wheel), "--out", str(out)]) == 1
    assert "IBM" in capsys.readouterr().err
    assert not out.exists()


def test_script_without_wheel_explains_how_to_get_it(capsys: pytest.CaptureFixture[str]):
    assert load_script().main([]) == 2
    assert "pip download --no-deps bokeh-sampledata" in capsys.readouterr().err

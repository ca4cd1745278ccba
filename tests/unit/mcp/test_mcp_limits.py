"""Lists inside results are sampled down, and say so."""

from __future__ import annotations

import pytest

from ktrdr.mcp.errors import ToolArgumentError
from ktrdr.mcp.limits import bound_lists, sample_evenly
from ktrdr.mcp.tools.research import model_reference


def test_sampling_keeps_first_and_last_and_the_limit() -> None:
    items = list(range(1000))
    sampled = sample_evenly(items, 5)
    assert sampled == [0, 250, 500, 749, 999]
    assert sample_evenly(items[:3], 5) == [0, 1, 2]
    assert sample_evenly(items, 1) == [999]


def test_bound_lists_reports_each_cut_list_by_path() -> None:
    result = {
        "metrics": {"sharpe_ratio": 1.2},
        "trades": [{"pnl": i} for i in range(30)],
        "equity_curve": [[str(i), float(i)] for i in range(100)],
        "signal_counts": {"buy": 1},
    }
    bounded, cut = bound_lists(result, 10)
    assert cut == {"trades": 30, "equity_curve": 100}
    assert len(bounded["trades"]) == len(bounded["equity_curve"]) == 10
    assert bounded["equity_curve"][-1] == ["99", 99.0]
    assert bounded["metrics"] == result["metrics"]
    assert bound_lists(result, 100)[1] == {}


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("rsi_macd_trend/1d_v2", "rsi_macd_trend/1d_v2"),
        ("v3", "v3"),
        ("latest", "latest"),
        ("models/rsi_macd_trend/1d_v2/model.pt", "rsi_macd_trend/1d_v2"),
        ("/data/models/canary_smoke/1d_latest", "canary_smoke/1d_latest"),
    ],
)
def test_a_model_path_of_the_original_server_becomes_a_model_id(given: str, expected: str) -> None:
    assert model_reference(given) == expected


def test_a_model_path_without_a_model_is_refused_naming_the_argument() -> None:
    with pytest.raises(ToolArgumentError) as refused:
        model_reference("../../etc/passwd")
    assert refused.value.field == "model_path"

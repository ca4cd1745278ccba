"""Every indicator used by the shipped strategies computes, and its references resolve."""

from __future__ import annotations

import numpy as np
import pytest

from ktrdr.compute.fuzzy import fuzzify
from ktrdr.compute.indicators import column_for, compute_indicators, warmup_bars
from ktrdr.research.strategies import load_strategy
from tests.support.paths import STRATEGY_FILES

STRATEGIES = STRATEGY_FILES


def test_strategies_are_found():
    assert STRATEGIES


@pytest.mark.parametrize("path", STRATEGIES, ids=lambda p: p.stem)
def test_strategy_indicators_compute(path, ohlcv):
    config = load_strategy(path)
    out = compute_indicators(config.indicators, ohlcv)
    warmup = warmup_bars(config.indicators)
    assert warmup < len(ohlcv)
    assert np.isfinite(out.iloc[warmup:].to_numpy()).all()

    references = [s.indicator for s in config.fuzzy_sets.values()]
    references += [i.indicator for i in config.nn_inputs if i.indicator is not None]
    for reference in references:
        assert column_for(reference, config.indicators) in out.columns

    for set_id, fuzzy_set in config.fuzzy_sets.items():
        values = out[column_for(fuzzy_set.indicator, config.indicators)]
        memberships = fuzzify(set_id, fuzzy_set, values).iloc[warmup:].to_numpy()
        assert ((memberships >= 0) & (memberships <= 1)).all()

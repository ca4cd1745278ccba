"""Performance metrics of an equity curve and its trades (pure numpy).

Conventions, shared by every function here:

* ``equity`` is the marked-to-market equity at each bar close, first bar included.
* ``returns`` are per-bar simple returns, ``equity[i] / equity[i-1] - 1`` (one fewer
  than the bars).
* Ratios whose denominator is zero are 0, except ``profit_factor`` (see there).
"""

from __future__ import annotations

import math

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]

METRIC_KEYS: tuple[str, ...] = (
    "total_return",
    "annualized_return",
    "volatility",
    "sharpe_ratio",
    "sortino_ratio",
    "calmar_ratio",
    "max_drawdown",
    "max_drawdown_duration_bars",
    "win_rate",
    "profit_factor",
    "num_trades",
    "exposure",
    "avg_holding_bars",
)


def bar_returns(equity: npt.ArrayLike) -> FloatArray:
    """Per-bar simple returns: ``equity[1:] / equity[:-1] - 1``."""
    eq = np.asarray(equity, dtype=np.float64)
    if eq.size < 2:
        return np.empty(0, dtype=np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        return eq[1:] / eq[:-1] - 1.0


def total_return(equity: npt.ArrayLike) -> float:
    """``final / initial - 1``; 0 for an empty curve."""
    eq = np.asarray(equity, dtype=np.float64)
    if eq.size == 0:
        return 0.0
    return float(eq[-1] / eq[0] - 1.0)


def annualized_return(total: float, periods: int, bars_per_year: float) -> float:
    """Compound ``total`` to a year: ``(1 + total) ** (bars_per_year / periods) - 1``.

    ``periods`` is the number of bar-to-bar returns (bars - 1). 0 with no periods;
    -1 when the account is wiped out (a negative base has no real power).
    """
    if periods <= 0:
        return 0.0
    if 1.0 + total <= 0.0:
        return -1.0
    try:
        return float((1.0 + total) ** (bars_per_year / periods) - 1.0)
    except OverflowError:
        # Huge gains over very few bars: the annualised figure is meaningless anyway.
        return math.inf


def volatility(returns: npt.ArrayLike, bars_per_year: float) -> float:
    """Annualised volatility: ``std(returns, ddof=1) * sqrt(bars_per_year)``; 0 if < 2."""
    r = np.asarray(returns, dtype=np.float64)
    if r.size < 2:
        return 0.0
    return float(r.std(ddof=1) * math.sqrt(bars_per_year))


def _excess(returns: npt.ArrayLike, bars_per_year: float, risk_free_rate: float) -> FloatArray:
    # The annual rate is spread evenly over the bars (simple, not compounded).
    return np.asarray(returns, dtype=np.float64) - risk_free_rate / bars_per_year


def sharpe_ratio(
    returns: npt.ArrayLike, bars_per_year: float, risk_free_rate: float = 0.0
) -> float:
    """``mean(excess) / std(excess, ddof=1) * sqrt(bars_per_year)``; 0 when std is 0.

    ``excess = returns - risk_free_rate / bars_per_year``.
    """
    ex = _excess(returns, bars_per_year, risk_free_rate)
    if ex.size < 2:
        return 0.0
    std = ex.std(ddof=1)
    if not std > 0:
        return 0.0
    return float(ex.mean() / std * math.sqrt(bars_per_year))


def sortino_ratio(
    returns: npt.ArrayLike, bars_per_year: float, risk_free_rate: float = 0.0
) -> float:
    """``mean(excess) / downside_deviation * sqrt(bars_per_year)``.

    ``downside_deviation = sqrt(mean(min(excess, 0) ** 2))`` over all bars (target 0
    excess return). 0 when there is no downside, like Sharpe with zero std.
    """
    ex = _excess(returns, bars_per_year, risk_free_rate)
    if ex.size == 0:
        return 0.0
    downside = np.minimum(ex, 0.0)
    dd = math.sqrt(float(np.mean(downside * downside)))
    if not dd > 0:
        return 0.0
    return float(ex.mean() / dd * math.sqrt(bars_per_year))


def drawdowns(equity: npt.ArrayLike) -> FloatArray:
    """Drawdown at each bar as a positive fraction: ``1 - equity / running_peak``."""
    eq = np.asarray(equity, dtype=np.float64)
    if eq.size == 0:
        return np.empty(0, dtype=np.float64)
    peak = np.maximum.accumulate(eq)
    with np.errstate(divide="ignore", invalid="ignore"):
        return 1.0 - eq / peak


def max_drawdown(equity: npt.ArrayLike) -> float:
    """Largest peak-to-trough fall as a positive fraction (0.25 = -25 %); 0 if none."""
    dd = drawdowns(equity)
    if dd.size == 0:
        return 0.0
    return float(max(dd.max(), 0.0))


def max_drawdown_duration(equity: npt.ArrayLike) -> int:
    """Longest run of consecutive bars whose equity is below an earlier peak."""
    eq = np.asarray(equity, dtype=np.float64)
    if eq.size == 0:
        return 0
    below = eq < np.maximum.accumulate(eq)
    # Run boundaries: +1 where a run starts, -1 one past where it ends.
    edges = np.diff(np.concatenate(([0], below.view(np.int8), [0])))
    starts = np.flatnonzero(edges == 1)
    if starts.size == 0:
        return 0
    ends = np.flatnonzero(edges == -1)
    return int((ends - starts).max())


def calmar_ratio(annualized: float, max_dd: float) -> float:
    """``annualized_return / max_drawdown``; 0 when there is no drawdown."""
    if not max_dd > 0:
        return 0.0
    return float(annualized / max_dd)


def win_rate(pnls: npt.ArrayLike) -> float:
    """Trades with pnl > 0 over all trades; 0 with no trades."""
    p = np.asarray(pnls, dtype=np.float64)
    if p.size == 0:
        return 0.0
    return float(np.count_nonzero(p > 0) / p.size)


def profit_factor(pnls: npt.ArrayLike) -> float:
    """Gross profit / gross loss (both positive).

    ``inf`` with profits and no losses; NaN when there is neither (no trades, or only
    break-even ones): undefined rather than a misleading number.
    """
    p = np.asarray(pnls, dtype=np.float64)
    gross_profit = float(p[p > 0].sum())
    gross_loss = float(-p[p < 0].sum())
    if gross_loss > 0:
        return gross_profit / gross_loss
    return math.inf if gross_profit > 0 else math.nan


def compute_metrics(
    equity: npt.ArrayLike,
    pnls: npt.ArrayLike,
    holding_bars: npt.ArrayLike,
    bars_per_year: float,
    risk_free_rate: float = 0.0,
) -> dict[str, float | int]:
    """Every metric in :data:`METRIC_KEYS`, in that order.

    ``exposure`` is the fraction of bars with an open position, ``sum(holding_bars) /
    bars`` (positions never overlap); ``avg_holding_bars`` is the mean holding period
    (0 with no trades).
    """
    eq = np.asarray(equity, dtype=np.float64)
    hold = np.asarray(holding_bars, dtype=np.float64)
    returns = bar_returns(eq)
    total = total_return(eq)
    annual = annualized_return(total, returns.size, bars_per_year)
    mdd = max_drawdown(eq)
    return {
        "total_return": total,
        "annualized_return": annual,
        "volatility": volatility(returns, bars_per_year),
        "sharpe_ratio": sharpe_ratio(returns, bars_per_year, risk_free_rate),
        "sortino_ratio": sortino_ratio(returns, bars_per_year, risk_free_rate),
        "calmar_ratio": calmar_ratio(annual, mdd),
        "max_drawdown": mdd,
        "max_drawdown_duration_bars": max_drawdown_duration(eq),
        "win_rate": win_rate(pnls),
        "profit_factor": profit_factor(pnls),
        "num_trades": int(np.asarray(pnls).size),
        "exposure": float(hold.sum() / eq.size) if eq.size else 0.0,
        "avg_holding_bars": float(hold.mean()) if hold.size else 0.0,
    }

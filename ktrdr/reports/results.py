"""What a report reads of a stored result: tolerant models of the result JSON.

Results are written by workers and kept as they were; a result written before a field
existed still renders (the field is ``None`` and the report says what is missing).
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

Number = float | int | None


class ResultModel(BaseModel):
    """What every report reads a stored result with: fields it does not know are ignored."""

    model_config = ConfigDict(extra="ignore")


class TradeRow(ResultModel):
    side: Literal["long", "short"]
    entry_time: str
    entry_price: float | None = None
    exit_time: str
    exit_price: float | None = None
    units: float | None = None
    pnl: float | None = None
    return_pct: float | None = None
    holding_bars: int | None = None
    exit_reason: str | None = None


class ChartSeries(ResultModel):
    """Columns of equal length: one candle each (see ktrdr.compute.backtesting.chart)."""

    step: int = Field(default=1, ge=1)
    bars: int | None = None
    time: list[int]
    open: list[float | None]
    high: list[float | None]
    low: list[float | None]
    close: list[float | None]
    equity: list[float | None]
    benchmark_equity: list[float | None] | None = None

    @model_validator(mode="after")
    def _same_length(self) -> ChartSeries:
        columns = {"open": self.open, "high": self.high, "low": self.low, "close": self.close}
        columns["equity"] = self.equity
        if self.benchmark_equity is not None:
            columns["benchmark_equity"] = self.benchmark_equity
        for name, values in columns.items():
            if len(values) != len(self.time):
                raise ValueError(f"{name} has {len(values)} values for {len(self.time)} times")
        if any(later <= earlier for earlier, later in zip(self.time, self.time[1:], strict=False)):
            raise ValueError("time must increase")
        return self


class DateSpan(ResultModel):
    start: str
    end: str
    source: str | None = None


class SymbolPart(ResultModel):
    """One symbol of a multi-symbol backtest, or their combination (start/end, no range)."""

    metrics: dict[str, Number]
    benchmark: dict[str, Number] | None = None
    excess_return: float | None = None
    range: DateSpan | None = None
    start: str | None = None
    end: str | None = None
    final_equity: float | None = None


class BacktestResultView(ResultModel):
    strategy: str
    model_id: str | None = None
    model_created_at: str | None = None
    symbol: str | None = None
    timeframe: str | None = None
    range: DateSpan | None = None
    bars: int | None = None
    initial_capital: float | None = None
    final_equity: float | None = None
    metrics: dict[str, Number]
    benchmark: dict[str, Number] | None = None
    excess_return: float | None = None
    trades: list[TradeRow] = Field(default_factory=list)
    chart: ChartSeries | None = None
    splits: dict[str, list[str]] | None = None
    costs: dict[str, float | int] | None = None
    decisions: dict[str, Any] | None = None
    signal_counts: dict[str, int] | None = None
    # Several symbols: the top level is the first one's; these hold each and the whole.
    symbols: list[str] | None = None
    per_symbol: dict[str, SymbolPart] | None = None
    combined: SymbolPart | None = None


class SplitEvaluation(ResultModel):
    loss: float | None = None
    accuracy: float | None = None
    rows: int = 0
    per_class: dict[str, dict[str, float]] | None = None
    confusion: list[list[int]] | None = None
    label_counts: dict[str, int] | None = None


class EpochRow(ResultModel):
    epoch: int
    train_loss: float | None = None
    train_accuracy: float | None = None
    val_loss: float | None = None
    val_accuracy: float | None = None


class TrainingResultView(ResultModel):
    strategy: str
    model_id: str | None = None
    timeframe: str | None = None
    device: str | None = None
    training_seconds: float | None = None
    epochs_run: int | None = None
    epochs_configured: int | None = None
    best_epoch: int | None = None
    early_stopping: dict[str, Any] | None = None
    data_split: dict[str, float] | None = None
    rows: dict[str, int] | None = None
    purge: dict[str, Any] | None = None
    resumed_from_epoch: int | None = None
    ranges: dict[str, dict[str, list[str]]] | None = None
    metrics: dict[str, SplitEvaluation]
    history: list[EpochRow] | None = None

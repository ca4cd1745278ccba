"""Market data and the indicator catalogue: what a strategy can be built from."""

from __future__ import annotations

from typing import Annotated

from mcp.server.mcpserver import MCPServer
from pydantic import Field

from ktrdr.core.api_models import Bars, IndicatorSpecBody, SeriesSummary
from ktrdr.core.timeframes import is_intraday
from ktrdr.mcp.backend import Backend
from ktrdr.mcp.errors import ToolArgumentError, reports_errors
from ktrdr.mcp.limits import DEFAULT_BARS, MAX_BARS
from ktrdr.mcp.models import DataSummary
from ktrdr.mcp.tools.common import READ_ONLY, IsoDate, Symbol, Timeframe

BarLimit = Annotated[
    int, Field(ge=1, le=MAX_BARS, description=f"At most this many bars (max {MAX_BARS}).")
]


def register(server: MCPServer, backend: Backend) -> None:
    guarded = reports_errors(backend.url)

    @server.tool(annotations=READ_ONLY)
    @guarded
    async def get_available_symbols() -> list[SeriesSummary]:
        """Every stored series: symbol, timeframe, bar count, first and last bar, and whether
        it is a bundled sample or imported data. A strategy's training_data.symbols and
        timeframes must name series listed here (weekly bars are derived from daily ones)."""
        return await backend.call(backend.client.symbols)

    @server.tool(annotations=READ_ONLY)
    @guarded
    async def get_market_data(
        symbol: Symbol,
        timeframe: Timeframe = "1d",
        start_date: IsoDate | None = None,
        end_date: IsoDate | None = None,
        trading_hours_only: bool = False,
        limit_bars: BarLimit = DEFAULT_BARS,
    ) -> Bars:
        """OHLCV bars of one series: the last `limit_bars` bars between start_date and
        end_date (inclusive; both optional). Keep windows small: this is for looking at
        prices, not for feeding a model (trainings read the data themselves).

        trading_hours_only is accepted for daily and longer bars (each is one session);
        ktrdr keeps no exchange calendars, so it is refused for intraday bars.
        """
        if trading_hours_only and is_intraday(timeframe):
            raise ToolArgumentError(
                "trading_hours_only needs exchange calendars, which ktrdr does not keep; "
                "call again without it",
                field="trading_hours_only",
            )
        return await backend.call(
            backend.client.bars, symbol, timeframe, start=start_date, end=end_date, limit=limit_bars
        )

    @server.tool(annotations=READ_ONLY)
    @guarded
    async def get_data_summary(symbol: Symbol, timeframe: Timeframe = "1d") -> DataSummary:
        """First and last bar, bar count and source of one series, without the bars; and every
        timeframe the symbol can be read in. Use it to pick start/end dates for a training."""
        date_range = await backend.call(backend.client.date_range, symbol, timeframe)
        stored = await backend.call(backend.client.symbols)
        timeframes = await backend.call(backend.client.timeframes, date_range.symbol)
        entry = next(
            (
                s
                for s in stored
                if s.symbol == date_range.symbol and s.timeframe == date_range.timeframe
            ),
            None,
        )
        return DataSummary(
            symbol=date_range.symbol,
            timeframe=date_range.timeframe,
            start=date_range.start,
            end=date_range.end,
            bars=entry.bars if entry else None,
            source=entry.source if entry else "derived",
            timeframes=timeframes,
        )

    @server.tool(annotations=READ_ONLY)
    @guarded
    async def get_available_indicators() -> list[IndicatorSpecBody]:
        """Every indicator a strategy may use (the `type` of an entry under `indicators:`):
        its parameters with defaults and bounds, and its outputs. The same catalogue is the
        resource ktrdr://indicators."""
        return await backend.call(backend.client.indicators)

from __future__ import annotations

from fastapi import APIRouter, Query, Request
from starlette.concurrency import run_in_threadpool

from ktrdr.control.api.dependencies import ServicesDep, TokenDep
from ktrdr.control.api.errors import AUTH_RESPONSES, CONFLICT_RESPONSE, ERROR_RESPONSES
from ktrdr.control.api.uploads import read_text_body
from ktrdr.core.api_models import BarBody, Bars, DateRange, GapBody, SeriesImported, SeriesSummary
from ktrdr.core.names import validate_symbol
from ktrdr.core.timeframes import validate_timeframe
from ktrdr.research.data.csv_format import format_timestamp

router = APIRouter(prefix="/data", tags=["data"], responses=ERROR_RESPONSES)


@router.get("/symbols", response_model=list[SeriesSummary])
def symbols(services: ServicesDep) -> list[SeriesSummary]:
    """Every stored series (user data and bundled samples)."""
    return [info.summary() for info in services.data.list_series()]


@router.get("/timeframes", response_model=list[str])
def timeframes(services: ServicesDep, symbol: str | None = None) -> list[str]:
    return services.data.timeframes(validate_symbol(symbol) if symbol else None)


@router.get("/{symbol:path}/{timeframe}/range", response_model=DateRange)
def date_range(symbol: str, timeframe: str, services: ServicesDep) -> DateRange:
    symbol, timeframe = validate_symbol(symbol), validate_timeframe(timeframe)
    start, end = services.data.date_range(symbol, timeframe)
    return DateRange(
        symbol=symbol,
        timeframe=timeframe,
        start=format_timestamp(start),
        end=format_timestamp(end),
    )


@router.get("/{symbol:path}/{timeframe}", response_model=Bars)
def bars(
    symbol: str,
    timeframe: str,
    services: ServicesDep,
    start: str | None = Query(default=None, max_length=40),
    end: str | None = Query(default=None, max_length=40),
    limit: int | None = Query(default=None, ge=1, le=100_000),
) -> Bars:
    """Bars of a series, optionally between two ISO-8601 dates (inclusive)."""
    symbol, timeframe = validate_symbol(symbol), validate_timeframe(timeframe)
    found = services.data.read_bars(symbol, timeframe, start=start, end=end, limit=limit)
    return Bars(
        symbol=symbol,
        timeframe=timeframe,
        count=len(found),
        bars=[BarBody.model_validate(bar.to_dict()) for bar in found],
    )


@router.post(
    "/{symbol:path}/{timeframe}",
    status_code=201,
    dependencies=[TokenDep],
    response_model=SeriesImported,
    responses={**AUTH_RESPONSES, **CONFLICT_RESPONSE},
)
async def upload(
    symbol: str,
    timeframe: str,
    request: Request,
    services: ServicesDep,
    replace: bool = False,
) -> SeriesImported:
    """Import a CSV (request body, text/csv) with the same validation as ``ktrdr data import``."""
    symbol, timeframe = validate_symbol(symbol), validate_timeframe(timeframe)
    text = await read_text_body(request, services.settings.max_upload_bytes, "CSV upload")
    # Parsing a large CSV takes seconds: off the event loop, so other requests go on.
    result = await run_in_threadpool(
        services.data.import_csv, symbol, timeframe, text, replace=replace
    )
    return SeriesImported(
        symbol=result.symbol,
        timeframe=result.timeframe,
        bars=result.bars,
        start=format_timestamp(result.start),
        end=format_timestamp(result.end),
        replaced=result.replaced,
        gaps=[GapBody.model_validate(gap.to_dict()) for gap in result.report.gaps],
    )

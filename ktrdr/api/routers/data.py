from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Query, Request

from ktrdr.api.dependencies import ServicesDep, TokenDep
from ktrdr.api.uploads import read_text_body
from ktrdr.data.symbols import validate_symbol, validate_timeframe

router = APIRouter(prefix="/data", tags=["data"])


@router.get("/symbols")
def symbols(services: ServicesDep) -> list[dict[str, Any]]:
    """Every stored series (user data and bundled samples)."""
    return [info.to_dict() for info in services.data.list_series()]


@router.get("/timeframes")
def timeframes(services: ServicesDep, symbol: str | None = None) -> list[str]:
    return services.data.timeframes(validate_symbol(symbol) if symbol else None)


@router.get("/{symbol}/{timeframe}/range")
def date_range(symbol: str, timeframe: str, services: ServicesDep) -> dict[str, Any]:
    start, end = services.data.date_range(validate_symbol(symbol), validate_timeframe(timeframe))
    return {"symbol": symbol.upper(), "timeframe": timeframe, "start": start, "end": end}


@router.get("/{symbol}/{timeframe}")
def bars(
    symbol: str,
    timeframe: str,
    services: ServicesDep,
    start: str | None = None,
    end: str | None = None,
    limit: int | None = Query(default=None, ge=1, le=100_000),
) -> dict[str, Any]:
    """Bars of a series, optionally between two ISO-8601 dates (inclusive)."""
    found = services.data.read_bars(
        validate_symbol(symbol), validate_timeframe(timeframe), start=start, end=end, limit=limit
    )
    return {
        "symbol": symbol.upper(),
        "timeframe": timeframe,
        "count": len(found),
        "bars": [bar.to_dict() for bar in found],
    }


@router.post("/{symbol}/{timeframe}", status_code=201, dependencies=[TokenDep])
async def upload(
    symbol: str,
    timeframe: str,
    request: Request,
    services: ServicesDep,
    replace: bool = False,
) -> dict[str, Any]:
    """Import a CSV (request body, text/csv) with the same validation as ``ktrdr data import``."""
    text = await read_text_body(request, services.settings.max_upload_bytes, "CSV upload")
    result = services.data.import_csv(
        validate_symbol(symbol), validate_timeframe(timeframe), text, replace=replace
    )
    return {
        "symbol": result.symbol,
        "timeframe": result.timeframe,
        "bars": result.bars,
        "start": result.start,
        "end": result.end,
        "replaced": result.replaced,
        "gaps": [gap.to_dict() for gap in result.report.gaps],
    }

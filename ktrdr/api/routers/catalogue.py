from __future__ import annotations

from typing import Any

from fastapi import APIRouter, HTTPException

from ktrdr.indicators.catalogue import CATALOGUE, get_indicator

router = APIRouter(prefix="/indicators", tags=["indicators"])


@router.get("")
def list_indicators() -> list[dict[str, Any]]:
    """Every indicator a strategy may use: parameters (defaults, bounds) and outputs."""
    return [spec.to_dict() for spec in CATALOGUE.values()]


@router.get("/{name}")
def get_indicator_spec(name: str) -> dict[str, Any]:
    spec = get_indicator(name)
    if spec is None:
        raise HTTPException(404, f"unknown indicator {name!r}")
    return spec.to_dict()

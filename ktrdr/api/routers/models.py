from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from ktrdr.api.dependencies import ServicesDep
from ktrdr.models.registry import get_model, list_models
from ktrdr.strategies.schema import IDENTIFIER

router = APIRouter(prefix="/models", tags=["models"])


@router.get("")
def list_all(services: ServicesDep, strategy: str | None = None) -> list[dict[str, Any]]:
    """Stored model versions with their metadata (library versions, data range, seed)."""
    if strategy is not None and not IDENTIFIER.match(strategy):
        raise ValueError(f"invalid strategy name {strategy!r}")
    return [m.to_dict() for m in list_models(services.settings.models_path, strategy)]


@router.get("/{strategy}/{version}")
def get_one(strategy: str, version: str, services: ServicesDep) -> dict[str, Any]:
    """One version, e.g. ``/models/rsi_macd_trend/1d_v2`` or ``.../1d_latest``."""
    info = get_model(services.settings.models_path, f"{strategy}/{version}")
    return {**info.to_dict(), "metrics": info.read_json("metrics.json")}

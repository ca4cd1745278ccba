from __future__ import annotations

from fastapi import APIRouter

from ktrdr.control.api.dependencies import ServicesDep
from ktrdr.control.api.errors import ERROR_RESPONSES
from ktrdr.core.api_models import ModelDetail, ModelSummary
from ktrdr.core.names import validate_identifier
from ktrdr.research.model_registry import get_model, list_models

router = APIRouter(prefix="/models", tags=["models"], responses=ERROR_RESPONSES)


@router.get("", response_model=list[ModelSummary])
def list_all(services: ServicesDep, strategy: str | None = None) -> list[ModelSummary]:
    """Stored model versions with their metadata (library versions, data range, seed)."""
    if strategy is not None:
        validate_identifier(strategy, "strategy name", field="strategy")
    return [m.summary() for m in list_models(services.settings.models_path, strategy)]


@router.get("/{strategy}/{version}", response_model=ModelDetail)
def get_one(strategy: str, version: str, services: ServicesDep) -> ModelDetail:
    """One version, e.g. ``/models/rsi_macd_trend/1d_v2`` or ``.../1d_latest``."""
    info = get_model(services.settings.models_path, f"{strategy}/{version}")
    return ModelDetail(**info.summary().model_dump(), metrics=info.read_json("metrics.json"))

from __future__ import annotations

from fastapi import APIRouter

from ktrdr.control.api.errors import ERROR_RESPONSES
from ktrdr.core.api_models import IndicatorSpecBody
from ktrdr.core.errors import NotFoundError
from ktrdr.research.indicator_catalogue import CATALOGUE, get_indicator

router = APIRouter(prefix="/indicators", tags=["indicators"], responses=ERROR_RESPONSES)


@router.get("", response_model=list[IndicatorSpecBody])
def list_indicators() -> list[IndicatorSpecBody]:
    """Every indicator a strategy may use: parameters (defaults, bounds) and outputs."""
    return [IndicatorSpecBody.model_validate(spec.to_dict()) for spec in CATALOGUE.values()]


@router.get("/{name}", response_model=IndicatorSpecBody)
def get_indicator_spec(name: str) -> IndicatorSpecBody:
    spec = get_indicator(name)
    if spec is None:
        raise NotFoundError(f"unknown indicator {name[:40]!r}", field="name")
    return IndicatorSpecBody.model_validate(spec.to_dict())

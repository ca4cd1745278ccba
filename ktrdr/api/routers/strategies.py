from __future__ import annotations

from typing import Any

from fastapi import APIRouter, HTTPException, Request

from ktrdr.api.dependencies import ServicesDep, TokenDep
from ktrdr.api.uploads import read_text_body
from ktrdr.strategies import list_strategies, resolve_strategy_path, validate_strategy_text
from ktrdr.strategies.loader import MAX_STRATEGY_BYTES
from ktrdr.strategies.repository import save_strategy
from ktrdr.strategies.schema import IDENTIFIER

router = APIRouter(prefix="/strategies", tags=["strategies"])


def _summary(config: Any) -> dict[str, Any]:
    return {
        "name": config.name,
        "version": config.version,
        "description": config.description,
        "symbols": config.training_data.symbols,
        "timeframes": config.training_data.timeframes,
    }


@router.get("")
def list_all(services: ServicesDep) -> list[dict[str, Any]]:
    return [
        {
            **(_summary(config) if config else {"name": path.stem}),
            "valid": config is not None,
            "issues": [{"path": i.path, "message": i.message} for i in issues],
        }
        for path, config, issues in list_strategies(services.settings.strategies_dir)
    ]


@router.get("/{name}")
def get_one(name: str, services: ServicesDep) -> dict[str, Any]:
    if not IDENTIFIER.match(name):
        raise HTTPException(400, f"invalid strategy name {name!r}")
    path = resolve_strategy_path(name, services.settings.strategies_dir)
    text = path.read_text(encoding="utf-8")
    config, issues = validate_strategy_text(text)
    return {
        "name": name,
        "yaml": text,
        "valid": config is not None,
        "config": config.to_yaml_dict() if config else None,
        "issues": [{"path": i.path, "message": i.message} for i in issues],
    }


@router.post("/validate")
async def validate(request: Request) -> dict[str, Any]:
    """Validate YAML sent as the request body; every problem comes with its YAML path."""
    text = await read_text_body(request, MAX_STRATEGY_BYTES, "strategy")
    config, issues = validate_strategy_text(text)
    return {
        "valid": config is not None,
        "name": config.name if config else None,
        "issues": [{"path": i.path, "message": i.message} for i in issues],
    }


@router.put("/{name}", status_code=201, dependencies=[TokenDep])
async def upload(
    name: str, request: Request, services: ServicesDep, replace: bool = False
) -> dict[str, Any]:
    """Store a strategy (YAML body) as <name>.yaml; invalid YAML is refused with 422."""
    text = await read_text_body(request, MAX_STRATEGY_BYTES, "strategy")
    config, path = save_strategy(services.settings.strategies_dir, name, text, replace=replace)
    return {**_summary(config), "path": str(path)}

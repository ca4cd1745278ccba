from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.concurrency import run_in_threadpool

from ktrdr.control.api.dependencies import ServicesDep, TokenDep
from ktrdr.control.api.errors import AUTH_RESPONSES, CONFLICT_RESPONSE, ERROR_RESPONSES
from ktrdr.control.api.uploads import read_text_body
from ktrdr.core.api_models import ProblemIssue, StrategyDetail, StrategySummary, StrategyValidation
from ktrdr.core.errors import Issue
from ktrdr.research.strategies import (
    StrategyConfig,
    find_strategy,
    list_strategies,
    validate_strategy_text,
)
from ktrdr.research.strategies.loader import MAX_STRATEGY_BYTES
from ktrdr.research.strategies.repository import save_strategy

router = APIRouter(prefix="/strategies", tags=["strategies"], responses=ERROR_RESPONSES)


def _issues(issues: list[Issue]) -> list[ProblemIssue]:
    return [ProblemIssue(path=i.path, message=i.message) for i in issues]


def _summary(config: StrategyConfig, issues: list[Issue] | None = None) -> StrategySummary:
    return StrategySummary(
        name=config.name,
        version=config.version,
        description=config.description,
        symbols=config.training_data.symbols,
        timeframes=config.training_data.timeframes,
        valid=True,
        issues=_issues(issues or []),
    )


def upload_limit(services: ServicesDep) -> int:
    """Strategies obey KTRDR_MAX_UPLOAD_BYTES too, and never exceed what validation reads."""
    return min(services.settings.max_upload_bytes, MAX_STRATEGY_BYTES)


@router.get("", response_model=list[StrategySummary])
def list_all(services: ServicesDep) -> list[StrategySummary]:
    return [
        _summary(config)
        if config
        else StrategySummary(name=path.stem, valid=False, issues=_issues(issues))
        for path, config, issues in list_strategies(services.settings.strategies_dir)
    ]


@router.post("/validate", response_model=StrategyValidation)
async def validate(request: Request, services: ServicesDep) -> StrategyValidation:
    """Validate YAML sent as the request body; every problem comes with its YAML path."""
    text = await read_text_body(request, upload_limit(services), "strategy")
    config, issues = await run_in_threadpool(validate_strategy_text, text)
    return StrategyValidation(
        valid=config is not None,
        name=config.name if config else None,
        issues=_issues(issues),
    )


# ``:path`` so that a name holding "/" or ".." reaches the handler and is refused there.
@router.get("/{name:path}", response_model=StrategyDetail)
def get_one(name: str, services: ServicesDep) -> StrategyDetail:
    path = find_strategy(name, services.settings.strategies_dir)
    text = path.read_text(encoding="utf-8")
    config, issues = validate_strategy_text(text)
    return StrategyDetail(
        name=name,
        yaml=text,
        valid=config is not None,
        config=config.to_yaml_dict() if config else None,
        issues=_issues(issues),
    )


@router.put(
    "/{name:path}",
    status_code=201,
    dependencies=[TokenDep],
    response_model=StrategySummary,
    responses={**AUTH_RESPONSES, **CONFLICT_RESPONSE},
)
async def upload(
    name: str, request: Request, services: ServicesDep, replace: bool = False
) -> StrategySummary:
    """Store a strategy (YAML body) as <name>.yaml; invalid YAML is refused with 422."""
    text = await read_text_body(request, upload_limit(services), "strategy")
    config, _ = await run_in_threadpool(
        save_strategy, services.settings.strategies_dir, name, text, replace=replace
    )
    return _summary(config)

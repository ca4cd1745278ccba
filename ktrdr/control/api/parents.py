"""What the backend does when a parent operation's driver finishes."""

from __future__ import annotations

from typing import Any

from ktrdr.control.api.services import Services
from ktrdr.core.api_models import Operation
from ktrdr.core.errors import KtrdrError
from ktrdr.core.logging_setup import get_logger
from ktrdr.research.strategies.repository import save_strategy

log = get_logger(__name__)


def save_best_strategy(services: Services, record: Operation, result: dict[str, Any]) -> None:
    """Write a completed sweep's best strategy into the strategies directory.

    The backend writes it (as it publishes a training's model): the strategies directory
    is the backend's, wherever the driver ran. Validated like an upload; never replaces.
    """
    best = result.get("best")
    if not isinstance(best, dict):
        return  # no trial completed: nothing to write
    name, text = best.get("strategy_name"), best.get("strategy_yaml")
    if not isinstance(name, str) or not isinstance(text, str):
        log.error("sweep_result_without_best_strategy", operation_id=record.id)
        return
    try:
        save_strategy(services.settings.strategies_dir, name, text)
    except (KtrdrError, OSError) as error:  # the sweep stays completed; say why
        log.error("best_strategy_not_saved", operation_id=record.id, error=str(error)[:300])
        return
    log.info("best_strategy_saved", operation_id=record.id, strategy=name)

"""Training checkpoints: what a re-dispatched training resumes from.

A checkpoint holds everything the next epoch depends on (weights, optimiser state,
early-stopping state, history, the torch / numpy / Python RNG states), so that a resumed
run ends with the same weights as one never interrupted. It lives on the models volume
(``model_registry.checkpoint_file``: ``.checkpoints/<operation id>.pt``), is replaced
atomically, and is read only by a training whose data and settings hash to the same key.
The backend discards it when an operation ends without its worker (cancelled, lost).
"""

from __future__ import annotations

import contextlib
import io
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch

from ktrdr.core.files import write_bytes_atomic


class Checkpoint:
    """One training's checkpoint file and when to rewrite it.

    ``every_epochs`` and ``every_seconds`` (0 = never by that rule) say when an epoch's
    end is due for a save; whichever comes first.
    """

    def __init__(
        self,
        path: Path,
        every_epochs: int = 0,
        every_seconds: float = 0.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.path = path
        self.every_epochs = every_epochs
        self.every_seconds = every_seconds
        self._clock = clock
        self._saved_epoch = 0
        self._saved_at = clock()

    def load(self, key: str) -> dict[str, Any] | None:
        """The stored state when it was written for ``key``; None when absent or other."""
        if not self.path.is_file():
            return None
        try:
            state = torch.load(self.path, map_location="cpu", weights_only=True)
        except Exception:  # a damaged file is no reason to fail: start afresh
            return None
        if not isinstance(state, dict) or state.get("key") != key:
            return None
        self._saved_epoch = int(state["epoch"])
        return state

    def due(self, epoch: int) -> bool:
        by_epochs = self.every_epochs > 0 and epoch - self._saved_epoch >= self.every_epochs
        by_time = self.every_seconds > 0 and self._clock() - self._saved_at >= self.every_seconds
        return by_epochs or by_time

    def save(self, key: str, epoch: int, state: dict[str, Any]) -> None:
        buffer = io.BytesIO()
        torch.save({**state, "key": key, "epoch": epoch}, buffer)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        write_bytes_atomic(self.path, buffer.getvalue())
        self._saved_epoch, self._saved_at = epoch, self._clock()

    def remove(self) -> None:
        with contextlib.suppress(FileNotFoundError):
            self.path.unlink()

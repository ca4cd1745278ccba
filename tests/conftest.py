from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from ktrdr.core.settings import get_settings
from tests.support.paths import STRATEGIES_DIR


@pytest.fixture
def ktrdr_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """An empty KTRDR_HOME (data, models) with the repository's strategies."""
    home = tmp_path / "ktrdr-home"
    monkeypatch.setenv("KTRDR_HOME", str(home))
    monkeypatch.setenv("KTRDR_STRATEGIES_DIR", str(STRATEGIES_DIR))
    monkeypatch.delenv("KTRDR_DATA_DIR", raising=False)
    monkeypatch.delenv("KTRDR_MODELS_DIR", raising=False)
    get_settings.cache_clear()
    yield home
    get_settings.cache_clear()

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from ktrdr.control.api.app import create_app
from ktrdr.core.settings import Settings
from tests.support.paths import STRATEGIES_DIR


def make_settings(tmp_path: Path, **overrides: object) -> Settings:
    strategies = tmp_path / "strategies"
    strategies.mkdir(exist_ok=True)
    for source in STRATEGIES_DIR.glob("*.yaml"):
        (strategies / source.name).write_text(source.read_text())
    return Settings(
        home=tmp_path / "home",
        strategies_dir=strategies,
        health_interval_s=60,  # supervision is exercised by the integration tests
        **overrides,
    )


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return make_settings(tmp_path)


@pytest.fixture
def client(settings: Settings) -> Iterator[TestClient]:
    with TestClient(create_app(settings)) as test_client:
        yield test_client

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine

from ktrdr.control.db import create_database_engine
from ktrdr.control.db.migrate import upgrade_to_head
from ktrdr.control.operations import OperationsStore


@pytest.fixture
def db_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'data' / 'ktrdr.db'}"


@pytest.fixture
def engine(db_url: str) -> Iterator[Engine]:
    engine = create_database_engine(db_url)
    upgrade_to_head(engine)
    yield engine
    engine.dispose()


@pytest.fixture
def store(engine: Engine) -> OperationsStore:
    return OperationsStore(engine)

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest

from ktrdr.core.settings import get_settings
from tests.support.paths import STRATEGIES_DIR

# The suite runs many torch processes at once on a few cores (`make test` runs one pytest
# worker per core, each starting stacks of workers): one intra-op thread each, or their
# OpenMP threads spin against each other. Set before anything here imports torch; the
# workers the tests start inherit both.
os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("KTRDR_TORCH_THREADS", "1")


# optionalhook: where xdist is absent (the core-only checks inside the backend image).
@pytest.hookimpl(optionalhook=True)
def pytest_xdist_make_scheduler(config: pytest.Config, log: object) -> object | None:
    """``make test`` (``--dist loadfile``): a module's tests run on one pytest worker, so
    the stack its module-scoped fixture starts is started once; the browser folder counts
    as one module (its tests share one live stack and one Chromium).

    Modules go out in collection order, browser and integration first, instead of xdist's
    most-tests-first: the few long process-starting modules then start early and the many
    short unit modules fill the end, where otherwise one worker ran a long module alone.
    """
    if config.getvalue("dist") != "loadfile":
        return None
    from xdist.scheduler import LoadFileScheduling

    config.option.loadscopereorder = False

    class ModuleScheduling(LoadFileScheduling):
        def _split_scope(self, nodeid: str) -> str:
            path = nodeid.split("::", 1)[0]
            return "tests/browser" if path.startswith("tests/browser/") else path

    return ModuleScheduling(config, log)


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Give each Schemathesis item its operation in its node id. Under pytest 9 the items
    of one API-wide test share one id, and xdist's per-module scheduling, which keys work
    by id, would then run one operation of the 33."""
    counts = Counter(item.nodeid for item in items)
    for item in items:
        label = getattr(item, "operation_label", None)
        if label and counts[item.nodeid] > 1:
            item._id = item._id.with_params(label)  # pytest's NodeId: the "[...]" part


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

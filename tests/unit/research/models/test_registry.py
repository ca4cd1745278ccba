from __future__ import annotations

import json
import threading
from pathlib import Path

import pytest

from ktrdr.research.model_registry import (
    ModelNotFoundError,
    allocate_version,
    get_model,
    latest_model,
    list_models,
    model_at,
    publish_version,
    write_json_atomic,
)


def complete(models_dir: Path, strategy: str = "demo", timeframe: str = "1d") -> int:
    version, path = allocate_version(models_dir, strategy, timeframe)
    write_json_atomic(path / "metadata.json", {"seed": version})
    publish_version(models_dir, strategy, timeframe, version)
    return version


def test_versions_increase_and_latest_follows(tmp_path: Path) -> None:
    assert [complete(tmp_path) for _ in range(3)] == [1, 2, 3]
    assert latest_model(tmp_path, "demo", "1d").version == 3
    assert [m.model_id for m in list_models(tmp_path)] == ["demo/1d_v1", "demo/1d_v2", "demo/1d_v3"]


def test_incomplete_versions_are_invisible(tmp_path: Path) -> None:
    complete(tmp_path)
    allocate_version(tmp_path, "demo", "1d")  # a save in progress: no metadata yet
    assert [m.version for m in list_models(tmp_path)] == [1]
    assert latest_model(tmp_path, "demo", "1d").version == 1


def test_pointer_never_moves_backwards(tmp_path: Path) -> None:
    complete(tmp_path)
    complete(tmp_path)
    publish_version(tmp_path, "demo", "1d", 1)  # a slower, older save finishing last
    assert (tmp_path / "demo" / "1d_latest").read_text().strip() == "1d_v2"


def test_concurrent_allocations_get_distinct_versions(tmp_path: Path) -> None:
    results: list[int] = []
    lock = threading.Lock()

    def save() -> None:
        version, _ = allocate_version(tmp_path, "demo", "1d")
        with lock:
            results.append(version)

    threads = [threading.Thread(target=save) for _ in range(16)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(results) == list(range(1, 17))


def test_get_model_by_id_path_and_latest(tmp_path: Path) -> None:
    complete(tmp_path)
    complete(tmp_path)
    assert get_model(tmp_path, "demo/1d_v1").version == 1
    assert get_model(tmp_path, "demo/1d_latest").version == 2
    assert model_at(tmp_path / "demo" / "1d_v1").version == 1
    with pytest.raises(ModelNotFoundError):
        get_model(tmp_path, "demo/1d_v9")
    with pytest.raises(ValueError, match="invalid model id"):
        get_model(tmp_path, "../../etc/1d_v1")
    with pytest.raises(ValueError, match="invalid model id"):  # ids only: never a folder
        get_model(tmp_path, str(tmp_path / "demo" / "1d_v1"))


def test_missing_strategy_and_bad_names(tmp_path: Path) -> None:
    with pytest.raises(ModelNotFoundError, match="no trained model"):
        latest_model(tmp_path, "nothing", "1d")
    with pytest.raises(ValueError, match=r"strategy name '\.\./x' must start with a letter"):
        allocate_version(tmp_path, "../x", "1d")


def test_write_json_atomic_leaves_no_temp_files(tmp_path: Path) -> None:
    target = tmp_path / "a.json"
    write_json_atomic(target, {"x": 1})
    assert json.loads(target.read_text()) == {"x": 1}
    assert [p.name for p in tmp_path.iterdir()] == ["a.json"]

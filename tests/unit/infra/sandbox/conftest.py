"""Fixtures for the kinfra sandbox tests: slot roots, rendered slots, fake docker executables."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from ktrdr.infra.sandbox import slots
from ktrdr.infra.sandbox.slots import Sandbox
from tests.unit.infra.sandbox.fake_docker import FakeDocker, write_fake_docker

THREE_SLOTS = (1, 2, 3)


@pytest.fixture
def sandbox_root(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty sandbox root, also named by KTRDR_SANDBOX_DIR.

    KTRDR_DOCKER names a missing executable, so no test reaches a real Docker daemon (a
    ``destroy`` would otherwise take down the developer's own ktrdr-sandbox-N).
    """
    root = tmp_path / "sandboxes"
    monkeypatch.setenv("KTRDR_SANDBOX_DIR", str(root))
    monkeypatch.setenv("KTRDR_DOCKER", str(tmp_path / "no-docker-in-tests"))
    return root


@pytest.fixture
def three_slots(tmp_path: Path) -> dict[int, Sandbox]:
    """Slots 1, 2 and 3 rendered, each under its own temporary root."""
    return {slot: slots.create(tmp_path / f"root-{slot}", slot) for slot in THREE_SLOTS}


@pytest.fixture
def make_fake_docker(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Callable[..., FakeDocker]:
    """``make_fake_docker(fail=[...], message=...)``: a fake docker that KTRDR_DOCKER names.

    ``fail``: the argument prefix on which it exits 1 with ``message`` on stderr.
    """

    def make(fail: list[str] | None = None, message: str = "failed") -> FakeDocker:
        docker = write_fake_docker(tmp_path / "fake-docker", fail, message)
        monkeypatch.setenv("KTRDR_DOCKER", str(docker.path))
        return docker

    return make

"""The Docker tooling that needs no engine: docs/deploy.md's steps, the engine's choice of
an engine that answers, the lock facts the image checks share."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from ktrdr.infra import deploy_doc, engine
from tests.support.paths import REPO_ROOT

sys.path.insert(0, str(REPO_ROOT / "deploy" / "scripts"))
import lockfile  # deploy/scripts is no package: the images run it as a script
import verify_env

RELEASE_STEPS = {
    "build",
    "push",
    "canary",
    "set-tag",
    "deploy",
    "check",
    "rollout-backend",
    "rollout-backtest-worker",
    "rollout-training-worker",
    "teardown",
}


def test_deploy_doc_has_every_step_the_drill_follows() -> None:
    found = deploy_doc.steps(deploy_doc.DOCUMENT.read_text())
    assert set(found) == RELEASE_STEPS
    for name, script in found.items():
        result = subprocess.run(["bash", "-n", "-c", script], capture_output=True, text=True)
        assert result.returncode == 0, f"{name}: {result.stderr}"
    assert "--no-deps --wait backend" in found["rollout-backend"]
    assert "IMAGE_TAG=$IMAGE_TAG" in found["set-tag"]


def test_deploy_doc_steps_read_indented_blocks_and_skip_unmarked_ones() -> None:
    text = (
        "```bash\necho not a step\n```\n"
        "1. **x**\n   ```bash\n   # step: one\n   cd here\n   echo one\n   ```\n"
        "```text\n# step: two\n```\n"
    )
    assert deploy_doc.steps(text) == {"one": "cd here\necho one\n"}


def fake_docker(tmp_path: Path, info_ok: bool) -> Path:
    script = tmp_path / "docker"
    script.write_text(
        "#!/bin/sh\n"
        f'[ "$1" = info ] && exit {0 if info_ok else 1}\n'
        '[ "$1 $2" = "compose version" ] && exit 0\n'
        '[ "$1" = buildx ] && exit 0\n'
        "exit 1\n"
    )
    script.chmod(0o755)
    return script


def test_an_engine_that_answers_is_used_as_it_is(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("KTRDR_DOCKER", str(fake_docker(tmp_path, info_ok=True)))
    monkeypatch.setenv("KTRDR_ENGINE_DIR", str(tmp_path / "engine"))
    monkeypatch.setenv("DOCKER_HOST", "unix:///run/elsewhere.sock")
    assert engine.up() == "unix:///run/elsewhere.sock"
    assert not (tmp_path / "engine").exists(), "nothing private started"


def test_down_without_a_private_engine_stops_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("KTRDR_ENGINE_DIR", str(tmp_path / "engine"))
    assert engine.down() is False


def test_a_configured_client_that_does_not_exist_is_an_error(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("KTRDR_DOCKER", "no-such-docker-client")
    with pytest.raises(engine.EngineError, match="KTRDR_DOCKER=no-such-docker-client"):
        engine.docker_client()


def test_cuda_runtime_packages_are_named_once() -> None:
    assert lockfile.is_cuda_runtime("nvidia_cublas_cu12")
    assert lockfile.is_cuda_runtime("Triton")
    assert lockfile.is_cuda_runtime("cuda-bindings")
    assert not lockfile.is_cuda_runtime("torch")
    cuda_only = lockfile.cuda_only_packages(lockfile.load_graph(REPO_ROOT / "uv.lock"))
    assert cuda_only, "torch 2.13 on PyPI pulls CUDA runtime packages"
    assert "numpy" not in cuda_only


def test_setup_tells_the_installed_torch_build_from_its_version_tag() -> None:
    lock = REPO_ROOT / "uv.lock"
    torch = lockfile.locked_version(lock, "torch")
    assert verify_env.build_tag_problems(lock, "cpu", f"{torch}+cpu") == []
    assert verify_env.build_tag_problems(lock, "cuda", torch) == []
    assert verify_env.build_tag_problems(lock, "cuda", f"{torch}+cu128") == []
    assert verify_env.build_tag_problems(lock, "cpu", torch) == [
        f"torch {torch} is not the cpu build"
    ]
    assert verify_env.build_tag_problems(lock, "cuda", f"{torch}+cpu") == [
        f"torch {torch}+cpu is not the cuda build"
    ]
    assert verify_env.build_tag_problems(lock, "cpu", "1.0.0+cpu") == [
        f"torch 1.0.0+cpu but uv.lock has {[torch]}"
    ]


class _InstalledAt:
    """A distribution's ``locate_file`` for a torch installed under ``root``."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def locate_file(self, path: str) -> Path:
        return self.root / path


@pytest.mark.parametrize(
    ("written", "build"),
    [
        ("__version__ = '2.13.0+cpu'\ncuda: Optional[str] = None\n", ("2.13.0+cpu", None)),
        (
            "__version__ = '2.13.0'\ndebug = False\ncuda: Optional[str] = '12.8'\n",
            ("2.13.0", "12.8"),
        ),
    ],
    ids=["cpu", "cuda"],
)
def test_the_environment_check_reads_torch_build_from_its_version_file(
    tmp_path: Path, written: str, build: tuple[str, str | None]
) -> None:
    (tmp_path / "torch").mkdir()
    (tmp_path / "torch" / "version.py").write_text(f"from typing import Optional\n{written}")
    assert verify_env.torch_build(_InstalledAt(tmp_path)) == build

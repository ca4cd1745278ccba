"""``kinfra sandbox ...`` through the command line, with a fake docker executable."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from typer.testing import CliRunner

from ktrdr.infra.sandbox.app import app
from ktrdr.infra.sandbox.ports import ports
from tests.unit.infra.sandbox.fake_docker import FakeDocker

runner = CliRunner()
COMPOSE_PREFIX = ["compose", "--project-name"]
DAEMON_DOWN = (
    "Cannot connect to the Docker daemon at unix:///var/run/docker.sock. "
    "Is the docker daemon running?"
)


def kinfra(*args: str) -> object:
    return runner.invoke(app, ["sandbox", *args])


def compose_args(slot: int, *args: str) -> list[str]:
    return [
        "compose",
        "--project-name",
        f"ktrdr-sandbox-{slot}",
        "--env-file",
        ".env.sandbox",
        "-f",
        "docker-compose.yml",
        *args,
    ]


def created_slot(result: object) -> int:
    assert result.exit_code == 0, result.output
    first = result.stdout.splitlines()[0]  # "created sandbox slot N (...)"
    return int(first.split()[3])


def test_create_takes_the_lowest_free_slot(sandbox_root: Path) -> None:
    assert [created_slot(kinfra("create")) for _ in range(3)] == [1, 2, 3]
    assert created_slot(kinfra("create", "--slot", "7")) == 7
    assert kinfra("destroy", "2", "--yes").exit_code == 0
    assert created_slot(kinfra("create")) == 2
    assert created_slot(kinfra("create")) == 4
    assert sorted(p.name for p in sandbox_root.iterdir()) == [f"slot-{n}" for n in (1, 2, 3, 4, 7)]


def test_create_refuses_a_taken_slot_and_a_full_root(sandbox_root: Path) -> None:
    assert created_slot(kinfra("create", "--slot", "5")) == 5
    taken = kinfra("create", "--slot", "5")
    assert taken.exit_code == 1
    assert "slot 5 is taken" in taken.stderr
    for _ in range(8):
        assert kinfra("create").exit_code == 0
    full = kinfra("create")
    assert full.exit_code == 1
    assert "all slots 1..9 are taken" in full.stderr
    assert kinfra("create", "--slot", "10").exit_code == 2  # usage error


def test_root_option_wins_over_the_environment(sandbox_root: Path, tmp_path: Path) -> None:
    other = tmp_path / "other"
    assert created_slot(kinfra("create", "--root", str(other))) == 1
    assert (other / "slot-1" / "docker-compose.yml").is_file()
    assert not sandbox_root.exists()


def test_list_shows_the_slots_and_their_ports(sandbox_root: Path) -> None:
    assert "no sandboxes" in kinfra("list").stdout
    for _ in range(3):
        kinfra("create")
    result = kinfra("list")
    assert result.exit_code == 0, result.output
    rows = {line.split()[0]: line.split() for line in result.stdout.splitlines() if line.strip()}
    for slot in (1, 2, 3):
        p = ports(slot)
        expected = [str(slot), *map(str, p.published().values()), "ok"]
        assert rows[str(slot)] == expected
    listed = json.loads(kinfra("list", "--json").stdout)
    assert [entry["slot"] for entry in listed] == [1, 2, 3]
    assert listed[1]["ports"] == ports(2).published()
    assert listed[1]["worker_image"] == "ktrdr-backend:dev"


def test_status_without_docker_shows_ports_and_images(
    sandbox_root: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("KTRDR_DOCKER", str(tmp_path / "no-docker-here"))
    kinfra("create", "--worker-image", "ghcr.io/kpiteira/ktrdr-worker-cpu:latest")
    result = kinfra("status", "1")
    assert result.exit_code == 0, result.output
    assert "http://127.0.0.1:8101/api/v1" in result.stdout
    assert "127.0.0.1:5501" in result.stdout
    assert "workers ghcr.io/kpiteira/ktrdr-worker-cpu:latest" in result.stdout
    assert "containers  unknown" in result.stdout
    assert kinfra("status", "2").exit_code == 1


def test_status_with_docker_shows_compose_ps(
    sandbox_root: Path, make_fake_docker: Callable[..., FakeDocker]
) -> None:
    docker = make_fake_docker()
    kinfra("create")
    kinfra("create")
    result = kinfra("status")
    assert result.exit_code == 0, result.output
    assert result.stdout.count("ktrdr-sandbox-fake-backend  Up 3 minutes (healthy)") == 2
    ps_calls = [call for call in docker.calls() if call["args"][:2] == COMPOSE_PREFIX]
    assert [call["args"] for call in ps_calls] == [compose_args(1, "ps"), compose_args(2, "ps")]


def test_up_and_down_run_docker_compose_in_the_slot_folder(
    sandbox_root: Path, make_fake_docker: Callable[..., FakeDocker]
) -> None:
    docker = make_fake_docker()
    kinfra("create")
    kinfra("create")
    up = kinfra("up", "2")
    assert up.exit_code == 0, up.output
    assert "http://127.0.0.1:8102/api/v1" in up.stdout
    down = kinfra("down", "2")
    assert down.exit_code == 0, down.output
    calls = docker.calls()
    assert [call["args"] for call in calls] == [
        ["info", "--format", "{{.ServerVersion}}"],
        ["compose", "version"],
        compose_args(2, "up", "-d"),
        ["info", "--format", "{{.ServerVersion}}"],
        ["compose", "version"],
        compose_args(2, "down"),
    ]
    slot_dir = str((sandbox_root / "slot-2").resolve())
    assert {call["cwd"] for call in calls if call["args"][:2] == COMPOSE_PREFIX} == {slot_dir}
    assert kinfra("up", "1", "--wait").exit_code == 0
    assert docker.calls()[-1]["args"] == compose_args(1, "up", "-d", "--wait")


def _one_line(text: str) -> str:
    lines = [line for line in text.splitlines() if line.strip()]
    assert len(lines) == 1, text
    return lines[0]


@pytest.mark.parametrize("command", ["up", "down"])
def test_up_and_down_fail_in_one_line_without_a_docker_executable(
    sandbox_root: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path, command: str
) -> None:
    kinfra("create")
    monkeypatch.delenv("KTRDR_DOCKER", raising=False)
    monkeypatch.setenv("PATH", str(tmp_path / "empty-path"))
    result = kinfra(command, "1")
    assert result.exit_code == 1
    assert _one_line(result.stderr) == (
        "kinfra: docker is not installed: no docker executable on PATH (KTRDR_DOCKER can name one)"
    )
    monkeypatch.setenv("KTRDR_DOCKER", str(tmp_path / "missing" / "docker"))
    result = kinfra(command, "1")
    assert result.exit_code == 1
    assert "is not an executable" in _one_line(result.stderr)


@pytest.mark.parametrize("command", ["up", "down"])
def test_up_and_down_fail_in_one_line_when_the_daemon_is_down(
    sandbox_root: Path, make_fake_docker: Callable[..., FakeDocker], command: str
) -> None:
    docker = make_fake_docker(fail=["info"], message=DAEMON_DOWN)
    kinfra("create")
    result = kinfra(command, "1")
    assert result.exit_code == 1
    line = _one_line(result.stderr)
    assert line.startswith("kinfra: the Docker daemon is not reachable")
    assert DAEMON_DOWN in line
    assert [call["args"][0] for call in docker.calls()] == ["info"]  # compose never ran


def test_up_fails_when_the_compose_plugin_is_missing(
    sandbox_root: Path, make_fake_docker: Callable[..., FakeDocker]
) -> None:
    make_fake_docker(fail=["compose", "version"], message="docker: unknown command: docker compose")
    kinfra("create")
    result = kinfra("up", "1")
    assert result.exit_code == 1
    assert "docker compose (the v2 plugin) is not available" in _one_line(result.stderr)


def test_up_reports_a_failed_compose_up(
    sandbox_root: Path, make_fake_docker: Callable[..., FakeDocker]
) -> None:
    make_fake_docker(fail=compose_args(1, "up"), message="port is already allocated")
    kinfra("create")
    result = kinfra("up", "1")
    assert result.exit_code == 1
    assert "docker compose up failed for slot 1 (exit 1)" in result.stderr


def test_up_of_a_missing_slot_fails_clearly(
    sandbox_root: Path, make_fake_docker: Callable[..., FakeDocker]
) -> None:
    docker = make_fake_docker()
    result = kinfra("up", "3")
    assert result.exit_code == 1
    assert "no sandbox in slot 3" in _one_line(result.stderr)
    assert docker.calls() == []


@pytest.mark.skipif(shutil.which("docker") is None, reason="no docker client here")
def test_the_real_docker_client_without_a_daemon_fails_in_one_line(
    sandbox_root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("KTRDR_DOCKER", raising=False)
    info = subprocess.run(["docker", "info"], capture_output=True, check=False, timeout=30)
    if info.returncode == 0:
        pytest.skip("a Docker daemon answers here")
    kinfra("create")
    result = kinfra("up", "1")
    assert result.exit_code == 1
    assert _one_line(result.stderr).startswith("kinfra: the Docker daemon is not reachable")


def test_destroy_needs_yes_then_stops_and_removes_the_slot(
    sandbox_root: Path, make_fake_docker: Callable[..., FakeDocker]
) -> None:
    docker = make_fake_docker()
    kinfra("create")
    refused = kinfra("destroy", "1")
    assert refused.exit_code == 2
    assert "--yes" in refused.stderr
    assert (sandbox_root / "slot-1").is_dir()
    assert docker.calls() == []
    result = kinfra("destroy", "1", "--yes")
    assert result.exit_code == 0, result.output
    assert not (sandbox_root / "slot-1").exists()
    assert docker.calls()[-1]["args"] == compose_args(1, "down", "--volumes", "--remove-orphans")
    assert kinfra("destroy", "1", "--yes").exit_code == 1


def test_destroy_removes_the_slot_even_when_docker_is_down(
    sandbox_root: Path, make_fake_docker: Callable[..., FakeDocker]
) -> None:
    make_fake_docker(fail=["info"], message=DAEMON_DOWN)
    kinfra("create")
    (sandbox_root / "slot-1" / "data" / "AAPL_1d.csv").write_text("timestamp\n")
    result = kinfra("destroy", "1", "--yes")
    assert result.exit_code == 0, result.output
    assert "containers not stopped" in result.stderr
    assert "docker compose --project-name ktrdr-sandbox-1 down --volumes" in result.stderr
    assert not (sandbox_root / "slot-1").exists()


def test_an_incomplete_slot_is_listed_and_can_be_destroyed(sandbox_root: Path) -> None:
    (sandbox_root / "slot-3").mkdir(parents=True)
    assert "incomplete" in kinfra("list").stdout
    assert "incomplete" in kinfra("up", "3").stderr
    assert created_slot(kinfra("create", "--slot", "1")) == 1
    assert kinfra("destroy", "3", "--yes").exit_code == 0
    assert not (sandbox_root / "slot-3").exists()


def test_the_kinfra_entry_point_explains_a_missing_cli_extra() -> None:
    probe = (
        "import sys; sys.modules['typer'] = None; from ktrdr.infra.sandbox.main import main; main()"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=False
    )
    assert result.returncode == 2
    assert result.stderr.strip() == (
        "kinfra: the command line needs the cli extra (typer is not installed): uv sync --extra cli"
    )


def test_kinfra_loads_no_compute_library() -> None:
    probe = (
        "import sys, ktrdr.infra.sandbox.app, ktrdr.infra.sandbox.main; "
        "print([m for m in ('torch', 'numpy', 'pandas', 'talib', 'sklearn') if m in sys.modules])"
    )
    out = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True
    ).stdout
    assert out.strip() == "[]"

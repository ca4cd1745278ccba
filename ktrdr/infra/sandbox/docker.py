"""Running ``docker compose`` for a sandbox, and failing in one line when docker cannot.

The executable is ``KTRDR_DOCKER`` when set (a path or a name on PATH; tests point it at
a fake script), else ``docker`` on PATH. Before a compose command runs, ``docker info``
must succeed (the daemon answers) and ``docker compose version`` too (the compose v2
plugin is installed); otherwise :class:`DockerUnavailableError` says which is missing.
"""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Sequence
from pathlib import Path

from ktrdr.core.errors import KtrdrError
from ktrdr.infra.engine import EngineError, configured_client
from ktrdr.infra.sandbox.slots import COMPOSE_FILE, ENV_FILE, project_name

PROBE_TIMEOUT_S = 20.0


class DockerUnavailableError(KtrdrError):
    """docker, its daemon or its compose plugin is missing; the message is one line."""


def _last_line(*outputs: str | None) -> str:
    for output in outputs:
        lines = [line.strip() for line in (output or "").splitlines() if line.strip()]
        if lines:
            return lines[-1]
    return "no output"


def executable() -> str:
    try:
        configured = configured_client()
    except EngineError as error:
        raise DockerUnavailableError(str(error)) from None
    if configured:
        return configured
    found = shutil.which("docker")
    if found is None:
        raise DockerUnavailableError(
            "docker is not installed: no docker executable on PATH (KTRDR_DOCKER can name one)"
        )
    return found


def _probe(docker: str, args: Sequence[str], what: str) -> None:
    try:
        result = subprocess.run(
            [docker, *args], capture_output=True, text=True, timeout=PROBE_TIMEOUT_S, check=False
        )
    except subprocess.TimeoutExpired as error:
        raise DockerUnavailableError(f"{what} (docker {args[0]} timed out)") from error
    except OSError as error:
        raise DockerUnavailableError(f"{what} (cannot run {docker}: {error})") from error
    if result.returncode != 0:
        detail = _last_line(result.stderr, result.stdout)
        raise DockerUnavailableError(f"{what} (docker {args[0]}: {detail})")


def require_docker() -> str:
    """The docker executable, once its daemon and compose plugin answer."""
    docker = executable()
    _probe(docker, ["info", "--format", "{{.ServerVersion}}"], "the Docker daemon is not reachable")
    _probe(docker, ["compose", "version"], "docker compose (the v2 plugin) is not available")
    return docker


def compose_command(docker: str, slot: int, *args: str) -> list[str]:
    """``docker compose`` for ``slot``; run it in the slot's folder (the two files are relative)."""
    return [
        docker,
        "compose",
        "--project-name",
        project_name(slot),
        "--env-file",
        ENV_FILE,
        "-f",
        COMPOSE_FILE,
        *args,
    ]


def run_compose(
    docker: str, slot: int, directory: Path, *args: str, capture: bool = False
) -> subprocess.CompletedProcess[str]:
    """Run ``docker compose ... args`` in ``directory``; output goes through unless captured."""
    return subprocess.run(
        compose_command(docker, slot, *args),
        cwd=directory,
        capture_output=capture,
        text=True,
        check=False,
    )

"""Sandbox slots on disk: where they live, how they are rendered and read back.

A slot N lives in ``<root>/slot-N/``::

    docker-compose.yml   rendered from templates/docker-compose.base.yml
    .env.sandbox         images (read by compose), slot number, host folders, ports
    prometheus.yml       Prometheus scrape configuration (the backend's /metrics)
    data/  models/       bind-mounted into every ktrdr container (/var/lib/ktrdr/...)

``<root>`` is ``--root``, else ``KTRDR_SANDBOX_DIR``, else ``$KTRDR_HOME/sandboxes``
(``~/.ktrdr/sandboxes`` by default). The compose project of slot N is ``ktrdr-sandbox-N``.

The template's placeholders are ``${SANDBOX_<NAME>}``; everything else with a ``$``
(``${KTRDR_BACKEND_IMAGE:-ktrdr-backend:dev}``, ``${KTRDR_WORKER_IMAGE:-...}``) is compose's
own interpolation and stays as it is.
"""

from __future__ import annotations

import json
import os
import re
import shutil
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from ktrdr.core.errors import ConflictError
from ktrdr.infra.sandbox.ports import SLOTS, SlotPorts, check_slot, ports

COMPOSE_FILE = "docker-compose.yml"
ENV_FILE = ".env.sandbox"
PROMETHEUS_FILE = "prometheus.yml"
TEMPLATE = "docker-compose.base.yml"
PROJECT_PREFIX = "ktrdr-sandbox-"
DEFAULT_BACKEND_IMAGE = "ktrdr-backend:dev"
DEFAULT_WORKER_IMAGE = "ktrdr-backend:dev"
PRODUCTION_BACKEND_IMAGE = "ghcr.io/kpiteira/ktrdr-backend:latest"
PRODUCTION_WORKER_IMAGE = "ghcr.io/kpiteira/ktrdr-worker-cpu:latest"

_PLACEHOLDER = re.compile(r"\$\{(SANDBOX_[A-Z0-9_]+)\}")
_PLAIN_ENV_VALUE = re.compile(r"^[A-Za-z0-9_./:@%+,=-]*$")


class SandboxError(ConflictError):
    """A sandbox operation that cannot go on; the message is one line for the user."""


def default_root() -> Path:
    configured = os.environ.get("KTRDR_SANDBOX_DIR")
    if configured:
        return Path(configured).expanduser()
    home = os.environ.get("KTRDR_HOME")
    base = Path(home).expanduser() if home else Path.home() / ".ktrdr"
    return base / "sandboxes"


def project_name(slot: int) -> str:
    return f"{PROJECT_PREFIX}{check_slot(slot)}"


def slot_dir(root: Path, slot: int) -> Path:
    return root / f"slot-{check_slot(slot)}"


def template_text(name: str) -> str:
    return resources.files("ktrdr.infra.sandbox").joinpath("templates", name).read_text("utf-8")


def _compose_string(value: str) -> str:
    """A YAML double-quoted scalar that compose will not interpolate."""
    return json.dumps(value.replace("$", "$$"), ensure_ascii=False)


def _env_value(value: str) -> str:
    """A value for the env file: plain when safe, else single-quoted (no interpolation)."""
    if _PLAIN_ENV_VALUE.match(value):
        return value
    if "'" in value or "\n" in value:
        raise SandboxError(f"cannot write {value!r} to {ENV_FILE} (quote or newline)")
    return f"'{value}'"


IMAGE_USER = (10001, 10001)  # the images' own non-root user


def host_user() -> str:
    """``uid:gid`` the ktrdr containers run as, so they can write the bind-mounted folders.

    The host user's own ids, except root: containers never run as root, the slot's
    folders are handed to the images' user instead (see :func:`create`).
    """
    getuid = getattr(os, "getuid", None)
    getgid = getattr(os, "getgid", None)
    if getuid is None or getgid is None or getuid() == 0:  # Windows, or root
        return "{}:{}".format(*IMAGE_USER)
    return f"{getuid()}:{getgid()}"


def render(template: str, values: dict[str, str]) -> str:
    """Fill the ``${SANDBOX_*}`` placeholders of ``template``; an unknown one is an error."""

    def fill(match: re.Match[str]) -> str:
        name = match.group(1)
        if name not in values:
            raise SandboxError(f"template placeholder ${{{name}}} has no value")
        return values[name]

    return _PLACEHOLDER.sub(fill, template)


def compose_values(slot: int, directory: Path, user: str | None = None) -> dict[str, str]:
    slot_ports = ports(slot)
    return {
        "SANDBOX_SLOT": str(slot),
        "SANDBOX_PROJECT": project_name(slot),
        "SANDBOX_USER": user or host_user(),
        "SANDBOX_DATA_DIR": _compose_string(str(directory / "data")),
        "SANDBOX_MODELS_DIR": _compose_string(str(directory / "models")),
        "SANDBOX_API_PORT": str(slot_ports.api),
        "SANDBOX_MCP_PORT": str(slot_ports.mcp),
        "SANDBOX_DB_PORT": str(slot_ports.db),
        "SANDBOX_PROMETHEUS_PORT": str(slot_ports.prometheus),
        "SANDBOX_BACKTEST_WORKER_PORT": str(slot_ports.backtest_worker),
        "SANDBOX_TRAINING_WORKER_PORT": str(slot_ports.training_worker),
    }


def render_compose(slot: int, directory: Path, user: str | None = None) -> str:
    return render(template_text(TEMPLATE), compose_values(slot, directory, user))


def render_env(
    slot: int,
    directory: Path,
    backend_image: str = DEFAULT_BACKEND_IMAGE,
    worker_image: str = DEFAULT_WORKER_IMAGE,
) -> str:
    slot_ports = ports(slot)
    project = project_name(slot)
    entries = {
        "KTRDR_SANDBOX_SLOT": str(slot),
        "KTRDR_SANDBOX_PROJECT": project,
        "KTRDR_SANDBOX_DATA_DIR": str(directory / "data"),
        "KTRDR_SANDBOX_MODELS_DIR": str(directory / "models"),
        "KTRDR_SANDBOX_API_PORT": str(slot_ports.api),
        "KTRDR_SANDBOX_MCP_PORT": str(slot_ports.mcp),
        "KTRDR_SANDBOX_DB_PORT": str(slot_ports.db),
        "KTRDR_SANDBOX_PROMETHEUS_PORT": str(slot_ports.prometheus),
        "KTRDR_SANDBOX_BACKTEST_WORKER_PORT": str(slot_ports.backtest_worker),
        "KTRDR_SANDBOX_TRAINING_WORKER_PORT": str(slot_ports.training_worker),
    }
    lines = [
        f"# kinfra sandbox slot {slot} (compose project {project}), "
        "written by `kinfra sandbox create`.",
        f"# docker compose --env-file {ENV_FILE} reads it: the two images are interpolated",
        f"# into {COMPOSE_FILE}; the rest records the slot for people and scripts.",
        "",
        "# ktrdr-backend:dev: the dev image (CPU torch), deploy/docker/Dockerfile.dev.",
        f"KTRDR_BACKEND_IMAGE={_env_value(backend_image)}",
        f"KTRDR_WORKER_IMAGE={_env_value(worker_image)}",
        "# Or for production images:",
        f"# KTRDR_BACKEND_IMAGE={PRODUCTION_BACKEND_IMAGE}",
        f"# KTRDR_WORKER_IMAGE={PRODUCTION_WORKER_IMAGE}",
        "",
        *(f"{key}={_env_value(value)}" for key, value in entries.items()),
        "",
        f"# The ktrdr CLI against this sandbox: KTRDR_API_URL=http://127.0.0.1:{slot_ports.api}",
        f"# Its MCP server: http://127.0.0.1:{slot_ports.mcp}/mcp, or over stdio:",
        f"#   docker exec -i {project}-mcp-1 python -m ktrdr.mcp",
    ]
    return "\n".join(lines) + "\n"


def read_env_file(path: Path) -> dict[str, str]:
    """``KEY=value`` lines of an env file (comments and blank lines skipped, quotes removed)."""
    values: dict[str, str] = {}
    for raw in path.read_text("utf-8").splitlines():
        line = raw.strip()
        if not line or line.startswith("#") or "=" not in line:
            continue
        key, value = line.split("=", 1)
        value = value.strip()
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
            value = value[1:-1]
        values[key.strip()] = value
    return values


@dataclass(frozen=True)
class Sandbox:
    """A slot found on disk."""

    slot: int
    directory: Path
    env: dict[str, str]

    @property
    def project(self) -> str:
        return project_name(self.slot)

    @property
    def ports(self) -> SlotPorts:
        return ports(self.slot)

    @property
    def complete(self) -> bool:
        return (self.directory / COMPOSE_FILE).is_file() and (self.directory / ENV_FILE).is_file()

    @property
    def backend_image(self) -> str:
        return self.env.get("KTRDR_BACKEND_IMAGE") or DEFAULT_BACKEND_IMAGE

    @property
    def worker_image(self) -> str:
        return self.env.get("KTRDR_WORKER_IMAGE") or DEFAULT_WORKER_IMAGE


def load(root: Path, slot: int) -> Sandbox | None:
    directory = slot_dir(root, slot)
    if not directory.is_dir():
        return None
    env_path = directory / ENV_FILE
    env = read_env_file(env_path) if env_path.is_file() else {}
    return Sandbox(slot=slot, directory=directory, env=env)


def existing(root: Path) -> list[Sandbox]:
    return [sandbox for slot in SLOTS if (sandbox := load(root, slot)) is not None]


def require(root: Path, slot: int) -> Sandbox:
    sandbox = load(root, slot)
    if sandbox is None:
        raise SandboxError(f"no sandbox in slot {slot} under {root} (kinfra sandbox create)")
    if not sandbox.complete:
        raise SandboxError(
            f"sandbox slot {slot} in {sandbox.directory} is incomplete "
            f"(no {COMPOSE_FILE} or {ENV_FILE}); kinfra sandbox destroy {slot} --yes"
        )
    return sandbox


def create(
    root: Path,
    slot: int | None = None,
    backend_image: str = DEFAULT_BACKEND_IMAGE,
    worker_image: str = DEFAULT_WORKER_IMAGE,
) -> Sandbox:
    """Claim ``slot`` (or the lowest free one) and write its files.

    Claiming is ``mkdir`` of the slot folder, so two concurrent creates never get the
    same slot.
    """
    root.mkdir(parents=True, exist_ok=True)
    candidates = [check_slot(slot)] if slot is not None else list(SLOTS)
    for candidate in candidates:
        directory = slot_dir(root, candidate)
        try:
            directory.mkdir()
        except FileExistsError:
            continue
        try:
            _write_slot(candidate, directory, backend_image, worker_image)
        except BaseException:
            shutil.rmtree(directory, ignore_errors=True)
            raise
        sandbox = load(root, candidate)
        assert sandbox is not None
        return sandbox
    if slot is not None:
        raise SandboxError(
            f"slot {slot} is taken ({slot_dir(root, slot)}); kinfra sandbox destroy {slot} --yes"
        )
    raise SandboxError(f"all slots {SLOTS.start}..{SLOTS.stop - 1} are taken under {root}")


def _write_slot(slot: int, directory: Path, backend_image: str, worker_image: str) -> None:
    compose = render_compose(slot, directory)
    env = render_env(slot, directory, backend_image, worker_image)
    for folder in (directory / "data", directory / "models"):
        folder.mkdir()
        if getattr(os, "geteuid", lambda: -1)() == 0:
            os.chown(folder, *IMAGE_USER)
    (directory / PROMETHEUS_FILE).write_text(template_text(PROMETHEUS_FILE), "utf-8")
    (directory / ENV_FILE).write_text(env, "utf-8")
    (directory / COMPOSE_FILE).write_text(compose, "utf-8")


def remove(sandbox: Sandbox) -> None:
    shutil.rmtree(sandbox.directory)

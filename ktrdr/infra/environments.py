"""The compose environments, brought up for real on the project's Docker engine.

    python -m ktrdr.infra.environments up canary|local|homelab    # make env-up ENV=...
    python -m ktrdr.infra.environments down canary|local|homelab  # make env-down ENV=...
    python -m ktrdr.infra.environments verify canary|local|homelab|sandboxes  # CI: up,
        check (canary check, drills, profiles, ...), down, and nothing of it left behind

``up`` makes what the environment needs (the images from the repository's Dockerfiles,
the PostgreSQL and Prometheus stand-ins, the local registry for homelab) and runs
``docker compose up -d --wait``, leaving the environment running with its ports as its
compose file publishes them. ``down`` takes it down with its volumes.

- canary: ``:test`` images (``IMAGE_TAG`` overrides), API on 127.0.0.1:18000;
- local: ``up --build`` of the dev image with the source mounted, API on 127.0.0.1:8000;
  ``PROFILES=postgres,observability`` adds the profiles (the backend then uses PostgreSQL);
- homelab: core + CPU workers pulled from the local registry as ``IMAGE_TAG=sha-<short>``;
  the secrets and the registry come from ``deploy/environments/homelab/.env`` when it
  exists, else from a generated env file under ``.docker-engine/``; the API on
  127.0.0.1:``BACKEND_PORT`` (18080 unless set).
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import shutil
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

from ktrdr.infra import engine, registry
from ktrdr.infra.images import build, standins
from ktrdr.infra.images.catalogue import PUBLISHED, REPO_ROOT, image_ref
from ktrdr.infra.mcp_drill import research_through_container

ENVIRONMENTS = REPO_ROOT / "deploy" / "environments"
HOMELAB = ENVIRONMENTS / "homelab"
HOMELAB_PORT = "18080"


class EnvironmentCheckError(engine.EngineError):
    """An environment did not come up, failed a check, or left something behind."""


@dataclass
class Environment:
    name: str
    project: str
    files: list[Path]
    api_url: str
    images: tuple[str, ...]
    env_file: Path | None = None
    variables: dict[str, str] = field(default_factory=dict)
    profiles: tuple[str, ...] = ()

    def compose(self, *args: str, check: bool = True, capture: bool = False) -> str:
        command = [engine.docker_client(), "compose", "--project-name", self.project]
        if self.env_file is not None:
            command += ["--env-file", str(self.env_file)]
        for file in self.files:
            command += ["-f", str(file)]
        for profile in self.profiles:
            command += ["--profile", profile]
        result = subprocess.run(
            [*command, *args],
            env={**engine.client_env(os.environ.get("DOCKER_HOST")), **self.variables},
            cwd=self.files[0].parent,
            capture_output=capture,
            text=True,
            check=False,
        )
        if check and result.returncode != 0:
            detail = (result.stderr or "")[-1500:] if capture else ""
            raise EnvironmentCheckError(
                f"{self.name}: docker compose {' '.join(args)} exit {result.returncode} {detail}"
            )
        return result.stdout or ""


def log(message: str) -> None:
    print(f"env: {message}", flush=True)


def _homelab_env_file(tag: str, prefix: str) -> Path:
    """deploy/environments/homelab/.env when present, else one generated from .env.example."""
    own = HOMELAB / ".env"
    if own.exists():
        return own
    generated = engine.private_engine().root / "homelab.env"
    values = {
        "IMAGE_REGISTRY": prefix,
        "IMAGE_TAG": tag,
        "POSTGRES_IMAGE": registry.mirror(standins.POSTGRES_IMAGE),
        "BACKEND_PORT": os.environ.get("BACKEND_PORT", HOMELAB_PORT),
        "POSTGRES_PASSWORD": secrets.token_hex(24),
        "KTRDR_WORKER_SECRET": secrets.token_hex(24),
    }
    if generated.exists():  # keep the secrets the volume was initialised with
        for key, value in env_file_values(generated).items():
            if key in ("POSTGRES_PASSWORD", "KTRDR_WORKER_SECRET"):
                values[key] = value
    generated.write_text(filled_env_example(values))
    return generated


def filled_env_example(values: dict[str, str]) -> str:
    """homelab/.env.example with ``values`` filled in, as its users are told to do."""
    lines = []
    for line in (HOMELAB / ".env.example").read_text().splitlines():
        key, sep, _ = line.partition("=")
        if sep and not line.startswith("#") and key in values:
            line = f"{key}={values[key]}"
        lines.append(line)
    return "\n".join(lines) + "\n"


def env_file_values(path: Path) -> dict[str, str]:
    values = {}
    for line in path.read_text().splitlines():
        key, sep, value = line.partition("=")
        if sep and not line.startswith("#"):
            values[key.strip()] = value.strip()
    return values


def define(name: str, tag: str | None = None, profiles: tuple[str, ...] = ()) -> Environment:
    variables = standins.compose_variables()
    if name == "canary":
        return Environment(
            "canary",
            "ktrdr-canary",
            [ENVIRONMENTS / "canary" / "docker-compose.yml"],
            "http://127.0.0.1:18000",
            ("backend", "worker-cpu"),
            variables={**variables, **({"IMAGE_TAG": tag} if tag else {})},
        )
    if name == "local":
        with_wheel = bool(os.environ.get("TORCH_WHEELHOUSE") or os.environ.get("PIP_FIND_LINKS"))
        variables.update(build.build_args(standins.DEFAULT_BASE.image, with_wheel))
        if "postgres" in profiles:
            variables["LOCAL_DATABASE_URL"] = "postgresql://ktrdr:ktrdr@postgres:5432/ktrdr"
        return Environment(
            "local",
            "ktrdr-local",
            [ENVIRONMENTS / "local" / "docker-compose.yml"],
            "http://127.0.0.1:8000",
            ("dev",),
            variables=variables,
            profiles=profiles,
        )
    if name == "homelab":
        tag = tag or f"sha-{build.revision()}"
        standins.build_services()
        env_file = _homelab_env_file(tag, registry.up())
        port = env_file_values(env_file).get("BACKEND_PORT", "8000")
        files = [HOMELAB / "docker-compose.core.yml", HOMELAB / "docker-compose.workers.yml"]
        return Environment(
            "homelab",
            "ktrdr",
            files,
            f"http://127.0.0.1:{port}",
            PUBLISHED,
            env_file=env_file,
            variables={"IMAGE_TAG": tag} if tag else {},
        )
    raise EnvironmentCheckError(f"unknown environment {name!r} (canary, local, homelab)")


def prepare(environment: Environment) -> None:
    """Images and stand-ins the environment needs, built (or found up to date)."""
    engine.ensure()
    standins.build_services()
    if environment.name == "local":
        return  # `up --build` builds the dev image itself
    if environment.name == "canary" and "IMAGE_TAG" in environment.variables:
        return  # a pushed tag: pulled from IMAGE_REGISTRY by compose
    build.build(environment.images)
    if environment.name == "homelab":
        values = env_file_values(environment.env_file) if environment.env_file else {}
        tag = environment.variables.get("IMAGE_TAG") or values.get("IMAGE_TAG", "latest")
        registry.push(tag, list(environment.images))
        # Pulled, not found: the registry's tags leave the engine before `compose pull`.
        prefix = values.get("IMAGE_REGISTRY", registry.up())
        for kind in environment.images:
            for each in (tag, "latest"):
                subprocess.run(
                    [engine.docker_client(), "rmi", image_ref(kind, prefix, each)],
                    capture_output=True,
                    env=engine.client_env(),
                    check=False,
                )
        environment.compose("pull", "--quiet")


def up(environment: Environment) -> float:
    """``docker compose up -d --wait`` (``--build`` for local); returns its wall time."""
    args = ["up", "-d", "--wait"]
    if environment.name == "local":
        args.append("--build")
        with build.wheelhouse():
            started = time.monotonic()
            environment.compose(*args)
            return time.monotonic() - started
    started = time.monotonic()
    environment.compose(*args)
    return time.monotonic() - started


def down(environment: Environment) -> None:
    environment.compose("down", "--volumes", "--remove-orphans", "--timeout", "60")


def _docker_lines(*args: str) -> list[str]:
    result = subprocess.run(
        [engine.docker_client(), *args],
        capture_output=True,
        text=True,
        env=engine.client_env(),
        check=True,
    )
    return [line for line in result.stdout.splitlines() if line.strip()]


def leftovers(project: str) -> list[str]:
    """Containers, networks and volumes of a compose project that still exist."""
    label = f"label=com.docker.compose.project={project}"
    found = [f"container {c}" for c in _docker_lines("ps", "-a", "--filter", label, "-q")]
    found += [f"network {n}" for n in _docker_lines("network", "ls", "--filter", label, "-q")]
    found += [f"volume {v}" for v in _docker_lines("volume", "ls", "--filter", label, "-q")]
    return found


def isolation_problems(project: str) -> list[str]:
    """Published ports on 127.0.0.1 only; containers only on the project's own networks."""
    label = f"label=com.docker.compose.project={project}"
    ids = _docker_lines("ps", "--filter", label, "-q")
    if not ids:
        return [f"{project}: no running container"]
    problems = []
    for container in json.loads("\n".join(_docker_lines("inspect", *ids))):
        name = container["Name"].lstrip("/")
        for port, bindings in (container["NetworkSettings"]["Ports"] or {}).items():
            for binding in bindings or []:
                if binding["HostIp"] != "127.0.0.1":
                    problems.append(f"{name}: {port} published on {binding['HostIp'] or '*'}")
        for network in container["NetworkSettings"]["Networks"]:
            labels = json.loads(
                "\n".join(
                    _docker_lines("network", "inspect", "--format", "{{json .Labels}}", network)
                )
            )
            if (labels or {}).get("com.docker.compose.project") != project:
                problems.append(f"{name}: on network {network}, not one of {project}'s")
    return problems


def canary(api_url: str) -> None:
    python = REPO_ROOT / ".venv" / "bin" / "python"
    executable = str(python) if python.exists() else sys.executable
    result = subprocess.run(
        [executable, "-m", "ktrdr.infra.canary"],
        env={**os.environ, "KTRDR_API_URL": api_url},
        check=False,
    )
    if result.returncode != 0:
        raise EnvironmentCheckError(f"the canary check failed against {api_url}")


def metrics_scraped(prometheus_url: str, timeout_s: float = 90) -> str:
    """Prometheus has scraped ktrdr's /metrics: a ktrdr series answers a query."""
    deadline = time.monotonic() + timeout_s
    last = ""
    while time.monotonic() < deadline:
        try:
            query = f"{prometheus_url}/api/v1/query?query=up%7Bjob%3D%22ktrdr-backend%22%7D"
            with urllib.request.urlopen(query, timeout=5) as response:
                up_result = json.load(response)["data"]["result"]
            names_url = f"{prometheus_url}/api/v1/label/__name__/values"
            with urllib.request.urlopen(names_url, timeout=5) as response:
                names = [n for n in json.load(response)["data"] if n.startswith("ktrdr_")]
            if up_result and up_result[0]["value"][1] == "1" and names:
                return f"target up, {len(names)} ktrdr_* series (e.g. {names[0]})"
            last = f"up={up_result}, ktrdr series={len(names)}"
        except OSError as error:
            last = str(error)
        time.sleep(3)
    raise EnvironmentCheckError(f"Prometheus shows no ktrdr metrics: {last}")


# --- verification (CI): each environment up for real, checked, down, nothing left -------

CORE_TEST_PATHS = ("tests/unit/core", "tests/unit/control", "tests/unit/research")
PY313_BACKEND = "test-py313"


@dataclass
class Timings:
    rows: list[tuple[str, float]] = field(default_factory=list)

    def add(self, what: str, seconds: float) -> None:
        self.rows.append((what, seconds))
        log(f"{what}: {seconds:.1f}s")


def teardown(environment: Environment, timings: Timings) -> None:
    started = time.monotonic()
    down(environment)
    timings.add(f"{environment.name} down", time.monotonic() - started)
    left = leftovers(environment.project)
    if left:
        raise EnvironmentCheckError(f"{environment.name} left behind: {', '.join(left)}")


def bring_up(environment: Environment, timings: Timings, label: str = "") -> None:
    prepare(environment)
    seconds = up(environment)
    timings.add(f"{label or environment.name} up -d --wait", seconds)
    problems = isolation_problems(environment.project)
    if problems:
        down(environment)
        raise EnvironmentCheckError("; ".join(problems))


def verify_canary(timings: Timings) -> None:
    from ktrdr.infra import drills

    environment = define("canary")
    bring_up(environment, timings)
    try:
        started = time.monotonic()
        canary(environment.api_url)
        timings.add("canary check", time.monotonic() - started)
        started = time.monotonic()
        with drills.ApiClient(environment.api_url) as client:
            results = drills.run(client)
        timings.add("drills", time.monotonic() - started)
        failed = [f.drill for f in results if f.problems]
        if failed:
            raise EnvironmentCheckError(f"drills failed: {failed}")
    finally:
        teardown(environment, timings)


def override_backend(image: str) -> Path:
    """A compose override file that runs the backend service from ``image``."""
    path = engine.private_engine().root / "backend-override.yml"
    path.write_text(f"services:\n  backend:\n    image: {image}\n")
    return path


PYTEST_PACKAGES = ("pytest", "_pytest", "pluggy", "iniconfig", "packaging", "pygments", "py.py")


def pytest_site() -> Path:
    """The locked pytest (pure Python) copied from this checkout's venv, to mount into an
    image that has no test tools (and no network)."""
    import shutil as files

    site = next((REPO_ROOT / ".venv" / "lib").glob("python3*/site-packages"))
    target = engine.private_engine().root / "pytest-site"
    files.rmtree(target, ignore_errors=True)
    target.mkdir(parents=True)
    for entry in site.iterdir():
        name = entry.name.split("-")[0] if entry.name.endswith(".dist-info") else entry.name
        if name in PYTEST_PACKAGES:
            if entry.is_dir():
                files.copytree(entry, target / entry.name, ignore=files.ignore_patterns("*.pyc"))
            else:
                files.copy(entry, target / entry.name)
    return target


def readable_strategies() -> Path:
    """The repository's strategies, readable by the image's user (a strategy written by
    the API is private to its writer, 0600)."""
    import shutil as files

    target = engine.private_engine().root / "strategies"
    files.rmtree(target, ignore_errors=True)
    target.mkdir(parents=True)
    for path in (REPO_ROOT / "strategies").glob("*.yaml"):
        (target / path.name).write_bytes(path.read_bytes())
        (target / path.name).chmod(0o644)
    return target


def core_tests(image: str) -> None:
    """The control-plane unit tests inside ``image`` (its Python, its installed ktrdr)."""
    mounts = [
        "-v",
        f"{pytest_site()}:/opt/pytest:ro",
        "-v",
        f"{readable_strategies()}:/ktrdr/src/strategies:ro",
    ]
    for part in ("tests", "pyproject.toml", "scripts"):
        mounts += ["-v", f"{REPO_ROOT / part}:/ktrdr/src/{part}:ro"]
    command = ["python", "-m", "pytest", "-q", "-p", "no:cacheprovider", *CORE_TEST_PATHS]
    result = subprocess.run(
        [
            engine.docker_client(),
            "run",
            "--rm",
            "--network",
            "none",
            *mounts,
            "-w",
            "/ktrdr/src",
            "-e",
            "PYTHONPATH=/opt/pytest",
            "-e",
            "HOME=/tmp",
            image,
            *command,
        ],
        env=engine.client_env(),
        check=False,
    )
    if result.returncode != 0:
        raise EnvironmentCheckError(f"core-only tests failed in {image}")


def verify_py313(timings: Timings) -> None:
    """The backend on Debian trixie's CPython 3.13: core-only tests, then the canary's
    backend (workers stay on the 3.11 images: the reachable CPU torch wheel is cp311)."""
    started = time.monotonic()
    image = build.build(["backend"], tag=PY313_BACKEND, base=standins.BASES["trixie"])["backend"]
    timings.add("py313 backend build", time.monotonic() - started)
    started = time.monotonic()
    core_tests(image)
    timings.add("py313 core-only tests", time.monotonic() - started)
    environment = define("canary")
    environment.files.append(override_backend(image))
    bring_up(environment, timings, "canary (py313 backend)")
    try:
        canary(environment.api_url)
    finally:
        teardown(environment, timings)


def demo_against(api_url: str) -> None:
    result = subprocess.run(
        ["make", "--no-print-directory", "demo"],
        cwd=REPO_ROOT,
        env={**os.environ, "KTRDR_API_URL": api_url},
        check=False,
    )
    if result.returncode != 0:
        raise EnvironmentCheckError(f"make demo failed against {api_url}")


def verify_local(timings: Timings) -> None:
    environment = define("local")
    bring_up(environment, timings, "local (--build, SQLite)")
    try:
        started = time.monotonic()
        demo_against(environment.api_url)
        timings.add("make demo against local", time.monotonic() - started)
        started = time.monotonic()
        container = environment.compose("ps", "-q", "mcp-local", capture=True).strip()
        summary = research_through_container(engine.docker_client(), container)
        log(f"MCP through docker exec -i mcp-local: {summary}")
        timings.add("train + backtest through mcp-local", time.monotonic() - started)
    finally:
        teardown(environment, timings)
    environment = define("local", profiles=("postgres", "observability"))
    bring_up(environment, timings, "local +postgres +observability")
    try:
        health = json.load(urllib.request.urlopen(f"{environment.api_url}/api/v1/health"))
        database = environment.compose(
            "exec", "-T", "backend", "printenv", "KTRDR_DATABASE_URL", capture=True
        ).strip()
        if health.get("database") != "ok" or not database.startswith("postgresql"):
            raise EnvironmentCheckError(f"local backend not on PostgreSQL: {database} {health}")
        canary(environment.api_url)
        log("Prometheus: " + metrics_scraped("http://127.0.0.1:9090"))
    finally:
        teardown(environment, timings)


def gpu_available() -> bool:
    if shutil.which("nvidia-smi") is None:
        return False
    return subprocess.run(["nvidia-smi"], capture_output=True, check=False).returncode == 0


def verify_homelab(timings: Timings) -> None:
    environment = define("homelab")
    gpu = Environment(
        "homelab-gpu",
        environment.project,
        [*environment.files, HOMELAB / "docker-compose.gpu-worker.yml"],
        environment.api_url,
        (),
        env_file=environment.env_file,
        variables=environment.variables,
    )
    gpu.compose("config", "--quiet")
    log(
        "GPU worker file: `docker compose config` passes; "
        + ("a GPU is present" if gpu_available() else "not started: no NVIDIA GPU here")
    )
    started = time.monotonic()
    bring_up(environment, timings)
    timings.add("homelab build + push + pull + up", time.monotonic() - started)
    try:
        canary(environment.api_url)
    finally:
        teardown(environment, timings)


def kinfra(*args: str, root: Path) -> str:
    result = subprocess.run(
        [str(REPO_ROOT / ".venv" / "bin" / "kinfra"), "sandbox", *args, "--root", str(root)],
        capture_output=True,
        text=True,
        env={**os.environ, **standins.compose_variables()},
        check=False,
    )
    if result.returncode != 0:
        raise EnvironmentCheckError(f"kinfra sandbox {' '.join(args)}: {result.stderr.strip()}")
    return result.stdout


def verify_sandboxes(timings: Timings) -> None:
    engine.ensure()
    standins.build_services()
    build.build(["dev"])
    root = engine.private_engine().root / "sandboxes"
    slots = []
    try:
        for _ in range(2):
            created = kinfra("create", root=root)
            slots.append(int(created.split("slot ", 1)[1].split()[0]))
        for slot in slots:
            started = time.monotonic()
            kinfra("up", str(slot), "--wait", root=root)
            timings.add(f"sandbox {slot} up --wait", time.monotonic() - started)
        from ktrdr.infra.sandbox.ports import ports
        from ktrdr.infra.sandbox.slots import project_name

        for slot in slots:  # both up at once, each checked
            problems = isolation_problems(project_name(slot))
            if problems:
                raise EnvironmentCheckError("; ".join(problems))
            canary(f"http://127.0.0.1:{ports(slot).api}")
        for slot in slots:
            kinfra("down", str(slot), root=root)
    finally:
        from ktrdr.infra.sandbox.slots import project_name

        for slot in slots:
            kinfra("destroy", str(slot), "--yes", root=root)
        left = [item for slot in slots for item in leftovers(project_name(slot))]
        if left:
            raise EnvironmentCheckError(f"sandboxes left behind: {', '.join(left)}")


VERIFY = {
    "canary": verify_canary,
    "py313": verify_py313,
    "local": verify_local,
    "homelab": verify_homelab,
    "sandboxes": verify_sandboxes,
}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m ktrdr.infra.environments", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    for command in ("up", "down"):
        each = sub.add_parser(command)
        each.add_argument("name", choices=["canary", "local", "homelab"])
        each.add_argument("--tag", default=None, help="IMAGE_TAG (canary: a pushed tag)")
    verify = sub.add_parser("verify")
    verify.add_argument("names", nargs="+", choices=list(VERIFY))
    args = parser.parse_args(argv)

    def run() -> int | None:
        engine.ensure()
        if args.command == "verify":
            timings = Timings()
            for name in args.names:
                started = time.monotonic()
                VERIFY[name](timings)
                timings.add(f"verify {name}", time.monotonic() - started)
            print("\n".join(f"  {what:48} {seconds:7.1f}s" for what, seconds in timings.rows))
            return 0
        profiles = tuple(p for p in os.environ.get("PROFILES", "").split(",") if p)
        environment = define(args.name, args.tag, profiles)
        if args.command == "up":
            prepare(environment)
            seconds = up(environment)
            log(f"{args.name} is up (up -d --wait {seconds:.1f}s); API {environment.api_url}")
        else:
            down(environment)
            left = leftovers(environment.project)
            log(f"{args.name} is down" + (f"; left: {left}" if left else ""))
            return 1 if left else 0
        return None

    return engine.exit_status("env", run, subprocess.CalledProcessError)


if __name__ == "__main__":
    sys.exit(main())

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
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

from ktrdr.infra import engine, registry
from ktrdr.infra.images import build, standins
from ktrdr.infra.images.catalogue import PUBLISHED, REPO_ROOT, image_ref

ENVIRONMENTS = REPO_ROOT / "deploy" / "environments"
HOMELAB = ENVIRONMENTS / "homelab"
HOMELAB_PORT = "18080"


class EnvironmentError_(engine.EngineError):
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
            raise EnvironmentError_(
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
        "POSTGRES_IMAGE": standins.POSTGRES_IMAGE,
        "BACKEND_PORT": os.environ.get("BACKEND_PORT", HOMELAB_PORT),
        "POSTGRES_PASSWORD": secrets.token_hex(24),
        "KTRDR_WORKER_SECRET": secrets.token_hex(24),
    }
    if generated.exists():  # keep the secrets the volume was initialised with
        for line in generated.read_text().splitlines():
            key, _, value = line.partition("=")
            if key in ("POSTGRES_PASSWORD", "KTRDR_WORKER_SECRET"):
                values[key] = value
    lines = []
    for line in (HOMELAB / ".env.example").read_text().splitlines():
        key, sep, _ = line.partition("=")
        if sep and not line.startswith("#") and key in values:
            line = f"{key}={values[key]}"
        lines.append(line)
    generated.write_text("\n".join(lines) + "\n")
    return generated


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
    raise EnvironmentError_(f"unknown environment {name!r} (canary, local, homelab)")


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
                "\n".join(_docker_lines("network", "inspect", "--format", "{{json .Labels}}", network))
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
        raise EnvironmentError_(f"the canary check failed against {api_url}")


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
    raise EnvironmentError_(f"Prometheus shows no ktrdr metrics: {last}")

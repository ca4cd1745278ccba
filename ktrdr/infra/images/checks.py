"""Checks of built ktrdr images, run with ``docker run``; each rule is written once here.

    python3 -m ktrdr.infra.images smoke backend ghcr.io/kpiteira/ktrdr-backend:sha-abc1234
    python3 -m ktrdr.infra.images check backend worker-cpu dev     # smoke + service checks

``smoke`` (GitHub's image workflow runs it before every push; it needs no service):
  every image   runs as non-root; its environment matches uv.lock and its torch variant:
                deploy/scripts/verify_env.py, the check every build runs, run again in a
                container of the built image (that folder and uv.lock mounted read-only):
                no torch in the backend, the locked torch's CPU build without any CUDA
                runtime package in worker-cpu and dev, a CUDA build in worker-gpu;
  backend       ``from ktrdr.api.main import app`` works, and a worker started from it
                (``python -m ktrdr.workers backtesting``) exits 3 naming the worker images;
  workers, dev  torch, numpy, pandas and TA-Lib import (``python -m ktrdr.workers.ml_check``).
``check`` adds: the image's entrypoint and command start and Docker reports the image's
own HEALTHCHECK healthy; the projected size (onto python:3.13-slim) within its budget.
Exit status: 0 all passed, 1 a check failed, 2 usage. ``DOCKER`` names another client.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass, field

from ktrdr.infra.images.catalogue import IMAGES, MB, REPO_ROOT, SLIM_DISK

CHECKS_MOUNT = "/opt/ktrdr-checks"
LOCK_MOUNT = "/opt/ktrdr-lock/uv.lock"
WORKER_IMAGES_MESSAGE = "ktrdr-worker-cpu or ktrdr-worker-gpu"
EXIT_MISSING_ML = 3  # ktrdr.workers.ml_check
RUN_TIMEOUT_S = 300.0
HEALTHY_TIMEOUT_S = 120.0


@dataclass
class Report:
    image: str
    kind: str
    failures: list[str] = field(default_factory=list)
    facts: dict[str, object] = field(default_factory=dict)

    def check(self, ok: bool, what: str, detail: str = "") -> bool:
        print(f"  {'ok  ' if ok else 'FAIL'} {what}{'' if ok or not detail else ': ' + detail}")
        sys.stdout.flush()
        if not ok:
            self.failures.append(what)
        return ok


def docker_client() -> str:
    configured = os.environ.get("DOCKER")
    if configured:
        return configured
    try:
        from ktrdr.infra.engine import docker_client as engine_client

        return engine_client()
    except Exception:
        return shutil.which("docker") or "docker"


def run(args: list[str], timeout: float = RUN_TIMEOUT_S) -> subprocess.CompletedProcess[str]:
    try:
        return subprocess.run(
            [docker_client(), *args], capture_output=True, text=True, timeout=timeout, check=False
        )
    except subprocess.TimeoutExpired as error:
        return subprocess.CompletedProcess(error.cmd, 124, "", f"timed out after {timeout:.0f}s")


def in_image(image: str, *command: str, mounts: bool = False) -> subprocess.CompletedProcess[str]:
    """COMMAND in a throw-away container of IMAGE, without a network."""
    flags = ["run", "--rm", "--network", "none"]
    if mounts:
        flags += [
            "-v",
            f"{REPO_ROOT / 'deploy' / 'scripts'}:{CHECKS_MOUNT}:ro",
            "-v",
            f"{REPO_ROOT / 'uv.lock'}:{LOCK_MOUNT}:ro",
        ]
    return run([*flags, image, *command])


def short(result: subprocess.CompletedProcess[str], limit: int = 300) -> str:
    output = (result.stdout + result.stderr).strip()
    return f"exit {result.returncode}: {output[-limit:]}"


def non_root(report: Report) -> None:
    result = in_image(report.image, "id", "-u")
    uid = result.stdout.strip()
    report.facts["uid"] = uid
    report.check(
        result.returncode == 0 and uid not in ("", "0"),
        f"runs as non-root (uid {uid})",
        f"id -u gave {uid!r} ({short(result)})",
    )


def verify_environment(report: Report) -> None:
    """verify_env.py in a container: lock and torch variant (JSON facts)."""
    image = IMAGES[report.kind]
    result = in_image(
        report.image,
        "python",
        f"{CHECKS_MOUNT}/verify_env.py",
        "--lock",
        LOCK_MOUNT,
        "--variant",
        image.torch,
        "--json",
        mounts=True,
    )
    lines = result.stdout.strip().splitlines()
    try:
        facts = json.loads(lines[-1]) if lines else {}
    except json.JSONDecodeError:
        facts = {}
    report.facts.update(facts)
    torch = facts.get("torch", "none")
    report.check(
        result.returncode == 0 and not facts.get("problems"),
        f"environment matches uv.lock, torch {image.torch} ({torch}, cuda {facts.get('cuda')})",
        "; ".join(map(str, facts.get("problems") or [])) or short(result),
    )


def backend_entrypoints(report: Report) -> None:
    app = in_image(report.image, "python", "-c", "from ktrdr.api.main import app")
    report.check(app.returncode == 0, "from ktrdr.api.main import app works", short(app))
    worker = in_image(report.image, "python", "-m", "ktrdr.workers", "backtesting")
    report.check(
        worker.returncode == EXIT_MISSING_ML and WORKER_IMAGES_MESSAGE in worker.stderr,
        f"a worker started from the backend image exits {EXIT_MISSING_ML} naming the worker images",
        short(worker),
    )
    mcp = in_image(report.image, "python", "-c", "import ktrdr.mcp.entry")
    report.check(mcp.returncode == 0, "the MCP server imports (mcp extra installed)", short(mcp))


def ml_stack(report: Report) -> None:
    result = in_image(report.image, "python", "-m", "ktrdr.workers.ml_check")
    report.check(result.returncode == 0, "torch, numpy, pandas and talib import", short(result))


def smoke(kind: str, image: str) -> Report:
    report = Report(image, kind)
    print(f"{image} ({kind})", flush=True)
    non_root(report)
    verify_environment(report)
    if kind == "backend":
        backend_entrypoints(report)
    else:
        ml_stack(report)
    return report


def inspect(image: str) -> dict:
    result = run(["image", "inspect", image])
    if result.returncode != 0:
        raise RuntimeError(f"no image {image}: {result.stderr.strip()}")
    return json.loads(result.stdout)[0]


def starts_healthy(report: Report) -> None:
    """The image's ENTRYPOINT + CMD in a container; Docker runs the image's HEALTHCHECK."""
    config = inspect(report.image)["Config"]
    command = " ".join((config.get("Entrypoint") or []) + (config.get("Cmd") or []))
    probe = " ".join((config.get("Healthcheck") or {}).get("Test", [])[1:])
    name = f"ktrdr-check-{report.kind}-{uuid.uuid4().hex[:8]}"
    started = run(
        ["run", "-d", "--name", name, "--network", "none", "--health-interval", "2s", report.image]
    )
    status, waited = "not started", 0.0
    try:
        deadline = time.monotonic() + HEALTHY_TIMEOUT_S
        begin = time.monotonic()
        while started.returncode == 0 and time.monotonic() < deadline:
            state = run(["inspect", "--format", "{{json .State}}", name])
            current = json.loads(state.stdout or "{}")
            status = (current.get("Health") or {}).get("Status", current.get("Status", "?"))
            if status == "healthy" or current.get("Status") == "exited":
                break
            time.sleep(1)
        waited = time.monotonic() - begin
        logs = run(["logs", "--tail", "5", name]).stdout if status != "healthy" else ""
    finally:
        run(["rm", "-f", name])
    report.facts["healthy_after_s"] = round(waited, 1)
    report.check(
        status == "healthy",
        f"entrypoint `{command}` starts; HEALTHCHECK `{probe}` healthy in {waited:.0f}s",
        f"{status}; {logs.strip()[-300:] if status != 'healthy' else ''}",
    )


def size_facts(report: Report, base: str) -> None:
    disk = int(inspect(report.image)["Size"])
    base_disk = int(inspect(base)["Size"])
    report.facts.update(disk=disk, base=base, added=disk - base_disk)
    report.facts["projected"] = disk - base_disk + SLIM_DISK
    budget = IMAGES[report.kind].disk_budget
    if report.kind == "worker-gpu":  # base + the locked CUDA stack + 300 MB
        stack = int(report.facts.get("cuda_stack_bytes") or 0)
        budget = SLIM_DISK + stack + 300 * MB
    if budget is not None:
        projected = int(report.facts["projected"])
        report.check(
            projected <= budget,
            f"projected on python:3.13-slim {projected / MB:.0f} MB <= {budget / MB:.0f} MB",
        )


def backend_libpq(report: Report) -> None:
    """The backend image's psycopg runs on Debian's libpq5 (no psycopg-binary: its size)."""
    libpq = in_image(
        report.image,
        "python",
        "-c",
        "import psycopg; print(psycopg.pq.__impl__, psycopg.pq.version())",
    )
    report.check(
        libpq.returncode == 0 and libpq.stdout.startswith("python"),
        "psycopg runs its pure-Python implementation on Debian's libpq5",
        short(libpq),
    )


def check(kind: str, image: str, base: str) -> Report:
    report = smoke(kind, image)
    if kind == "backend":
        backend_libpq(report)
    starts_healthy(report)
    size_facts(report, base)
    return report


def usage() -> int:
    print(
        f"usage: python3 -m ktrdr.infra.images smoke <{'|'.join(IMAGES)}> <image-ref>",
        file=sys.stderr,
    )
    return 2


def smoke_main(argv: list[str]) -> int:
    if len(argv) != 2 or argv[0] not in IMAGES or not argv[1]:
        if argv and argv[0] not in IMAGES:
            print(
                f"unknown image kind {argv[0]!r}; choose from: {', '.join(IMAGES)}", file=sys.stderr
            )
        return usage()
    report = smoke(argv[0], argv[1])
    if report.failures:
        print(f"{len(report.failures)} check(s) failed for {report.image}")
        return 1
    print(f"all checks passed for {report.image}")
    return 0

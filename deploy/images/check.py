"""Verify built ktrdr images and print their size table; exit 1 on any failure.

    python3 deploy/images/check.py backend worker-cpu dev     # images built by build.sh
    IMAGE_TAG=test python3 deploy/images/check.py worker-gpu

For each image: on-disk and compressed size, bytes added above the base, the same
projected onto python:3.13-slim (added + 126 MB on disk, added + 43 MB compressed),
torch variant, user; the size budget; and the seed's verification table run inside the
image (buildah run, chroot isolation, the host's network): backend `import torch`
fails and `from ktrdr.api.main import app` works; CPU images report
`torch.cuda.is_available()` False with `torch.version.cuda` None; the process runs as
non-root; the entrypoint starts and the image's own HEALTHCHECK command passes; a
worker started from the backend image exits non-zero with the clear message. With
backend and worker-cpu both checked, the canary functional check runs against a
backend container and backtest + training worker containers. Stdlib only.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import tomllib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
BUILDAH = str(REPO / "deploy" / "images" / "buildah.sh")
IMAGE_SIZE = str(REPO / "deploy" / "images" / "image-size.sh")
BASE = os.environ.get("BASE_IMAGE", "localhost/ktrdr-base:bookworm-py311")
TAG = os.environ.get("IMAGE_TAG", "test")
MB = 1_000_000
SLIM_DISK = 126 * MB  # python:3.13-slim, amd64
SLIM_COMPRESSED = 43 * MB
REFS = {
    "backend": f"localhost/ktrdr-backend:{TAG}",
    "worker-cpu": f"localhost/ktrdr-worker-cpu:{TAG}",
    "worker-gpu": f"localhost/ktrdr-worker-gpu:{TAG}",
    "dev": "localhost/ktrdr-backend:dev",  # what compose and sandboxes run
}
# (projected on-disk budget, projected compressed budget); None: no budget.
BUDGETS: dict[str, tuple[int | None, int | None]] = {
    "backend": (200 * MB, 70 * MB),
    "worker-cpu": (900 * MB, 300 * MB),
    "dev": (1100 * MB, None),
    "worker-gpu": (None, None),  # base + locked CUDA stack (torch + its CUDA closure) + 300 MB
}
EXPECTED_TORCH = {"backend": "none", "worker-cpu": "cpu", "dev": "cpu", "worker-gpu": "cuda"}
WORKER_MESSAGE = "ktrdr-worker-cpu or ktrdr-worker-gpu"


@dataclass
class Report:
    image: str
    failures: list[str] = field(default_factory=list)
    facts: dict[str, object] = field(default_factory=dict)

    def check(self, ok: bool, what: str) -> None:
        print(f"  {'ok  ' if ok else 'FAIL'} {what}", flush=True)
        if not ok:
            self.failures.append(what)


def run(args: list[str], timeout: float = 300, **kwargs: object) -> subprocess.CompletedProcess:
    return subprocess.run(args, capture_output=True, text=True, timeout=timeout, **kwargs)


def sizes(image: str) -> tuple[int, int]:
    out = run([IMAGE_SIZE, image], check=True).stdout.split()
    return int(out[0]), int(out[1])


def image_config(image: str) -> dict:
    data = json.loads(run([BUILDAH, "inspect", "--type", "image", image], check=True).stdout)
    return data["Docker"]["config"]


@contextmanager
def container(image: str, volumes: list[str] = ()) -> Iterator[str]:
    flags = [flag for volume in volumes for flag in ("-v", volume)]
    name = run([BUILDAH, "from", *flags, image], check=True).stdout.strip()
    try:
        yield name
    finally:
        run([BUILDAH, "rm", name])


def exec_in(
    name: str, command: list[str], env: dict[str, str] | None = None, timeout: float = 300
) -> subprocess.CompletedProcess:
    flags = [flag for k, v in (env or {}).items() for flag in ("--env", f"{k}={v}")]
    return run([BUILDAH, "run", *flags, name, "--", *command], timeout=timeout)


@contextmanager
def serving(name: str, command: list[str], env: dict[str, str], log: Path) -> Iterator[None]:
    """The image's entrypoint + command in the background (own process group)."""
    flags = [flag for k, v in env.items() for flag in ("--env", f"{k}={v}")]
    with log.open("w") as out:
        process = subprocess.Popen(
            [BUILDAH, "run", *flags, name, "--", *command],
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        yield
    finally:
        try:
            os.killpg(process.pid, signal.SIGTERM)
            process.wait(timeout=40)
        except (ProcessLookupError, subprocess.TimeoutExpired):
            os.killpg(process.pid, signal.SIGKILL)


def wait_healthy(name: str, healthcheck: list[str], env: dict[str, str], timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if exec_in(name, healthcheck, env, timeout=30).returncode == 0:
            return True
        time.sleep(1)
    return False


def torch_facts(name: str) -> tuple[str, str]:
    probe = "import torch; print(torch.__version__, torch.version.cuda, torch.cuda.is_available())"
    result = exec_in(name, ["python", "-c", probe])
    if result.returncode != 0:
        errors = [line for line in result.stderr.splitlines() if "Error:" in line]
        python_errors = [line for line in errors if not line.startswith("Error: exit status")]
        return "none", (python_errors or errors or [""])[-1].strip()
    version, cuda, available = result.stdout.split()
    variant = "cpu" if cuda == "None" else f"cuda {cuda}"
    return variant, f"{version} cuda_available={available}"


def locked_torch() -> str:
    lock = tomllib.loads((REPO / "uv.lock").read_text())
    return next(p["version"] for p in lock["package"] if p["name"] == "torch")


def cuda_stack_bytes(name: str) -> int:
    """Installed bytes of the locked CUDA stack: CUDA torch, nvidia-*, triton, cuda-*."""
    probe = (
        "import importlib.metadata as m, re, os\n"
        "total = 0\n"
        "for d in m.distributions():\n"
        "    if re.match(r'(torch$|nvidia-|triton|cuda-)', d.metadata['Name'].lower()):\n"
        "        for f in d.files or []:\n"
        "            p = d.locate_file(f)\n"
        "            total += os.path.getsize(p) if os.path.isfile(p) else 0\n"
        "print(total)\n"
    )
    return int(exec_in(name, ["python", "-c", probe]).stdout.strip() or 0)


def check_image(kind: str, ports: dict[str, int], workdir: Path) -> Report:
    image = REFS[kind]
    report = Report(image)
    print(f"\n{image}", flush=True)
    disk, compressed = sizes(image)
    base_disk, base_compressed = sizes(BASE)
    added, added_compressed = disk - base_disk, compressed - base_compressed
    config = image_config(image)
    report.facts.update(
        disk=disk,
        compressed=compressed,
        added=added,
        added_compressed=added_compressed,
        projected=added + SLIM_DISK,
        projected_compressed=added_compressed + SLIM_COMPRESSED,
        user=config.get("User"),
    )
    healthcheck = config["Healthcheck"]["Test"][1:]  # drop "CMD"
    command = (config.get("Entrypoint") or []) + (config.get("Cmd") or [])
    with container(image) as name:
        variant, detail = torch_facts(name)
        report.facts.update(torch=variant, torch_detail=detail)
        expected = EXPECTED_TORCH[kind]
        report.check(variant.split()[0] == expected, f"torch variant {variant} ({detail})")
        if expected != "none":
            report.check(detail.startswith(locked_torch()), f"torch is the locked {locked_torch()}")
        if expected == "cpu":
            report.check("cuda_available=False" in detail, "torch.cuda.is_available() is False")
        uid = exec_in(name, ["id", "-u"]).stdout.strip()
        report.check(
            uid not in {"", "0"}, f"runs as non-root (uid {uid}, USER {config.get('User')})"
        )
        if kind == "backend":
            no_torch = exec_in(name, ["python", "-c", "import torch"])
            report.check(no_torch.returncode != 0, "import torch fails")
            app = exec_in(
                name, ["python", "-c", "from ktrdr.api.main import app; print(app.title)"]
            )
            report.check(app.returncode == 0, "from ktrdr.api.main import app works")
            libpq = exec_in(
                name,
                [
                    "python",
                    "-c",
                    "import psycopg; print(psycopg.pq.__impl__, psycopg.pq.version())",
                ],
            )
            report.check(
                libpq.returncode == 0 and libpq.stdout.startswith("python"),
                f"psycopg runs on Debian's libpq5 ({libpq.stdout.strip() or libpq.stderr[-100:]})",
            )
            worker = exec_in(name, ["python", "-m", "ktrdr.workers", "backtesting"])
            report.check(
                worker.returncode == 3 and WORKER_MESSAGE in worker.stderr,
                f"a worker on the backend image exits {worker.returncode}: "
                f"{worker.stderr.strip()[:100]}",
            )
        if kind in ("backend", "dev"):
            mcp = exec_in(name, ["python", "-c", "import ktrdr.mcp.entry"])
            report.check(mcp.returncode == 0, "the MCP server imports (mcp extra installed)")
        if kind == "worker-gpu":
            stack = cuda_stack_bytes(name)
            report.facts["cuda_stack"] = stack
            budget = SLIM_DISK + stack + 300 * MB
            BUDGETS["worker-gpu"] = (budget, None)
        env = {
            "KTRDR_HOME": "/tmp/ktrdr-check",
            "KTRDR_API_PORT": str(ports["api"]),
            "KTRDR_WORKER_PORT": str(ports["worker"]),
            "KTRDR_API_URL": f"http://127.0.0.1:{ports['api']}",
            "KTRDR_WORKER_HEARTBEAT_S": "1",
        }
        if kind in {"backend", "dev"}:
            env.pop("KTRDR_WORKER_PORT")  # the dev image's auto healthcheck probes the API
        with serving(name, command, env, workdir / f"{kind}.log"):
            healthy = wait_healthy(name, healthcheck, env, timeout=90)
        report.check(
            healthy,
            f"entrypoint {' '.join(command)} starts; healthcheck {' '.join(healthcheck)} passes",
        )
    disk_budget, compressed_budget = BUDGETS[kind]
    if disk_budget is not None:
        report.check(
            report.facts["projected"] <= disk_budget,
            f"projected on disk {report.facts['projected'] / MB:.0f} MB "
            f"<= {disk_budget / MB:.0f} MB",
        )
    if compressed_budget is not None:
        report.check(
            report.facts["projected_compressed"] <= compressed_budget,
            f"projected compressed {report.facts['projected_compressed'] / MB:.0f} MB "
            f"<= {compressed_budget / MB:.0f} MB",
        )
    return report


def canary(workdir: Path) -> Report:
    """Backend container (backend image) + two worker containers (worker-cpu image)."""
    report = Report("canary")
    print("\ncanary against containers", flush=True)
    home = workdir / "shared-home"
    home.mkdir()
    os.chown(home, 10001, 10001)
    volume = [f"{home}:/var/lib/ktrdr"]
    api = "http://127.0.0.1:18000"
    backend_env = {"KTRDR_API_PORT": "18000", "KTRDR_HEALTH_INTERVAL_S": "1"}

    def worker_env(port: int) -> dict[str, str]:
        return {
            "KTRDR_API_URL": api,
            "KTRDR_WORKER_PORT": str(port),
            "KTRDR_WORKER_PUBLIC_URL": f"http://127.0.0.1:{port}",
        }

    backend_image = REFS["backend"]
    worker_image = REFS["worker-cpu"]
    with (
        container(backend_image, volume) as backend,
        container(worker_image, volume) as backtester,
        container(worker_image, volume) as trainer,
        serving(backend, ["python", "-m", "ktrdr.api"], backend_env, workdir / "c-backend.log"),
        serving(
            backtester,
            ["python", "-m", "ktrdr.workers", "backtesting"],
            worker_env(15003),
            workdir / "c-backtest.log",
        ),
        serving(
            trainer,
            ["python", "-m", "ktrdr.workers", "training"],
            worker_env(15004),
            workdir / "c-training.log",
        ),
    ):
        healthy = wait_healthy(
            backend, ["python", "-m", "ktrdr.core.healthcheck", "api"], backend_env, timeout=90
        )
        report.check(healthy, "backend container healthy")
        python = os.environ.get("KTRDR_PYTHON", str(REPO / ".venv" / "bin" / "python"))
        result = run(
            [python, "-m", "ktrdr.infra.canary"],
            timeout=900,
            env={**os.environ, "KTRDR_API_URL": api},
        )
        print(result.stdout, end="", flush=True)
        report.facts["output"] = result.stdout
        report.check(result.returncode == 0, "canary functional check passes")
    return report


def main(argv: list[str]) -> int:
    kinds = argv[1:] or ["backend", "worker-cpu", "dev"]
    unknown = [k for k in kinds if k not in REFS]
    if unknown:
        print(f"unknown image(s) {unknown}; choose from {list(REFS)}")
        return 2
    workdir = Path(tempfile.mkdtemp(prefix="ktrdr-images-check-"))
    reports = [
        check_image(kind, {"api": 18100 + i, "worker": 18200 + i}, workdir)
        for i, kind in enumerate(kinds)
    ]
    if {"backend", "worker-cpu"} <= set(kinds):
        reports.append(canary(workdir))
    print(
        f"\n{'image':34} {'on disk':>9} {'gz':>8} {'added':>9} {'added gz':>9} "
        f"{'proj.':>8} {'proj. gz':>9}  torch      user"
    )
    for report in reports:
        f = report.facts
        if "disk" not in f:
            continue
        print(
            f"{report.image:34} {f['disk'] / MB:8.1f}M {f['compressed'] / MB:7.1f}M "
            f"{f['added'] / MB:8.1f}M {f['added_compressed'] / MB:8.1f}M "
            f"{f['projected'] / MB:7.1f}M {f['projected_compressed'] / MB:8.1f}M  "
            f"{f['torch']:10} {f['user']}"
        )
    summary = REPO / ".images" / "check-report.json"
    summary.write_text(
        json.dumps(
            [{"image": r.image, **r.facts, "failures": r.failures} for r in reports],
            indent=2,
            default=str,
        )
    )
    failures = [f"{r.image}: {failure}" for r in reports for failure in r.failures]
    print(f"\n{len(failures)} failure(s)" + "".join(f"\n  {f}" for f in failures))
    if failures:
        print(f"logs in {workdir}")
    else:
        shutil.rmtree(workdir, ignore_errors=True)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))

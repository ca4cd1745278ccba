"""The ktrdr images: names, Dockerfiles, the torch each must carry, size budgets."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[3]
DOCKER_DIR = REPO_ROOT / "deploy" / "docker"
DEFAULT_REGISTRY = "ghcr.io/kpiteira"  # what the compose files default IMAGE_REGISTRY to
MB = 1_000_000
# python:3.13-slim (amd64), the base GitHub builds on: what our local base is replaced by
# in the projected figures.
SLIM_DISK = 126 * MB
SLIM_COMPRESSED = 43 * MB


@dataclass(frozen=True)
class Image:
    kind: str  # backend, worker-cpu, worker-gpu, dev
    name: str  # repository name, e.g. ktrdr-backend
    torch: str  # none, cpu, cuda
    # Projected (onto python:3.13-slim) budgets in bytes; None: no budget.
    disk_budget: int | None
    compressed_budget: int | None = None
    fixed_tag: str | None = None  # the dev image is always ktrdr-backend:dev

    @property
    def dockerfile(self) -> Path:
        return DOCKER_DIR / f"Dockerfile.{self.kind}"

    @property
    def needs_wheelhouse(self) -> bool:
        return self.torch == "cpu"


IMAGES = {
    image.kind: image
    for image in (
        Image("backend", "ktrdr-backend", "none", 200 * MB, 70 * MB),
        Image("worker-cpu", "ktrdr-worker-cpu", "cpu", 900 * MB, 300 * MB),
        # base + the locked CUDA stack + 300 MB, measured in the image (checks.py).
        Image("worker-gpu", "ktrdr-worker-gpu", "cuda", None),
        Image("dev", "ktrdr-backend", "cpu", 1100 * MB, fixed_tag="dev"),
    )
}
PUBLISHED = ("backend", "worker-cpu")  # what the local registry gets (worker-gpu: no GPU here)
DEFAULT_BUILD = ("backend", "worker-cpu", "dev")


def image_ref(kind: str, registry: str = DEFAULT_REGISTRY, tag: str = "test") -> str:
    """``REGISTRY/ktrdr-<kind>:TAG``; the dev image is the local ``ktrdr-backend:dev``."""
    image = IMAGES[kind]
    if image.fixed_tag:
        return f"{image.name}:{image.fixed_tag}"
    return f"{registry}/{image.name}:{tag}"

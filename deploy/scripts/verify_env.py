"""Check an installed environment against uv.lock and the torch variant it should have.

    python deploy/scripts/verify_env.py --lock uv.lock --variant cpu|cuda|none

Run with the environment's own interpreter (inside an image build or a container):
- every installed distribution is in the lock at a locked version (torch may carry a
  local version label such as +cpu, but its version must be the locked one);
- ``none``: torch is absent; ``cpu``: torch.version.cuda is None and no nvidia-*,
  triton or cuda-* distribution is installed; ``cuda``: torch.version.cuda is set.
Prints one line per finding and exits 1 on any mismatch.
"""

from __future__ import annotations

import argparse
import importlib.metadata as metadata
import re
import sys
import tomllib
from pathlib import Path

CUDA_ONLY = re.compile(r"^(nvidia-.*|triton|cuda-.*)$")


def normalise(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def locked_versions(lock: Path) -> dict[str, set[str]]:
    versions: dict[str, set[str]] = {}
    for package in tomllib.loads(lock.read_text())["package"]:
        versions.setdefault(normalise(package["name"]), set()).add(package["version"])
    return versions


def check(lock: Path, variant: str) -> list[str]:
    problems: list[str] = []
    locked = locked_versions(lock)
    installed = {normalise(d.metadata["Name"]): d.version for d in metadata.distributions()}
    for name, version in sorted(installed.items()):
        if name in {"pip", "setuptools", "wheel"} and name not in locked:
            continue  # tooling some bases carry in every environment
        allowed = locked.get(name)
        if allowed is None:
            problems.append(f"{name}=={version} is not in uv.lock")
        elif version.split("+")[0] not in allowed:
            problems.append(f"{name}=={version} but uv.lock has {sorted(allowed)}")
    cuda_packages = sorted(name for name in installed if CUDA_ONLY.match(name))
    if variant == "none":
        if "torch" in installed:
            problems.append("torch is installed in an image that must not have it")
        return problems
    if "torch" not in installed:
        return [*problems, "torch is missing"]
    import torch

    cuda = torch.version.cuda
    print(f"torch {torch.__version__} cuda={cuda} packages={len(installed)}")
    if variant == "cpu":
        if cuda is not None:
            problems.append(f"torch is a CUDA build ({cuda}) in a CPU image")
        if cuda_packages:
            problems.append(f"CUDA-only packages in a CPU image: {', '.join(cuda_packages)}")
    elif cuda is None:
        problems.append("torch is a CPU build in the CUDA image")
    return problems


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lock", type=Path, default=Path("uv.lock"))
    parser.add_argument("--variant", choices=["cpu", "cuda", "none"], required=True)
    args = parser.parse_args()
    problems = check(args.lock, args.variant)
    for problem in problems:
        print(f"MISMATCH {problem}")
    if not problems:
        print(f"environment matches uv.lock ({args.variant})")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())

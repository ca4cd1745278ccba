"""Facts read from uv.lock that the image builds and checks need (stdlib only).

Runs with any Python >= 3.11, before a virtual environment exists, and inside images
(deploy/scripts/verify_env.py imports it):

    python3 deploy/scripts/lockfile.py torch-version
    python3 deploy/scripts/lockfile.py cuda-only          # one package name per line
    python3 deploy/scripts/lockfile.py no-install-flags   # --no-install-package NAME ...

The one place that says which distributions make up torch's CUDA runtime.
"""

from __future__ import annotations

import argparse
import re
import sys
import tomllib
from collections.abc import Iterable
from pathlib import Path

# torch's CUDA runtime arrives as these distributions; everything they alone pull in
# goes with them. The CPU build of torch needs none of it.
CUDA_ROOT = re.compile(r"^(nvidia-.*|triton|cuda-.*)$")


def normalise(name: str) -> str:
    """A distribution name as the lock writes it (PEP 503)."""
    return re.sub(r"[-_.]+", "-", name).lower()


def is_cuda_runtime(name: str) -> bool:
    return CUDA_ROOT.match(normalise(name)) is not None


def _packages(lock_path: Path) -> list[dict]:
    return tomllib.loads(lock_path.read_text())["package"]


def load_graph(lock_path: Path) -> dict[str, set[str]]:
    """Package name -> names of its dependencies (all extras and markers merged)."""
    graph: dict[str, set[str]] = {}
    for package in _packages(lock_path):
        deps = graph.setdefault(package["name"], set())
        deps.update(dep["name"] for dep in package.get("dependencies", []))
        for extra_deps in package.get("optional-dependencies", {}).values():
            deps.update(dep["name"] for dep in extra_deps)
        for group_deps in package.get("dev-dependencies", {}).values():
            deps.update(dep["name"] for dep in group_deps)
    return graph


def _closure(graph: dict[str, set[str]], roots: Iterable[str], blocked: set[str]) -> set[str]:
    seen: set[str] = set()
    stack = [root for root in roots if root not in blocked]
    while stack:
        name = stack.pop()
        if name in seen:
            continue
        seen.add(name)
        stack.extend(dep for dep in graph.get(name, ()) if dep not in blocked)
    return seen


def cuda_only_packages(graph: dict[str, set[str]]) -> list[str]:
    """Packages reachable from torch's CUDA dependencies and from nothing else."""
    cuda_roots = {dep for dep in graph.get("torch", set()) if is_cuda_runtime(dep)}
    cuda_closure = _closure(graph, cuda_roots, blocked=set())
    other_roots = [name for name in graph if name not in cuda_closure]
    reachable_otherwise = _closure(graph, other_roots, blocked=cuda_roots)
    return sorted(cuda_closure - reachable_otherwise)


def locked_versions(lock_path: Path) -> dict[str, set[str]]:
    """Normalised name -> the versions the lock pins for it."""
    versions: dict[str, set[str]] = {}
    for package in _packages(lock_path):
        versions.setdefault(normalise(package["name"]), set()).add(package["version"])
    return versions


def locked_version(lock_path: Path, name: str) -> str:
    versions = locked_versions(lock_path).get(normalise(name), set())
    if len(versions) != 1:
        found = sorted(versions)
        raise SystemExit(f"uv.lock: expected one locked version of {name}, found {found}")
    return versions.pop()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("command", choices=["torch-version", "cuda-only", "no-install-flags"])
    parser.add_argument("--lock", type=Path, default=Path("uv.lock"))
    args = parser.parse_args(argv)
    if args.command == "torch-version":
        print(locked_version(args.lock, "torch"))
        return 0
    names = cuda_only_packages(load_graph(args.lock))
    if args.command == "cuda-only":
        print("\n".join(names))
    else:
        print(" ".join(f"--no-install-package {name}" for name in ["torch", *names]))
    return 0


if __name__ == "__main__":
    sys.exit(main())

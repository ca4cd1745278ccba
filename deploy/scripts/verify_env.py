"""Check an installed environment against uv.lock and the torch variant it should have.

    python deploy/scripts/verify_env.py --lock uv.lock --variant cpu|cuda|none [--json]
    python deploy/scripts/verify_env.py --lock uv.lock --variant cpu --torch-only

Run with the environment's own interpreter: inside an image build (every Dockerfile),
in a container of a built image (the image checks, ``python3 -m ktrdr.infra.images``,
mount this folder and the lock), and by sync-cpu-torch.sh. It checks:
- every installed distribution is in the lock at a locked version (torch may carry a
  local version label such as +cpu, but its version must be the locked one);
- ``none``: torch is absent; ``cpu``: torch.version.cuda is None and no CUDA runtime
  distribution (deploy/scripts/lockfile.py) is installed; ``cuda``: torch.version.cuda
  is set. torch is not imported: its version file is read (a CPU build has no CUDA to
  find, and ``python -m ktrdr.workers.ml_check`` is the check that torch loads).
``--torch-only`` checks only that torch is the locked version, built for the variant, from
its version tag (no import: quick enough for every ``make`` target).
``--json`` prints the facts (torch version, CUDA, bytes of the CUDA stack) as one JSON
line after the findings. Prints one line per finding and exits 1 on any mismatch.
"""

from __future__ import annotations

import argparse
import ast
import importlib.metadata as metadata
import json
import sys
from pathlib import Path

from lockfile import is_cuda_runtime, locked_versions, normalise

TOOLING = {"pip", "setuptools", "wheel"}  # some bases carry them in every environment


def installed() -> dict[str, metadata.Distribution]:
    return {normalise(d.metadata["Name"]): d for d in metadata.distributions()}


def lock_problems(lock: Path, found: dict[str, metadata.Distribution]) -> list[str]:
    problems = []
    locked = locked_versions(lock)
    for name, distribution in sorted(found.items()):
        version = distribution.version
        if name in TOOLING and name not in locked:
            continue
        allowed = locked.get(name)
        if allowed is None:
            problems.append(f"{name}=={version} is not in uv.lock")
        elif version.split("+")[0] not in allowed:
            problems.append(f"{name}=={version} but uv.lock has {sorted(allowed)}")
    return problems


def installed_bytes(distribution: metadata.Distribution) -> int:
    total = 0
    for file in distribution.files or []:
        path = Path(str(distribution.locate_file(file)))
        total += path.stat().st_size if path.is_file() else 0
    return total


def torch_problems(
    lock: Path,
    variant: str,
    found: dict[str, metadata.Distribution],
    facts: dict,
    torch_only: bool = False,
) -> list[str]:
    if variant == "none":
        return ["torch is installed in an image that must not have it"] if "torch" in found else []
    if "torch" not in found:
        return ["torch is missing"]
    if torch_only:
        return build_tag_problems(lock, variant, found["torch"].version)
    version, cuda = torch_build(found["torch"])
    locked = locked_versions(lock).get("torch", set())
    facts.update(
        torch=version,
        cuda=cuda,
        cuda_stack_bytes=sum(
            installed_bytes(d) for n, d in found.items() if n == "torch" or is_cuda_runtime(n)
        ),
    )
    print(f"torch {version} cuda={cuda} packages={len(found)}")
    problems = []
    if version.split("+")[0] not in locked:
        problems.append(f"torch {version} but uv.lock has {sorted(locked)}")
    if variant == "cpu":
        if cuda is not None:
            problems.append(f"torch is a CUDA build ({cuda}) in a CPU image")
        cuda_packages = sorted(name for name in found if is_cuda_runtime(name))
        if cuda_packages:
            problems.append(f"CUDA-only packages in a CPU image: {', '.join(cuda_packages)}")
    elif cuda is None:
        problems.append("torch is a CPU build in the CUDA image")
    return problems


def torch_build(distribution: metadata.Distribution) -> tuple[str, str | None]:
    """torch's version and the CUDA it was built for, as its build wrote them into
    torch/version.py: read, not imported (an import costs seconds, and the images' ML
    check imports torch anyway)."""
    source = Path(str(distribution.locate_file("torch/version.py"))).read_text()
    values: dict[str, object] = {}
    for node in ast.parse(source).body:
        if isinstance(node, ast.Assign) and len(node.targets) == 1:
            target, value = node.targets[0], node.value
        elif isinstance(node, ast.AnnAssign) and node.value is not None:
            target, value = node.target, node.value
        else:
            continue
        if isinstance(target, ast.Name) and target.id in ("__version__", "cuda"):
            values[target.id] = ast.literal_eval(value)
    cuda = values.get("cuda")
    return str(values["__version__"]), None if cuda is None else str(cuda)


def build_tag_problems(lock: Path, variant: str, version: str) -> list[str]:
    """The locked version and build, read from the wheel's version tag (2.13.0+cpu for the
    CPU build): importing torch to ask it costs seconds on every ``make`` target."""
    print(f"torch {version} (from its metadata)")
    release, _, build = version.partition("+")
    locked = locked_versions(lock).get("torch", set())
    if release not in locked:
        return [f"torch {version} but uv.lock has {sorted(locked)}"]
    if (build == "cpu") != (variant == "cpu"):
        return [f"torch {version} is not the {variant} build"]
    return []


def check(lock: Path, variant: str, torch_only: bool = False) -> tuple[list[str], dict]:
    found = installed()
    facts: dict = {"variant": variant, "packages": len(found)}
    problems = [] if torch_only else lock_problems(lock, found)
    problems += torch_problems(lock, variant, found, facts, torch_only)
    return problems, facts


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lock", type=Path, default=Path("uv.lock"))
    parser.add_argument("--variant", choices=["cpu", "cuda", "none"], required=True)
    parser.add_argument("--torch-only", action="store_true")
    parser.add_argument("--json", action="store_true", help="print the facts as JSON")
    args = parser.parse_args()
    problems, facts = check(args.lock, args.variant, args.torch_only)
    for problem in problems:
        print(f"MISMATCH {problem}")
    if not problems:
        print(f"environment matches uv.lock ({args.variant})")
    if args.json:
        print(json.dumps({**facts, "problems": problems}))
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())

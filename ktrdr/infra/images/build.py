"""``docker build`` of the repository's Dockerfiles into the project's Docker engine.

The same Dockerfiles GitHub builds (deploy/docker/), with the build args that point them
at the local stand-ins (``BASE_IMAGE``, ``UV_IMAGE``) and, for the CPU torch images, the
torch wheel of the local wheelhouse (``TORCH_WHEELHOUSE``, default pip's find-links),
linked into deploy/docker/wheelhouse for the build (the local base carries the build
machine's CA bundle, see :mod:`standins`).
"""

from __future__ import annotations

import os
import subprocess
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path

from ktrdr.infra import engine
from ktrdr.infra.images import standins
from ktrdr.infra.images.catalogue import DEFAULT_REGISTRY, DOCKER_DIR, IMAGES, REPO_ROOT, image_ref

WHEELHOUSE = DOCKER_DIR / "wheelhouse"
LOCK = REPO_ROOT / "uv.lock"
LOCKFILE_TOOL = REPO_ROOT / "deploy" / "scripts" / "lockfile.py"


def locked_torch() -> str:
    """The locked torch version, read by deploy/scripts/lockfile.py (the one reader of the
    lock that the Dockerfiles and sync-cpu-torch.sh use too)."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("lockfile", LOCKFILE_TOOL)
    assert spec is not None
    assert spec.loader is not None
    lockfile = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(lockfile)
    return str(lockfile.locked_version(LOCK, "torch"))


def revision() -> str:
    result = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, cwd=REPO_ROOT
    )
    return result.stdout.strip() if result.returncode == 0 else "unknown"


@contextmanager
def wheelhouse() -> Iterator[bool]:
    """The CPU torch wheel of the locked version, linked into deploy/docker/wheelhouse;
    yields whether one was found (without it the build uses the PyTorch CPU index)."""
    source = os.environ.get("TORCH_WHEELHOUSE") or os.environ.get("PIP_FIND_LINKS") or ""
    folder = Path(source.split()[0]) if source.strip() else None
    wheels = sorted(folder.glob(f"torch-{locked_torch()}+cpu-*.whl")) if folder else []
    linked = []
    for wheel in wheels:
        target = WHEELHOUSE / wheel.name
        if not target.exists():
            try:
                os.link(wheel, target)
            except OSError:
                target.write_bytes(wheel.read_bytes())
        linked.append(target)
    try:
        yield bool(wheels)
    finally:
        for target in linked:
            target.unlink(missing_ok=True)


def build_args(base: str, with_wheelhouse: bool) -> dict[str, str]:
    """The build args for the local stand-ins; the same names compose passes on."""
    args = {"BASE_IMAGE": base, "UV_IMAGE": standins.UV_IMAGE}
    if with_wheelhouse:
        args["TORCH_WHEELHOUSE"] = "/wheelhouse"
    return args


def build(
    kinds: Iterable[str],
    tag: str = "test",
    registry: str = DEFAULT_REGISTRY,
    base: standins.Base = standins.DEFAULT_BASE,
    image_revision: str | None = None,
    log_dir: Path | None = None,
) -> dict[str, str]:
    """Build ``kinds``; returns kind -> image reference."""
    engine.ensure()
    base_image = standins.build_base(base)
    standins.build_uv()
    log_dir = log_dir or engine.private_engine().root / "logs"
    log_dir.mkdir(parents=True, exist_ok=True)
    built = {}
    with wheelhouse() as have_wheel:
        for kind in kinds:
            image = IMAGES[kind]
            reference = image_ref(kind, registry, tag)
            args = build_args(base_image, have_wheel and image.needs_wheelhouse)
            args["REVISION"] = image_revision or revision()
            flags = [flag for k, v in args.items() for flag in ("--build-arg", f"{k}={v}")]
            log_file = log_dir / f"build-{kind}-{base.suite}.log"
            started = time.monotonic()
            with log_file.open("w") as output:
                result = subprocess.run(
                    [
                        engine.docker_client(),
                        "build",
                        "--progress=plain",
                        "-f",
                        str(image.dockerfile),
                        *flags,
                        "-t",
                        reference,
                        str(REPO_ROOT),
                    ],
                    stdout=output,
                    stderr=subprocess.STDOUT,
                    env=engine.client_env(),
                    check=False,
                )
            if result.returncode != 0:
                tail = "".join(log_file.read_text().splitlines(keepends=True)[-30:])
                raise engine.EngineError(f"docker build of {reference} failed:\n{tail}")
            standins.log(f"built {reference} in {time.monotonic() - started:.0f}s")
            built[kind] = reference
    return built

"""Local stand-ins for the images no registry here serves, built into the Docker engine.

``FROM python:3.13-slim``, ``ghcr.io/astral-sh/uv``, ``postgres:16`` and
``prom/prometheus`` cannot be pulled on the build machines. Their stand-ins:

- ``localhost/ktrdr-base:bookworm-py311`` and ``localhost/ktrdr-base:trixie-py313``:
  ``debootstrap --variant=minbase`` of Debian bookworm (CPython 3.11, the only Python the
  reachable CPU torch wheel is built for) or trixie (CPython 3.13, as python:3.13-slim)
  with python3, python3-venv, ca-certificates and tini; updates and security applied;
  docs, man pages and locales kept out; ``python``/``pip`` in /usr/local/bin, LANG=C.UTF-8
  and SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt; that bundle is the build
  machine's own (``SSL_CERT_FILE``, read from the environment): downloads in builds on
  this base, ``docker build`` and ``docker compose build`` alike, trust what the machine
  trusts (its egress may intercept TLS). Imported with ``docker import``;
- ``localhost/uv:<version>``: /uv and /uvx from uv's wheel on PyPI;
- ``localhost/ktrdr-postgres:15-bookworm`` and ``localhost/ktrdr-prometheus:bookworm``:
  Debian's packages on the bookworm base (deploy/images/{postgres,prometheus}/).

Each image carries a label with the hash of its inputs; an image whose label matches is
not built again.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import zipfile
from dataclasses import dataclass
from pathlib import Path

from ktrdr.infra import engine
from ktrdr.infra.images.catalogue import REPO_ROOT

INPUTS_LABEL = "org.ktrdr.standin.inputs"
# Bump when build_base changes what goes into the base (its other inputs are hashed).
BASE_RECIPE = "base-1"
UV_VERSION = "0.13.9"
UV_IMAGE = f"localhost/uv:{UV_VERSION}"
STANDINS_DIR = REPO_ROOT / "deploy" / "images"
BASE_PACKAGES = ("python3", "python3-venv", "ca-certificates", "tini")
SLIM_DPKG = """\
# Keep docs, man pages and translations out of the image (as Debian's slim images do).
path-exclude /usr/share/doc/*
path-include /usr/share/doc/*/copyright
path-exclude /usr/share/man/*
path-exclude /usr/share/info/*
path-exclude /usr/share/locale/*
path-exclude /usr/share/lintian/*
"""
SLIM_APT = """\
APT::Install-Recommends "false";
APT::Install-Suggests "false";
Acquire::Languages "none";
DPkg::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/*.bin || true"; };
"""
PIP_WRAPPER = """\
#!/bin/sh
# pip from Debian's wheel (python3-pip-whl); installs go to /usr/local.
exec /usr/bin/python3 /{wheel}/pip "$@"
"""


@dataclass(frozen=True)
class Base:
    suite: str
    python: str  # the CPython Debian ships in that suite

    @property
    def image(self) -> str:
        return f"localhost/ktrdr-base:{self.suite}-py{self.python.replace('.', '')}"


BASES = {"bookworm": Base("bookworm", "3.11"), "trixie": Base("trixie", "3.13")}
DEFAULT_BASE = BASES["bookworm"]
POSTGRES_IMAGE = "localhost/ktrdr-postgres:15-bookworm"
PROMETHEUS_IMAGE = "localhost/ktrdr-prometheus:bookworm"


def log(message: str) -> None:
    print(f"images: {message}", file=sys.stderr, flush=True)


def docker(*args: str, **kwargs: object) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [engine.docker_client(), *args], text=True, env=engine.client_env(), **kwargs
    )


def current_inputs(image: str) -> str | None:
    result = docker(
        "image",
        "inspect",
        "--format",
        f'{{{{index .Config.Labels "{INPUTS_LABEL}"}}}}',
        image,
        capture_output=True,
    )
    return result.stdout.strip() if result.returncode == 0 else None


def inputs_hash(*parts: str | bytes) -> str:
    digest = hashlib.sha256()
    for part in parts:
        digest.update(part.encode() if isinstance(part, str) else part)
    return digest.hexdigest()[:16]


def up_to_date(image: str, inputs: str) -> bool:
    if current_inputs(image) == inputs:
        log(f"{image} is up to date")
        return True
    return False


def _mirror() -> str:
    """The Debian mirror from this machine's apt configuration (DEBIAN_MIRROR overrides)."""
    if configured := os.environ.get("DEBIAN_MIRROR"):
        return configured
    sources = Path("/etc/apt/sources.list.d/debian.sources")
    if sources.exists():
        for line in sources.read_text().splitlines():
            if line.startswith("URIs:") and "security" not in line:
                return line.split()[1]
    legacy = Path("/etc/apt/sources.list")
    if legacy.exists():
        for line in legacy.read_text().splitlines():
            if line.startswith("deb ") and "security" not in line:
                return line.split()[1]
    raise engine.EngineError("no Debian mirror in the apt sources; set DEBIAN_MIRROR")


def _sources(suite: str, mirror: str) -> str:
    security = mirror.replace("/debian", "/debian-security")
    return (
        f"Types: deb\nURIs: {mirror}\nSuites: {suite} {suite}-updates\nComponents: main\n"
        "Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg\n\n"
        f"Types: deb\nURIs: {security}\nSuites: {suite}-security\nComponents: main\n"
        "Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg\n"
    )


def _chroot(root: Path, command: str) -> None:
    env = {"PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "DEBIAN_FRONTEND": "noninteractive"}
    result = subprocess.run(
        ["chroot", str(root), "sh", "-c", command], capture_output=True, text=True, env=env
    )
    if result.returncode != 0:
        raise engine.EngineError(f"chroot {command!r} failed: {result.stderr.strip()[-400:]}")


def build_base(base: Base = DEFAULT_BASE, force: bool = False) -> str:
    """debootstrap + ``docker import`` of the local Python base image."""
    bundle = machine_ca_bundle()
    recipe = (BASE_RECIPE, base.suite, " ".join(BASE_PACKAGES), SLIM_DPKG, SLIM_APT, PIP_WRAPPER)
    inputs = inputs_hash(*recipe, bundle or b"")
    if not force and up_to_date(base.image, inputs):
        return base.image
    if shutil.which("debootstrap") is None:
        engine.install_debian_packages(["debootstrap"])
    state = engine.private_engine().root
    cache = state / "debootstrap-cache" / base.suite
    cache.mkdir(parents=True, exist_ok=True)
    mirror = _mirror()
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix=f"ktrdr-rootfs-{base.suite}-", dir=state) as folder:
        root = Path(folder) / "rootfs"
        log(f"debootstrap {base.suite} minbase + {' '.join(BASE_PACKAGES)}")
        result = subprocess.run(
            [
                "debootstrap",
                "--variant=minbase",
                f"--include={','.join(BASE_PACKAGES)}",
                f"--cache-dir={cache}",
                base.suite,
                str(root),
                mirror,
            ],
            capture_output=True,
            text=True,
        )
        if result.returncode != 0:
            raise engine.EngineError(f"debootstrap failed: {result.stdout.strip()[-400:]}")
        (root / "etc/apt/sources.list").unlink(missing_ok=True)
        (root / "etc/apt/sources.list.d/debian.sources").write_text(_sources(base.suite, mirror))
        (root / "etc/dpkg/dpkg.cfg.d/ktrdr-slim").write_text(SLIM_DPKG)
        (root / "etc/apt/apt.conf.d/ktrdr-slim").write_text(SLIM_APT)
        shutil.copy("/etc/resolv.conf", root / "etc/resolv.conf")
        _chroot(root, "apt-get update -qq && apt-get -y -qq upgrade >/dev/null")
        _strip(root)
        _python_like_slim(root)
        if bundle:
            (root / "etc/ssl/certs/ca-certificates.crt").write_bytes(bundle)
        python = subprocess.run(
            [
                "chroot",
                str(root),
                "/usr/bin/python3",
                "-c",
                "import platform;print(platform.python_version())",
            ],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        if not python.startswith(base.python + "."):
            raise engine.EngineError(f"{base.suite} ships Python {python}, not {base.python}")
        changes = [
            "ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
            "ENV LANG=C.UTF-8",
            "ENV SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt",
            'CMD ["python3"]',
            f"LABEL {INPUTS_LABEL}={inputs}",
            f"LABEL org.ktrdr.base.python={python}",
            f'LABEL org.opencontainers.image.description="Debian {base.suite} minbase, python3"',
        ]
        docker_import(["--numeric-owner", "-C", str(root), "."], changes, base.image)
    log(f"{base.image} (python {python}) built in {time.monotonic() - started:.0f}s")
    return base.image


def machine_ca_bundle() -> bytes | None:
    """The CA bundle this machine trusts (``SSL_CERT_FILE``), when it names one."""
    configured = os.environ.get("SSL_CERT_FILE")
    if configured and Path(configured).is_file():
        return Path(configured).read_bytes()
    return None


def docker_import(tar_args: list[str], changes: list[str], image: str) -> None:
    """``tar -c TAR_ARGS | docker import --change ... - IMAGE``."""
    flags = [flag for change in changes for flag in ("--change", change)]
    tar = subprocess.Popen(["tar", "-c", *tar_args], stdout=subprocess.PIPE)
    assert tar.stdout is not None
    try:
        imported = subprocess.run(
            [engine.docker_client(), "import", *flags, "-", image],
            stdin=tar.stdout,
            capture_output=True,
            text=True,
            env=engine.client_env(),
        )
    finally:
        tar.stdout.close()  # docker gone: tar gets SIGPIPE instead of blocking
        tar.wait()
    if imported.returncode != 0:
        raise engine.EngineError(f"docker import of {image} failed: {imported.stderr.strip()}")


def _strip(root: Path) -> None:
    for pattern in ("usr/share/man/*", "usr/share/info/*", "usr/share/locale/*"):
        for path in root.glob(pattern):
            shutil.rmtree(path) if path.is_dir() else path.unlink()
    for path in (root / "usr/share/doc").rglob("*"):
        if path.is_file() and path.name != "copyright":
            path.unlink()
    for pattern in (
        "var/lib/apt/lists/*",
        "var/cache/apt/*",
        "var/log/*.log",
        "var/log/apt/*",
        "tmp/*",
        "var/cache/debconf/*-old",
        "var/lib/dpkg/*-old",
    ):
        for path in root.glob(pattern):
            shutil.rmtree(path) if path.is_dir() else path.unlink()
    shutil.rmtree(root / "usr/share/lintian", ignore_errors=True)
    (root / "etc/resolv.conf").write_text("")


def _python_like_slim(root: Path) -> None:
    """python, python3, pip, pip3 in /usr/local/bin; pip may install (no EXTERNALLY-MANAGED)."""
    for marker in root.glob("usr/lib/python3*/EXTERNALLY-MANAGED"):
        marker.unlink()
    local_bin = root / "usr/local/bin"
    for name in ("python", "python3"):
        (local_bin / name).unlink(missing_ok=True)
        (local_bin / name).symlink_to("/usr/bin/python3")
    wheels = sorted((root / "usr/share/python-wheels").glob("pip-*.whl"))
    if wheels:
        pip = local_bin / "pip"
        pip.write_text(PIP_WRAPPER.format(wheel=wheels[0].relative_to(root)))
        pip.chmod(0o755)
        (local_bin / "pip3").unlink(missing_ok=True)
        (local_bin / "pip3").symlink_to("pip")


def build_uv(version: str = UV_VERSION) -> str:
    """``localhost/uv:VERSION``: /uv and /uvx from uv's wheel (a scratch image)."""
    image = f"localhost/uv:{version}"
    inputs = inputs_hash("uv", version)
    if up_to_date(image, inputs):
        return image
    with tempfile.TemporaryDirectory(prefix="ktrdr-uv-") as folder:
        work = Path(folder)
        engine.pip_download(
            f"uv=={version}",
            work,
            "--only-binary=:all:",
            "--platform",
            "manylinux2014_x86_64",
        )
        wheel = next(work.glob("uv-*.whl"))
        with zipfile.ZipFile(wheel) as archive:
            for member in archive.namelist():
                name = member.rsplit("/", 1)[-1]
                if ".data/scripts/" in member and name in {"uv", "uvx"}:
                    target = work / "root" / name
                    target.parent.mkdir(exist_ok=True)
                    target.write_bytes(archive.read(member))
                    target.chmod(0o755)
        docker_import(
            ["--owner=0", "--group=0", "-C", str(work / "root"), "uv", "uvx"],
            [f"LABEL {INPUTS_LABEL}={inputs}"],
            image,
        )
    log(f"{image} built")
    return image


def build_from_folder(image: str, folder: Path, base: str) -> str:
    """``docker build`` of a stand-in's own folder (Dockerfile and files) on ``base``."""
    files = sorted(p for p in folder.rglob("*") if p.is_file())
    inputs = inputs_hash(base, current_inputs(base) or "", *(p.read_bytes() for p in files))
    if up_to_date(image, inputs):
        return image
    started = time.monotonic()
    result = docker(
        "build",
        "--quiet",
        "--build-arg",
        f"BASE_IMAGE={base}",
        "--label",
        f"{INPUTS_LABEL}={inputs}",
        "-t",
        image,
        str(folder),
        capture_output=True,
    )
    if result.returncode != 0:
        raise engine.EngineError(f"building {image} failed:\n{result.stderr[-2000:]}")
    log(f"{image} built in {time.monotonic() - started:.0f}s")
    return image


def build_services() -> dict[str, str]:
    """The PostgreSQL and Prometheus stand-ins (on the bookworm base)."""
    base = build_base(DEFAULT_BASE)
    return {
        "POSTGRES_IMAGE": build_from_folder(POSTGRES_IMAGE, STANDINS_DIR / "postgres", base),
        "PROMETHEUS_IMAGE": build_from_folder(PROMETHEUS_IMAGE, STANDINS_DIR / "prometheus", base),
    }


def compose_variables() -> dict[str, str]:
    """The compose variables that point the environments at the stand-ins."""
    return {"POSTGRES_IMAGE": POSTGRES_IMAGE, "PROMETHEUS_IMAGE": PROMETHEUS_IMAGE}


def describe(image: str) -> dict[str, object]:
    result = docker("image", "inspect", image, capture_output=True, check=True)
    return json.loads(result.stdout)[0]

"""A local image registry on 127.0.0.1 standing in for ghcr.io (no registry is reachable here).

    python3 -m ktrdr.infra.registry up       # prints the prefix: 127.0.0.1:PORT/kpiteira
    python3 -m ktrdr.infra.registry push sha-abc1234 [KIND ...]   # sha-<short> and latest
    python3 -m ktrdr.infra.registry down

Debian's ``docker-registry`` (the CNCF distribution registry 2.8) runs as a host process
on a free port of 127.0.0.1 (Docker treats 127.0.0.0/8 registries as insecure, plain HTTP
is allowed), storage and state under the engine's folder (``.docker-engine/registry``).
The compose files take the registry prefix from ``IMAGE_REGISTRY`` (default
``ghcr.io/kpiteira``), so the same files pull from it: ``IMAGE_REGISTRY=$(python3 -m
ktrdr.infra.registry up) IMAGE_TAG=sha-abc1234 docker compose ... pull``. ``push`` pushes
the tags ``build-images.yml`` pushes to ghcr.io: ``sha-<short>`` and ``latest``.
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from ktrdr.infra import engine
from ktrdr.infra.images.catalogue import PUBLISHED, image_ref

OWNER = "kpiteira"  # the ghcr.io owner the compose files default to
START_TIMEOUT_S = 30.0


def _state() -> Path:
    return engine.private_engine().root / "registry"


def _pidfile() -> Path:
    return _state() / "registry.pid"


def _portfile() -> Path:
    return _state() / "port"


def _pid() -> int | None:
    return engine.live_pid(_pidfile())


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _answers(port: int) -> bool:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/v2/", timeout=2) as response:
            return response.status == 200
    except OSError:
        return False


def address() -> str | None:
    """``127.0.0.1:PORT`` of the running registry, else None."""
    if _pid() is None or not _portfile().exists():
        return None
    return f"127.0.0.1:{int(_portfile().read_text())}"


def prefix(host: str) -> str:
    """The IMAGE_REGISTRY value for a registry at ``host``."""
    return f"{host}/{OWNER}"


def up() -> str:
    """Start the registry when it is not running; return its IMAGE_REGISTRY prefix."""
    if (running := address()) is not None:
        return prefix(running)
    binary = shutil.which("docker-registry")
    if binary is None:
        engine.install_debian_packages(["docker-registry"])
        binary = shutil.which("docker-registry") or "/usr/bin/docker-registry"
    state = _state()
    (state / "storage").mkdir(parents=True, exist_ok=True)
    port = _free_port()
    config = state / "config.yml"
    config.write_text(
        "version: 0.1\n"
        "log:\n  level: warn\n"
        f"storage:\n  filesystem:\n    rootdirectory: {state / 'storage'}\n"
        "  delete:\n    enabled: true\n"
        f"http:\n  addr: 127.0.0.1:{port}\n"
    )
    with (state / "registry.log").open("ab") as output:
        process = subprocess.Popen(
            [binary, "serve", str(config)],
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            cwd=state,
        )
    _pidfile().write_text(str(process.pid))
    _portfile().write_text(str(port))
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        if _answers(port):
            return prefix(f"127.0.0.1:{port}")
        if process.poll() is not None:
            break
        time.sleep(0.3)
    stop()
    raise engine.EngineError(f"docker-registry did not answer on 127.0.0.1:{port}")


def stop() -> bool:
    pid = _pid()
    if pid is None:
        return False
    os.kill(pid, signal.SIGTERM)
    for _ in range(50):
        if _pid() is None:
            break
        time.sleep(0.1)
    _pidfile().unlink(missing_ok=True)
    return True


def push(tag: str, kinds: list[str], source_tag: str = "test") -> list[str]:
    """Tag the built images (``ghcr.io/kpiteira/...:source_tag``) as ``tag`` and ``latest``
    in the local registry and push both; returns the references pushed."""
    registry = up()
    docker = engine.docker_client()
    pushed = []
    for kind in kinds:
        source = image_ref(kind, tag=source_tag)
        for target_tag in (tag, "latest"):
            target = image_ref(kind, registry=registry, tag=target_tag)
            subprocess.run([docker, "tag", source, target], check=True, env=engine.client_env())
            subprocess.run(
                [docker, "push", "--quiet", target],
                check=True,
                stdout=sys.stderr,
                env=engine.client_env(),
            )
            pushed.append(target)
    return pushed


def mirror(image: str) -> str:
    """Push a local stand-in (``localhost/NAME:TAG``) to the registry, so that a plain
    ``docker compose pull`` finds it there as it finds postgres:16 on Docker Hub."""
    target = f"{up()}/{image.removeprefix('localhost/')}"
    docker = engine.docker_client()
    subprocess.run([docker, "tag", image, target], check=True, env=engine.client_env())
    subprocess.run(
        [docker, "push", "--quiet", target], check=True, stdout=sys.stderr, env=engine.client_env()
    )
    return target


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python3 -m ktrdr.infra.registry", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("up")
    sub.add_parser("down")
    push_parser = sub.add_parser("push")
    push_parser.add_argument("tag", help="sha-<short>; latest is pushed too")
    push_parser.add_argument("kinds", nargs="*", default=list(PUBLISHED))
    push_parser.add_argument("--from-tag", default="test", help="tag of the built images")
    args = parser.parse_args(argv)

    def run() -> None:
        if args.command == "up":
            print(up())
        elif args.command == "down":
            stop()
        else:
            engine.ensure()
            for reference in push(args.tag, args.kinds, args.from_tag):
                print(reference)

    return engine.exit_status("registry", run, subprocess.CalledProcessError)


if __name__ == "__main__":
    sys.exit(main())

"""Execute docs/deploy.md: its ``# step:`` blocks, in the order a release goes.

    python -m ktrdr.infra.deploy_doc          # make deploy-drill

Against the project's Docker engine and the local registry (``IMAGE_REGISTRY`` is the
registry's prefix instead of ghcr.io): build, push and canary sha-A (this checkout's
HEAD) and deploy it to the homelab environment; build, push and canary sha-B (an empty
commit on top, in a throw-away clone), set the tag, roll out the backend, then each
worker, with the document's check after each step; roll back to sha-A the same way;
tear down. Every block runs as the document writes it (``bash -euo pipefail``, from the
repository root). After each rollout step the runner also checks what the document
claims: the service runs the new build (its revision label), the others are untouched.
The homelab ``.env`` is written from ``.env.example`` as the document asks (secrets,
registry, port); one that exists is kept aside and put back.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from ktrdr.infra import engine, registry
from ktrdr.infra.environments import filled_env_example
from ktrdr.infra.images import standins
from ktrdr.infra.images.catalogue import REPO_ROOT

DOCUMENT = REPO_ROOT / "docs" / "deploy.md"
HOMELAB = REPO_ROOT / "deploy" / "environments" / "homelab"
BACKEND_PORT = "18080"
_BLOCK = re.compile(r"^[ \t]*```bash\n(.*?)^[ \t]*```", re.MULTILINE | re.DOTALL)
SERVICES = ("backend", "backtest-worker", "training-worker")


class DeployDocError(engine.EngineError):
    """A step of docs/deploy.md failed or did not do what the document says."""


def steps(text: str) -> dict[str, str]:
    """``# step: NAME`` blocks of the document, by name (indentation removed)."""
    found: dict[str, str] = {}
    for match in _BLOCK.finditer(text):
        lines = match.group(1).splitlines()
        indent = min((len(line) - len(line.lstrip()) for line in lines if line.strip()), default=0)
        lines = [line[indent:] for line in lines]
        head = re.match(r"#\s*step:\s*([a-z-]+)\s*$", lines[0]) if lines else None
        if head:
            found[head.group(1)] = "\n".join(lines[1:]) + "\n"
    return found


@dataclass
class Release:
    tag: str
    revision: str
    checkout: Path


def log(message: str) -> None:
    print(f"deploy-doc: {message}", flush=True)


class Runner:
    def __init__(self, document: Path = DOCUMENT) -> None:
        self.steps = steps(document.read_text())
        self.env = {**os.environ}
        self.timings: list[tuple[str, float]] = []

    def run(self, name: str, release: Release, cwd: Path = REPO_ROOT) -> None:
        if name not in self.steps:
            raise DeployDocError(f"docs/deploy.md has no `# step: {name}` block")
        started = time.monotonic()
        log(f"{name} ({release.tag})")
        result = subprocess.run(
            ["bash", "-euo", "pipefail", "-c", self.steps[name]],
            cwd=cwd,
            env={**self.env, "IMAGE_TAG": release.tag},
            check=False,
        )
        seconds = time.monotonic() - started
        self.timings.append((f"{name} {release.tag}", seconds))
        if result.returncode != 0:
            raise DeployDocError(f"step {name} ({release.tag}) exit {result.returncode}")

    def revisions(self) -> dict[str, set[str]]:
        """The revision label of each homelab service's running containers."""
        ids = subprocess.run(
            [
                engine.docker_client(),
                "ps",
                "-q",
                "--filter",
                "label=com.docker.compose.project=ktrdr",
            ],
            capture_output=True,
            text=True,
            env=engine.client_env(),
            check=True,
        ).stdout.split()
        found: dict[str, set[str]] = {}
        if not ids:
            return found
        inspected = subprocess.run(
            [engine.docker_client(), "inspect", *ids],
            capture_output=True,
            text=True,
            env=engine.client_env(),
            check=True,
        ).stdout
        for container in json.loads(inspected):
            labels = container["Config"]["Labels"]
            service = labels.get("com.docker.compose.service", "?")
            revision = labels.get("org.opencontainers.image.revision", "?")
            found.setdefault(service, set()).add(revision)
        return found

    def expect(self, wanted: dict[str, str]) -> None:
        running = self.revisions()
        for service, revision in wanted.items():
            if running.get(service) != {revision}:
                raise DeployDocError(f"{service} runs {running.get(service)}, expected {revision}")
        log("running revisions: " + ", ".join(f"{s} {sorted(r)}" for s, r in running.items()))


def write_env_file(prefix: str, postgres_image: str) -> None:
    """The homelab .env, as the document asks: .env.example with its values filled in."""
    values = {
        "IMAGE_REGISTRY": prefix,
        "POSTGRES_IMAGE": postgres_image,
        "BACKEND_PORT": BACKEND_PORT,
        "POSTGRES_PASSWORD": secrets.token_hex(24),
        "KTRDR_WORKER_SECRET": secrets.token_hex(24),
    }
    (HOMELAB / ".env").write_text(filled_env_example(values))


def second_release(workdir: Path) -> Release:
    """sha-B: an empty commit on top of HEAD, in a throw-away clone."""
    clone = workdir / "release-b"
    subprocess.run(["git", "clone", "--quiet", "--shared", str(REPO_ROOT), str(clone)], check=True)
    subprocess.run(
        [
            "git",
            "-C",
            str(clone),
            "-c",
            "user.name=deploy drill",
            "-c",
            "user.email=deploy-drill@localhost",
            "commit",
            "--quiet",
            "--allow-empty",
            "-m",
            "deploy drill: release B",
        ],
        check=True,
    )
    revision = subprocess.run(
        ["git", "-C", str(clone), "rev-parse", "--short", "HEAD"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    return Release(f"sha-{revision}", revision, clone)


def drill() -> list[tuple[str, float]]:
    host = engine.ensure()
    prefix = registry.up()
    standins.build_services()
    postgres_image = registry.mirror(standins.POSTGRES_IMAGE)  # pulled like postgres:16
    runner = Runner()
    runner.env.update(
        DOCKER_HOST=host,
        IMAGE_REGISTRY=prefix,
        POSTGRES_IMAGE=postgres_image,
        KTRDR_API_URL=f"http://127.0.0.1:{BACKEND_PORT}",
        # The throw-away clone builds with this checkout's engine and registry.
        KTRDR_ENGINE_DIR=str(engine.private_engine().root),
    )
    head = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, cwd=REPO_ROOT
    ).stdout.strip()
    release_a = Release(f"sha-{head}", head, REPO_ROOT)
    own_env = HOMELAB / ".env"
    kept = own_env.with_name(".env.kept-by-deploy-drill")
    if own_env.exists():
        own_env.rename(kept)
    with tempfile.TemporaryDirectory(prefix="ktrdr-deploy-drill-") as folder:
        try:
            write_env_file(prefix, postgres_image)
            for name in ("build", "push", "canary"):
                runner.run(name, release_a, release_a.checkout)
            runner.run("set-tag", release_a)
            runner.run("deploy", release_a)
            runner.run("check", release_a)
            runner.expect(dict.fromkeys(SERVICES, release_a.revision))

            release_b = second_release(Path(folder))
            for name in ("build", "push"):
                runner.run(name, release_b, release_b.checkout)
            runner.run("canary", release_b)
            runner.run("set-tag", release_b)
            done: dict[str, str] = dict.fromkeys(SERVICES, release_a.revision)
            for service in SERVICES:
                runner.run(f"rollout-{service}", release_b)
                done[service] = release_b.revision
                runner.expect(done)
                runner.run("check", release_b)

            runner.run("set-tag", release_a)
            for service in reversed(SERVICES):
                runner.run(f"rollout-{service}", release_a)
                done[service] = release_a.revision
                runner.expect(done)
            runner.run("check", release_a)
        finally:
            try:
                runner.run("teardown", release_a)
            finally:
                own_env.unlink(missing_ok=True)
                if kept.exists():
                    kept.rename(own_env)
    return runner.timings


def main() -> int:
    try:
        timings = drill()
    except (DeployDocError, engine.EngineError, subprocess.CalledProcessError) as error:
        print(f"deploy-doc: FAILED: {error}", file=sys.stderr)
        return 1
    for what, seconds in timings:
        print(f"  {what:44} {seconds:7.1f}s")
    print(f"deploy-doc: docs/deploy.md followed, {len(timings)} steps passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())

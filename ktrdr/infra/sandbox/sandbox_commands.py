"""``kinfra sandbox create|list|status|up|down|destroy``.

Sandboxes are numbered slots 1..9 (port scheme in :mod:`ktrdr.infra.sandbox.ports`, files in
:mod:`ktrdr.infra.sandbox.slots`). ``create``, ``list``, ``status`` and ``destroy`` work
without docker; ``up`` and ``down`` need docker, its daemon and the compose plugin and
otherwise fail with one line and exit status 1.
"""

from __future__ import annotations

import json
from pathlib import Path

import typer
from rich import box
from rich.console import Console
from rich.table import Table

from ktrdr.cli.errors import UsageError
from ktrdr.infra.sandbox import slots
from ktrdr.infra.sandbox.docker import DockerUnavailableError, require_docker, run_compose
from ktrdr.infra.sandbox.ports import MAX_SLOT, MIN_SLOT
from ktrdr.infra.sandbox.slots import Sandbox, SandboxError

app = typer.Typer(help="Numbered docker compose sandboxes of the ktrdr stack (slots 1..9).")
console = Console()

ROOT_OPTION = typer.Option(
    None,
    "--root",
    help="Folder holding the slot-N folders (default KTRDR_SANDBOX_DIR, else "
    "$KTRDR_HOME/sandboxes, ~/.ktrdr/sandboxes).",
)
SLOT_ARGUMENT = typer.Argument(..., min=MIN_SLOT, max=MAX_SLOT, help="Slot number (1..9).")


def _root(root: Path | None) -> Path:
    return (root or slots.default_root()).expanduser().resolve()


def _require(root: Path | None, slot: int) -> Sandbox:
    return slots.require(_root(root), slot)


def _docker() -> str:
    return require_docker()


def _compose(root: Path | None, slot: int, command: str, *options: str) -> Sandbox:
    """``docker compose COMMAND`` for the slot's sandbox; SandboxError when it fails."""
    sandbox = _require(root, slot)
    result = run_compose(_docker(), slot, sandbox.directory, command, *options)
    if result.returncode != 0:
        raise SandboxError(
            f"docker compose {command} failed for slot {slot} (exit {result.returncode})"
        )
    return sandbox


def _describe(sandbox: Sandbox) -> list[str]:
    p = sandbox.ports
    return [
        f"  API         http://127.0.0.1:{p.api}/api/v1   docs http://127.0.0.1:{p.api}/api/v1/docs",
        f"  MCP         http://127.0.0.1:{p.mcp}/mcp   stdio: docker exec -i "
        f"{sandbox.project}-mcp-1 python -m ktrdr.mcp",
        f"  PostgreSQL  127.0.0.1:{p.db}   (user ktrdr, password ktrdr, database ktrdr)",
        f"  Prometheus  http://127.0.0.1:{p.prometheus}",
        f"  backtest    http://127.0.0.1:{p.backtest_worker}/health",
        f"  training    http://127.0.0.1:{p.training_worker}/health",
    ]


def _as_dict(sandbox: Sandbox) -> dict[str, object]:
    return {
        "slot": sandbox.slot,
        "project": sandbox.project,
        "directory": str(sandbox.directory),
        "complete": sandbox.complete,
        "ports": sandbox.ports.published(),
        "backend_image": sandbox.backend_image,
        "worker_image": sandbox.worker_image,
    }


@app.command()
def create(
    slot: int = typer.Option(
        None, "--slot", min=MIN_SLOT, max=MAX_SLOT, help="Slot to take (default: lowest free)."
    ),
    root: Path = ROOT_OPTION,
    backend_image: str = typer.Option(slots.DEFAULT_BACKEND_IMAGE, help="KTRDR_BACKEND_IMAGE."),
    worker_image: str = typer.Option(slots.DEFAULT_WORKER_IMAGE, help="KTRDR_WORKER_IMAGE."),
) -> None:
    """Take a slot and write its compose file, .env.sandbox and data / models folders."""
    sandbox = slots.create(_root(root), slot, backend_image, worker_image)
    typer.echo(f"created sandbox slot {sandbox.slot} ({sandbox.project}) in {sandbox.directory}")
    for line in _describe(sandbox):
        typer.echo(line)
    typer.echo(f"start it: kinfra sandbox up {sandbox.slot}")


@app.command("list")
def list_(
    root: Path = ROOT_OPTION,
    as_json: bool = typer.Option(False, "--json", help="JSON for programs."),
) -> None:
    """The sandboxes on disk and their host ports."""
    base = _root(root)
    found = slots.existing(base)
    if as_json:
        typer.echo(json.dumps([_as_dict(s) for s in found], indent=2))
        return
    if not found:
        typer.echo(f"no sandboxes under {base} (kinfra sandbox create)")
        return
    typer.echo(f"sandboxes under {base} (compose projects {slots.PROJECT_PREFIX}<slot>)")
    table = Table(box=box.SIMPLE_HEAD, pad_edge=False, collapse_padding=True)
    for column in ("slot", "api", "mcp", "db", "prometheus", "backtest", "training", "state"):
        table.add_column(column, overflow="fold")
    for sandbox in found:
        p = sandbox.ports
        table.add_row(
            str(sandbox.slot),
            str(p.api),
            str(p.mcp),
            str(p.db),
            str(p.prometheus),
            str(p.backtest_worker),
            str(p.training_worker),
            "ok" if sandbox.complete else "incomplete",
        )
    console.print(table)


@app.command()
def status(
    slot: int = typer.Argument(
        None, min=MIN_SLOT, max=MAX_SLOT, help="Slot number (default: every sandbox)."
    ),
    root: Path = ROOT_OPTION,
) -> None:
    """Ports, images and folders of a sandbox; its containers when docker answers."""
    base = _root(root)
    if slot is not None:
        chosen = [_require(root, slot)]
    else:
        chosen = slots.existing(base)
        if not chosen:
            typer.echo(f"no sandboxes under {base} (kinfra sandbox create)")
            return
    try:
        docker: str | None = require_docker()
        unavailable = ""
    except DockerUnavailableError as error:
        docker, unavailable = None, str(error)
    for index, sandbox in enumerate(chosen):
        if index:
            typer.echo("")
        typer.echo(f"slot {sandbox.slot}  {sandbox.project}  {sandbox.directory}")
        if not sandbox.complete:
            typer.echo(f"  incomplete: kinfra sandbox destroy {sandbox.slot} --yes")
            continue
        for line in _describe(sandbox):
            typer.echo(line)
        typer.echo(f"  images      backend {sandbox.backend_image}, workers {sandbox.worker_image}")
        typer.echo(f"  data        {sandbox.directory / 'data'}")
        typer.echo(f"  models      {sandbox.directory / 'models'}")
        if docker is None:
            typer.echo(f"  containers  unknown ({unavailable})")
            continue
        result = run_compose(docker, sandbox.slot, sandbox.directory, "ps", capture=True)
        if result.returncode != 0:
            typer.echo(f"  containers  unknown (docker compose ps failed: {result.stderr.strip()})")
            continue
        typer.echo("  containers")
        for line in result.stdout.rstrip().splitlines():
            typer.echo(f"    {line}")


@app.command()
def up(
    slot: int = SLOT_ARGUMENT,
    root: Path = ROOT_OPTION,
    wait: bool = typer.Option(False, "--wait", help="Wait until every service is healthy."),
) -> None:
    """docker compose up -d for the sandbox."""
    sandbox = _compose(root, slot, "up", "-d", *(["--wait"] if wait else []))
    typer.echo(f"sandbox slot {slot} is up ({sandbox.project})")
    for line in _describe(sandbox):
        typer.echo(line)
    typer.echo(f"the ktrdr CLI against it: KTRDR_API_URL=http://127.0.0.1:{sandbox.ports.api}")


@app.command()
def down(slot: int = SLOT_ARGUMENT, root: Path = ROOT_OPTION) -> None:
    """docker compose down for the sandbox (its database volume is kept)."""
    sandbox = _compose(root, slot, "down")
    typer.echo(f"sandbox slot {slot} is down ({sandbox.project})")


@app.command()
def destroy(
    slot: int = SLOT_ARGUMENT,
    root: Path = ROOT_OPTION,
    yes: bool = typer.Option(False, "--yes", help="Really remove the slot and its data."),
) -> None:
    """Stop the sandbox (best effort, volumes included) and remove its folder."""
    base = _root(root)
    sandbox = slots.load(base, slot)
    if sandbox is None:
        raise SandboxError(f"no sandbox in slot {slot} under {base}")
    if not yes:
        raise UsageError(
            f"destroy removes {sandbox.directory} with its data and models; "
            f"add --yes: kinfra sandbox destroy {slot} --yes"
        )
    if sandbox.complete:
        cleanup = f"docker compose --project-name {sandbox.project} down --volumes"
        try:
            docker = require_docker()
        except DockerUnavailableError as error:
            typer.echo(
                f"kinfra: warning: containers not stopped ({error}); later: {cleanup}", err=True
            )
        else:
            result = run_compose(
                docker, slot, sandbox.directory, "down", "--volumes", "--remove-orphans"
            )
            if result.returncode != 0:
                typer.echo(
                    f"kinfra: warning: docker compose down failed (exit {result.returncode}); "
                    f"later: {cleanup}",
                    err=True,
                )
    try:
        slots.remove(sandbox)
    except OSError as error:
        raise SandboxError(f"cannot remove {sandbox.directory}: {error}") from error
    typer.echo(f"sandbox slot {slot} destroyed ({sandbox.directory} removed)")

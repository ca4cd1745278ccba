"""``ktrdr ops`` and ``ktrdr workers``: operations and workers of a backend."""

from __future__ import annotations

from pathlib import Path

import typer

from ktrdr.cli.context import api_client
from ktrdr.cli.follow import follow_operation
from ktrdr.cli.output import console, print_json, table
from ktrdr.cli.report_file import write_report

app = typer.Typer(help="Operations on the backend: list, show, follow, cancel, results, report.")


@app.command("list")
def list_operations(
    status: str | None = typer.Option(None, help="pending, running, completed, ..."),
    kind: str | None = typer.Option(
        None, "--type", help="training, backtesting, walkforward or sweep"
    ),
    limit: int = typer.Option(20, help="How many, newest first."),
    parent: str | None = typer.Option(
        None, "--parent", help="A walk-forward's or sweep's children."
    ),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    with api_client() as client:
        page = client.operations(status=status, type=kind, limit=limit, parent_id=parent)
    if as_json:
        print_json(page)
        return
    rows = [
        [
            op.id,
            op.type,
            op.status,
            f"{op.progress.percent:.0f}%",
            op.strategy_name,
            op.worker_id,
            op.created_at.strftime("%Y-%m-%d %H:%M:%S"),
        ]
        for op in page.operations
    ]
    title = f"Operations ({len(rows)} of {page.total})"
    columns = ["id", "type", "status", "progress", "strategy", "worker", "created"]
    # Ids are printed whole, whatever the terminal width: they are for copying.
    console.print(table(title, columns, rows, whole={"id"}))


@app.command("show")
def show(
    operation_id: str,
    follow: bool = typer.Option(False, "--follow", "-f", help="Follow until it ends."),
) -> None:
    """The operation as JSON (without its result: see ``ktrdr ops results``)."""
    with api_client() as client:
        state = (
            follow_operation(client, operation_id, operation_id[:8])
            if follow
            else client.operation(operation_id)
        )
    print_json(state.model_dump(mode="json", exclude={"result"}))


@app.command("follow")
def follow(operation_id: str) -> None:
    """Progress bar until the operation ends."""
    with api_client() as client:
        state = follow_operation(client, operation_id, operation_id[:8])
    console.print(f"{operation_id}: {state.status}" + (f" ({state.error})" if state.error else ""))


@app.command("cancel")
def cancel(operation_id: str) -> None:
    with api_client() as client:
        state = client.cancel(operation_id)
    console.print(f"{operation_id}: {state.status}")


@app.command("results")
def results(operation_id: str) -> None:
    with api_client() as client:
        print_json(client.results(operation_id))


@app.command("report")
def report(
    operation_id: str,
    output: Path | None = typer.Option(
        None, "--output", "-o", help="File to write; default: report-<id>.html here."
    ),
    open_it: bool = typer.Option(False, "--open", help="Open it in the web browser."),
) -> None:
    """The HTML report of a finished operation, drawn by the backend from its result."""
    with api_client() as client:
        html = client.report(operation_id)
    write_report(output or Path(f"report-{operation_id}.html"), html, open_it)


def workers(as_json: bool = typer.Option(False, "--json")) -> None:
    """Workers registered with the backend."""
    with api_client() as client:
        found = client.workers()
    if as_json:
        print_json(found)
        return
    rows = [
        [
            w.worker_id,
            w.worker_type,
            w.status,
            w.endpoint_url,
            f"gpu {w.capabilities.device}" if w.capabilities.gpu else "cpu",
            w.current_operation_id,
        ]
        for w in found
    ]
    columns = ["id", "type", "status", "endpoint", "device", "operation"]
    console.print(table("Workers", columns, rows, whole={"id", "operation"}))

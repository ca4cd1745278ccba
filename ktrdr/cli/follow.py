"""Follow an operation with a progress bar until it ends."""

from __future__ import annotations

from typing import Any

import typer
from rich.progress import BarColumn, Progress, TaskProgressColumn, TextColumn, TimeElapsedColumn

from ktrdr.cli.api_client import ApiClient, ApiError
from ktrdr.cli.output import error_console


def follow_operation(client: ApiClient, operation_id: str, label: str) -> dict[str, Any]:
    bar = Progress(
        TextColumn(label),
        BarColumn(),
        TaskProgressColumn(),
        TextColumn("{task.fields[status]}"),
        TextColumn("{task.fields[message]}"),
        TimeElapsedColumn(),
        console=error_console,
    )
    with bar:
        task = bar.add_task(label, total=100, status="pending", message="")

        def update(state: dict[str, Any]) -> None:
            progress = state.get("progress") or {}
            bar.update(
                task,
                completed=progress.get("percent", 0.0),
                status=state["status"],
                message=progress.get("message", ""),
            )

        try:
            return client.wait(operation_id, on_update=update)
        except ApiError as error:
            error_console.print(f"[red]{error}[/]")
            raise typer.Exit(1) from error
        except KeyboardInterrupt:
            error_console.print(
                f"\nstopped following; the operation goes on. Cancel it with: "
                f"ktrdr ops cancel {operation_id}"
            )
            raise typer.Exit(130) from None

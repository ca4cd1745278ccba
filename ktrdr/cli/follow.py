"""Follow an operation with a progress bar until it ends."""

from __future__ import annotations

import typer
from rich.progress import BarColumn, Progress, TaskProgressColumn, TextColumn, TimeElapsedColumn

from ktrdr.cli.output import error_console
from ktrdr.client import ApiClient
from ktrdr.core.api_models import Operation


def follow_operation(client: ApiClient, operation_id: str, label: str) -> Operation:
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

        def update(state: Operation) -> None:
            bar.update(
                task,
                completed=state.progress.percent,
                status=state.status,
                message=state.progress.message,
            )

        try:
            return client.wait(operation_id, on_update=update)
        except KeyboardInterrupt:
            error_console.print(
                f"\nstopped following; the operation goes on. Cancel it with: "
                f"ktrdr ops cancel {operation_id}"
            )
            raise typer.Exit(130) from None

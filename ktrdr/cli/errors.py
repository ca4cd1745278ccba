"""The CLI's one error handler: a ktrdr error is printed, never a traceback, and exits 1."""

from __future__ import annotations

from typing import Any

import typer
from rich.markup import escape
from typer.core import TyperGroup

from ktrdr.cli.output import error_console
from ktrdr.core.errors import InvalidDocumentError, KtrdrError

MAX_ISSUES_SHOWN = 20


def report_error(error: KtrdrError) -> None:
    """The message; for a whole document (strategy, CSV) every problem with its place."""
    if not isinstance(error, InvalidDocumentError):
        error_console.print(f"[red]{escape(str(error))}[/]", soft_wrap=True)
        return
    error_console.print(f"[red]{escape(error.headline)}[/]", soft_wrap=True)
    issues = error.issues
    for issue in issues[:MAX_ISSUES_SHOWN]:
        error_console.print(f"[red]  {escape(str(issue))}[/]", soft_wrap=True)
    if len(issues) > MAX_ISSUES_SHOWN:
        error_console.print(f"[red]  ... and {len(issues) - MAX_ISSUES_SHOWN} more[/]")


class KtrdrGroup(TyperGroup):
    """Runs every command of the tree under the one handler."""

    def invoke(self, ctx: typer.Context) -> Any:
        try:
            return super().invoke(ctx)
        except KtrdrError as error:
            report_error(error)
            raise typer.Exit(1) from None

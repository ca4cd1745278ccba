"""The CLI's one error handler: a ktrdr error is printed, never a traceback, and exits 1."""

from __future__ import annotations

from typing import Any

import typer
from rich.markup import escape
from typer.core import TyperGroup

from ktrdr.cli.output import error_console
from ktrdr.core.errors import InvalidDocumentError, InvalidInputError, KtrdrError

MAX_ISSUES_SHOWN = 20


class UsageError(InvalidInputError):
    """The command was called the wrong way: exit status 2, as for a bad option."""

    exit_code = 2


def report_error(error: KtrdrError, program: str = "ktrdr") -> None:
    """``program: message``; for a whole document (strategy, CSV) every problem and place."""
    if not isinstance(error, InvalidDocumentError):
        error_console.print(f"[red]{escape(program)}: {escape(str(error))}[/]", soft_wrap=True)
        return
    error_console.print(f"[red]{escape(program)}: {escape(error.headline)}[/]", soft_wrap=True)
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
            report_error(error, ctx.find_root().info_name or "ktrdr")
            raise typer.Exit(getattr(error, "exit_code", 1)) from None

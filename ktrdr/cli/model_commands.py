"""``ktrdr models``: stored model versions."""

from __future__ import annotations

import typer

from ktrdr.cli.context import settings
from ktrdr.cli.output import console, print_json, table
from ktrdr.research.model_registry import list_models

app = typer.Typer(help="Trained models.")


@app.command("list")
def list_command(
    strategy: str | None = typer.Option(None, help="Only this strategy."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Every stored model version with its training facts."""
    models = list_models(settings().models_path, strategy)
    if as_json:
        print_json([m.to_dict() for m in models])
        return
    rows = [
        [
            m.model_id,
            ", ".join(m.metadata.get("symbols", [])),
            m.metadata.get("seed"),
            m.metadata.get("created_at", "")[:19],
        ]
        for m in models
    ]
    console.print(table("Models", ["id", "symbols", "seed", "created (UTC)"], rows))

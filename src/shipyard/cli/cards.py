"""``shipyard models card``: the generated card of a model version."""

from __future__ import annotations

from pathlib import Path

import typer

from shipyard.cli._common import console, handle_errors, print_json


def card(
    ref: str = typer.Argument(..., help="NAME/VERSION or NAME@ALIAS"),
    html: Path | None = typer.Option(None, "--html", help="write a self-contained HTML page"),
    markdown: Path | None = typer.Option(None, "--md", help="write the Markdown here"),
    as_json: bool = typer.Option(False, "--json", help="print the card's data as JSON"),
) -> None:
    """Print the model card of a version (intended use, data and feature versions, metrics and
    their evaluation data, gates, lineage); --html/--md also write it to files."""
    from shipyard.pipelines.cards.fluent import model_card

    found = model_card(ref)
    if html is not None:
        html.write_text(found.to_html(), encoding="utf-8")
    if markdown is not None:
        markdown.write_text(found.to_markdown(), encoding="utf-8")
    if as_json:
        print_json(found.to_dict())
    elif html is None and markdown is None:
        console.print(found.to_markdown(), markup=False)
    else:
        console.print(f"card of {found.model}/{found.version} written to "
                      + ", ".join(str(p) for p in (html, markdown) if p is not None))  # fmt: skip


def register(models: typer.Typer) -> None:
    """Add ``card`` to the ``models`` group."""
    models.command("card")(handle_errors(card))

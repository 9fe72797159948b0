"""`manabi archive …`: list items, import a CSV, export published metadata.

The command line acts as the operator (kernel.actor.SYSTEM), who holds every role.
"""

from __future__ import annotations

from pathlib import Path

import typer

from archive.services import exports, importer, reading
from kernel.actor import SYSTEM
from kernel.cli import JSON_OPTION, cli_state, emit, emit_rejected
from kernel.errors import ImportRejected

app = typer.Typer(help="The cultural-heritage archive: list, import, export.", no_args_is_help=True)


@app.command("list")
def list_items(
    ctx: typer.Context,
    status: str = typer.Option(None, "--status", help="Only items in this state: draft, review, published, withdrawn."),
    as_json: bool = JSON_OPTION,
) -> None:
    """List items with id, identifier, title and status (every state)."""
    found = reading.list_items(cli_state(ctx).store(), SYSTEM, status)
    emit([{"id": s.id, "identifier": s.identifier, "title_ja": s.title_ja, "title_en": s.title_en,
           "status": s.status, "type": s.type, "date": s.date_text} for s in found],
         as_json=as_json, lines=[f"{s.id}\t{s.identifier}\t{s.title_ja}\t{s.status}" for s in found])


@app.command("import")
def import_csv(
    ctx: typer.Context,
    file: Path = typer.Argument(..., help="The CSV file (UTF-8; the template is data/archive_import_sample.csv, described in the README).",
                                exists=True, dir_okay=False),
    images_dir: Path = typer.Option(None, "--images", help="Folder holding the image files the CSV names.",
                                    exists=True, file_okay=False),
    as_json: bool = JSON_OPTION,
) -> None:
    """Import items from a CSV: all rows or none; every bad row is named by its line (header = line 1)."""
    state = cli_state(ctx)
    t = state.t

    def read_image(name: str) -> bytes | None:
        if images_dir is None:
            return None
        path = (images_dir / name).resolve()
        if images_dir.resolve() not in path.parents or not path.is_file():
            return None
        return path.read_bytes()

    def progress(done: int, total: int) -> None:
        if not as_json:
            typer.echo(t("archive.import.progress", done=done, total=total), err=True)

    try:
        result = importer.import_csv(state.store(), state.clock(), SYSTEM, file.read_bytes(),
                                     read_image=read_image if images_dir else None, progress=progress)
    except ImportRejected as exc:
        if as_json:
            emit_rejected(t, exc)
            raise typer.Exit(1) from exc
        raise
    emit({"ok": True, "rows": result.rows, "errors": [], "ids": result.item_ids}, as_json=as_json,
         lines=[t("archive.import.done", rows=result.rows)])


@app.command("export")
def export(
    ctx: typer.Context,
    fmt: str = typer.Option("json", "--format", help="json or csv."),
    base: str = typer.Option("http://localhost:8501", "--base-url", help="The portal's public address, for links."),
    output: Path = typer.Option(None, "--output", "-o", help="Write to this file instead of standard output."),
) -> None:
    """Export the metadata of published items (Japan Search / Europeana style)."""
    store = cli_state(ctx).store()
    if fmt not in ("json", "csv"):
        raise typer.BadParameter("json or csv", param_hint="--format")
    body = exports.to_json(store, base) if fmt == "json" else exports.to_csv(store, base)
    if output:
        output.write_text(body, encoding="utf-8")
    else:
        typer.echo(body)

"""`manabi lake …`: export this municipality's learning facts into a lake folder, and compute
the prefecture's board over a lake with DuckDB or Spark."""

from __future__ import annotations

from pathlib import Path

import typer

from kernel.cli import JSON_OPTION, cli_state, emit

app = typer.Typer(help="The learning-records lake: Parquet partitions the prefecture's board reads.",
                  no_args_is_help=True)


@app.command("export")
def export_command(ctx: typer.Context,
                   folder: Path = typer.Argument(..., help="The lake's folder (local, or a mounted bucket)."),
                   as_json: bool = JSON_OPTION) -> None:
    """Write what is new since the last export (the server does it each night into MANABI_LAKE_DIR)."""
    from lake.services.export import export

    state = cli_state(ctx)
    result = export(state.store(), state.clock(), folder)
    lines = [state.t("lake.cli.taken_back", count=result.taken_back)] if result.taken_back else []
    if result.first_seq is None:
        lines.append(state.t("lake.cli.nothing_new", code=result.municipality, last_seq=result.last_seq))
    else:
        lines.append(state.t("lake.cli.exported", code=result.municipality, statements=result.statements,
                             files=result.files, last_seq=result.last_seq, seconds=result.seconds))
    emit(result, as_json=as_json, lines=lines)


@app.command("board")
def board_command(ctx: typer.Context,
                  folder: Path = typer.Argument(..., help="The lake's folder."),
                  engine: str = typer.Option("duckdb", "--engine", help="duckdb (one machine) or spark."),
                  view: list[str] = typer.Option([], "--view", help="board, mastery or time; repeat (default: all)."),
                  save: bool = typer.Option(True, "--save/--no-save",
                                            help="Keep the figures in the lake for the board's page."),
                  as_json: bool = JSON_OPTION) -> None:
    """The board view, mastery by curriculum code and time on task over the lake."""
    from lake.services import board

    state = cli_state(ctx)
    result = board.run(folder, engine, tuple(view) or tuple(board.VIEWS))
    if save:
        board.save(folder, result, state.clock())
    lines = [state.t("lake.cli.board_done", engine=result.engine, statements=result.statements,
                     seconds=result.seconds)]
    for name, rows in result.views.items():
        lines.append(f"== {name} ({len(rows)})")
        lines += ["  " + "  ".join(_cell(v) for v in row.values()) for row in rows[:20]]
        if len(rows) > 20:
            lines.append("  …")
    emit(result, as_json=as_json, lines=lines)


def _cell(value) -> str:
    return f"{value:.3f}" if isinstance(value, float) else str(value)

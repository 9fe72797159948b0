"""`manabi roster import` and `manabi schools classes`: the city's school roster from the
command line (portal/services/roster.py does the work)."""

from __future__ import annotations

import sys
from pathlib import Path

import typer

from kernel.actor import SYSTEM
from kernel.cli import JSON_OPTION, cli_state, emit

roster_app = typer.Typer(help="School rosters: import OneRoster 1.2 CSV bundles (Japan Profile).",
                         no_args_is_help=True)


@roster_app.command("import")
def roster_import(
    ctx: typer.Context,
    path: Path = typer.Argument(..., help="A OneRoster 1.2 CSV bundle: a zip or a folder with manifest.csv."),
    dry_run: bool = typer.Option(False, "--dry-run", help="Check and preview only; store nothing."),
    as_json: bool = JSON_OPTION,
) -> None:
    """Import schools, classes, pupils, teachers and enrollments, all or nothing."""
    from portal.services import roster

    state = cli_state(ctx)
    t = state.t
    result = roster.import_bundle(state.store(), state.clock(), SYSTEM, path, dry_run=dry_run)
    preview = result.preview
    data = {"ok": result.ok, "counts": result.counts, "errors": roster.problems_as_json(t, result.errors)}
    if as_json:
        if preview is not None and dry_run:
            data["preview"] = {"new": preview.new_pupils, "moved": preview.moved_pupils,
                               "leaving": preview.leaving_pupils, "new_teachers": preview.new_teachers,
                               "leaving_teachers": preview.leaving_teachers}
        emit(data, as_json=True)
    elif not result.ok:
        typer.echo(t("roster.rejected", count=len(result.errors)), err=True)
        for problem in data["errors"]:
            typer.echo(f"  {problem['file']}:{problem['line']}: {problem['reason']}", err=True)
    else:
        lines = []
        if dry_run:
            lines.append(t("roster.checked", **result.counts))
        elif result.stored:
            lines.append(t("roster.imported", **result.counts))
        else:
            lines.append(t("roster.unchanged"))
        if preview is not None:
            lines += [t("roster.preview_new", count=len(preview.new_pupils)),
                      t("roster.preview_moved", count=len(preview.moved_pupils)),
                      t("roster.preview_leaving", count=len(preview.leaving_pupils)),
                      t("roster.preview_new_teachers", count=len(preview.new_teachers)),
                      t("roster.preview_leaving_teachers", count=len(preview.leaving_teachers))]
            if dry_run:
                lines += [f"  + {p['id']} {p['name']} → {p['to']}" for p in preview.new_pupils[:50]]
                lines += [f"  ~ {p['id']} {p['name']} {p['from']} → {p['to']}" for p in preview.moved_pupils[:50]]
                lines += [f"  - {p['id']} {p['name']} {p['from']}" for p in preview.leaving_pupils[:50]]
        emit(data, as_json=False, lines=lines)
    if not result.ok:
        sys.exit(1)


def schools_classes(
    ctx: typer.Context,
    code: str = typer.Argument(..., help="The school's code (see `manabi schools list`)."),
    as_json: bool = JSON_OPTION,
) -> None:
    """A school's classes with their pupil counts."""
    from portal.services import roster

    rows = roster.school_classes(cli_state(ctx).store(), code)
    emit(rows, as_json=as_json, lines=[f"{r['grade']}-{r['class_name']}  {r['title']}  {r['pupils']}" for r in rows])

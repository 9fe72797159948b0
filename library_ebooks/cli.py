"""`manabi ebooks …`: import EPUBs, list the catalogue, add licenses."""

from __future__ import annotations

import sys
from datetime import datetime
from pathlib import Path

import typer

from kernel.actor import SYSTEM
from kernel.cli import JSON_OPTION, cli_state, emit
from kernel.clock import TOKYO
from kernel.i18n import Translator
from library_ebooks.services import catalogue
from library_ebooks.services.catalogue import ImportResult, TitleCard

app = typer.Typer(no_args_is_help=True, help="E-book lending: import EPUBs, list the catalogue, add licenses.")
PROGRESS_FROM = 5  # show progress on stderr from this many files


def reason_text(t: Translator, result: ImportResult) -> str | None:
    return t(result.reason_key, **result.reason_params) if result.reason_key else None


def availability_text(t: Translator, card: TitleCard) -> str:
    if not card.licensed:
        return t("ebooks.not_licensed")
    if card.unlimited:
        return t("ebooks.unlimited")
    if card.available:
        return t("ebooks.copies_free", free=card.copies - card.on_loan, copies=card.copies)
    return t("ebooks.all_out", waiting=card.holds_waiting)


@app.command("import")
def import_command(
    ctx: typer.Context,
    paths: list[Path] = typer.Argument(..., help="EPUB files to import (EPUB 2 or 3)."),
    as_json: bool = JSON_OPTION,
) -> None:
    """Import EPUB files: each is imported, a duplicate, or rejected with the reason.

    The exit code is 1 when any file was rejected."""
    state = cli_state(ctx)
    t = state.t
    total = len(paths)

    def progress(done: int, result: ImportResult) -> None:
        if total >= PROGRESS_FROM:
            typer.echo(t("ingest.progress", done=done, total=total, file=result.file), err=True)

    results = catalogue.import_files(state.store(), state.clock(), SYSTEM, paths, on_progress=progress)
    lines = []
    for r in results:
        reason = reason_text(t, r)
        if r.status == "imported":
            lines.append(t("cli.imported", file=r.file, title=r.title, id=r.title_id))
        else:
            lines.append(t(f"cli.{r.status}", file=r.file, reason=reason))
    counts = {s: sum(1 for r in results if r.status == s) for s in ("imported", "duplicate", "rejected")}
    lines.append(t("ingest.summary", **counts))
    emit([{"file": r.file, "status": r.status, "title": r.title, "id": r.title_id, "reason": reason_text(t, r)}
          for r in results], as_json=as_json, lines=lines)
    if counts["rejected"]:
        sys.exit(1)


@app.command("list")
def list_command(ctx: typer.Context, as_json: bool = JSON_OPTION) -> None:
    """List the catalogue: ids, titles, authors and availability now."""
    state = cli_state(ctx)
    t = state.t
    cards = catalogue.list_titles(state.store(), state.clock())
    emit(
        [{"id": c.id, "title": c.title, "creators": c.creator_names, "language": c.language, "isbn": c.isbn,
          "licensed": c.licensed, "unlimited": c.unlimited, "copies": c.copies, "on_loan": c.on_loan,
          "holds_waiting": c.holds_waiting, "available": c.available} for c in cards],
        as_json=as_json,
        lines=[t("cli.list_line", id=c.id, title=c.title, creators=c.creator_names,
                 availability=availability_text(t, c)) for c in cards],
    )


@app.command("license")
def license_command(
    ctx: typer.Context,
    title_id: int = typer.Argument(..., help="The title's id (see `manabi ebooks list`)."),
    model: str = typer.Option("one_copy", "--model", help="one_copy, metered or simultaneous."),
    copies: int = typer.Option(None, "--copies", help="Copies lent at once (one_copy and metered)."),
    max_loans: int = typer.Option(None, "--loans", help="Metered: loans allowed in all."),
    until: str = typer.Option(None, "--until", help="Metered: last day of the license (YYYY-MM-DD)."),
    loan_days: int = typer.Option(catalogue.DEFAULT_LOAN_DAYS, "--loan-days", help="Loan period in days."),
    download: bool = typer.Option(True, "--download/--browser-only",
                                  help="Whether the publisher lets borrowers download the file (OPDS)."),
    as_json: bool = JSON_OPTION,
) -> None:
    """Add a license to a title."""
    state = cli_state(ctx)
    expires = datetime.fromisoformat(until).replace(tzinfo=TOKYO) if until else None
    license_id = catalogue.add_license(state.store(), state.clock(), SYSTEM, title_id, model, copies=copies,
                                       max_loans=max_loans, expires_at=expires, loan_days=loan_days,
                                       download_allowed=download)
    emit({"license_id": license_id}, as_json=as_json, lines=[state.t("cli.license_added", id=license_id)])

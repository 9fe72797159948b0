"""What every module's CLI commands share: the opened store, the clock, messages,
and one way to print results (text, or JSON with --json) and errors (stderr, exit 1).

The root command (portal/cli.py) puts a CliState in the typer context; a module's
command asks for it with `cli_state(ctx)` and never imports the portal.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import typer

from kernel.clock import Clock
from kernel.errors import ImportRejected, ManabiError
from kernel.i18n import Translator
from kernel.store import Store


@dataclass
class CliState:
    db_path: Path | None
    t: Translator
    _open: Callable[[], tuple[Store, Clock]]

    def store(self) -> Store:
        return self._open()[0]

    def clock(self) -> Clock:
        return self._open()[1]


def cli_state(ctx: typer.Context) -> CliState:
    return ctx.find_root().obj


def _plain(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, Path):
        return str(value)
    if isinstance(value, set | frozenset | tuple):
        return list(value)
    if hasattr(value, "__dataclass_fields__"):
        return {k: getattr(value, k) for k in value.__dataclass_fields__}
    raise TypeError(f"cannot print {type(value).__name__} as JSON")


def emit(data: Any, *, as_json: bool, lines: Iterable[str] = ()) -> None:
    """Print a result: JSON (one document) with --json, else the human lines."""
    if as_json:
        typer.echo(json.dumps(data, ensure_ascii=False, default=_plain, indent=2))
    else:
        for line in lines:
            typer.echo(line)


def fail(t: Translator, exc: ManabiError) -> None:
    """An error for a person: the catalogue sentence on stderr, and exit code 1."""
    typer.echo(t.error(exc), err=True)
    if isinstance(exc, ImportRejected):
        for problem in exc.problems:
            typer.echo(f"  {t('ui.row')} {problem.row}: {t(problem.key, **problem.params)}", err=True)
    sys.exit(1)


def emit_rejected(t: Translator, exc: ImportRejected) -> None:
    """A rejected import as JSON (--json): nothing stored, every bad row with its line and reason."""
    emit({"ok": False, "rows": exc.params.get("rows", 0),
          "errors": [{"line": p.row, "reason": t(p.key, **p.params)} for p in exc.problems]}, as_json=True)


JSON_OPTION = typer.Option(False, "--json", help="Print the result as JSON.")

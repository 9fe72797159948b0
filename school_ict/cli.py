"""`manabi devices …`: the registry from the command line (the operator acts as the system)."""

from __future__ import annotations

import typer

app = typer.Typer(no_args_is_help=True, help="School devices: list, import, check out/in, audit, plans.")

"""Functions one module offers the others, by name, so that no module reads another's
tables or imports its code. A module lists them in its SPEC (`provides=`); the portal
registers them when it composes the modules; a module asks with `provided(name)` and gets
None when the offering module is not part of this portal.

What a module offers for others to read row by row is a relation: a function of a cursor
returning a DuckDB relation (its columns are the contract), e.g. "portal.schools". The reader
joins it in its SQL as a view through `offered_view`, never the table behind it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

_offered: dict[str, Callable[..., Any]] = {}


def offer(name: str, function: Callable[..., Any]) -> None:
    _offered[name] = function


def provided(name: str) -> Callable[..., Any] | None:
    return _offered.get(name)


def offered_view(cur, *names: str) -> None:
    """Make each relation offered under `names` readable on this cursor as the temporary view
    named `offered_` and the part after the dot, for the reader's SQL that follows on it:
    `offered_view(cur, "portal.schools")`, then `... JOIN offered_schools s ON s.id = ...`. A
    temporary view is the cursor's alone, works on a read-only database, and is made again
    each time (a transaction rolled back takes it along)."""
    for name in names:
        offered = provided(name)
        if offered is None:
            raise LookupError(f"no module of this portal offers {name!r}")
        view = "offered_" + name.partition(".")[2]
        if not view.isidentifier():
            raise ValueError(f"not a view name: {view!r}")
        cur.execute(f"CREATE OR REPLACE TEMP VIEW {view} AS {offered(cur).sql_query()}")

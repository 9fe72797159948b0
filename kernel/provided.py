"""Functions one module offers the others, by name, so that no module reads another's
tables or imports its code. Each is declared with its signature in kernel.offers; a module
lists its own in its SPEC (`provides=`); the portal registers them when it composes the
modules; a module asks with `provided(offers.X)` and gets the function typed as declared,
or None when the offering module is not part of this portal.

What a module offers for others to read row by row is a relation: a function of a cursor
returning a DuckDB relation (its columns are the contract), e.g. "portal.schools". The reader
joins it in its SQL as a view through `offered_view`, never the table behind it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar, overload

from kernel.offers import DECLARED, Offer

F = TypeVar("F", bound=Callable[..., Any])
_offered: dict[str, Callable[..., Any]] = {}


def offer(name: str, function: Callable[..., Any]) -> None:
    if name not in DECLARED:
        raise LookupError(f"{name!r} is not declared in kernel.offers")
    _offered[name] = function


@overload
def provided(name: Offer[F]) -> F | None: ...
@overload
def provided(name: str) -> Callable[..., Any] | None: ...
def provided(name: Offer[Any] | str) -> Callable[..., Any] | None:
    """The function offered under a declared offer (typed as declared) or a plain name."""
    return _offered.get(name.name if isinstance(name, Offer) else name)


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

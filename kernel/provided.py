"""Functions one module offers the others, by name, so that no module reads another's
tables or imports its code. A module lists them in its SPEC (`provides=`); the portal
registers them when it composes the modules; a module asks with `provided(name)` and gets
None when the offering module is not part of this portal.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

_offered: dict[str, Callable[..., Any]] = {}


def offer(name: str, function: Callable[..., Any]) -> None:
    _offered[name] = function


def provided(name: str) -> Callable[..., Any] | None:
    return _offered.get(name)

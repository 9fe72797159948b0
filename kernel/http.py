"""What a module's HTTP route handlers share: the process's store and clock.

The server (portal/server.py) opens and migrates the database before it serves, so
`shared_store` here returns that same Store. Handlers do blocking DuckDB work in a
thread (starlette.concurrency.run_in_threadpool).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

from kernel.clock import Clock, clock_from_env
from kernel.config import load_settings
from kernel.store import Store, shared_store


@dataclass(frozen=True)
class RouteContext:
    store: Store
    clock: Clock


@cache
def _clock() -> Clock:
    return clock_from_env()


def route_context() -> RouteContext:
    return RouteContext(shared_store(load_settings().db_path), _clock())

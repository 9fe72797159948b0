"""What a module's HTTP route handlers share: the process's store and clock.

The server (portal/server.py) opens and migrates the database before it serves, so
`shared_store` here returns that same Store. Handlers do blocking DuckDB work in a
thread (starlette.concurrency.run_in_threadpool).
"""

from __future__ import annotations

import os
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


@cache
def _db_path(db_setting: str | None, config_file: str | None) -> str:
    return str(load_settings().db_path.resolve())


def route_context() -> RouteContext:
    # The database's path is worked out once per setting: load_settings reads manabi.toml, and
    # per request that was a quarter of the event loop's time with 64 learning apps posting.
    path = _db_path(os.environ.get("MANABI_DB"), os.environ.get("MANABI_CONFIG"))
    return RouteContext(shared_store(path), _clock())

"""The process's runtime: settings, the store (migrated), the clock, the catalogue.

The server, the CLI and the tests all start here, so each opens the database the
same way: once per process, migrations applied, a newer schema refused.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from kernel import auth, migrations
from kernel.clock import Clock, clock_from_env
from kernel.config import Settings, load_settings
from kernel.i18n import Catalogue, Translator, load_catalogue
from kernel.store import Store, shared_store
from portal.modules import catalogue_files, known_migrations
from portal.services import accounts

__version__ = "0.1.0"

# Modules check machine clients' passwords through kernel.auth: the same check as sign-in.
auth.register(accounts.authenticate)


@dataclass
class Runtime:
    settings: Settings
    store: Store
    clock: Clock

    def translator(self, lang: str) -> Translator:
        return Translator(lang, catalogue())

    def schema_versions(self) -> dict[str, int]:
        return migrations.schema_versions(self.store)

    def is_demo(self) -> bool:
        return migrations.get_meta(self.store, "demo_scale") is not None


@cache
def catalogue() -> Catalogue:
    return load_catalogue(catalogue_files())


_runtimes: dict[str, Runtime] = {}
_lock = threading.Lock()


def open_runtime(db_path: str | Path | None = None, *, clock: Clock | None = None) -> Runtime:
    """The runtime for a database (default: MANABI_DB or var/manabi.duckdb), migrated."""
    settings = load_settings(db_path)
    key = str(settings.db_path.resolve()) if str(settings.db_path) != ":memory:" else ":memory:"
    with _lock:
        runtime = _runtimes.get(key)
        if runtime is None:
            store = shared_store(settings.db_path)
            used_clock = clock or clock_from_env()
            migrations.migrate(store, used_clock, known_migrations())
            runtime = _runtimes[key] = Runtime(settings, store, used_clock)
        return runtime


def forget_runtimes() -> None:
    from kernel.store import forget_shared_stores

    with _lock:
        _runtimes.clear()
    forget_shared_stores()

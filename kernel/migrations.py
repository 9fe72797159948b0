"""Numbered SQL migrations per module, recorded in `manabi_migrations`.

A module's migrations are files `NNN_what.sql` in its `migrations/` folder. Each
runs once, in its own transaction, in number order. A database that records a
migration this code does not know was written by a newer Manabi and is refused.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from pathlib import Path

import duckdb

from kernel.clock import Clock
from kernel.errors import StoreError
from kernel.jobs import JOBS_TABLE
from kernel.outbox import OUTBOX_TABLE
from kernel.store import Store

_FILE = re.compile(r"^(\d{3})_([a-z0-9_]+)\.sql$")

BOOKKEEPING = """
CREATE TABLE IF NOT EXISTS manabi_migrations (
    module      VARCHAR NOT NULL,
    version     INTEGER NOT NULL,
    name        VARCHAR NOT NULL,
    checksum    VARCHAR NOT NULL,
    applied_at  TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (module, version)
);
CREATE TABLE IF NOT EXISTS manabi_meta (
    key   VARCHAR PRIMARY KEY,
    value VARCHAR NOT NULL
);
""" + OUTBOX_TABLE + JOBS_TABLE


@dataclass(frozen=True)
class Migration:
    module: str
    version: int
    name: str
    sql: str

    @property
    def checksum(self) -> str:
        return hashlib.sha256(self.sql.encode()).hexdigest()[:16]


def discover(module: str, folder: Path) -> list[Migration]:
    if not folder.is_dir():
        return []
    found = []
    for path in sorted(folder.iterdir()):
        match = _FILE.match(path.name)
        if match:
            found.append(Migration(module, int(match[1]), match[2], path.read_text(encoding="utf-8")))
        elif path.suffix == ".sql":
            raise StoreError("error.migration_name", file=str(path))
    versions = [m.version for m in found]
    if versions != list(range(1, len(found) + 1)):
        raise StoreError("error.migration_gap", module=module, versions=versions)
    return found


def applied_versions(store: Store) -> dict[str, int]:
    store.cursor().execute(BOOKKEEPING)
    rows = store.query("SELECT module, max(version) FROM manabi_migrations GROUP BY module")
    return {module: version for module, version in rows}


def check_not_newer(store: Store, known: dict[str, list[Migration]]) -> None:
    """Refuse a database that a newer Manabi wrote (unknown module or version)."""
    for module, version in applied_versions(store).items():
        latest = len(known.get(module, []))
        if version > latest:
            raise StoreError("error.schema_too_new", module=module, db_version=version, code_version=latest)


def migrate(store: Store, clock: Clock, known: dict[str, list[Migration]]) -> list[Migration]:
    """Apply every pending migration; returns those applied now."""
    check_not_newer(store, known)
    done = set(store.query("SELECT module, version FROM manabi_migrations"))
    checksums = dict(((m, v), c) for m, v, c in store.query("SELECT module, version, checksum FROM manabi_migrations"))
    applied = []
    for module, migrations in known.items():
        for migration in migrations:
            key = (module, migration.version)
            if key in done:
                if checksums[key] != migration.checksum:
                    raise StoreError("error.migration_changed", module=module, version=migration.version)
                continue

            def apply(cur, migration=migration):
                try:
                    cur.execute(migration.sql)
                except duckdb.Error as exc:
                    raise StoreError("error.migration_failed", module=migration.module,
                                     version=migration.version, detail=str(exc).splitlines()[0]) from exc
                cur.execute(
                    "INSERT INTO manabi_migrations VALUES (?, ?, ?, ?, ?)",
                    [migration.module, migration.version, migration.name, migration.checksum, clock.now()],
                )

            store.write(apply, retries=1)
            applied.append(migration)
    return applied


def schema_versions(store: Store) -> dict[str, int]:
    return applied_versions(store)


def get_meta(store: Store, key: str) -> str | None:
    value = store.scalar("SELECT value FROM manabi_meta WHERE key = ?", [key])
    return None if value is None else str(value)


def set_meta(cur, key: str, value: str) -> None:
    cur.execute("INSERT OR REPLACE INTO manabi_meta VALUES (?, ?)", [key, value])

"""What the administrator sees of the system, and backup and restore.

Backup writes DuckDB's EXPORT DATABASE (schema plus one Parquet file a table) into
a folder; restore imports such a folder into a new file beside the database and
swaps it in only when every table's row count matches the backup's manifest.
"""

from __future__ import annotations

import json
import os
import shutil
from dataclasses import dataclass
from pathlib import Path

import duckdb

from kernel.errors import InvalidInput, StoreError
from kernel.migrations import schema_versions
from kernel.store import Store

MANIFEST = "manabi-backup.json"


@dataclass(frozen=True)
class SystemInfo:
    path: str
    size_mb: float
    schema: dict[str, int]
    tables: list[tuple[str, int]]


def table_counts(store: Store) -> dict[str, int]:
    names = [n for (n,) in store.query(
        "SELECT table_name FROM duckdb_tables() WHERE database_name = current_database() "
        "AND schema_name = 'main' ORDER BY table_name"
    )]
    return {name: int(store.scalar(f'SELECT count(*) FROM "{name}"')) for name in names}


def describe(store: Store) -> SystemInfo:
    size = os.path.getsize(store.path) / 1e6 if store.path != ":memory:" and os.path.exists(store.path) else 0.0
    return SystemInfo(store.path, size, schema_versions(store), sorted(table_counts(store).items()))


def backup(store: Store, folder: Path, *, version: str) -> dict[str, int]:
    """Export every table into `folder` (which must be empty or new); returns row counts.

    The counts, the export and the schema versions are read in one transaction: one
    snapshot of every table, so a backup taken while the portal runs (and writes) is
    consistent, and the writers are not held up meanwhile."""
    folder = Path(folder)
    if folder.exists() and any(folder.iterdir()):
        raise InvalidInput("system.backup_not_empty", folder=str(folder))
    folder.mkdir(parents=True, exist_ok=True)
    with store.transaction() as cur:
        counts = table_counts(store)
        cur.execute(f"EXPORT DATABASE '{_sql_path(folder)}' (FORMAT parquet)")
        schema = schema_versions(store)
    manifest = {"manabi_version": version, "schema": schema, "tables": counts}
    (folder / MANIFEST).write_text(json.dumps(manifest, ensure_ascii=False, indent=2), encoding="utf-8")
    return counts


def restore(folder: Path, db_path: Path, *, replace: bool = False) -> dict[str, int]:
    """Build a database from a backup folder at `db_path`. An existing database is kept
    as `<name>.before-restore` when `replace` is given, and refused otherwise."""
    folder, db_path = Path(folder), Path(db_path)
    manifest_file = folder / MANIFEST
    if not manifest_file.is_file():
        raise InvalidInput("system.not_a_backup", folder=str(folder))
    manifest = json.loads(manifest_file.read_text(encoding="utf-8"))
    if db_path.exists() and not replace:
        raise InvalidInput("system.restore_target_exists", path=str(db_path))
    db_path.parent.mkdir(parents=True, exist_ok=True)
    staging = db_path.with_name(db_path.name + ".restoring")
    for leftover in (staging, Path(str(staging) + ".wal")):
        leftover.unlink(missing_ok=True)
    try:
        con = duckdb.connect(str(staging))
        try:
            con.execute(f"IMPORT DATABASE '{_sql_path(folder)}'")
            con.execute("CHECKPOINT")
        finally:
            con.close()
        restored = table_counts_at(staging)
        if restored != manifest["tables"]:
            raise StoreError("system.restore_mismatch", expected=manifest["tables"], got=restored)
    except duckdb.Error as exc:
        staging.unlink(missing_ok=True)
        raise StoreError("system.restore_failed", detail=str(exc)) from exc
    except BaseException:
        staging.unlink(missing_ok=True)
        raise
    if db_path.exists():
        shutil.move(db_path, db_path.with_name(db_path.name + ".before-restore"))
        Path(str(db_path) + ".wal").unlink(missing_ok=True)
    os.replace(staging, db_path)
    return restored


def table_counts_at(path: Path) -> dict[str, int]:
    store = Store(path)
    try:
        return table_counts(store)
    finally:
        store.close()


def _sql_path(path: Path) -> str:
    return path.resolve().as_posix().replace("'", "''")

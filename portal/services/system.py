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
from datetime import date, timedelta
from pathlib import Path

import duckdb

from kernel import jobs
from kernel.clock import TOKYO, Clock
from kernel.config import setting
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


def _table_names(cur) -> list[str]:
    return [n for (n,) in cur.execute(
        "SELECT table_name FROM duckdb_tables() WHERE database_name = current_database() "
        "AND schema_name = 'main' ORDER BY table_name"
    ).fetchall()]


def table_counts(store: Store) -> dict[str, int]:
    names = _table_names(store.cursor())
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


# --- the nightly backup (a server job, kernel.jobs) ---------------------------------------------

BACKUP_PREFIX = "manabi-"
DEFAULT_KEEP_DAYS = 7


def backup_settings() -> tuple[Path | None, int]:
    """MANABI_BACKUP_DIR (None: nightly backups off) and MANABI_BACKUP_KEEP (days, at least 1)."""
    folder = setting("backup_dir")
    try:
        keep = max(int(setting("backup_keep", str(DEFAULT_KEEP_DAYS))), 1)
    except ValueError as exc:
        raise InvalidInput("system.backup_keep_invalid", value=setting("backup_keep")) from exc
    return (Path(folder) if folder else None), keep


def nightly_backup(store: Store, clock: Clock) -> dict:
    """Back up into MANABI_BACKUP_DIR/manabi-YYYY-MM-DD (the night's date), then remove the
    backups older than the last MANABI_BACKUP_KEEP days. A backup is written under a hidden
    name and renamed when whole, so a folder with a date is always a complete backup."""
    root, keep = backup_settings()
    if root is None:
        return {"backup": "off"}
    from portal.runtime import __version__

    root.mkdir(parents=True, exist_ok=True)
    day = clock.now().astimezone(TOKYO).date()
    target = root / f"{BACKUP_PREFIX}{day.isoformat()}"
    partial = root / f".{target.name}.partial"
    shutil.rmtree(partial, ignore_errors=True)
    counts = backup(store, partial, version=__version__)
    if target.exists():  # a second run the same night (e.g. after a restart) replaces the first
        shutil.rmtree(target)
    os.replace(partial, target)
    removed = prune_backups(root, day, keep)
    return {"folder": str(target), "rows": sum(counts.values()), "removed": len(removed)}


def backup_days(root: Path) -> dict[date, Path]:
    """The dated backups in `root`, by day."""
    found = {}
    for path in root.iterdir() if root.is_dir() else ():
        name = path.name
        if path.is_dir() and name.startswith(BACKUP_PREFIX):
            try:
                found[date.fromisoformat(name.removeprefix(BACKUP_PREFIX))] = path
            except ValueError:
                continue  # not one of ours
    return found


def prune_backups(root: Path, today: date, keep: int) -> list[Path]:
    """Remove the dated backups older than the last `keep` days (today counts as one)."""
    oldest_kept = today - timedelta(days=keep - 1)
    removed = []
    for day, path in sorted(backup_days(root).items()):
        if day < oldest_kept:
            shutil.rmtree(path)
            removed.append(path)
    return removed


def jobs_overview(store: Store, clock: Clock) -> list[jobs.JobStatus]:
    """Every job the server runs by itself, with its last run and its next (the system page)."""
    from portal.modules import all_jobs

    return jobs.statuses(store, clock, all_jobs())


def job_result_text(result: str | None) -> str:
    """A run's result as recorded (a count, or JSON of a small dict) in one readable line."""
    if not result:
        return ""
    try:
        value = json.loads(result)
    except ValueError:
        return result
    if isinstance(value, dict):
        return ", ".join(f"{key} {item}" for key, item in value.items())
    return str(value)

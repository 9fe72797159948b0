"""The DuckDB store: one database file, opened once per process.

Each thread (a Streamlit session's script run, an HTTP request, a CLI command)
works through its own cursor. Multi-statement writes go through `Store.write`,
which runs them in one transaction and retries a few times when DuckDB reports
a write-write conflict; after that the caller gets `Conflict`.
"""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import TypeVar

import duckdb

from kernel.errors import Conflict, StoreError

T = TypeVar("T")


WRITE_RETRIES = 6

# A serving process checkpoints in a thread of its own (Store.checkpoint_in_background) once the
# log is past DuckDB's own threshold. Left to DuckDB, the COMMIT that took the log past it
# checkpointed, and at classroom load that was a live batch's COMMIT every few seconds, stalling
# every app for 100-330 ms; a CHECKPOINT from another thread lets commits go on meanwhile.
CHECKPOINT_PAST_BYTES = 16 * 1024 * 1024
CHECKPOINT_EVERY_SECONDS = 0.5
# DuckDB's own threshold then, should that thread ever stop.
CHECKPOINT_SAFETY_NET = "1GB"


class Store:
    """A handle on one DuckDB database. `path` ':memory:' gives a fresh in-memory one."""

    def __init__(self, path: str | Path, *, read_only: bool = False) -> None:
        self.path = str(path)
        if self.path != ":memory:":
            Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        try:
            self._root = duckdb.connect(self.path, read_only=read_only)
        except duckdb.IOException as exc:
            # The usual cause: another process (a running server) holds the file.
            raise StoreError("error.store_locked", path=self.path, detail=str(exc)) from exc
        self._configure(self._root)
        self._local = threading.local()
        self._cursors: list[duckdb.DuckDBPyConnection] = []
        self._cursors_lock = threading.Lock()
        self._named_locks: dict[str, threading.Lock] = {}
        self._closed = threading.Event()

    @staticmethod
    def _configure(con: duckdb.DuckDBPyConnection) -> None:
        con.execute("SET TimeZone = 'Asia/Tokyo'")

    def cursor(self) -> duckdb.DuckDBPyConnection:
        """This thread's own cursor on the shared database."""
        cur = getattr(self._local, "cursor", None)
        if cur is None:
            cur = self._root.cursor()
            self._configure(cur)
            self._local.cursor = cur
            with self._cursors_lock:
                self._cursors.append(cur)
        return cur

    def open_cursor(self) -> duckdb.DuckDBPyConnection:
        """A cursor of its own for as long as the store is open (closed with it): for a thread
        that keeps several transactions open at once (analytics' live writer)."""
        cur = self._root.cursor()
        self._configure(cur)
        with self._cursors_lock:
            self._cursors.append(cur)
        return cur

    def release_cursor(self) -> None:
        """Close this thread's cursor (cursor()), for a thread that ends before the store
        does: e.g. one running a command handed to the server."""
        cur = getattr(self._local, "cursor", None)
        if cur is None:
            return
        self._local.cursor = None
        with self._cursors_lock:
            self._cursors.remove(cur)
        with suppress(duckdb.Error):
            cur.close()

    @contextmanager
    def own_cursor(self) -> Iterator[duckdb.DuckDBPyConnection]:
        """A cursor of its own, closed after the block: for work handed to a short-lived
        thread, whose thread cursor (cursor()) would stay open until the store closes."""
        cur = self._root.cursor()
        self._configure(cur)
        try:
            yield cur
        finally:
            cur.close()

    @contextmanager
    def transaction(self) -> Iterator[duckdb.DuckDBPyConnection]:
        """One explicit transaction: committed when the block ends, rolled back on error."""
        cur = self.cursor()
        cur.execute("BEGIN TRANSACTION")
        try:
            yield cur
        except BaseException:
            cur.execute("ROLLBACK")
            raise
        else:
            try:
                cur.execute("COMMIT")
            except duckdb.Error:
                # A failed COMMIT has already ended the transaction in DuckDB, but be sure.
                with suppress(duckdb.Error):
                    cur.execute("ROLLBACK")
                raise

    def write(self, work: Callable[[duckdb.DuckDBPyConnection], T], *, retries: int = WRITE_RETRIES) -> T:
        """Run `work(cursor)` in a transaction; on a write-write conflict run it again.

        `work` must read what it decides on inside the transaction, so that a retry
        sees the other writer's result (the slot now taken) and can say so.
        """
        for attempt in range(retries):
            last = attempt == retries - 1
            try:
                with self.transaction() as cur:
                    return work(cur)
            except duckdb.TransactionException as exc:
                if last:
                    raise Conflict() from exc
            except duckdb.ConstraintException:
                # A key another writer committed after this transaction began is invisible to
                # its reads, so the insert fails on the key: run again, and the work's own
                # check now sees the row and says so. A real violation fails every time.
                if last:
                    raise
            # Back off a little, with jitter, so racing writers spread out.
            time.sleep(random.uniform(0.002, 0.02) * (attempt + 1))
        raise AssertionError("unreachable")

    def lock(self, name: str) -> threading.Lock:
        """One lock per name on this database, for writers that must take turns (e.g. a
        uniqueness no index enforces). One process writes a DuckDB file, so this is enough."""
        with self._cursors_lock:
            return self._named_locks.setdefault(name, threading.Lock())

    def query(self, sql: str, params: object = None) -> list[tuple]:
        return self.cursor().execute(sql, params).fetchall()

    def query_dicts(self, sql: str, params: object = None) -> list[dict]:
        cur = self.cursor().execute(sql, params)
        names = [d[0] for d in cur.description]
        return [dict(zip(names, row, strict=True)) for row in cur.fetchall()]

    def scalar(self, sql: str, params: object = None) -> object:
        row = self.cursor().execute(sql, params).fetchone()
        return None if row is None else row[0]

    def load_fts(self) -> None:
        """Load DuckDB's full-text extension from the wheel, never from the network."""
        # The wheel duckdb-extension-fts ships the binary; LOAD by path needs no install.
        import duckdb_extension_fts

        binary = next(Path(duckdb_extension_fts.__file__).parent.rglob("fts.duckdb_extension"))
        self.cursor().execute(f"LOAD '{binary.as_posix()}'")

    def checkpoint(self) -> None:
        self.cursor().execute("CHECKPOINT")

    def checkpoint_in_background(self, past_bytes: int = CHECKPOINT_PAST_BYTES,
                                 every: float = CHECKPOINT_EVERY_SECONDS) -> threading.Thread:
        """From now on, a thread of this process checkpoints the database whenever its log is
        past `past_bytes` (looked at every `every` seconds) until the store closes, and commits
        no longer do (see CHECKPOINT_PAST_BYTES)."""
        self._root.execute(f"SET checkpoint_threshold = '{CHECKPOINT_SAFETY_NET}'")
        log = Path(self.path + ".wal")
        cur = self.open_cursor()

        def checkpoint_when_due() -> None:
            while not self._closed.wait(every):
                try:
                    if log.exists() and log.stat().st_size > past_bytes:
                        cur.execute("CHECKPOINT")
                except (OSError, duckdb.Error):
                    continue  # closing, or the file moved: the loop's wait ends it

        thread = threading.Thread(target=checkpoint_when_due, name="store-checkpoints", daemon=True)
        thread.start()
        return thread

    def close(self) -> None:
        self._closed.set()
        with self._cursors_lock:
            for cur in self._cursors:
                with suppress(duckdb.Error):
                    cur.close()
            self._cursors.clear()
        self._root.close()


_open_stores: dict[str, Store] = {}
_open_lock = threading.Lock()


def shared_store(path: str | Path) -> Store:
    """The process's one Store for `path` (the server opens each database once)."""
    with _open_lock:
        # A path already resolved (as kernel.http's) is found without resolving it again.
        store = _open_stores.get(str(path))
        if store is not None:
            return store
        key = str(Path(path).resolve()) if str(path) != ":memory:" else ":memory:"
        store = _open_stores.get(key)
        if store is None:
            store = _open_stores[key] = Store(path)
        return store


def forget_shared_stores() -> None:
    """Close every shared store (tests and `manabi restore` need the file free)."""
    with _open_lock:
        for store in _open_stores.values():
            store.close()
        _open_stores.clear()

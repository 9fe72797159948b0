"""The store: migrations recorded and applied once, newer schemas refused, writes
retried on conflicts, transactions all or nothing."""

from __future__ import annotations

import threading
import time

import duckdb
import pytest

from kernel.errors import Conflict, StoreError
from kernel.migrations import Migration, discover, migrate, schema_versions
from kernel.store import Store
from portal.modules import known_migrations


def test_every_module_migration_is_recorded(store):
    versions = schema_versions(store)
    expected = {name: len(migs) for name, migs in known_migrations().items() if migs}
    assert versions == expected
    assert versions["portal"] >= 1


def test_migrating_again_applies_nothing(store, clock):
    assert migrate(store, clock, known_migrations()) == []


def test_pending_migrations_apply_in_order_once(clock, tmp_path):
    fresh = Store(tmp_path / "m.duckdb")
    first = {"demo": [Migration("demo", 1, "one", "CREATE TABLE demo_a (x INTEGER);")]}
    assert [m.version for m in migrate(fresh, clock, first)] == [1]
    both = {"demo": first["demo"] + [Migration("demo", 2, "two", "ALTER TABLE demo_a ADD COLUMN y INTEGER;")]}
    assert [m.version for m in migrate(fresh, clock, both)] == [2]
    assert [c[0] for c in fresh.query("DESCRIBE demo_a")] == ["x", "y"]
    fresh.close()


def test_a_database_from_a_newer_version_is_refused(clock, tmp_path):
    fresh = Store(tmp_path / "n.duckdb")
    newer = {"demo": [Migration("demo", 1, "one", "CREATE TABLE demo_a (x INTEGER);"),
                      Migration("demo", 2, "two", "CREATE TABLE demo_b (x INTEGER);")]}
    migrate(fresh, clock, newer)
    with pytest.raises(StoreError) as refused:
        migrate(fresh, clock, {"demo": newer["demo"][:1]})
    assert refused.value.key == "error.schema_too_new"
    assert refused.value.params == {"module": "demo", "db_version": 2, "code_version": 1}
    fresh.close()


def test_a_changed_migration_is_refused(clock, tmp_path):
    fresh = Store(tmp_path / "c.duckdb")
    migrate(fresh, clock, {"demo": [Migration("demo", 1, "one", "CREATE TABLE demo_a (x INTEGER);")]})
    with pytest.raises(StoreError) as refused:
        migrate(fresh, clock, {"demo": [Migration("demo", 1, "one", "CREATE TABLE demo_a (y INTEGER);")]})
    assert refused.value.key == "error.migration_changed"
    fresh.close()


def test_a_failing_migration_leaves_nothing_behind(clock, tmp_path):
    fresh = Store(tmp_path / "f.duckdb")
    broken = {"demo": [Migration("demo", 1, "one", "CREATE TABLE demo_a (x INTEGER); SELECT * FROM nowhere;")]}
    with pytest.raises(StoreError) as failed:
        migrate(fresh, clock, broken)
    assert failed.value.key == "error.migration_failed"
    assert fresh.query("SELECT * FROM duckdb_tables() WHERE table_name = 'demo_a'") == []
    assert schema_versions(fresh) == {}
    fresh.close()


def test_migration_files_must_be_numbered_without_gaps(tmp_path):
    (tmp_path / "001_a.sql").write_text("SELECT 1;")
    (tmp_path / "003_c.sql").write_text("SELECT 1;")
    with pytest.raises(StoreError) as gap:
        discover("demo", tmp_path)
    assert gap.value.key == "error.migration_gap"


def test_a_failed_write_rolls_back_every_statement(store):
    store.cursor().execute("CREATE TABLE t (x INTEGER PRIMARY KEY)")

    def two_inserts(cur):
        cur.execute("INSERT INTO t VALUES (1)")
        cur.execute("INSERT INTO t VALUES (1)")  # duplicate key: the whole write fails

    with pytest.raises(duckdb.ConstraintException):
        store.write(two_inserts)
    assert store.scalar("SELECT count(*) FROM t") == 0


def test_racing_writers_are_retried_and_none_is_lost(tmp_path):
    """Many threads increment one counter row; DuckDB reports their write-write
    conflicts and Store.write retries them, so every increment lands."""
    racing = Store(tmp_path / "race.duckdb")
    racing.cursor().execute("CREATE TABLE counter (id INTEGER PRIMARY KEY, n INTEGER)")
    racing.cursor().execute("INSERT INTO counter VALUES (1, 0)")
    threads, per_thread, conflicts = 8, 5, []

    def bump(cur):
        (n,) = cur.execute("SELECT n FROM counter WHERE id = 1").fetchone()
        cur.execute("UPDATE counter SET n = ? WHERE id = 1", [n + 1])

    def worker():
        for _ in range(per_thread):
            try:
                racing.write(bump, retries=200)
            except Conflict as exc:  # pragma: no cover - shown if retries ever run out
                conflicts.append(exc)

    pool = [threading.Thread(target=worker) for _ in range(threads)]
    for thread in pool:
        thread.start()
    for thread in pool:
        thread.join()
    assert conflicts == []
    assert racing.scalar("SELECT n FROM counter") == threads * per_thread
    racing.close()


def test_retries_run_out_as_a_plain_conflict(tmp_path):
    racing = Store(tmp_path / "out.duckdb")
    racing.cursor().execute("CREATE TABLE slot (id INTEGER PRIMARY KEY, who VARCHAR)")
    racing.cursor().execute("INSERT INTO slot VALUES (1, NULL)")
    holder = racing._root.cursor()
    holder.execute("BEGIN TRANSACTION")
    holder.execute("UPDATE slot SET who = 'first' WHERE id = 1")  # holds the row, uncommitted
    with pytest.raises(Conflict):
        racing.write(lambda cur: cur.execute("UPDATE slot SET who = 'second' WHERE id = 1"), retries=3)
    holder.execute("COMMIT")
    assert racing.scalar("SELECT who FROM slot") == "first"
    racing.close()


def test_a_second_process_gets_a_clear_message(tmp_path):
    import subprocess
    import sys

    path = tmp_path / "locked.duckdb"
    holder = Store(path)
    code = ("import sys\nfrom kernel.store import Store\nfrom kernel.errors import StoreError\n"
            f"try:\n    Store({str(path)!r})\nexcept StoreError as e:\n    print(e.key)\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "error.store_locked"
    holder.close()


def test_full_text_search_loads_without_network(store):
    store.load_fts()
    cur = store.cursor()
    cur.execute("CREATE TABLE docs (id INTEGER, body VARCHAR)")
    cur.execute("INSERT INTO docs VALUES (1, 'tennis courts'), (2, 'community hall')")
    cur.execute("PRAGMA create_fts_index('docs', 'id', 'body')")
    hits = cur.execute(
        "SELECT id FROM (SELECT id, fts_main_docs.match_bm25(id, 'tennis') AS s FROM docs) WHERE s IS NOT NULL"
    ).fetchall()
    assert hits == [(1,)]


def test_a_key_another_writer_committed_meanwhile_is_seen_on_the_retry(tmp_path):
    """The other writer's row is invisible to this transaction's check, so the insert
    fails on the key; the retry's check sees the row and says so plainly."""
    racing = Store(tmp_path / "key.duckdb")
    racing.cursor().execute("CREATE TABLE slot (k INTEGER PRIMARY KEY)")
    attempts = []

    def take_slot(cur):
        attempts.append(len(attempts) + 1)
        if cur.execute("SELECT 1 FROM slot WHERE k = 1").fetchone():
            raise Conflict("slot.taken")
        if len(attempts) == 1:  # another writer takes the slot in the meantime
            racing._root.cursor().execute("INSERT INTO slot VALUES (1)")
        cur.execute("INSERT INTO slot VALUES (1)")

    with pytest.raises(Conflict) as taken:
        racing.write(take_slot)
    assert taken.value.key == "slot.taken"
    assert attempts == [1, 2]
    racing.close()


def test_a_background_checkpoint_keeps_the_log_short_and_commits_do_not_checkpoint(tmp_path):
    """Store.checkpoint_in_background: past its size the log is checkpointed by the store's own
    thread (and emptied), while commits go on; DuckDB's threshold no longer makes a COMMIT do it."""
    store = Store(tmp_path / "checkpointed.duckdb")
    store.cursor().execute("CREATE TABLE lines (n BIGINT, text VARCHAR)")
    store.checkpoint()
    log = tmp_path / "checkpointed.duckdb.wal"
    thread = store.checkpoint_in_background(past_bytes=256 * 1024, every=0.05)
    assert store.scalar("SELECT current_setting('checkpoint_threshold')") != "16.0 MiB"
    sizes = []
    for n in range(200):
        with store.transaction() as cur:
            cur.execute("INSERT INTO lines SELECT range, repeat('x', 200) FROM range(?, ? + 50)", [n * 50, n * 50])
        sizes.append(log.stat().st_size if log.exists() else 0)
    deadline = time.monotonic() + 10
    while log.exists() and log.stat().st_size > 256 * 1024 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert max(sizes) > 256 * 1024  # the log did grow past the size …
    assert (log.stat().st_size if log.exists() else 0) <= 256 * 1024  # … and was checkpointed
    assert store.scalar("SELECT count(*) FROM lines") == 200 * 50
    store.close()
    thread.join(timeout=5)
    assert not thread.is_alive()

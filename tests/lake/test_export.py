"""The lake's export on the small demo city: incremental with no duplicate, pseudonyms only,
a run cut by SIGKILL leaving a readable lake that the next run completes, and the board on
DuckDB giving the city's own board view."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
from datetime import datetime

import pytest

from analytics.services import dashboards
from kernel.actor import Actor
from kernel.clock import TOKYO
from kernel.errors import InvalidInput
from kernel.migrations import migrate
from kernel.store import Store
from lake.services import board, export, layout
from portal.modules import all_jobs, known_migrations
from tests.conftest import ROOT
from tests.lake.conftest import lake_facts, same_figures, send, void

ADMIN = Actor(user_id=1, login="admin", roles=frozenset({"city_admin"}))


def statement_count(store) -> int:
    return store.scalar("SELECT count(*) FROM analytics_statements")


def some_pupils(store, count: int, school: str) -> list[str]:
    return [lid for (lid,) in store.query(
        "SELECT l.learner_id FROM analytics_learners l JOIN portal_schools s ON s.id = l.school_id "
        "WHERE s.code = ? ORDER BY l.learner_id LIMIT ?", [school, count])]


def test_export_twice_gives_no_duplicate_and_a_third_only_what_is_new(city, clock, tmp_path):
    lake = tmp_path / "lake"
    first = export.export(city, clock, lake)
    assert first.statements == statement_count(city) > 1000
    assert first.first_seq == 1 and first.last_seq == city.scalar("SELECT max(seq) FROM analytics_statements")
    again = export.export(city, clock, lake)
    assert (again.statements, again.files, again.first_seq) == (0, 0, None)
    assert len(lake_facts(lake)) == first.statements
    # The export's views were its cursor's own: none is left in the municipality's database.
    assert city.scalar("SELECT count(*) FROM duckdb_views() WHERE NOT internal AND view_name LIKE 'lake%'") == 0

    for pupil in some_pupils(city, 4, "E01") + some_pupils(city, 3, "J01"):
        send(city, clock, pupil, "8201001110000000", 0.5)
    third = export.export(city, clock, lake)
    assert third.statements == 7 and third.first_seq == first.last_seq + 1
    facts = lake_facts(lake)
    assert len(facts) == statement_count(city)
    assert len({f["statement_id"] for f in facts}) == len(facts)
    assert {f["school"] for f in facts if f["seq"] > first.last_seq} == {"E01", "J01"}
    assert layout.committed_seq(lake, "40205") == third.last_seq


def test_pupils_appear_only_by_a_stable_pseudonym(city, clock, tmp_path):
    lake = tmp_path / "lake"
    export.export(city, clock, lake)
    pupil = some_pupils(city, 1, "E02")[0]
    send(city, clock, pupil, "8201001110000000", 0.9)
    export.export(city, clock, lake)
    facts = lake_facts(lake)
    learners = {lid for (lid,) in city.query("SELECT DISTINCT learner_id FROM analytics_statements")}
    texts = {v for f in facts for v in f.values() if isinstance(v, str)}
    assert not texts & learners
    assert not any(lid in text for text in texts for lid in list(learners)[:50])
    assert len({f["pupil"] for f in facts}) == len(learners)
    # The new statement's pupil reads as the same pseudonym as in the first run.
    new = max(facts, key=lambda f: f["seq"])
    assert sum(1 for f in facts if f["pupil"] == new["pupil"]) > 1


def test_board_on_duckdb_is_the_city_board_view_also_after_voiding(city, clock, tmp_path):
    lake = tmp_path / "lake"
    export.export(city, clock, lake)
    before = board.run(lake, "duckdb").views["board"]
    # A statement voided after its export: the lake keeps it, and the board leaves it out.
    victim = city.query("SELECT CAST(id AS VARCHAR) FROM analytics_statements WHERE score_scaled IS NOT NULL "
                        "ORDER BY seq LIMIT 1")[0][0]
    void(city, clock, victim)
    export.export(city, clock, lake)

    def figures(rows, school_key):
        return {(r[school_key], r["grade"], r["unit_code"]): (r["pupils"], r["mastery"], r["completion"])
                for r in rows}

    city_board = figures(dashboards.board_view(city, ADMIN, "ja").to_dicts(), "school")
    lake_board = figures(board.run(lake, "duckdb").views["board"], "school_ja")
    assert len(lake_board) > 100 and lake_board.keys() == city_board.keys()
    for key, (pupils, mastery, completion) in lake_board.items():
        # The city's view rounds to 3 places; the lake's figures are whole.
        assert (pupils, mastery, completion) == pytest.approx(city_board[key], abs=0.0005 + 1e-9)
    assert figures(before, "school_ja") != lake_board  # the voided statement's group changed
    assert all(r["pupils"] >= board.MIN_GROUP for view in board.run(lake, "duckdb").views.values() for r in view)


def test_groups_under_five_pupils_are_left_out(city, clock, tmp_path):
    lake = tmp_path / "lake"
    rare = "8909001110000000"  # a unit only four pupils studied
    city.query("INSERT INTO analytics_units VALUES (?, '国語', 9, '古典', 'Classics')", [rare])
    for pupil in some_pupils(city, 4, "J01"):
        send(city, clock, pupil, rare, 0.8, minutes=600, when=datetime(2026, 6, 2, 10, tzinfo=TOKYO))
    export.export(city, clock, lake)
    assert sum(1 for f in lake_facts(lake) if f["unit_code"] == rare) == 4
    views = board.run(lake, "duckdb").views
    assert not [r for r in views["board"] + views["mastery"] if r["unit_code"] == rare]
    # Those four were the only pupils active in June: the month is not shown either.
    assert not [r for r in views["time"] if r["month"] == "2026-06"]
    # One more pupil makes five: the unit shows.
    send(city, clock, some_pupils(city, 5, "J01")[4], rare, 0.6)
    export.export(city, clock, lake)
    shown = [r for r in board.run(lake, "duckdb").views["mastery"] if r["unit_code"] == rare]
    assert [(r["pupils"], round(r["mastery"], 3)) for r in shown] == [(5, 0.76)]


KILLED_EXPORT = """
import os, signal, sys
from pathlib import Path
from kernel.clock import clock_from_env
from kernel.store import Store
from lake.services import export
from portal.modules import all_modules
all_modules()
store = Store(sys.argv[1])
moved = []
def stop_after_one(path):
    moved.append(path)
    if len(moved) == 1:
        os.kill(os.getpid(), signal.SIGKILL)
export.export(store, clock_from_env(), Path(sys.argv[2]), moved=stop_after_one)
"""


def test_a_sigkill_mid_export_leaves_the_lake_readable_and_the_next_export_completes_it(city, clock, tmp_path):
    lake = tmp_path / "lake"
    export.export(city, clock, lake)
    before = board.run(lake, "duckdb")
    for school in ("E01", "E02", "J01"):
        for pupil in some_pupils(city, 5, school):
            send(city, clock, pupil, "8201002110000000", 0.2)
    stored = statement_count(city)
    path = city.path
    city.close()  # one process holds a DuckDB file at a time

    killed = subprocess.run([sys.executable, "-c", KILLED_EXPORT, path, str(lake)], cwd=ROOT, timeout=120)
    assert killed.returncode == -signal.SIGKILL
    committed = layout.committed_seq(lake, "40205")
    cut_short = [p for p in layout.part_files(lake, "40205") if p.last_seq > committed]
    assert len(cut_short) == 1  # one whole file of the run moved in, its state never written
    # Readers see the lake as it was: the run's file is past the committed seq.
    during = board.run(lake, "duckdb")
    assert during.statements == before.statements and same_figures(during.views, before.views)

    reopened = Store(path)
    try:
        done = export.export(reopened, clock, lake)
    finally:
        reopened.close()
    assert done.taken_back == 1 and done.statements == 15 and done.files == 3
    facts = lake_facts(lake)
    assert len(facts) == stored == len({f["statement_id"] for f in facts})
    assert board.run(lake, "duckdb").statements == stored
    assert not (lake / layout.STAGING / "40205").exists()


def test_a_lake_ahead_of_the_database_is_refused(city, clock, tmp_path, store):
    lake = tmp_path / "lake"
    export.export(city, clock, lake)
    with pytest.raises(InvalidInput) as refused:
        export.export(store, clock, lake)  # an empty database under the same municipality code
    assert refused.value.key == "lake.ahead_of_store"


def test_the_nightly_job_exports_into_the_lake_dir_when_one_is_set(city, clock, tmp_path, monkeypatch):
    job = next(j for j in all_jobs() if j.name == "lake.export")
    monkeypatch.delenv("MANABI_LAKE_DIR", raising=False)
    assert job.run(city, clock) is None
    monkeypatch.setenv("MANABI_LAKE_DIR", str(tmp_path / "lake"))
    assert job.run(city, clock)["statements"] == statement_count(city)
    state = json.loads((tmp_path / "lake" / "_state" / "40205.json").read_text())
    assert state["last_seq"] == city.scalar("SELECT max(seq) FROM analytics_statements")
    indicators = lake_indicators(tmp_path / "lake")
    assert indicators and {"measure", "key", "fiscal_year", "value"} <= set(indicators[0])


def lake_indicators(lake):
    import duckdb

    con = duckdb.connect()
    cur = con.execute(f"SELECT * FROM read_parquet('{lake}/indicators/*/part.parquet', hive_partitioning = true)")
    names = [d[0] for d in cur.description]
    return [dict(zip(names, row, strict=True)) for row in cur.fetchall()]


def test_an_empty_lake_says_to_export_first(tmp_path):
    with pytest.raises(InvalidInput) as refused:
        board.run(tmp_path, "duckdb")
    assert refused.value.key == "lake.empty"


def test_a_database_knows_its_municipality(tmp_path, clock, monkeypatch):
    from kernel import municipality
    from portal.services import tenants

    db = tmp_path / "nogata.duckdb"
    tenants._create_database(db, "40204")
    kept = Store(db)
    try:
        migrate(kept, clock, known_migrations())
        assert municipality.code(kept) == "40204"
        monkeypatch.setenv("MANABI_MUNICIPALITY", "40205")
        with pytest.raises(InvalidInput):
            municipality.code(kept)
    finally:
        kept.close()

"""Spark (local mode) and DuckDB give the same board figures over the same lake of two
municipalities. One Spark session for the module (a JVM start costs seconds); `-m spark`
selects these tests, `-m "not spark"` leaves them out."""

from __future__ import annotations

import shutil

import pytest

from kernel.store import Store
from lake.services import board, export
from portal.services import tenants
from tests.lake.conftest import same_figures, send, void

pytestmark = pytest.mark.spark


@pytest.fixture(scope="module")
def two_city_lake(demo_db, tmp_path_factory):
    """The demo city exported as Iizuka (40205), and a copy of it with a term more of some
    pupils' work and a voided statement as Nogata (40204)."""
    from kernel.clock import clock_from_env
    from portal.modules import all_modules

    all_modules()
    folder = tmp_path_factory.mktemp("two-cities")
    lake, clock = folder / "lake", clock_from_env()
    stored = 0
    for code in ("40205", "40204"):
        db = folder / f"{code}.duckdb"
        shutil.copy(demo_db, db)
        tenants._create_database(db, code)
        store = Store(db)
        try:
            if code == "40204":
                pupils = [lid for (lid,) in store.query(
                    "SELECT learner_id FROM analytics_learners WHERE grade = 5 ORDER BY learner_id LIMIT 12")]
                sent = [send(store, clock, p, "8205001110000000", 0.1 + 0.07 * n) for n, p in enumerate(pupils)]
                void(store, clock, sent[0])
            export.export(store, clock, lake)
            stored += store.scalar("SELECT count(*) FROM analytics_statements")
        finally:
            store.close()
    yield lake, stored
    board.stop_spark()


def test_spark_and_duckdb_give_equal_board_figures(two_city_lake):
    lake, stored = two_city_lake
    on_duckdb = board.run(lake, "duckdb")
    on_spark = board.run(lake, "spark")
    assert on_spark.statements == on_duckdb.statements == stored
    assert same_figures(on_duckdb.views, on_spark.views)
    assert {r["municipality"] for r in on_spark.views["board"]} == {"40204", "40205"}
    assert all(len(rows) > 10 for rows in on_spark.views.values())
    # The pupils Nogata added (one statement of them voided) are in both engines' figures.
    unit = [r for r in on_spark.views["mastery"] if r["unit_code"] == "8205001110000000"]
    assert unit and unit[0]["municipalities"] == 2

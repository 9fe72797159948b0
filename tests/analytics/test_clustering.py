"""`manabi analytics cluster`: the statements rewritten in dashboard order, nothing lost or changed."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest
from polars.testing import assert_frame_equal

from analytics.services import clustering, dashboards, lrs
from kernel.actor import SYSTEM, Actor
from kernel.errors import PermissionDenied
from kernel.store import Store
from tests.analytics.test_bulk import app_statement

ROOT = Path(__file__).resolve().parents[2]
ADMIN = Actor(user_id=1, login="admin", roles=frozenset({"city_admin"}))
COLUMNS = "id, seq, school_id, grade, class_name, ts, score_scaled, duration_s, voided, authority"


def test_cluster_keeps_every_statement_and_orders_them(fresh_demo_db, clock):
    store = Store(fresh_demo_db)
    made = lrs.add_client(store, clock, SYSTEM, "app")
    lrs.store_statements(store, clock, lrs.authenticate(store, made.api_key, made.secret), [app_statement(3)])
    before = store.query(f"SELECT {COLUMNS} FROM analytics_statements ORDER BY seq")
    assert clustering.unclustered(store) == len(before)
    board = dashboards.board_view(store, ADMIN)

    assert clustering.cluster(store, SYSTEM)["statements"] == len(before)

    assert clustering.unclustered(store) == 0
    assert store.query(f"SELECT {COLUMNS} FROM analytics_statements ORDER BY seq") == before
    physical = store.query("SELECT school_id, grade, class_name, ts FROM analytics_statements")  # table order
    key = [(s is None, s or 0, g or 0, c or "", t) for s, g, c, t in physical]
    assert key == sorted(key)  # statements of no roster class (NULL) last, as DuckDB sorts them
    # The same figures. Means are sums of floats, which in another row order may differ in the
    # last bits, and the board rounds them to 0.001: one may round the other way (seen once).
    assert_frame_equal(dashboards.board_view(store, ADMIN), board, abs_tol=0.0011)
    assert lrs.get_statement(store, str(before[0][0]))["id"] == str(before[0][0])
    # The table kept its rules: they came over with its definition.
    with pytest.raises(duckdb.ConstraintException):
        store.query("INSERT INTO analytics_statements (id, seq, stored, ts, client_id, actor_key, verb_id, "
                    "object_type, score_scaled, version, authority) VALUES (uuid(), 0, now(), now(), 0, 'a', 'v', "
                    "'Activity', 2, '1.0.0', '{}')")
    # New statements are the unclustered ones until the next run.
    lrs.store_statements(store, clock, lrs.authenticate(store, made.api_key, made.secret), [app_statement(4)])
    assert clustering.unclustered(store) == 1
    store.close()


def test_only_the_city_administrator_clusters(store):
    with pytest.raises(PermissionDenied):
        clustering.cluster(store, Actor(user_id=3, login="t", roles=frozenset({"teacher", "school_admin"}),
                                        school_id=1))


@pytest.mark.parametrize("lang,words", [("ja", "並べ直しました"), ("en", "Reordered")])
def test_the_cluster_command_says_what_it_did(fresh_demo_db, lang, words):
    done = subprocess.run([sys.executable, "-m", "portal.cli_main", "--db", str(fresh_demo_db), "analytics", "cluster"],
                          capture_output=True, text=True, cwd=ROOT, env={**os.environ, "MANABI_LANG": lang})
    assert done.returncode == 0, done.stderr
    count = Store(fresh_demo_db, read_only=True)
    statements = count.scalar("SELECT count(*) FROM analytics_statements")
    count.close()
    assert words in done.stdout and f"{statements:,}" in done.stdout

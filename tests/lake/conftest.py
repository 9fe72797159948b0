"""What the lake's tests share: the demo city's database opened here, the demo learning app,
and a statement sent as a learning app sends it."""

from __future__ import annotations

from datetime import datetime

import duckdb
import pytest

from analytics.demo import DEMO_CLIENT_KEY, DEMO_CLIENT_SECRET, HOME_PAGE
from analytics.services import lrs
from kernel.clock import TOKYO
from kernel.store import Store
from portal.modules import all_modules


@pytest.fixture
def city(fresh_demo_db):
    """The small demo city's database (a copy of its own), opened in this process."""
    all_modules()  # what modules offer one another (the portal's indicators)
    store = Store(fresh_demo_db)
    yield store
    store.close()


def demo_app(store):
    return lrs.authenticate(store, DEMO_CLIENT_KEY, DEMO_CLIENT_SECRET)


def send(store, clock, learner, unit, score, *, when=None, minutes=10, activity=None):
    """One statement of the demo app: a pupil completed a unit with a score."""
    statement = {
        "actor": {"account": {"homePage": HOME_PAGE, "name": learner}},
        "verb": {"id": "http://adlnet.gov/expapi/verbs/completed"},
        "object": {"id": activity or f"{HOME_PAGE}/xapi/activities/units/{unit}"},
        "result": {"score": {"scaled": score}, "completion": True, "duration": f"PT{minutes}M"},
        "timestamp": (when or datetime(2026, 11, 26, 10, 0, tzinfo=TOKYO)).isoformat(),
    }
    return lrs.store_statements(store, clock, demo_app(store), [statement])[0]


def void(store, clock, statement_id):
    statement = {"actor": {"account": {"homePage": HOME_PAGE, "name": "teacher-app"}},
                 "verb": {"id": "http://adlnet.gov/expapi/verbs/voided"},
                 "object": {"objectType": "StatementRef", "id": statement_id}}
    return lrs.store_statements(store, clock, demo_app(store), [statement])[0]


def lake_facts(lake) -> list[dict]:
    """Every statement fact in the lake's files (committed or not), as rows."""
    con = duckdb.connect()
    cur = con.execute(f"SELECT * FROM read_parquet('{lake}/statements/*/*/*/*.parquet', hive_partitioning = true, "
                      "hive_types = {'municipality': VARCHAR, 'school': VARCHAR, 'month': VARCHAR})")
    names = [d[0] for d in cur.description]
    rows = [dict(zip(names, row, strict=True)) for row in cur.fetchall()]
    con.close()
    return rows


def same_figures(views_a: dict, views_b: dict) -> bool:
    """The same rows with the same values; sums of floats only to the last bits a sum in
    another order (threads, another engine) can change."""
    import pytest

    if views_a.keys() != views_b.keys():
        return False
    for name in views_a:
        rows_a, rows_b = views_a[name], views_b[name]
        if len(rows_a) != len(rows_b):
            return False
        for a, b in zip(rows_a, rows_b, strict=True):
            if a.keys() != b.keys():
                return False
            for key in a:
                if isinstance(a[key], float) or isinstance(b[key], float):
                    if b[key] != pytest.approx(a[key], rel=1e-12, abs=1e-12):
                        return False
                elif a[key] != b[key]:
                    return False
    return True

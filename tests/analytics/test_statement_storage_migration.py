"""Migration analytics 004 on a store that already holds statements: every fact and every text
carried over, lookups by id answering as before."""

from __future__ import annotations

import json

from analytics.services import documents, lrs
from kernel.actor import SYSTEM
from kernel.migrations import migrate
from kernel.store import Store
from portal.modules import known_migrations
from tests.analytics.test_bulk import app_statement


def test_statements_stored_before_004_keep_their_facts_and_texts(tmp_path, clock):
    store = Store(tmp_path / "old.duckdb")
    every = known_migrations()
    migrate(store, clock, {**every, "analytics": [m for m in every["analytics"] if m.version < 4]})
    statements = [app_statement(n) | {"id": f"00000000-0000-4000-8000-0000000001{n:02d}"} for n in range(1, 6)]
    for seq, statement in enumerate(statements, start=1):  # as the store of schema 003 kept them
        row = lrs.statement_row(statement)
        store.query(
            "INSERT INTO analytics_statements (id, seq, stored, ts, client_id, actor_key, learner_id, verb_id, "
            "object_type, object_id, activity_name, unit_code, score_scaled, success, completion, duration_s, "
            "registration, voids_id, content_hash, version, authority, raw) "
            "VALUES (?, ?, ?, ?, 0, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'h', ?, ?, ?)",
            [row[0], seq, clock.now(), row[1] or clock.now(), *row[2:16], json.dumps(lrs.IMPORT_AUTHORITY), row[-1]])
    before = store.query("SELECT id, seq, actor_key, unit_code, score_scaled, duration_s FROM analytics_statements "
                         "ORDER BY seq")
    migrate(store, clock, every)
    assert store.query("SELECT id, seq, actor_key, unit_code, score_scaled, duration_s FROM analytics_statements "
                       "ORDER BY seq") == before
    for statement in statements:
        got = lrs.get_statement(store, statement["id"])
        assert {k: v for k, v in got.items() if k not in ("id", "stored", "authority", "version")} == \
            {k: v for k, v in statement.items() if k != "id"}
    # The Agents and Activities resources find what those statements said (columns 004 filled in).
    assert documents.person(store, statements[2]["actor"])["name"] == ["学習者"]
    assert documents.activity(store, statements[0]["object"]["id"])["definition"] == \
        statements[0]["object"]["definition"]
    # New statements follow on, and an id stored before 004 is still known (no copy, no conflict).
    made = lrs.add_client(store, clock, SYSTEM, "app")
    client = lrs.authenticate(store, made.api_key, made.secret)
    lrs.store_statements(store, clock, client, [statements[0], app_statement(7)])
    assert lrs.statement_count(store) == 6
    assert store.scalar("SELECT max(seq) FROM analytics_statements") > 5
    store.close()

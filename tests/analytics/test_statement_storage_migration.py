"""Migrations analytics 004 and 005 on a store that already holds statements: every fact and
every text carried over, lookups by id answering as before."""

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
            [row[0], seq, clock.now(), row[1] or clock.now(), *row[2:15], row[15] or "1.0.0",
             json.dumps(lrs.IMPORT_AUTHORITY), row[-1]])
    before = store.query("SELECT id, seq, actor_key, unit_code, score_scaled, duration_s FROM analytics_statements "
                         "ORDER BY seq")
    migrate(store, clock, every)
    assert store.query("SELECT id, seq, actor_key, unit_code, score_scaled, duration_s FROM analytics_statements "
                       "ORDER BY seq") == before
    for statement in statements:
        got = lrs.get_statement(store, statement["id"])
        assert {k: v for k, v in got.items() if k not in ("id", "stored", "authority", "version")} == \
            {k: v for k, v in statement.items() if k != "id"}
        assert (got["authority"], got["version"]) == (lrs.IMPORT_AUTHORITY, "1.0.0")
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


def test_005_keeps_each_statements_authority_version_and_place(tmp_path, clock):
    """Authorities that are the writing client's own and version 1.0.0 become NULL; any other
    is kept; GET answers as before, and the rows keep their order."""
    store = Store(tmp_path / "v4.duckdb")
    every = known_migrations()
    migrate(store, clock, {**every, "analytics": [m for m in every["analytics"] if m.version < 5]})
    made = lrs.add_client(store, clock, SYSTEM, "ドリル")
    client = lrs.Client(made.id, made.name, made.api_key)  # (authenticate reads analytics 006's column)
    other = {"objectType": "Agent", "mbox": "mailto:lrs-admin@example.jp"}
    kept = [  # client, authority, version, as a store of schema 004 kept them
        (client.id, client.authority, "1.0.0"), (0, lrs.IMPORT_AUTHORITY, "1.0.3"), (client.id, other, "1.0.0"),
        (0, lrs.IMPORT_AUTHORITY, "1.0.0")]
    statements = [app_statement(n) | {"id": f"00000000-0000-4000-8000-0000000002{n:02d}"} for n in range(len(kept))]
    for seq, (statement, (client_id, authority, version)) in enumerate(zip(statements, kept, strict=True), start=1):
        row = lrs.statement_row(statement)
        store.query(
            "INSERT INTO analytics_statements (id, seq, stored, ts, client_id, actor_key, learner_id, verb_id, "
            "object_type, object_id, activity_name, unit_code, score_scaled, success, completion, duration_s, "
            "registration, voids_id, version, authority, actor_name, definition) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [row[0], 10 - seq, clock.now(), row[1] or clock.now(), client_id, *row[2:15], version,
             json.dumps(authority, ensure_ascii=False), *row[16:18]])
        store.query("INSERT INTO analytics_statement_texts VALUES (?, ?, NULL, ?)", [10 - seq, 10 - seq, row[-1]])
    before = [lrs.get_statement(store, s["id"]) for s in statements]
    order = store.query("SELECT id FROM analytics_statements")
    migrate(store, clock, every)
    assert store.query("SELECT id FROM analytics_statements") == order
    assert store.query("SELECT authority IS NULL, version FROM analytics_statements ORDER BY seq DESC") == [
        (True, None), (True, "1.0.3"), (False, None), (True, None)]
    assert [lrs.get_statement(store, s["id"]) for s in statements] == before
    assert [(b["authority"], b["version"]) for b in before] == [(a, v) for _, a, v in kept]
    store.close()

"""The stored ids' hashes (analytics/services/stored_ids.py) never hide a stored statement: not
one written by SQL by hand, not after a rolled-back write; and they do spare the lookup."""

from __future__ import annotations

import copy
import json
import threading
import uuid

import pytest

from analytics.services import lrs, stored_ids
from kernel.actor import SYSTEM


@pytest.fixture
def client(store, clock) -> lrs.Client:
    made = lrs.add_client(store, clock, SYSTEM, "drill app")
    return lrs.authenticate(store, made.api_key, made.secret)


def pupil(n: int) -> dict:
    return {"id": str(uuid.uuid4()),
            "actor": {"account": {"homePage": "https://manabi.city.iizuka.lg.jp", "name": f"p{n}"}},
            "verb": {"id": "http://adlnet.gov/expapi/verbs/answered"},
            "object": {"id": "https://manabi.city.iizuka.lg.jp/units/8260233111100000"},
            "result": {"score": {"scaled": n / 10}}}


def stored_by_hand_then_changed_is_a_conflict(store, clock, client, by_hand: dict) -> None:
    """`by_hand` stored by SQL, bypassing the writers (a copy of a stored row with its id and the
    next seq), then sent changed: the writer finds it and answers a conflict."""
    seq = lrs.next_seq(store.cursor())
    store.query("INSERT INTO analytics_statements SELECT * REPLACE (?::UUID AS id, ? AS seq) "
                "FROM analytics_statements LIMIT 1", [by_hand["id"], seq])
    store.query("INSERT INTO analytics_statement_texts VALUES (?, ?, NULL, ?)", [seq, seq, json.dumps(by_hand)])
    changed = copy.deepcopy(by_hand)
    changed["result"]["score"]["scaled"] = 0.9 if by_hand["result"]["score"]["scaled"] != 0.9 else 0.1
    with pytest.raises(lrs.StatementConflict):
        lrs.store_statements(store, clock, client, [changed])


def test_a_statement_written_by_sql_by_hand_is_still_found(store, clock, client):
    """Written after the hashes were read, bypassing the writers (as demo data or a migration
    does): the table's row count and last seq change, so the hashes are read again."""
    first = pupil(1)
    lrs.store_statements(store, clock, client, [first])  # the hashes are read here
    by_hand = pupil(2)
    stored_by_hand_then_changed_is_a_conflict(store, clock, client, by_hand)
    assert lrs.store_statements(store, clock, client, [by_hand]) == [by_hand["id"]]
    assert lrs.statement_count(store) == 2


def test_after_a_rolled_back_write_its_ids_are_stored_when_sent_again(store, clock, client):
    batch = [pupil(n) for n in range(5)]

    def write_then_fail(cur):
        cur.register("incoming", lrs.rows_frame([lrs.statement_row(s) for s in batch]))
        lrs.insert_incoming(cur, "incoming", client.id, clock.now())
        raise RuntimeError("the write fails after the insert")

    with pytest.raises(RuntimeError):
        lrs.write_statements(store, write_then_fail)
    assert lrs.statement_count(store) == 0
    assert lrs.store_statements(store, clock, client, batch) == [s["id"] for s in batch]
    assert lrs.statement_count(store) == 5


def test_a_batch_of_new_ids_is_not_looked_up_and_a_stored_one_is(store, clock, client):
    lrs.store_statements(store, clock, client, [pupil(n) for n in range(3)])
    stored = pupil(4)
    lrs.store_statements(store, clock, client, [stored])
    seen = []

    def look(cur):
        cur.register("incoming", lrs.rows_frame([lrs.statement_row(s) for s in (pupil(5), stored)]))
        seen.append(stored_ids.in_use().maybe_stored(cur, "incoming"))

    lrs.write_statements(store, look)
    assert seen == [[stored["id"]]]


def test_after_a_rolled_back_write_a_statement_written_by_hand_in_its_seqs_is_found(store, clock, client):
    """The rolled-back batch took seqs past the stored ones; a statement then written by hand
    numbers itself from the table (lrs.next_seq), below them, and must not be hidden."""
    lrs.store_statements(store, clock, client, [pupil(1)])

    def write_then_fail(cur):
        cur.register("incoming", lrs.rows_frame([lrs.statement_row(pupil(n)) for n in range(2, 6)]))
        lrs.insert_incoming(cur, "incoming", client.id, clock.now())
        raise RuntimeError("the write fails after the insert")

    with pytest.raises(RuntimeError):
        lrs.write_statements(store, write_then_fail)
    stored_by_hand_then_changed_is_a_conflict(store, clock, client, pupil(7))


def test_a_statement_named_by_a_removed_voiding_one_is_not_stored_voided(store, clock, client):
    """Retention removed a voiding statement (with its learner's records): a statement that
    arrives later with the id it named is not voided by it. (Through the live writer, which
    knows the stored voiding statements from the hashes' keeper.)"""
    from analytics.services import live_writes, retention

    writer = live_writes.writer_for(store, clock)
    target = str(uuid.uuid4())
    leaver = pupil(1)
    voiding = {**leaver, "id": str(uuid.uuid4()), "verb": {"id": "http://adlnet.gov/expapi/verbs/voided"},
               "object": {"objectType": "StatementRef", "id": target}}
    voiding.pop("result")
    writer.submit(client, voiding).result(timeout=30)
    lrs.write_statements(store, lambda cur: retention.remove_learners(cur, ["p1"]))
    assert lrs.statement_count(store) == 0
    later = pupil(2) | {"id": target}
    writer.submit(client, later).result(timeout=30)
    assert lrs.get_statement(store, target)["id"] == target


def test_the_hashes_worked_out_in_python_are_duckdbs_own(store):
    """stored_ids.hashes_of must give what `SELECT hash(id)` gives, or a stored id would be
    taken for new: random ids, and the ones at the edges of the 128-bit range."""
    edges = ["00000000-0000-0000-0000-000000000000", "ffffffff-ffff-ffff-ffff-ffffffffffff",
             "80000000-0000-0000-8000-000000000000", "7fffffff-ffff-ffff-7fff-ffffffffffff",
             "6F9619FF-8B86-D011-B42D-00CF4FC964FF"]
    ids = edges + [str(uuid.uuid4()) for _ in range(2000)] + [str(uuid.uuid1()) for _ in range(100)]
    duckdb_hashes = [h for (h,) in store.query("SELECT hash(i::UUID) FROM unnest(?::VARCHAR[]) AS t(i)", [ids])]
    assert stored_ids.hashes_of(ids).tolist() == duckdb_hashes
    with pytest.raises(ValueError):
        stored_ids.hashes_of(["not-a-uuid'; DROP TABLE analytics_statements; --"])


def test_another_writer_waits_for_the_live_batches_in_flight(store, clock, client):
    """A batch in flight (prepared, committing while the live writer prepares the next) is not
    yet seen by other transactions: a POST of several waits until it has landed, else it would
    number its statements from the table as if the batch's seqs were free."""
    lrs.store_statements(store, clock, client, [pupil(1)])
    kept = stored_ids.kept_of(store)
    kept.flying(["an id in flight"])
    done = threading.Event()
    writing = threading.Thread(target=lambda: (lrs.store_statements(store, clock, client, [pupil(2)]), done.set()))
    writing.start()
    assert not done.wait(0.5)
    kept.landed(["an id in flight"], committed=True)
    assert done.wait(10)
    writing.join()
    assert lrs.statement_count(store) == 2

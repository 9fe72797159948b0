"""The group writer of the live xAPI path (analytics/services/live_writes.py) on a fresh store:
requests gathered into one transaction, each answered on its own."""

from __future__ import annotations

import json
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor

import pytest

from analytics.services import live_writes, lrs, roster, stored_ids
from analytics.services.xapi_validate import InvalidStatement
from kernel.actor import SYSTEM


@pytest.fixture
def app(store, clock):
    made = lrs.add_client(store, clock, SYSTEM, "drill app")
    return lrs.authenticate(store, made.api_key, made.secret)


def statement(n: int, **extra) -> dict:
    return {"id": str(uuid.uuid4()),
            "actor": {"objectType": "Agent", "account": {"homePage": "https://manabi.city.iizuka.lg.jp",
                                                         "name": f"p{n}"}},
            "verb": {"id": "http://adlnet.gov/expapi/verbs/completed", "display": {"en": "completed"}},
            "object": {"id": "https://manabi.city.iizuka.lg.jp/xapi/activities/units/8101001110000000/drill",
                       "definition": {"name": {"ja": "ドリル", "en": "Drill"}}},
            "result": {"score": {"scaled": 0.5}, "success": True}, "timestamp": "2026-11-26T10:00:00+09:00", **extra}


def gathered(writer: live_writes.GroupWriter, store, app, first: dict, bodies: list[dict]) -> list:
    """The futures of `bodies`, queued while the writer waits for the statements lock with
    `first`, so that they form one batch of their own."""
    with store.lock("analytics.statements"):
        before = writer.submit_body(app, json.dumps(first).encode())
        deadline = time.monotonic() + 10
        while not writer._waiting.empty() and time.monotonic() < deadline:
            time.sleep(0.01)  # the writer has taken `first` and waits for the lock
        futures = [writer.submit_body(app, json.dumps(b).encode()) for b in bodies]
    before.result(timeout=30)
    return futures


def test_a_batch_with_a_conflict_and_doubles_answers_each_request_on_its_own(store, clock, app):
    writer = live_writes.GroupWriter(store, clock)
    taken, first, twice = statement(0), statement(9), statement(2)
    writer.submit(app, taken).result(timeout=30)
    bodies = [statement(1), {**taken, "result": {"score": {"scaled": 0.9}}}, twice, twice, statement(3),
              {**twice, "result": {"score": {"scaled": 0.1}}}]
    batches_before = writer.batches
    outcomes = []
    for future in gathered(writer, store, app, first, bodies):
        try:
            outcomes.append(future.result(timeout=30))
        except Exception as exc:  # noqa: BLE001 - the test looks at which
            outcomes.append(type(exc).__name__)
    assert outcomes == [bodies[0]["id"], "StatementConflict", twice["id"], twice["id"], bodies[4]["id"],
                        "StatementConflict"]
    # `first` alone, then the batch: refused whole, so written one by one (a transaction each)
    assert writer.batches - batches_before == 1 + 4
    stored = store.query("SELECT id::VARCHAR, count(*) FROM analytics_statements GROUP BY id")
    assert sorted(stored) == sorted((s["id"], 1) for s in (taken, first, bodies[0], twice, bodies[4]))


def test_a_batch_of_new_statements_is_one_transaction(store, clock, app):
    writer = live_writes.GroupWriter(store, clock)
    bodies = [statement(n) for n in range(20)]
    batches_before = writer.batches
    ids = [f.result(timeout=30) for f in gathered(writer, store, app, statement(99), bodies)]
    assert ids == [b["id"] for b in bodies]
    assert writer.batches - batches_before == 2  # `first`, then the 20 together
    assert store.scalar("SELECT count(*) FROM analytics_statements") == 21


def test_texts_that_need_quoting_are_stored_as_sent(store, clock, app):
    writer = live_writes.GroupWriter(store, clock)
    tricky = [statement(1, context={"platform": "O'Brien \\ \"quoted\" 'twice'' ; DROP TABLE x; --"}),
              statement(2, context={"platform": "nul \u0000 inside"}),
              statement(3, context={"platform": "改行\nと\tタブ、絵文字 🎒"})]
    tricky[0]["actor"]["name"] = "O'Brien"
    futures = [writer.submit_body(app, json.dumps(s, ensure_ascii=False).encode()) for s in tricky]
    futures.append(writer.submit(app, statement(4, context={"platform": "x'); --"})))
    ids = [f.result(timeout=30) for f in futures]
    for sent, statement_id in zip(tricky, ids, strict=False):
        back = lrs.get_statement(store, statement_id)
        assert back["context"] == sent["context"] and back["actor"] == sent["actor"]
    assert store.scalar("SELECT count(*) FROM analytics_statements") == 4


def test_a_broken_body_is_refused_alone_with_the_validators_reason(store, clock, app):
    writer = live_writes.GroupWriter(store, clock)
    good = writer.submit_body(app, json.dumps(statement(1)).encode())
    bad = writer.submit_body(app, json.dumps({**statement(2), "verb": {"id": "not an iri"}}).encode())
    not_json = writer.submit_body(app, b'{"id": ')
    assert good.result(timeout=30)
    with pytest.raises(InvalidStatement) as refused:
        bad.result(timeout=30)
    assert refused.value.where == "verb.id"
    with pytest.raises(InvalidStatement) as broken:
        not_json.result(timeout=30)
    assert broken.value.where == "(statement)"
    assert store.scalar("SELECT count(*) FROM analytics_statements") == 1


def voiding(n: int, target_id: str) -> dict:
    return {**statement(n), "verb": {"id": "http://adlnet.gov/expapi/verbs/voided"},
            "object": {"objectType": "StatementRef", "id": target_id}}


def is_voided(store, statement_id: str) -> bool:
    return store.scalar("SELECT voided FROM analytics_statements WHERE id = ?", [statement_id])


@pytest.mark.parametrize("first_by", ["writer", "batch", "batch, then a new process"])
def test_a_statement_arriving_after_its_voiding_one_is_stored_voided(store, clock, app, first_by):
    """The writer knows the ids named by stored voiding statements without scanning for them
    (stored_ids.StoredIds.named_by_voiding): from its own batches, from other writers' (a POST of
    several), and as read from the table when the hashes are read again (a new process)."""
    writer = live_writes.GroupWriter(store, clock)
    writer.submit(app, statement(0)).result(timeout=30)  # the hashes read, before the voiding one
    late, other = statement(1), statement(2)
    if first_by == "writer":
        writer.submit_body(app, json.dumps(voiding(3, late["id"].upper())).encode()).result(timeout=30)
    else:
        lrs.store_statements(store, clock, app, [voiding(3, late["id"].upper()), statement(4)])
    if first_by.endswith("new process"):
        stored_ids._of_store.pop(store)
    assert [f.result(timeout=30) for f in [writer.submit_body(app, json.dumps(s).encode())
                                           for s in (late, other)]] == [late["id"], other["id"]]
    assert is_voided(store, late["id"]) and not is_voided(store, other["id"])
    assert lrs.statement_count(store) == (4 if first_by == "writer" else 5)


def test_under_load_batches_in_flight_keep_every_rule(store, clock, app):
    """Many apps at once, so that batches commit while the next are prepared (PIPELINE): each
    statement stored once though apps send some twice (the second often while the first is in
    flight, or in the same batch), a changed resend refused, a POST of several (another writer) among them; and a
    reader never sees a statement before one with a lower seq (the batches commit in order),
    which an export following seqs relies on."""
    writer = live_writes.GroupWriter(store, clock)
    writer.submit(app, statement(0)).result(timeout=30)
    sent = [statement(n) for n in range(1, 1201)]
    gaps: list[tuple] = []
    stop = threading.Event()

    def read_while_writing() -> None:
        cur = store.open_cursor()
        while not stop.is_set():
            low, high, count = cur.execute("SELECT min(seq), max(seq), count(*) FROM analytics_statements").fetchone()
            if count != high - low + 1:
                gaps.append((low, high, count))

    def number(s: dict) -> int:
        return int(s["actor"]["account"]["name"][1:])

    def changed_again(s: dict) -> bool:  # sent again at once, changed (and by no other app)
        return number(s) % 100 == 1 and number(s) % 3 != 0

    def app_posting(part: list[dict]) -> list:
        answers = []
        for s in part:
            futures = [writer.submit_body(app, json.dumps(s).encode())]
            if changed_again(s):
                futures.append(writer.submit_body(app, json.dumps({**s, "result": {"score": {"scaled": 0.1}}}).encode()))
            for future in futures:
                try:
                    answers.append(future.result(timeout=60))
                except lrs.StatementConflict:
                    answers.append("conflict")
        return answers

    reader = threading.Thread(target=read_while_writing)
    reader.start()
    with ThreadPoolExecutor(max_workers=32) as apps:
        # Every third statement is sent again by the next app, about when the first app sends it.
        parts = [[s for pair in zip(sent[n::32], sent[(n - 1) % 32::32], strict=False) for s in
                  (pair[0], *([pair[1]] if number(pair[1]) % 3 == 0 else []))] for n in range(32)]
        # Another writer of statements among them: POSTs of several, now and then.
        several = [apps.submit(lambda n: (time.sleep(n / 100), lrs.store_statements(
            store, clock, app, [statement(2000 + 2 * n), statement(2001 + 2 * n)])), n) for n in range(10)]
        answered = [a for answers in apps.map(app_posting, parts) for a in answers]
        for future in several:
            future.result(timeout=60)
    stop.set()
    reader.join()
    assert writer.batches < writer.statements  # batches did form
    assert answered.count("conflict") == len([s for s in sent if changed_again(s)])
    assert sorted(set(answered) - {"conflict"}) == sorted(s["id"] for s in sent)
    stored = store.query("SELECT id::VARCHAR, count(*) FROM analytics_statements GROUP BY id HAVING count(*) > 1")
    assert stored == []
    assert lrs.statement_count(store) == 1 + len(sent) + 20
    assert store.scalar("SELECT count(DISTINCT seq) FROM analytics_statements") == 1 + len(sent) + 20
    assert gaps == []


def test_a_roster_import_under_load_stamps_every_statement_of_its_learners(store, clock, app):
    """Learners join the roster one by one while apps post their statements all along: a live
    batch begun before a roster transaction committed and committing after it would keep the
    old stamp (no class), so the roster's transaction runs while the statements stand still."""
    store.query("INSERT INTO portal_schools (code, name_ja, name_en, kind) "
                "VALUES ('E01', '飯塚小学校', 'Iizuka ES', 'elementary')")
    writer = live_writes.GroupWriter(store, clock)
    learners = [f"r{n:02d}" for n in range(24)]
    stop = threading.Event()

    def app_posting(offset: int) -> int:
        sent = 0
        while not stop.is_set():
            body = statement(0)
            body["actor"]["account"]["name"] = learners[(offset + sent) % len(learners)]
            writer.submit(app, body).result(timeout=30)
            sent += 1
        return sent

    with ThreadPoolExecutor(16) as apps:
        posting = [apps.submit(app_posting, offset) for offset in range(16)]
        time.sleep(0.2)
        for learner in learners:
            roster.import_learners(store, SYSTEM, f"learner_id,school_code,grade,class\n{learner},E01,3,1\n")
        stop.set()
        assert sum(p.result(timeout=60) for p in posting) > 0
    assert store.query("SELECT learner_id, count(*) FROM analytics_statements WHERE school_id IS NULL "
                       "GROUP BY ALL ORDER BY 1") == []
    assert store.scalar("SELECT count(DISTINCT class_name) FROM analytics_statements") == 1

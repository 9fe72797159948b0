"""The learning record store's service: storing, immutability, voiding, queries, imports."""

from __future__ import annotations

import copy
import json
import threading
import uuid
from datetime import UTC, timedelta
from pathlib import Path

import pytest

from analytics.services import bulk, lrs
from analytics.services.xapi_validate import InvalidStatement
from kernel.actor import SYSTEM, Actor
from kernel.clock import FixedClock
from kernel.errors import ImportRejected, NotFound, PermissionDenied
from kernel.migrations import migrate
from kernel.store import Store
from portal.modules import known_migrations

CORPUS = Path("/work/shared/corpus/xapi")


def corpus(name: str) -> dict:
    return json.loads((CORPUS / f"{name}.json").read_text())


@pytest.fixture
def client(store, clock) -> lrs.Client:
    made = lrs.add_client(store, clock, SYSTEM, "drill app")
    return lrs.authenticate(store, made.api_key, made.secret)


def pupil(name: str, **extra) -> dict:
    return {"actor": {"account": {"homePage": "https://manabi.city.iizuka.lg.jp", "name": name}},
            "verb": {"id": "http://adlnet.gov/expapi/verbs/answered"},
            "object": {"id": "https://manabi.city.iizuka.lg.jp/units/8260233111100000"}, **extra}


def test_client_secret_is_kept_only_as_a_hash(store, clock):
    made = lrs.add_client(store, clock, SYSTEM, "quiz")
    stored = store.query("SELECT api_key, secret_hash FROM analytics_xapi_clients")
    assert stored[0][0] == made.api_key and made.secret not in stored[0][1]
    assert lrs.authenticate(store, made.api_key, made.secret).name == "quiz"
    assert lrs.authenticate(store, made.api_key, made.secret + "x") is None
    assert lrs.authenticate(store, "mk_unknown", made.secret) is None


def test_only_the_city_administrator_registers_apps(store, clock):
    teacher = Actor(user_id=5, roles=frozenset({"teacher"}))
    with pytest.raises(PermissionDenied):
        lrs.add_client(store, clock, teacher, "quiz")


def test_every_valid_corpus_statement_is_stored_with_id_stored_and_authority(store, clock, client):
    names = ["attachment", "context", "context_sans_objectType", "default", "object_agent_default",
             "object_group_default", "object_statementref", "object_substatement_default", "result", "unicode"]
    ids = lrs.store_statements(store, clock, client, [corpus(n) for n in names])
    assert len(set(ids)) == len(names)
    unicode_statement = lrs.get_statement(store, ids[-1])
    assert unicode_statement["verb"]["display"]["kn-IN"] == "ಹಾಜರಿದ್ದರು"
    assert unicode_statement["stored"] == clock.now().astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z")
    assert unicode_statement["authority"]["account"]["name"] == client.api_key
    # What the app sent comes back unchanged, beside what the store added.
    sent = corpus("unicode")
    assert {k: unicode_statement[k] for k in sent} == sent


def test_a_statements_version_comes_back_as_sent_and_1_0_0_when_none(store, clock, client):
    """Stored NULL for 1.0.0 (analytics migration 005), every version reads back as it was."""
    ids = lrs.store_statements(store, clock, client, [corpus("default") | {"version": "1.0.3"},
                                                      corpus("default") | {"version": "1.0.0"}, corpus("default")])
    assert [lrs.get_statement(store, i)["version"] for i in ids] == ["1.0.3", "1.0.0", "1.0.0"]
    assert store.query("SELECT version FROM analytics_statements ORDER BY seq") == [("1.0.3",), (None,), (None,)]


def test_a_batch_with_one_bad_statement_stores_nothing(store, clock, client):
    with pytest.raises(InvalidStatement) as caught:
        lrs.store_statements(store, clock, client, [corpus("default"), corpus("no_verb")])
    assert caught.value.params["index"] == 2
    assert lrs.statement_count(store) == 0


def test_same_id_same_content_is_no_copy_other_content_is_a_conflict(store, clock, client):
    statement = {**corpus("default"), "id": str(uuid.uuid4())}
    lrs.store_statements(store, clock, client, [statement])
    clock.advance(timedelta(minutes=5))
    assert lrs.store_statements(store, clock, client, [copy.deepcopy(statement)]) == [statement["id"]]
    assert lrs.statement_count(store) == 1
    changed = copy.deepcopy(statement)
    changed["verb"]["id"] = "http://adlnet.gov/expapi/verbs/completed"
    with pytest.raises(lrs.StatementConflict):
        lrs.store_statements(store, clock, client, [corpus("result"), changed])
    assert lrs.statement_count(store) == 1  # nothing of the refused batch


def test_a_batch_may_not_hold_one_id_with_two_contents(store, clock, client):
    same = str(uuid.uuid4())
    with pytest.raises(InvalidStatement):
        lrs.store_statements(store, clock, client, [{**pupil("p1"), "id": same}, {**pupil("p2"), "id": same}])


def test_put_uses_the_given_id_and_refuses_a_different_one(store, clock, client):
    wanted = str(uuid.uuid4())
    assert lrs.store_statements(store, clock, client, [pupil("p1")], statement_id=wanted) == [wanted]
    with pytest.raises(InvalidStatement):
        lrs.store_statements(store, clock, client, [{**pupil("p1"), "id": str(uuid.uuid4())}],
                             statement_id=str(uuid.uuid4()))


def test_voiding_hides_the_target_from_queries_but_keeps_it(store, clock, client):
    (target,) = lrs.store_statements(store, clock, client, [pupil("p1")])
    voiding = corpus("voiding")
    voiding["object"]["id"] = target
    (voider,) = lrs.store_statements(store, clock, client, [voiding])
    with pytest.raises(NotFound):
        lrs.get_statement(store, target)
    assert lrs.get_statement(store, target, voided=True)["id"] == target
    found, _ = lrs.query_statements(store, lrs.StatementQuery())
    assert [s["id"] for s in found] == [voider]
    # A voiding statement cannot itself be voided.
    again = corpus("voiding")
    again["object"]["id"] = voider
    with pytest.raises(InvalidStatement):
        lrs.store_statements(store, clock, client, [again])


def test_a_statement_voided_before_it_arrives_is_voided_on_arrival(store, clock, client):
    later = str(uuid.uuid4())
    voiding = corpus("voiding")
    voiding["object"]["id"] = later
    lrs.store_statements(store, clock, client, [voiding])
    lrs.store_statements(store, clock, client, [{**pupil("p1"), "id": later}])
    with pytest.raises(NotFound):
        lrs.get_statement(store, later)


def test_filters_and_more_paging(store, clock, client):
    for n in range(7):
        clock.advance(timedelta(minutes=1))
        lrs.store_statements(store, clock, client, [pupil("p1" if n % 2 else "p2")])
    agent = json.dumps({"account": {"homePage": "https://manabi.city.iizuka.lg.jp", "name": "p1"}})
    page, more = lrs.query_statements(store, lrs.StatementQuery(agent=agent, limit=2))
    assert len(page) == 2 and more is not None
    rest, end = lrs.query_statements(store, lrs.StatementQuery(agent=agent, limit=2, after_seq=more))
    assert len(rest) == 1 and end is None
    assert all(s["actor"]["account"]["name"] == "p1" for s in page + rest)
    assert page[0]["stored"] > page[1]["stored"] > rest[0]["stored"]  # newest first
    assert lrs.query_statements(store, lrs.StatementQuery(verb="http://x.jp/none"))[0] == []
    since = lrs.xapi_time(clock.now() - timedelta(minutes=2))
    assert len(lrs.query_statements(store, lrs.StatementQuery(since=since))[0]) == 2
    oldest, _ = lrs.query_statements(store, lrs.StatementQuery(ascending=True, limit=1))
    assert oldest[0]["actor"]["account"]["name"] == "p2"


def test_roster_gives_statements_their_school_and_class(store, clock, client):
    from analytics.services import roster

    store.query("INSERT INTO portal_schools (code, name_ja, name_en, kind) VALUES ('E01', '飯塚小', 'Iizuka', 'elementary')")
    lrs.store_statements(store, clock, client, [pupil("p1")])  # before the roster knows p1
    roster.import_learners(store, SYSTEM, "learner_id,school_code,grade,class\np1,E01,5,2\n")
    lrs.store_statements(store, clock, client, [pupil("p1", result={"score": {"scaled": 0.5}})])
    rows = store.query("SELECT grade, class_name, unit_code FROM analytics_statements")
    assert rows == [(5, "2", "8260233111100000")] * 2


def test_import_is_all_or_nothing_and_names_every_bad_line(store, clock, tmp_path):
    good = [json.dumps(pupil(f"p{n}")) for n in range(5)]
    bad_file = tmp_path / "bad.jsonl"
    bad_file.write_text("\n".join([good[0], json.dumps(corpus("no_actor")), good[1], "{oops"]) + "\n")
    with pytest.raises(ImportRejected) as caught:
        bulk.import_jsonl(store, clock, SYSTEM, bad_file)
    assert [p.row for p in caught.value.problems] == [2, 4]
    assert lrs.statement_count(store) == 0
    good_file = tmp_path / "good.jsonl"
    good_file.write_text("\n".join(good) + "\n")
    seen = []
    result = bulk.import_jsonl(store, clock, SYSTEM, good_file, progress=lambda stage, n: seen.append((stage, n)))
    assert result["added"] == 5 and seen == [("read", 5), ("checked", 5), ("stored", 5)]


def test_import_again_adds_no_copies(store, clock, tmp_path):
    lines = [json.dumps({**pupil("p1"), "id": str(uuid.uuid4())}) for _ in range(3)]
    path = tmp_path / "s.jsonl"
    path.write_text("\n".join(lines))
    bulk.import_jsonl(store, clock, SYSTEM, path)
    assert bulk.import_jsonl(store, clock, SYSTEM, path)["already_stored"] == 3
    assert lrs.statement_count(store) == 3


def test_racing_writers_of_one_id_store_one_statement(tmp_path, clock):
    shared = Store(tmp_path / "race.duckdb")
    migrate(shared, clock, known_migrations())
    made = lrs.add_client(shared, clock, SYSTEM, "racer")
    client = lrs.authenticate(shared, made.api_key, made.secret)
    statement = {**pupil("p1"), "id": str(uuid.uuid4())}
    outcomes: list[object] = []

    def send() -> None:
        try:
            outcomes.append(lrs.store_statements(shared, FixedClock(clock.now()), client, [copy.deepcopy(statement)]))
        except Exception as exc:  # noqa: BLE001 - the race's outcome is what we look at
            outcomes.append(exc)

    threads = [threading.Thread(target=send) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert outcomes == [[statement["id"]]] * 6
    assert lrs.statement_count(shared) == 1
    shared.close()

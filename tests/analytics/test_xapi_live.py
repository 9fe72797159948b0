"""The live xAPI path on the real server (`manabi serve`): concurrent single-statement POSTs share
a transaction (group commit, analytics/services/live_writes.py), a crash loses no acknowledged
statement, and each app's key reads only its own statements unless granted read-all."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

from analytics.demo import DEMO_CLIENT_KEY, DEMO_CLIENT_SECRET
from kernel.store import Store
from tests.conftest import ROOT, TEST_NOW, running_server, start_server, stop_server

VERSION = {"X-Experience-API-Version": "1.0.3"}
APPS = 64


def statement(registration: str, n: int, statement_id: str | None = None) -> dict:
    made = {"actor": {"account": {"homePage": "https://manabi.city.iizuka.lg.jp", "name": f"live-{n}"}},
            "verb": {"id": "http://adlnet.gov/expapi/verbs/completed"},
            "object": {"id": "https://manabi.city.iizuka.lg.jp/xapi/activities/units/8101001110000000/drill"},
            "result": {"score": {"scaled": round(n / 100, 2)}},
            "context": {"registration": registration}, "timestamp": TEST_NOW}
    return {**made, "id": statement_id or str(uuid.uuid4())}


def manabi(db, *args: str, check: bool = True) -> subprocess.CompletedProcess:
    """The real CLI, in English."""
    return subprocess.run([sys.executable, "-m", "portal.cli_main", "--db", str(db), *args], cwd=ROOT,
                          capture_output=True, text=True, check=check, env={**os.environ, "MANABI_LANG": "en"})


def stored_rows(db, registration: str) -> list[tuple]:
    """(id, has its text) of every statement of the registration, read from the file itself."""
    store = Store(db, read_only=True)
    try:
        return store.query(
            "SELECT s.id::VARCHAR, EXISTS (SELECT 1 FROM analytics_statement_texts t "
            "WHERE s.seq BETWEEN t.first_seq AND t.last_seq) FROM analytics_statements s WHERE registration = ?",
            [registration])
    finally:
        store.close()


def test_64_apps_posting_at_once_are_all_stored_once_and_a_conflict_is_refused_alone(fresh_demo_db, tmp_path):
    registration = str(uuid.uuid4())
    taken = statement(registration, 0)
    again = statement(registration, 1)
    with running_server(fresh_demo_db, tmp_path / "server.log") as base:
        with httpx.Client(base_url=base, auth=(DEMO_CLIENT_KEY, DEMO_CLIENT_SECRET), headers=VERSION,
                          timeout=60) as lrs:
            assert lrs.post("/xapi/statements", json=taken).status_code == 200
            assert lrs.put("/xapi/statements", params={"statementId": again["id"]}, json=again).status_code == 204
        # 64 apps at once: one sends a taken id with other content, one sends a stored statement
        # again (same content: accepted, kept once), one an invalid statement, the rest new ones.
        sent = [statement(registration, n) for n in range(2, APPS - 1)]
        sent += [{**taken, "result": {"score": {"scaled": 0.01}}}, again]
        invalid = {**statement(registration, 99), "verb": {"id": "not an IRI"}}
        start = threading.Barrier(APPS)

        def post(one: dict) -> httpx.Response:
            with httpx.Client(base_url=base, auth=(DEMO_CLIENT_KEY, DEMO_CLIENT_SECRET), headers=VERSION,
                              timeout=60) as app:
                start.wait()
                return app.post("/xapi/statements", json=one)

        with ThreadPoolExecutor(APPS) as pool:
            answers = list(pool.map(post, [*sent, invalid]))
        by_status = {}
        for one, answer in zip([*sent, invalid], answers, strict=True):
            by_status.setdefault(answer.status_code, []).append(one["id"])
        assert sorted(by_status) == [200, 400, 409]
        assert by_status[409] == [taken["id"]] and by_status[400] == [invalid["id"]]
        assert len(by_status[200]) == APPS - 2 and again["id"] in by_status[200]
        conflict = answers[sent.index(sent[-2])].json()
        assert conflict["error"] == "analytics.xapi.conflict" and conflict["id"] == taken["id"]
        ok = answers[0]
        assert ok.json() == [sent[0]["id"]] and ok.headers["X-Experience-API-Version"] == "1.0.3"
    rows = stored_rows(fresh_demo_db, registration)
    assert sorted(i for i, _ in rows) == sorted(s["id"] for s in sent[:-2] + [taken, again])
    assert all(has_text for _, has_text in rows)


def test_voiding_through_single_posts_at_once(fresh_demo_db, tmp_path):
    """A statement and the one voiding it, sent at once by two apps, and a voiding of a voiding one."""
    registration = str(uuid.uuid4())
    target = statement(registration, 1)
    voiding = {"id": str(uuid.uuid4()), "actor": target["actor"],
               "verb": {"id": "http://adlnet.gov/expapi/verbs/voided"},
               "object": {"objectType": "StatementRef", "id": target["id"]}}
    void_voiding = {**voiding, "id": str(uuid.uuid4()), "object": {"objectType": "StatementRef", "id": voiding["id"]}}
    with running_server(fresh_demo_db, tmp_path / "server.log") as base, \
            httpx.Client(base_url=base, auth=(DEMO_CLIENT_KEY, DEMO_CLIENT_SECRET), headers=VERSION, timeout=60) as lrs:
        with ThreadPoolExecutor(2) as pool:
            answers = list(pool.map(lambda s: lrs.post("/xapi/statements", json=s), [target, voiding]))
        assert [a.status_code for a in answers] == [200, 200]
        assert lrs.get("/xapi/statements", params={"statementId": target["id"]}).status_code == 404
        assert lrs.get("/xapi/statements", params={"voidedStatementId": target["id"]}).status_code == 200
        refused = lrs.post("/xapi/statements", json=void_voiding)
        assert refused.status_code == 400 and refused.json()["reason"].startswith("a voiding statement")


def test_a_crash_under_load_loses_no_acknowledged_statement(fresh_demo_db, tmp_path):
    registration = str(uuid.uuid4())
    log = tmp_path / "server.log"
    process, base = start_server(fresh_demo_db, log)
    acknowledged: list[str] = []
    stop = threading.Event()

    def app(n: int) -> None:
        with httpx.Client(base_url=base, auth=(DEMO_CLIENT_KEY, DEMO_CLIENT_SECRET), headers=VERSION,
                          timeout=30) as client:
            while not stop.is_set():
                one = statement(registration, n)
                try:
                    answer = client.post("/xapi/statements", json=one)
                except httpx.HTTPError:
                    return  # the server is gone
                if answer.status_code == 200:
                    acknowledged.append(one["id"])

    apps = [threading.Thread(target=app, args=(n,)) for n in range(32)]
    try:
        for thread in apps:
            thread.start()
        deadline = time.monotonic() + 60
        while len(acknowledged) < 200 and time.monotonic() < deadline:
            time.sleep(0.05)
        stop_server(process, signal.SIGKILL)  # the whole process group, mid-load
    finally:
        stop.set()
        for thread in apps:
            thread.join(timeout=60)
        stop_server(process, signal.SIGKILL)
    assert len(acknowledged) >= 200
    # A restart right after the crash recovers the file (DuckDB replays its log).
    with running_server(fresh_demo_db, log) as again, \
            httpx.Client(base_url=again, auth=(DEMO_CLIENT_KEY, DEMO_CLIENT_SECRET), headers=VERSION) as client:
        assert client.get("/xapi/statements", params={"statementId": acknowledged[-1]}).status_code == 200
    rows = stored_rows(fresh_demo_db, registration)
    ids = [i for i, _ in rows]
    assert set(acknowledged) <= set(ids)
    assert len(ids) == len(set(ids)), "a statement stored twice"
    assert all(has_text for _, has_text in rows), "a statement without its text (half stored)"


# --- scopes --------------------------------------------------------------------------------------


@pytest.fixture
def two_apps(fresh_demo_db, tmp_path):
    """The server with three apps: drill and quiz read their own, the city's report reads all."""
    keys = {}
    for name in ("drill", "quiz", "report"):
        made = json.loads(manabi(fresh_demo_db, "analytics", "xapi", "clients", "add", name, "--json").stdout)
        keys[name] = (made["key"], made["secret"])
    granted = json.loads(manabi(fresh_demo_db, "analytics", "xapi", "clients", "grant", "report", "--read-all",
                                "--json").stdout)
    assert granted["name"] == "report" and granted["read_all"] is True
    with running_server(fresh_demo_db, tmp_path / "server.log") as base:
        clients = {name: httpx.Client(base_url=base, auth=key, headers=VERSION, timeout=30)
                   for name, key in keys.items()}
        yield clients
        for client in clients.values():
            client.close()


def test_each_key_reads_only_its_own_statements_unless_granted(two_apps):
    drill, quiz, report = two_apps["drill"], two_apps["quiz"], two_apps["report"]
    registration = str(uuid.uuid4())
    drill_ids = [drill.post("/xapi/statements", json=statement(registration, n)).json()[0] for n in range(3)]
    quiz_ids = [quiz.post("/xapi/statements", json=statement(registration, n)).json()[0] for n in range(3)]
    # quiz voids one of its own
    voiding = {"actor": statement(registration, 0)["actor"], "verb": {"id": "http://adlnet.gov/expapi/verbs/voided"},
               "object": {"objectType": "StatementRef", "id": quiz_ids[0]}}
    [voiding_id] = quiz.post("/xapi/statements", json=voiding).json()
    # A reference from drill to a quiz statement must not show quiz's statement through the filter.
    ref = {"actor": statement(registration, 5)["actor"], "verb": {"id": "http://adlnet.gov/expapi/verbs/attempted"},
           "object": {"objectType": "StatementRef", "id": quiz_ids[1]}}
    ref_id = drill.post("/xapi/statements", json=ref).json()[0]

    def ids(client, **params) -> list[str]:
        found, url = [], "/xapi/statements"
        params = {"registration": registration, **params}
        while url:
            body = client.get(url, params=params).json()
            found += [s["id"] for s in body["statements"]]
            url, params = body["more"], None
        return found

    # by id
    assert drill.get("/xapi/statements", params={"statementId": drill_ids[0]}).status_code == 200
    assert drill.get("/xapi/statements", params={"statementId": quiz_ids[1]}).status_code == 404
    assert quiz.get("/xapi/statements", params={"statementId": drill_ids[0]}).status_code == 404
    assert report.get("/xapi/statements", params={"statementId": quiz_ids[1]}).status_code == 200
    # voided
    assert drill.get("/xapi/statements", params={"voidedStatementId": quiz_ids[0]}).status_code == 404
    assert quiz.get("/xapi/statements", params={"voidedStatementId": quiz_ids[0]}).status_code == 200
    assert report.get("/xapi/statements", params={"voidedStatementId": quiz_ids[0]}).status_code == 200
    # filters, one page of one at a time (more paging). A filter also takes a statement that
    # refers to a matching one (the voiding, drill's reference), but only among what the key reads.
    assert sorted(ids(drill, limit=1)) == sorted(drill_ids)
    assert sorted(ids(quiz, limit=1)) == sorted([*quiz_ids[1:], voiding_id])
    assert sorted(ids(report, limit=2)) == sorted([*drill_ids, *quiz_ids[1:], voiding_id, ref_id])
    agent = json.dumps(statement(registration, 1)["actor"])
    assert ids(drill, agent=agent) == [drill_ids[1]]
    assert ids(report, agent=agent, ascending="true") == [drill_ids[1], quiz_ids[1], ref_id]
    # A filter that matches quiz's statement does not bring drill's reference to it for quiz, nor
    # quiz's statement for drill (only drill's own reference).
    activity = statement(registration, 1)["object"]["id"]
    by_agent = drill.get("/xapi/statements", params={"agent": agent, "activity": activity}).json()["statements"]
    assert sorted(s["id"] for s in by_agent) == sorted([drill_ids[1]])
    quiz_sees = quiz.get("/xapi/statements", params={"agent": agent}).json()["statements"]
    assert [s["id"] for s in quiz_sees] == [quiz_ids[1]] and ref_id not in {s["id"] for s in quiz_sees}
    # The Activities and Agents resources gather only from the statements the key reads.
    secret = {**statement(registration, 7), "actor": {"name": "クイズだけの名前", "account": {
        "homePage": "https://manabi.city.iizuka.lg.jp", "name": "live-7"}}}
    secret["object"] = {"id": "https://quiz.example.jp/only", "definition": {"name": {"ja": "クイズだけの単元"}}}
    assert quiz.post("/xapi/statements", json=secret).status_code == 200
    activity_of = {name: client.get("/xapi/activities", params={"activityId": secret["object"]["id"]}).json()
                   for name, client in two_apps.items()}
    assert "definition" not in activity_of["drill"]
    assert activity_of["quiz"]["definition"] == activity_of["report"]["definition"] == secret["object"]["definition"]
    person_of = {name: client.get("/xapi/agents", params={"agent": json.dumps(secret["actor"])}).json()
                 for name, client in two_apps.items()}
    assert person_of["drill"]["name"] == ["クイズだけの名前"]  # only the name the query itself gave
    persons = {name: client.get("/xapi/agents", params={"agent": json.dumps(
        {"account": secret["actor"]["account"]})}).json() for name, client in two_apps.items()}
    assert "name" not in persons["drill"] and persons["report"]["name"] == ["クイズだけの名前"]


def test_clients_list_and_grant_on_the_command_line(fresh_demo_db):
    manabi(fresh_demo_db, "analytics", "xapi", "clients", "add", "quiz")
    listed = {c["name"]: c for c in json.loads(manabi(fresh_demo_db, "analytics", "xapi", "clients", "list",
                                                      "--json").stdout)}
    assert listed["quiz"]["read_all"] is False
    assert listed["デモ ドリルアプリ"]["read_all"] is False  # the demo app reads its own (it wrote the demo's)
    shown = manabi(fresh_demo_db, "analytics", "xapi", "clients", "grant", "quiz", "--read-all")
    assert shown.stdout.strip() == "App 'quiz' now reads all."
    back = manabi(fresh_demo_db, "analytics", "xapi", "clients", "grant", "quiz", "--mine")
    assert back.stdout.strip() == "App 'quiz' now reads its own."
    missing = manabi(fresh_demo_db, "analytics", "xapi", "clients", "grant", "nobody", "--read-all", check=False)
    assert missing.returncode != 0 and "There is no app named 'nobody'" in missing.stderr + missing.stdout


def test_a_statement_read_by_the_compiled_reader_is_stored_as_the_validator_stores_it(fresh_demo_db, tmp_path):
    """A one-line body of an app's usual shape is checked by the compiled reader with its batch;
    the same statement pretty-printed (lines: the full validator) must give the same row and text."""
    registration = str(uuid.uuid4())
    learner = Store(fresh_demo_db, read_only=True)
    try:
        [(pupil,)] = learner.query("SELECT learner_id FROM analytics_learners ORDER BY learner_id LIMIT 1")
    finally:
        learner.close()
    usual = {"actor": {"objectType": "Agent", "name": "児童", "account": {"homePage": "https://manabi.city.iizuka.lg.jp",
                                                                        "name": pupil}},
             "verb": {"id": "http://adlnet.gov/expapi/verbs/passed", "display": {"ja": "合格した"}},
             "object": {"id": "https://manabi.city.iizuka.lg.jp/xapi/activities/units/8101001110000000/test",
                        "definition": {"name": {"ja": "単元テスト", "en": "Unit test"}}},
             "result": {"score": {"scaled": 0.8}, "success": True, "completion": True, "duration": "PT12M30S"},
             "context": {"registration": registration, "platform": "Manabi Drill"}, "timestamp": TEST_NOW}
    compact, pretty = {**usual, "id": str(uuid.uuid4())}, {**usual, "id": str(uuid.uuid4())}
    with running_server(fresh_demo_db, tmp_path / "server.log") as base, \
            httpx.Client(base_url=base, auth=(DEMO_CLIENT_KEY, DEMO_CLIENT_SECRET), headers=VERSION) as lrs:
        headers = {"Content-Type": "application/json"}
        assert lrs.post("/xapi/statements", content=json.dumps(compact, ensure_ascii=False).encode(),
                        headers=headers).json() == [compact["id"]]
        assert lrs.post("/xapi/statements", content=json.dumps(pretty, ensure_ascii=False, indent=1).encode(),
                        headers=headers).json() == [pretty["id"]]
        read = [lrs.get("/xapi/statements", params={"statementId": s["id"]}).json() for s in (compact, pretty)]
        # A broken one-line body is refused with the validator's reason.
        broken = lrs.post("/xapi/statements", content=json.dumps({**usual, "verb": {}}).encode(), headers=headers)
        assert broken.status_code == 400 and broken.json()["path"] == "verb.id"
    assert {k: v for k, v in read[0].items() if k != "id"} == {k: v for k, v in read[1].items() if k != "id"}
    store = Store(fresh_demo_db, read_only=True)
    try:
        rows = store.query_dicts("SELECT * EXCLUDE (id, seq) FROM analytics_statements WHERE registration = ? "
                                 "ORDER BY seq", [registration])
    finally:
        store.close()
    assert len(rows) == 2 and rows[0] == rows[1]
    assert rows[0]["school_id"] is not None and rows[0]["duration_s"] == 750.0 and rows[0]["actor_name"] == "児童"

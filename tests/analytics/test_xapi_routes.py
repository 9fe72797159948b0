"""The xAPI statement resource on the real server (`manabi serve`), with the corpus."""

from __future__ import annotations

import json
import uuid
from pathlib import Path

import httpx
import pytest

from analytics.demo import DEMO_CLIENT_KEY, DEMO_CLIENT_SECRET

CORPUS = Path("/work/shared/corpus/xapi")
VERSION = {"X-Experience-API-Version": "1.0.3"}
AUTH = (DEMO_CLIENT_KEY, DEMO_CLIENT_SECRET)


@pytest.fixture
def lrs(server):
    with httpx.Client(base_url=server, auth=AUTH, headers=VERSION, timeout=30) as client:
        yield client


def corpus(name: str) -> dict:
    return json.loads((CORPUS / f"{name}.json").read_text())


def fresh(statement: dict) -> dict:
    """The statement under a new id, so tests sharing the server do not meet."""
    return {**statement, "id": str(uuid.uuid4())}


def test_requests_need_credentials_and_the_version_header(server):
    statement = json.dumps(corpus("default"))
    assert httpx.post(f"{server}/xapi/statements", content=statement, headers=VERSION).status_code == 401
    wrong = httpx.post(f"{server}/xapi/statements", content=statement, headers=VERSION, auth=(DEMO_CLIENT_KEY, "x"))
    assert wrong.status_code == 401
    unversioned = httpx.post(f"{server}/xapi/statements", content=statement, auth=AUTH)
    assert unversioned.status_code == 400 and "X-Experience-API-Version" in unversioned.json()["error"]
    assert httpx.get(f"{server}/xapi/about").json()["version"][0] == "1.0.3"


@pytest.mark.parametrize("name", ["actor", "authority", "multiple_actor", "no_actor", "no_object", "no_verb",
                                  "object_activity", "object_actor", "object_statementref_no_id",
                                  "object_substatement", "verb"])
def test_invalid_corpus_statements_get_400_with_the_reason(lrs, name):
    answer = lrs.post("/xapi/statements", content=(CORPUS / f"{name}.json").read_bytes())
    assert answer.status_code == 400
    assert answer.headers["X-Experience-API-Version"] == "1.0.3"
    assert "statement 1:" in answer.json()["message"]


def test_the_broken_rule_is_answered_in_english_with_its_place(lrs):
    bad = {**fresh(corpus("default")), "actor": {"mbox": "xapi@adlnet.gov"}}
    answer = lrs.post("/xapi/statements", json=[fresh(corpus("default")), bad])
    assert answer.status_code == 400
    assert answer.json() == {"error": "analytics.xapi.invalid_statement", "index": "2", "path": "actor.mbox",
                             "reason": "must be 'mailto:' and an e-mail address",
                             "message": "statement 2: actor.mbox: must be 'mailto:' and an e-mail address"}
    whole = lrs.post("/xapi/statements", content=b"{not json", headers={"Content-Type": "application/json"})
    assert whole.status_code == 400 and whole.json()["message"].startswith("statement 1: (statement): not JSON: ")


def test_a_batch_with_one_invalid_statement_stores_nothing(lrs):
    good = fresh(corpus("default"))
    answer = lrs.post("/xapi/statements", json=[good, corpus("no_verb")])
    assert answer.status_code == 400 and answer.json()["message"].startswith("statement 2: verb")
    assert lrs.get("/xapi/statements", params={"statementId": good["id"]}).status_code == 404


def test_valid_corpus_batch_is_stored_and_read_back(lrs):
    names = ["attachment", "context", "context_sans_objectType", "default", "object_agent_default",
             "object_group_default", "object_statementref", "object_substatement_default", "result", "unicode"]
    answer = lrs.post("/xapi/statements", json=[corpus(n) for n in names])
    assert answer.status_code == 200
    ids = answer.json()
    assert len(ids) == len(names)
    read = lrs.get("/xapi/statements", params={"statementId": ids[-1]})
    assert read.status_code == 200 and "X-Experience-API-Consistent-Through" in read.headers
    body = read.json()
    assert body["object"]["definition"]["name"]["ja-JP"] == "出席した"
    assert body["authority"]["account"]["name"] == DEMO_CLIENT_KEY
    assert body["stored"].endswith("Z") and body["version"].startswith("1.0")


def test_put_then_same_content_again_then_other_content_is_409(lrs):
    statement_id = str(uuid.uuid4())
    statement = corpus("result")
    assert lrs.put("/xapi/statements", params={"statementId": statement_id}, json=statement).status_code == 204
    assert lrs.put("/xapi/statements", params={"statementId": statement_id}, json=statement).status_code == 204
    assert lrs.post("/xapi/statements", json={**statement, "id": statement_id}).json() == [statement_id]
    changed = {**statement, "id": statement_id, "result": {"success": True}}
    assert lrs.post("/xapi/statements", json=changed).status_code == 409
    assert lrs.put("/xapi/statements", json=statement).status_code == 400  # PUT needs statementId


def test_voiding_over_http(lrs):
    target = fresh(corpus("default"))
    lrs.post("/xapi/statements", json=target)
    voiding = corpus("voiding")
    voiding["object"]["id"] = target["id"]
    assert lrs.post("/xapi/statements", json=voiding).status_code == 200
    assert lrs.get("/xapi/statements", params={"statementId": target["id"]}).status_code == 404
    voided = lrs.get("/xapi/statements", params={"voidedStatementId": target["id"]})
    assert voided.status_code == 200 and voided.json()["id"] == target["id"]


def test_get_filters_and_follows_more(lrs):
    agent = {"objectType": "Agent", "mbox": f"mailto:{uuid.uuid4().hex}@example.jp"}
    sent = [fresh({**corpus("default"), "actor": agent}) for _ in range(5)]
    assert lrs.post("/xapi/statements", json=sent).status_code == 200
    seen, url = [], "/xapi/statements"
    params = {"agent": json.dumps(agent), "limit": 2}
    while url:
        page = lrs.get(url, params=params).json()
        seen += [s["id"] for s in page["statements"]]
        url, params = page["more"], None
    assert sorted(seen) == sorted(s["id"] for s in sent)
    assert lrs.get("/xapi/statements", params={"verb": "http://adlnet.gov/expapi/verbs/passed",
                                               "limit": 3}).json()["statements"]  # the demo's
    assert lrs.get("/xapi/statements", params={"bogus": "1"}).status_code == 400
    assert lrs.get("/xapi/statements", params={"statementId": sent[0]["id"], "limit": 1}).status_code == 400
    assert lrs.get("/xapi/statements", params={"agent": "{not json"}).status_code == 400


def test_get_answers_in_the_specs_forms(lrs):
    statement = fresh(corpus("default"))
    statement["context"] = {"contextActivities": {"parent": {"id": "http://example.jp/course"}}}
    lrs.post("/xapi/statements", json=statement)
    exact = lrs.get("/xapi/statements", params={"statementId": statement["id"]}).json()
    assert exact["context"]["contextActivities"]["parent"] == [{"id": "http://example.jp/course"}]
    ids = lrs.get("/xapi/statements", params={"statementId": statement["id"], "format": "ids"}).json()
    assert ids["verb"] == {"id": statement["verb"]["id"]} and "name" not in ids["actor"]
    canonical = lrs.get("/xapi/statements", params={"statementId": statement["id"], "format": "canonical"},
                        headers={"Accept-Language": "en-US"}).json()
    assert canonical["verb"]["display"] == {"en-US": "attended"}
    assert lrs.head("/xapi/statements", params={"statementId": statement["id"]}).status_code == 200
    refused = lrs.get("/xapi/statements", params={"statementId": statement["id"], "verb": "http://x.jp/v"})
    assert refused.status_code == 400 and "X-Experience-API-Consistent-Through" in refused.headers


def _chunked(body: bytes):
    """The body as a stream without Content-Length: such a request never takes the statements' fast
    lane (kernel.http.FastLanes, analytics.routes.statement_lane), so it shows the regular way's answer."""
    yield body


def test_the_fast_lane_answers_as_the_regular_way(lrs):
    def both(body: bytes) -> tuple[httpx.Response, httpx.Response]:
        lrs.get("/xapi/statements", params={"limit": 1})  # the key checked just now: the lane takes it
        lane = lrs.post("/xapi/statements", content=body, headers={"Content-Type": "application/json"})
        regular = lrs.post("/xapi/statements", content=_chunked(body), headers={"Content-Type": "application/json"})
        return lane, regular

    statement = fresh(corpus("default"))
    lane, regular = both(json.dumps(statement).encode())  # stored by the lane, then sent again the regular way
    assert lane.status_code == regular.status_code == 200 and lane.json() == regular.json() == [statement["id"]]
    assert lane.headers["X-Experience-API-Version"] == regular.headers["X-Experience-API-Version"] == "1.0.3"
    assert lane.headers["Content-Type"] == regular.headers["Content-Type"] == "application/json"
    changed = json.dumps({**statement, "result": {"success": False}}).encode()
    lane, regular = both(changed)
    assert lane.status_code == regular.status_code == 409 and lane.json() == regular.json()
    invalid = json.dumps({**fresh(corpus("default")), "actor": {"mbox": "xapi@adlnet.gov"}}).encode()
    lane, regular = both(invalid)
    assert lane.status_code == regular.status_code == 400 and lane.json() == regular.json()
    assert lane.json()["path"] == "actor.mbox"
    # A body the lane reads but leaves (over several lines) reaches the regular way whole.
    spread = fresh(corpus("default"))
    lrs.get("/xapi/statements", params={"limit": 1})
    answer = lrs.post("/xapi/statements", content=json.dumps(spread, indent=2).encode(),
                      headers={"Content-Type": "application/json"})
    assert answer.status_code == 200 and answer.json() == [spread["id"]]
    assert lrs.get("/xapi/statements", params={"statementId": spread["id"]}).json()["verb"] == spread["verb"]

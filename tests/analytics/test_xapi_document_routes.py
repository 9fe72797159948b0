"""The xAPI document resources, /xapi/activities and /xapi/agents on the real server (`manabi serve`)."""

from __future__ import annotations

import json
import uuid

import httpx
import pytest

from analytics.demo import DEMO_CLIENT_KEY, DEMO_CLIENT_SECRET

VERSION = {"X-Experience-API-Version": "1.0.3"}
AUTH = (DEMO_CLIENT_KEY, DEMO_CLIENT_SECRET)
ACTIVITY = "https://manabi.city.iizuka.lg.jp/units/8260233111100000"


@pytest.fixture
def lrs(server):
    with httpx.Client(base_url=server, auth=AUTH, headers=VERSION, timeout=30) as client:
        yield client


def agent() -> str:
    """A new agent per test, so tests sharing the server do not meet."""
    return json.dumps({"objectType": "Agent", "mbox": f"mailto:{uuid.uuid4().hex[:12]}@example.jp"})


def state_params(who: str, **extra) -> dict:
    return {"activityId": ACTIVITY, "agent": who, **extra}


@pytest.mark.parametrize("path", ["/xapi/activities/state", "/xapi/activities/profile", "/xapi/agents/profile",
                                  "/xapi/activities", "/xapi/agents"])
def test_document_resources_need_credentials_and_the_version_header(server, path):
    params = {"activityId": ACTIVITY, "agent": agent(), "stateId": "s", "profileId": "p"}
    assert httpx.get(f"{server}{path}", params=params, headers=VERSION).status_code == 401
    wrong = httpx.get(f"{server}{path}", params=params, headers=VERSION, auth=(DEMO_CLIENT_KEY, "x"))
    assert wrong.status_code == 401
    unversioned = httpx.get(f"{server}{path}", params=params, auth=AUTH)
    assert unversioned.status_code == 400 and "X-Experience-API-Version" in unversioned.json()["message"]


def test_state_put_get_ids_since_and_delete(lrs):
    who = agent()
    put = lrs.put("/xapi/activities/state", params=state_params(who, stateId="bookmark"),
                  content=b"page 7", headers={"Content-Type": "text/plain"})
    assert put.status_code == 204
    got = lrs.get("/xapi/activities/state", params=state_params(who, stateId="bookmark"))
    assert got.status_code == 200 and got.content == b"page 7"
    assert got.headers["content-type"].startswith("text/plain")
    assert got.headers["etag"] == put.headers["etag"] and len(got.headers["etag"]) == 42
    assert got.headers["X-Experience-API-Version"] == "1.0.3" and got.headers["last-modified"].endswith("GMT")
    assert lrs.put("/xapi/activities/state", params=state_params(who, stateId="progress"),
                   json={"done": 3}).status_code == 204
    ids = lrs.get("/xapi/activities/state", params=state_params(who))
    assert sorted(ids.json()) == ["bookmark", "progress"]
    later = lrs.get("/xapi/activities/state", params=state_params(who, since="2999-01-01T00:00:00Z"))
    assert later.status_code == 200 and later.json() == []
    assert lrs.get("/xapi/activities/state", params=state_params(who, since="yesterday")).status_code == 400
    assert lrs.delete("/xapi/activities/state", params=state_params(who, stateId="bookmark")).status_code == 204
    assert lrs.get("/xapi/activities/state", params=state_params(who, stateId="bookmark")).status_code == 404
    assert lrs.delete("/xapi/activities/state", params=state_params(who)).status_code == 204
    assert lrs.get("/xapi/activities/state", params=state_params(who)).json() == []


def test_state_with_registration_is_its_own_document(lrs):
    who = agent()
    registration = str(uuid.uuid4())
    lrs.put("/xapi/activities/state", params=state_params(who, stateId="s", registration=registration), json={"r": 1})
    assert lrs.get("/xapi/activities/state", params=state_params(who, stateId="s")).status_code == 404
    got = lrs.get("/xapi/activities/state", params=state_params(who, stateId="s", registration=registration))
    assert got.json() == {"r": 1}
    bad = lrs.put("/xapi/activities/state", params=state_params(who, stateId="s", registration="true"), json={})
    assert bad.status_code == 400


@pytest.mark.parametrize("params", [
    {"agent": '{"mbox": "mailto:a@example.jp"}', "stateId": "s"},                # no activityId
    {"activityId": ACTIVITY, "stateId": "s"},                                     # no agent
    {"activityId": ACTIVITY, "agent": "true", "stateId": "s"},                    # agent not JSON
    {"activityId": "not an iri", "agent": '{"mbox": "mailto:a@example.jp"}', "stateId": "s"},
])
def test_state_parameters_are_checked(lrs, params):
    assert lrs.put("/xapi/activities/state", params=params, json={}).status_code == 400
    assert lrs.get("/xapi/activities/state", params=params).status_code == 400


def test_post_merges_json_and_refuses_other_types(lrs):
    params = state_params(agent(), stateId="s")
    assert lrs.post("/xapi/activities/state", params=params, json={"car": "MKX", "driver": "Dale"}).status_code == 204
    assert lrs.post("/xapi/activities/state", params=params, json={"car": "MKZ"}).status_code == 204
    assert lrs.get("/xapi/activities/state", params=params).json() == {"car": "MKZ", "driver": "Dale"}
    plain = lrs.post("/xapi/activities/state", params=params, content=b"text", headers={"Content-Type": "text/plain"})
    broken = lrs.post("/xapi/activities/state", params=params, content=b'{"a": 1}{',
                      headers={"Content-Type": "application/json"})
    assert plain.status_code == 400 and broken.status_code == 400
    assert lrs.get("/xapi/activities/state", params=params).json() == {"car": "MKZ", "driver": "Dale"}


@pytest.mark.parametrize(("path", "scope"), [
    ("/xapi/activities/profile", lambda: {"activityId": ACTIVITY}),
    ("/xapi/agents/profile", lambda: {"agent": agent()}),
])
def test_profiles_etag_preconditions(lrs, path, scope):
    params = {**scope(), "profileId": str(uuid.uuid4())}
    assert lrs.put(path, params=params, json={"v": 0}).status_code == 400          # new, no precondition
    created = lrs.put(path, params=params, json={"v": 1}, headers={"If-None-Match": "*"})
    assert created.status_code == 204
    etag = lrs.get(path, params=params).headers["etag"]
    assert etag == created.headers["etag"]
    again = lrs.put(path, params=params, json={"v": 2})                             # exists, no precondition
    assert again.status_code == 409 and again.json()["message"]
    assert lrs.put(path, params=params, json={"v": 2}, headers={"If-None-Match": "*"}).status_code == 412
    stale = lrs.put(path, params=params, json={"v": 2}, headers={"If-Match": '"' + "1" * 40 + '"'})
    assert stale.status_code == 412
    assert lrs.get(path, params=params).json() == {"v": 1}
    assert lrs.put(path, params=params, json={"v": 2}, headers={"If-Match": etag}).status_code == 204
    assert lrs.post(path, params=params, json={"w": 3}).status_code == 204
    assert lrs.get(path, params=params).json() == {"v": 2, "w": 3}
    ids = lrs.get(path, params={k: v for k, v in params.items() if k != "profileId"}).json()
    assert params["profileId"] in ids
    assert lrs.delete(path, params={k: v for k, v in params.items() if k != "profileId"}).status_code == 400
    assert lrs.delete(path, params=params).status_code == 204
    assert lrs.get(path, params=params).status_code == 404


def test_activities_and_agents_answer_from_the_statements(lrs):
    activity_id = f"https://manabi.city.iizuka.lg.jp/xapi/test/{uuid.uuid4()}"
    mbox = f"mailto:{uuid.uuid4().hex[:12]}@example.jp"
    base = {"actor": {"mbox": mbox, "name": "Hanako"}, "verb": {"id": "http://adlnet.gov/expapi/verbs/attempted"}}
    statements = [{**base, "object": {"id": activity_id, "definition": {"name": {"ja-JP": "分数"}}}},
                  {**base, "object": {"id": activity_id, "definition": {"name": {"en-US": "Fractions"}}}}]
    assert lrs.post("/xapi/statements", json=statements).status_code == 200
    found = lrs.get("/xapi/activities", params={"activityId": activity_id})
    assert found.status_code == 200
    assert found.json()["definition"]["name"] == {"ja-JP": "分数", "en-US": "Fractions"}
    assert lrs.get("/xapi/activities").status_code == 400
    person = lrs.get("/xapi/agents", params={"agent": json.dumps({"mbox": mbox})})
    assert person.json() == {"objectType": "Person", "name": ["Hanako"], "mbox": [mbox]}
    assert lrs.get("/xapi/agents").status_code == 400
    assert lrs.get("/xapi/agents", params={"agent": '{"name": "no identifier"}'}).status_code == 400

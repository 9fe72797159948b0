"""xAPI protocol rules on the real server: the alternate request syntax (1.0.3 part 3 §1.3),
content types, X-Experience-API-Consistent-Through."""

from __future__ import annotations

import base64
import json
import os
import uuid
from datetime import datetime
from urllib.parse import urlencode

import httpx

from analytics.demo import DEMO_CLIENT_KEY, DEMO_CLIENT_SECRET

VERSION = {"X-Experience-API-Version": "1.0.3"}
AUTH = (DEMO_CLIENT_KEY, DEMO_CLIENT_SECRET)
FORM = {"Content-Type": "application/x-www-form-urlencoded"}
STATEMENT = {"actor": {"mbox": "mailto:pupil01@example.jp"}, "verb": {"id": "http://adlnet.gov/expapi/verbs/attempted"},
             "object": {"id": "https://manabi.city.iizuka.lg.jp/units/8260233111100000"}}


def test_put_and_get_as_a_form_with_headers_in_the_form(server):
    statement_id = str(uuid.uuid4())
    authorization = "Basic " + base64.b64encode(":".join(AUTH).encode()).decode()
    form = {"statementId": statement_id, "content": json.dumps(STATEMENT), "X-Experience-API-Version": "1.0.3",
            "Authorization": authorization}
    put = httpx.post(f"{server}/xapi/statements?method=PUT", content=urlencode(form), headers=FORM)
    assert put.status_code == 204
    got = httpx.post(f"{server}/xapi/statements?method=GET", content=urlencode({"statementId": statement_id}),
                     headers={**FORM, **VERSION}, auth=AUTH)
    assert got.status_code == 200 and got.json()["id"] == statement_id


def test_form_fields_override_headers_and_extra_parameters_are_refused(server):
    form = {"statementId": str(uuid.uuid4()), "content": json.dumps(STATEMENT), "X-Experience-API-Version": "0.8"}
    old = httpx.post(f"{server}/xapi/statements?method=PUT", content=urlencode(form), headers={**FORM, **VERSION},
                     auth=AUTH)
    assert old.status_code == 400
    extra = httpx.post(f"{server}/xapi/statements?method=PUT&statementId={uuid.uuid4()}",
                       content=urlencode({"content": json.dumps(STATEMENT)}), headers={**FORM, **VERSION}, auth=AUTH)
    assert extra.status_code == 400
    not_form = httpx.post(f"{server}/xapi/statements?method=PUT", content=json.dumps(form),
                          headers={**FORM, **VERSION}, auth=AUTH)
    assert not_form.status_code == 400


def test_documents_through_the_form(server):
    params = {"activityId": STATEMENT["object"]["id"], "agent": json.dumps({"mbox": f"mailto:{uuid.uuid4().hex}@ex.jp"}),
              "stateId": "s"}
    put = httpx.post(f"{server}/xapi/activities/state?method=PUT", headers={**FORM, **VERSION}, auth=AUTH,
                     content=urlencode({**params, "content": '{"page": 3}', "Content-Type": "application/json"}))
    assert put.status_code == 204
    got = httpx.get(f"{server}/xapi/activities/state", params=params, headers=VERSION, auth=AUTH)
    assert got.json() == {"page": 3}


def test_multipart_other_than_mixed_and_a_body_that_is_not_multipart_are_refused_with_the_reason(server):
    # Attachment bytes come as multipart/mixed (see test_xapi_attachments.py); form-data is refused.
    for media, reason in (("multipart/form-data; boundary=xyz", "not_mixed"), ("multipart/mixed; boundary=xyz",
                                                                              "malformed")):
        answer = httpx.post(f"{server}/xapi/statements", content=json.dumps(STATEMENT),
                            headers={**VERSION, "Content-Type": media}, auth=AUTH)
        assert answer.status_code == 400 and answer.json()["error"] == f"analytics.xapi_attachment.{reason}"


def test_consistent_through_is_not_behind_an_idle_store(server):
    with httpx.Client(base_url=server, auth=AUTH, headers=VERSION, timeout=30) as lrs:
        [statement_id] = lrs.post("/xapi/statements", json=STATEMENT).json()
        stored = lrs.get("/xapi/statements", params={"statementId": statement_id}).json()["stored"]
        missing = lrs.get("/xapi/statements", params={"statementId": str(uuid.uuid4())})
    assert missing.status_code == 404
    through = datetime.fromisoformat(missing.headers["X-Experience-API-Consistent-Through"].replace("Z", "+00:00"))
    assert through >= datetime.fromisoformat(stored.replace("Z", "+00:00"))
    # An idle store is consistent up to now (the server's clock, pinned by tests/conftest.py),
    # not up to its last statement.
    assert abs((datetime.fromisoformat(os.environ["MANABI_NOW"]) - through).total_seconds()) < 5

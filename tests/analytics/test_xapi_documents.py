"""The xAPI document resources' service: ETags, preconditions, merging, `since`, activities, agents."""

from __future__ import annotations

import json
import threading
from datetime import timedelta

import pytest

from analytics.services import documents as docs
from analytics.services import lrs
from kernel.actor import SYSTEM

AGENT = json.dumps({"objectType": "Agent", "mbox": "mailto:pupil01@example.jp"})
ACTIVITY = "https://manabi.city.iizuka.lg.jp/units/8260233111100000"
JSON = "application/json"


@pytest.fixture
def state():
    return docs.state_scope(ACTIVITY, AGENT, None)


@pytest.fixture
def profile():
    return docs.activity_profile_scope(ACTIVITY)


def put(store, clock, scope, doc_id, body: bytes, content_type=JSON, **pre):
    return docs.put_document(store, clock, 1, scope, doc_id, body, content_type, docs.Preconditions(**pre))


def post(store, clock, scope, doc_id, body: bytes, content_type=JSON, **pre):
    return docs.post_document(store, clock, 1, scope, doc_id, body, content_type, docs.Preconditions(**pre))


def test_a_state_is_kept_byte_for_byte_with_its_type_and_sha1_etag(store, clock, state):
    etag = put(store, clock, state, "bookmark", b"\x00page 7", "application/octet-stream")
    found = docs.get_document(store, state, "bookmark")
    assert found.content == b"\x00page 7" and found.content_type == "application/octet-stream"
    assert found.etag == etag == docs.etag_of(b"\x00page 7") and len(etag) == 40
    # A state may be overwritten without a precondition (1.0.3 asks them of profiles only).
    put(store, clock, state, "bookmark", b"page 8", "text/plain; charset=utf-8")
    assert docs.get_document(store, state, "bookmark").content_type == "text/plain; charset=utf-8"


def test_states_are_apart_per_agent_and_registration(store, clock, state):
    put(store, clock, state, "s", b"{}")
    other_agent = docs.state_scope(ACTIVITY, json.dumps({"mbox": "mailto:pupil02@example.jp"}), None)
    registered = docs.state_scope(ACTIVITY, AGENT, "6690F1A1-4D8A-4B3A-9C31-1A7E3B9C2D11")
    assert docs.get_document(store, other_agent, "s") is None
    assert docs.get_document(store, registered, "s") is None
    put(store, clock, registered, "s", b"[]")
    same = docs.state_scope(ACTIVITY, AGENT, "6690f1a1-4d8a-4b3a-9c31-1a7e3b9c2d11")
    assert docs.get_document(store, same, "s").content == b"[]"


def test_post_merges_json_objects_one_level_deep(store, clock, state):
    post(store, clock, state, "s", b'{"car": {"make": "Ford", "model": "Escape"}, "driver": "Dale"}')
    post(store, clock, state, "s", b'{"car": {"make": "Dodge"}, "series": 1}')
    merged = json.loads(docs.get_document(store, state, "s").content)
    assert merged == {"car": {"make": "Dodge"}, "driver": "Dale", "series": 1}


@pytest.mark.parametrize(("stored_type", "stored", "sent_type", "sent"), [
    (JSON, b'{"a": 1}', "text/plain", b'{"b": 2}'),          # new one not JSON
    ("text/plain", b"plain", JSON, b'{"b": 2}'),              # stored one not JSON
    (JSON, b'{"a": 1}', JSON, b'{"b": 2}{'),                  # new one does not parse
    (JSON, b'{"a": 1}', JSON, b"[1, 2]"),                     # new one not an object
])
def test_post_refuses_to_merge_what_is_not_two_json_objects(store, clock, state, stored_type, stored,
                                                             sent_type, sent):
    put(store, clock, state, "s", stored, stored_type)
    with pytest.raises(docs.DocumentProblem):
        post(store, clock, state, "s", sent, sent_type)
    assert docs.get_document(store, state, "s").content == stored


def test_profile_put_needs_a_precondition(store, clock, profile):
    with pytest.raises(docs.DocumentProblem):
        put(store, clock, profile, "p", b"{}")                                  # new, no header: 400
    etag = put(store, clock, profile, "p", b'{"v": 1}', if_none_match="*")
    with pytest.raises(docs.PreconditionRequired):
        put(store, clock, profile, "p", b'{"v": 2}')                            # exists, no header: 409
    with pytest.raises(docs.PreconditionFailed):
        put(store, clock, profile, "p", b'{"v": 2}', if_none_match="*")         # exists: 412
    with pytest.raises(docs.PreconditionFailed):
        put(store, clock, profile, "p", b'{"v": 2}', if_match='"' + "1" * 40 + '"')
    assert docs.get_document(store, profile, "p").content == b'{"v": 1}'
    new_etag = put(store, clock, profile, "p", b'{"v": 2}', if_match=f'"{etag}"')
    assert docs.get_document(store, profile, "p").etag == new_etag != etag
    put(store, clock, profile, "p", b'{"v": 3}', if_match="*")
    with pytest.raises(docs.PreconditionFailed):
        put(store, clock, profile, "q", b"{}", if_match="*")                    # absent: If-Match fails


def test_delete_honours_if_match_and_state_delete_all(store, clock, state, profile):
    etag = put(store, clock, profile, "p", b"{}", if_none_match="*")
    with pytest.raises(docs.PreconditionFailed):
        docs.delete_document(store, profile, "p", docs.Preconditions(if_match='"abc"'))
    docs.delete_document(store, profile, "p", docs.Preconditions(if_match=f'W/"{etag}"'))
    assert docs.get_document(store, profile, "p") is None
    docs.delete_document(store, profile, "p")                                   # absent is fine
    for doc_id in ("a", "b"):
        put(store, clock, state, doc_id, b"{}")
    docs.delete_documents(store, state)
    assert docs.document_ids(store, state) == []


def test_ids_since(store, clock, state):
    put(store, clock, state, "early", b"{}")
    clock.advance(timedelta(minutes=5))
    since = clock.now()
    clock.advance(timedelta(seconds=1))
    put(store, clock, state, "late", b"{}")
    assert docs.document_ids(store, state) == ["early", "late"]
    assert docs.document_ids(store, state, since) == ["late"]
    assert docs.document_ids(store, state, docs.parse_since("2000-01-01T00:00:00Z")) == ["early", "late"]


@pytest.mark.parametrize(("call", "args"), [
    (docs.state_scope, (None, AGENT, None)),
    (docs.state_scope, (ACTIVITY, None, None)),
    (docs.state_scope, ("true", AGENT, None)),
    (docs.state_scope, (ACTIVITY, "true", None)),
    (docs.state_scope, (ACTIVITY, '{"name": "no identifier"}', None)),
    (docs.state_scope, (ACTIVITY, AGENT, "true")),
    (docs.agent_profile_scope, ("{not json",)),
    (docs.parse_since, ("not a timestamp",)),
])
def test_bad_parameters_are_400(call, args):
    with pytest.raises(docs.DocumentProblem):
        call(*args)


def test_concurrent_posts_both_land(store, clock, state):
    post(store, clock, state, "s", b"{}")
    errors = []

    def send(n: int) -> None:
        try:
            post(store, clock, state, "s", json.dumps({f"k{n}": n}).encode())
        except Exception as exc:  # noqa: BLE001 — collected for the assertion
            errors.append(exc)

    threads = [threading.Thread(target=send, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert json.loads(docs.get_document(store, state, "s").content) == {f"k{n}": n for n in range(4)}


def test_activity_joins_every_definition_and_person_lists_names(store, clock):
    made = lrs.add_client(store, clock, SYSTEM, "drill app")
    client = lrs.authenticate(store, made.api_key, made.secret)
    actor = {"mbox": "mailto:pupil01@example.jp", "name": "Pupil One"}
    first = {"actor": actor, "verb": {"id": "http://adlnet.gov/expapi/verbs/attempted"},
             "object": {"id": ACTIVITY, "definition": {"name": {"ja-JP": "分数"}, "type": "http://x.example/unit"}}}
    second = {**first, "object": {"id": ACTIVITY, "definition": {"name": {"en-US": "Fractions"}}}}
    lrs.store_statements(store, clock, client, [first, second])
    found = docs.activity(store, ACTIVITY)
    assert found["definition"]["name"] == {"ja-JP": "分数", "en-US": "Fractions"}
    assert found["definition"]["type"] == "http://x.example/unit"
    assert docs.activity(store, "http://unknown.example/a") == {"objectType": "Activity",
                                                                  "id": "http://unknown.example/a"}
    person = docs.person(store, docs.parse_agent(AGENT))
    assert person == {"objectType": "Person", "name": ["Pupil One"], "mbox": ["mailto:pupil01@example.jp"]}

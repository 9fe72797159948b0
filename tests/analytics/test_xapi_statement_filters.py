"""GET /xapi/statements' filters and StatementRefs, and format=ids (fixes from ADL's conformance suite)."""

from __future__ import annotations

import uuid
from datetime import timedelta

from analytics.services import lrs
from kernel.actor import SYSTEM

VERB = "http://adlnet.gov/expapi/verbs/attempted"
ACTOR = {"mbox": "mailto:pupil01@example.jp"}


def test_a_statement_referring_to_one_that_meets_the_filter_is_returned(store, clock):
    made = lrs.add_client(store, clock, SYSTEM, "drill app")
    client = lrs.authenticate(store, made.api_key, made.secret)
    voided_id, voiding_id, ref_id, other_id = (str(uuid.uuid4()) for _ in range(4))
    target = {"id": voided_id, "actor": ACTOR, "verb": {"id": VERB}, "object": {"id": "http://x.example/a"}}
    lrs.store_statements(store, clock, client, [target])
    clock.advance(timedelta(seconds=1))
    since = lrs.xapi_time(clock.now())
    clock.advance(timedelta(seconds=1))
    voiding = {"id": voiding_id, "actor": ACTOR, "verb": {"id": "http://adlnet.gov/expapi/verbs/voided"},
               "object": {"objectType": "StatementRef", "id": voided_id}}
    ref = {"id": ref_id, "actor": ACTOR, "verb": {"id": VERB},
           "object": {"objectType": "StatementRef", "id": voided_id.upper()}}
    other = {"id": other_id, "actor": ACTOR, "verb": {"id": "http://x.example/other"},
             "object": {"id": "http://x.example/a"}}
    lrs.store_statements(store, clock, client, [voiding, ref, other])
    found, _ = lrs.query_statements(store, lrs.StatementQuery(verb=VERB, since=since))
    assert {s["id"] for s in found} == {voiding_id, ref_id}       # not the voided one, not `other`
    everything, _ = lrs.query_statements(store, lrs.StatementQuery(verb=VERB))
    assert {s["id"] for s in everything} == {voiding_id, ref_id}


def test_format_ids_keeps_only_the_id_of_activities_and_verbs(store, clock):
    made = lrs.add_client(store, clock, SYSTEM, "drill app")
    client = lrs.authenticate(store, made.api_key, made.secret)
    sub = {"objectType": "SubStatement", "actor": {"objectType": "Group", "mbox": "mailto:class@example.jp"},
           "verb": {"id": VERB, "display": {"en-US": "attempted"}},
           "object": {"objectType": "Activity", "id": "http://x.example/a",
                      "definition": {"name": {"en-US": "A"}}}}
    [statement_id] = lrs.store_statements(store, clock, client, [
        {"actor": {**ACTOR, "name": "Pupil"}, "verb": {"id": VERB}, "object": sub}])
    [found], _ = lrs.query_statements(store, lrs.StatementQuery(statement_format="ids"))
    assert found["id"] == statement_id
    assert found["actor"] == ACTOR
    assert found["object"]["object"] == {"id": "http://x.example/a"}
    assert found["object"]["verb"] == {"id": VERB}
    assert found["object"]["actor"] == {"objectType": "Group", "mbox": "mailto:class@example.jp"}

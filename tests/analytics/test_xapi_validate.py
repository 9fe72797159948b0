"""The statement validator against ADL's conformance-suite templates (xAPI 1.0.3)."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest

from analytics.services.xapi_validate import InvalidStatement, parse_statements, validate_statement

CORPUS = Path("/work/shared/corpus/xapi")

# Decided per the spec: an Agent needs exactly one identifier (actor, object_actor, authority);
# an Activity needs an id; a StatementRef a UUID; a SubStatement its actor, verb and object;
# a verb its id; a property may not be given twice (multiple_actor).
VALID = ["attachment", "context", "context_sans_objectType", "default", "object_agent_default",
         "object_group_default", "object_statementref", "object_substatement_default", "result",
         "unicode", "voiding"]
INVALID = {
    "actor": "actor", "authority": "authority", "multiple_actor": "actor", "no_actor": "actor",
    "no_object": "object", "no_verb": "verb", "object_activity": "object.id", "object_actor": "object",
    "object_statementref_no_id": "object.id", "object_substatement": "object.actor", "verb": "verb.id",
}


def test_corpus_is_fully_classified():
    assert {p.stem for p in CORPUS.glob("*.json")} == set(VALID) | set(INVALID)


@pytest.mark.parametrize("name", VALID)
def test_valid_corpus_statements_pass(name):
    (statement,) = parse_statements((CORPUS / f"{name}.json").read_bytes())
    assert validate_statement(statement) is statement


@pytest.mark.parametrize("name,path", sorted(INVALID.items()))
def test_invalid_corpus_statements_are_refused_with_the_place(name, path):
    with pytest.raises(InvalidStatement) as caught:
        for statement in parse_statements((CORPUS / f"{name}.json").read_bytes()):
            validate_statement(statement)
    assert caught.value.path == path


def default() -> dict:
    return json.loads((CORPUS / "default.json").read_text())


def _refused(change, path: str) -> None:
    statement = copy.deepcopy(default())
    change(statement)
    with pytest.raises(InvalidStatement) as caught:
        validate_statement(statement)
    assert caught.value.path == path


@pytest.mark.parametrize("change,path", [
    (lambda s: s["verb"].update(id="attended"), "verb.id"),
    (lambda s: s["actor"].update(mbox="xapi@adlnet.gov"), "actor.mbox"),
    (lambda s: s.update(result={"score": {"scaled": 1.5}}), "result.score.scaled"),
    (lambda s: s.update(result={"score": {"raw": 11, "min": 0, "max": 10}}), "result.score.raw"),
    (lambda s: s.update(result={"score": {"min": 5, "max": 5}}), "result.score.min"),
    (lambda s: s.update(result={"success": "yes"}), "result.success"),
    (lambda s: s.update(result={"duration": "90 seconds"}), "result.duration"),
    (lambda s: s.update(result={"duration": "P4W1D"}), "result.duration"),  # weeks stand alone
    (lambda s: s["object"].update(definition={"interactionType": {"x": 1}}), "object.definition.interactionType"),
    (lambda s: s["object"].update(definition={"correctResponsesPattern": ["a"]}),
     "object.definition.correctResponsesPattern"),
    (lambda s: s.update(authority={"objectType": "Group", "mbox": "mailto:g@example.jp"}), "authority"),
    (lambda s: s.update(timestamp="27/11/2026"), "timestamp"),
    (lambda s: s.update(timestamp="2026-11-27T10:00:00-00:00"), "timestamp"),
    (lambda s: s.update(id="not-a-uuid"), "id"),
    (lambda s: s.update(extra=1), "extra"),
    (lambda s: s["actor"].update(name=None), "actor.name"),
    (lambda s: s["verb"].update(display={"not a tag": "x"}), "verb.display.not a tag"),
    (lambda s: s.update(context={"registration": "123"}), "context.registration"),
    (lambda s: s.update(version="2.1.0"), "version"),
    (lambda s: s["verb"].update(id="http://adlnet.gov/expapi/verbs/voided"), "object"),
    (lambda s: s.update(context={"platform": "ipad"}, object={"objectType": "Agent", "mbox": "mailto:a@b.jp"}),
     "context.platform"),
    (lambda s: s.update(attachments=[{"usageType": "http://x.jp/u", "display": {"en": "a"},
                                      "contentType": "text/plain", "length": 1, "sha2": "ab"}]),
     "attachments[0].fileUrl"),
])
def test_broken_rules_are_named(change, path):
    _refused(change, path)


def test_a_full_learning_app_statement_passes():
    statement = {
        "id": "3f1a4b6e-3c1d-4a61-9d5b-2f7e0b8c9a10",
        "actor": {"objectType": "Agent", "account": {"homePage": "https://manabi.city.iizuka.lg.jp", "name": "p0001"}},
        "verb": {"id": "http://adlnet.gov/expapi/verbs/passed", "display": {"ja": "合格した"}},
        "object": {"id": "https://manabi.city.iizuka.lg.jp/units/8260233111100000",
                   "definition": {"name": {"ja": "分数のたし算"}, "interactionType": "choice",
                                  "choices": [{"id": "a", "description": {"ja": "1/2"}}]}},
        "result": {"score": {"scaled": 0.8, "raw": 8, "min": 0, "max": 10}, "success": True,
                   "completion": True, "duration": "PT12M30S"},
        "context": {"registration": "0e8e2c7e-1d8a-4b5a-9f7e-4f3d2c1b0a99", "language": "ja-JP",
                    "contextActivities": {"parent": {"id": "https://manabi.city.iizuka.lg.jp/courses/math5"}}},
        "timestamp": "2026-11-27T10:00:00+09:00",
    }
    assert validate_statement(statement) is statement


def test_body_must_be_a_statement_or_array():
    for body in (b"[]", b"42", b"[1]", b"{not json"):
        with pytest.raises(InvalidStatement):
            parse_statements(body)


def test_extension_values_may_be_null_or_empty():
    statement = default()
    statement["result"] = {"extensions": {"http://example.jp/ext/a": None, "http://example.jp/ext/b": ""}}
    statement["context"] = {"extensions": {}}
    assert validate_statement(statement) is statement

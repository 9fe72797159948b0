"""Validation of xAPI 1.0.3 statements (the rules of the specification's Data part).

`parse_statements(text)` reads a request body (one statement or an array) and refuses
duplicate property names; `validate_statement(obj)` raises InvalidStatement with the
JSON path and the rule broken (a key of [analytics.xapi_rule] in the catalogue, worded in
the reader's language; `.reason` is its English, for the HTTP API). Nothing here touches
the database.
"""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from functools import cache
from pathlib import Path
from typing import NoReturn

from kernel import http
from kernel.errors import InvalidInput, Message
from kernel.i18n import Translator, load_catalogue

VOIDED_VERB = "http://adlnet.gov/expapi/verbs/voided"

_IRI = re.compile(r"^[A-Za-z][A-Za-z0-9+.\-]*:[^\s]+$")
_UUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
_MBOX = re.compile(r"^mailto:[^@\s]+@[^@\s]+$")
_SHA1 = re.compile(r"^[0-9a-fA-F]{40}$")
_LANGUAGE_TAG = re.compile(r"^[A-Za-z]{1,8}(-[A-Za-z0-9]{1,8})*$")
# ISO 8601: PnYnMnDTnHnMnS, or PnW alone (weeks combine with nothing else).
_DURATION = re.compile(
    r"^(P(?!$)(\d+(\.\d+)?Y)?(\d+(\.\d+)?M)?(\d+(\.\d+)?D)?"
    r"(T(?=\d)(\d+(\.\d+)?H)?(\d+(\.\d+)?M)?(\d+(\.\d+)?S)?)?|P\d+(\.\d+)?W)$"
)
_TIMESTAMP = re.compile(
    r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+\-]\d{2}:?\d{2})?$"
)

STATEMENT_KEYS = {"id", "actor", "verb", "object", "result", "context", "timestamp", "stored",
                  "authority", "version", "attachments"}
SUBSTATEMENT_KEYS = {"objectType", "actor", "verb", "object", "result", "context", "timestamp"}
AGENT_KEYS = {"objectType", "name", "mbox", "mbox_sha1sum", "openid", "account"}
GROUP_KEYS = AGENT_KEYS | {"member"}
IFI_KEYS = ("mbox", "mbox_sha1sum", "openid", "account")
ACTIVITY_DEFINITION_KEYS = {"name", "description", "type", "moreInfo", "interactionType",
                            "correctResponsesPattern", "choices", "scale", "source", "target",
                            "steps", "extensions"}
INTERACTION_TYPES = {"true-false", "choice", "fill-in", "long-fill-in", "matching", "performance",
                     "sequencing", "likert", "numeric", "other"}
INTERACTION_COMPONENT_LISTS = ("choices", "scale", "source", "target", "steps")
CONTEXT_KEYS = {"registration", "instructor", "team", "contextActivities", "revision", "platform",
                "language", "statement", "extensions"}
CONTEXT_ACTIVITY_KEYS = {"parent", "grouping", "category", "other"}
RESULT_KEYS = {"score", "success", "completion", "response", "duration", "extensions"}
SCORE_KEYS = {"scaled", "raw", "min", "max"}
ATTACHMENT_KEYS = {"usageType", "display", "description", "contentType", "length", "sha2", "fileUrl"}


RULE_PREFIX = "analytics.xapi_rule."
_MESSAGES = Path(__file__).resolve().parents[1] / "messages.toml"


@cache
def _english() -> Translator:
    return Translator("en", load_catalogue([_MESSAGES]), strict=False)


class InvalidStatement(InvalidInput):
    """A statement breaks a rule of xAPI; `path` says where (e.g. 'actor.mbox') and `rule`
    which one: 'mbox' is the catalogue's analytics.xapi_rule.mbox, filled in with `rule_params`.
    The `reason` parameter is that rule as a Message, worded in the reader's language."""

    key = "analytics.xapi.invalid_statement"

    def __init__(self, path: str, rule: str, index: int | None = None, **rule_params: object) -> None:
        self.path = path
        self.rule = rule
        self.rule_params = rule_params
        super().__init__(None, path=path or Message(RULE_PREFIX + "whole_statement"),
                         reason=Message(RULE_PREFIX + rule, rule_params),
                         index=(index + 1) if index is not None else 1)

    @property
    def where(self) -> str:
        """`path` for the HTTP API, in English ('(statement)' for the statement as a whole)."""
        return self.path or _english()(RULE_PREFIX + "whole_statement")

    @property
    def reason(self) -> str:
        """The rule in English (the HTTP API answers learning apps in English)."""
        return _english()(RULE_PREFIX + self.rule, **self.rule_params)

    def at(self, index: int) -> InvalidStatement:
        """The same problem, placed as the `index`-th (0-based) statement of a batch."""
        return InvalidStatement(self.path, self.rule, index, **self.rule_params)


class _Duplicate(ValueError):
    pass


def _refuse_duplicates(pairs: list[tuple[str, object]]) -> dict:
    seen: dict[str, object] = {}
    for name, value in pairs:
        if name in seen:
            raise _Duplicate(name)
        seen[name] = value
    return seen


def parse_json(text: str | bytes) -> object:
    """JSON with duplicate property names refused (a statement must say things once)."""
    try:
        return http.loads(text, object_pairs_hook=_refuse_duplicates)
    except http.JsonTooDeep as exc:
        raise InvalidStatement("", "too_deep", max_depth=http.MAX_JSON_DEPTH) from exc
    except _Duplicate as exc:
        raise InvalidStatement(str(exc), "duplicate") from exc
    except json.JSONDecodeError as exc:
        raise InvalidStatement("", "not_json", detail=str(exc), position=exc.pos + 1) from exc
    except (ValueError, UnicodeDecodeError) as exc:
        raise InvalidStatement("", "not_utf8_json", detail=str(exc)) from exc


def parse_statements(text: str | bytes) -> list[dict]:
    """A POST body: one statement object or a non-empty array of them."""
    body = parse_json(text)
    if isinstance(body, dict):
        return [body]
    if isinstance(body, list) and body and all(isinstance(s, dict) for s in body):
        return body
    raise InvalidStatement("", "body")


# --- the rules -------------------------------------------------------------------------------


def _fail(path: str, rule: str, **params: object) -> NoReturn:
    """Refuse: `rule` names analytics.xapi_rule.<rule> in the catalogue, `params` fill it in."""
    raise InvalidStatement(path, rule, **params)


def _object(value: object, path: str) -> dict:
    if not isinstance(value, dict):
        _fail(path, "object")
    for name, item in value.items():
        if item is None:
            _fail(f"{path}.{name}" if path else name, "not_null")
    return value


def _keys(value: dict, allowed: set[str], path: str) -> None:
    extra = sorted(set(value) - allowed)
    if extra:
        _fail(f"{path}.{extra[0]}" if path else extra[0], "unknown_property", name=extra[0])


def _string(value: object, path: str) -> str:
    if not isinstance(value, str):
        _fail(path, "string")
    return value


def _iri(value: object, path: str) -> str:
    if not isinstance(value, str) or not _IRI.match(value):
        _fail(path, "iri")
    return value


def _uuid(value: object, path: str) -> str:
    if not isinstance(value, str) or not _UUID.match(value):
        _fail(path, "uuid")
    return value


def _bool(value: object, path: str) -> bool:
    if not isinstance(value, bool):
        _fail(path, "boolean")
    return value


def _number(value: object, path: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        _fail(path, "number")
    return float(value)


def _language_map(value: object, path: str) -> None:
    _object(value, path)
    for tag, text in value.items():
        if not _LANGUAGE_TAG.match(tag):
            _fail(f"{path}.{tag}", "language_tag")
        _string(text, f"{path}.{tag}")


def _extensions(value: object, path: str) -> None:
    # Extension values may be anything JSON holds, null and empty included.
    if not isinstance(value, dict):
        _fail(path, "object")
    for name in value:
        _iri(name, f"{path}[{name}]")


def parse_timestamp(value: str) -> datetime:
    """A validated timestamp as an aware datetime (UTC when it names no zone)."""
    return _timestamp(value, "timestamp")


def _timestamp(value: object, path: str) -> datetime:
    if not isinstance(value, str) or not _TIMESTAMP.match(value):
        _fail(path, "timestamp")
    if value.endswith("-00:00") or value.endswith("-0000"):
        _fail(path, "minus_zero_offset")
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        _fail(path, "timestamp")
    # Without a zone the spec's advice is UTC.
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _agent(value: object, path: str, *, in_group: bool = False) -> None:
    _object(value, path)
    kind = value.get("objectType", "Agent")
    if kind != "Agent":
        if in_group:
            _fail(f"{path}.objectType", "must_be", value="Agent")
        _fail(f"{path}.objectType", "agent_or_group")
    _keys(value, AGENT_KEYS, path)
    ifis = [k for k in IFI_KEYS if k in value]
    if len(ifis) != 1:
        _fail(path, "agent_identifier")
    _ifi(value, ifis[0], path)
    if "name" in value:
        _string(value["name"], f"{path}.name")


def _ifi(value: dict, ifi: str, path: str) -> None:
    where = f"{path}.{ifi}"
    item = value[ifi]
    if ifi == "mbox":
        if not isinstance(item, str) or not _MBOX.match(item):
            _fail(where, "mbox")
    elif ifi == "mbox_sha1sum":
        if not isinstance(item, str) or not _SHA1.match(item):
            _fail(where, "sha1")
    elif ifi == "openid":
        _iri(item, where)
    else:
        _object(item, where)
        _keys(item, {"homePage", "name"}, where)
        if "homePage" not in item or "name" not in item:
            _fail(where, "account")
        _iri(item["homePage"], f"{where}.homePage")
        _string(item["name"], f"{where}.name")


def _group(value: dict, path: str) -> None:
    _keys(value, GROUP_KEYS, path)
    ifis = [k for k in IFI_KEYS if k in value]
    if len(ifis) > 1:
        _fail(path, "group_identifiers")
    if ifis:
        _ifi(value, ifis[0], path)
    if "name" in value:
        _string(value["name"], f"{path}.name")
    members = value.get("member")
    if members is not None or not ifis:
        if not isinstance(members, list) or (not ifis and not members):
            _fail(f"{path}.member", "group_members")
        for n, member in enumerate(members):
            _agent(member, f"{path}.member[{n}]", in_group=True)


def _actor(value: object, path: str) -> None:
    _object(value, path)
    if value.get("objectType") == "Group":
        _group(value, path)
    else:
        _agent(value, path)


def _verb(value: object, path: str) -> None:
    _object(value, path)
    _keys(value, {"id", "display"}, path)
    if "id" not in value:
        _fail(f"{path}.id", "required")
    _iri(value["id"], f"{path}.id")
    if "display" in value:
        _language_map(value["display"], f"{path}.display")


def _interaction_components(items: object, path: str) -> None:
    if not isinstance(items, list):
        _fail(path, "array")
    ids = set()
    for n, item in enumerate(items):
        where = f"{path}[{n}]"
        _object(item, where)
        _keys(item, {"id", "description"}, where)
        component_id = _string(item.get("id"), f"{where}.id")
        if component_id in ids:
            _fail(f"{where}.id", "used_twice", value=component_id)
        ids.add(component_id)
        if "description" in item:
            _language_map(item["description"], f"{where}.description")


def _activity(value: dict, path: str) -> None:
    _keys(value, {"objectType", "id", "definition"}, path)
    if "id" not in value:
        _fail(f"{path}.id", "activity_id")
    _iri(value["id"], f"{path}.id")
    if "definition" not in value:
        return
    definition = _object(value["definition"], f"{path}.definition")
    where = f"{path}.definition"
    _keys(definition, ACTIVITY_DEFINITION_KEYS, where)
    for name in ("name", "description"):
        if name in definition:
            _language_map(definition[name], f"{where}.{name}")
    if "type" in definition:
        _iri(definition["type"], f"{where}.type")
    if "moreInfo" in definition:
        _iri(definition["moreInfo"], f"{where}.moreInfo")
    if "extensions" in definition:
        _extensions(definition["extensions"], f"{where}.extensions")
    interaction = definition.get("interactionType")
    if interaction is not None and (not isinstance(interaction, str) or interaction not in INTERACTION_TYPES):
        _fail(f"{where}.interactionType", "interaction_type",
              allowed=", ".join(sorted(INTERACTION_TYPES)))
    if "correctResponsesPattern" in definition:
        if interaction is None:
            _fail(f"{where}.correctResponsesPattern", "needs_interaction_type")
        pattern = definition["correctResponsesPattern"]
        if not isinstance(pattern, list) or not all(isinstance(p, str) for p in pattern):
            _fail(f"{where}.correctResponsesPattern", "string_array")
    for name in INTERACTION_COMPONENT_LISTS:
        if name in definition:
            if interaction is None:
                _fail(f"{where}.{name}", "needs_interaction_type")
            _interaction_components(definition[name], f"{where}.{name}")


def _statement_ref(value: dict, path: str) -> None:
    _keys(value, {"objectType", "id"}, path)
    _uuid(value.get("id"), f"{path}.id")


def _statement_object(value: object, path: str, *, in_substatement: bool = False) -> str:
    _object(value, path)
    kind = value.get("objectType", "Activity")
    if kind == "Activity":
        _activity(value, path)
    elif kind == "Agent":
        _agent(value, path)
    elif kind == "Group":
        _group(value, path)
    elif kind == "StatementRef":
        _statement_ref(value, path)
    elif kind == "SubStatement":
        if in_substatement:
            _fail(f"{path}.objectType", "nested_substatement")
        _keys(value, SUBSTATEMENT_KEYS, path)
        _statement_body(value, path, in_substatement=True)
    else:
        _fail(f"{path}.objectType", "object_type")
    return kind


def _result(value: object, path: str) -> None:
    _object(value, path)
    _keys(value, RESULT_KEYS, path)
    if "score" in value:
        score = _object(value["score"], f"{path}.score")
        _keys(score, SCORE_KEYS, f"{path}.score")
        figures = {k: _number(score[k], f"{path}.score.{k}") for k in SCORE_KEYS if k in score}
        if "scaled" in figures and not -1 <= figures["scaled"] <= 1:
            _fail(f"{path}.score.scaled", "scaled", value=score["scaled"])
        if "min" in figures and "max" in figures and figures["min"] >= figures["max"]:
            _fail(f"{path}.score.min", "min_below_max", min=score["min"], max=score["max"])
        if "raw" in figures:
            if "min" in figures and figures["raw"] < figures["min"]:
                _fail(f"{path}.score.raw", "raw_below_min", min=score["min"])
            if "max" in figures and figures["raw"] > figures["max"]:
                _fail(f"{path}.score.raw", "raw_above_max", max=score["max"])
    for name in ("success", "completion"):
        if name in value:
            _bool(value[name], f"{path}.{name}")
    if "response" in value:
        _string(value["response"], f"{path}.response")
    if "duration" in value and (not isinstance(value["duration"], str)
                                or not _DURATION.match(value["duration"])):
        _fail(f"{path}.duration", "duration")
    if "extensions" in value:
        _extensions(value["extensions"], f"{path}.extensions")


def _context_activities(value: object, path: str) -> None:
    _object(value, path)
    _keys(value, CONTEXT_ACTIVITY_KEYS, path)
    for name, item in value.items():
        items = item if isinstance(item, list) else [item]
        for n, activity in enumerate(items):
            where = f"{path}.{name}[{n}]"
            _object(activity, where)
            if activity.get("objectType", "Activity") != "Activity":
                _fail(f"{where}.objectType", "must_be", value="Activity")
            _activity(activity, where)


def _context(value: object, path: str, object_kind: str) -> None:
    _object(value, path)
    _keys(value, CONTEXT_KEYS, path)
    if "registration" in value:
        _uuid(value["registration"], f"{path}.registration")
    if "instructor" in value:
        _actor(value["instructor"], f"{path}.instructor")
    if "team" in value:
        team = _object(value["team"], f"{path}.team")
        if team.get("objectType") != "Group":
            _fail(f"{path}.team.objectType", "must_be", value="Group")
        _group(team, f"{path}.team")
    if "contextActivities" in value:
        _context_activities(value["contextActivities"], f"{path}.contextActivities")
    for name in ("revision", "platform"):
        if name in value:
            _string(value[name], f"{path}.{name}")
            if object_kind != "Activity":
                _fail(f"{path}.{name}", "activity_only")
    if "language" in value and (not isinstance(value["language"], str)
                                or not _LANGUAGE_TAG.match(value["language"])):
        _fail(f"{path}.language", "language_tag")
    if "statement" in value:
        ref = _object(value["statement"], f"{path}.statement")
        if ref.get("objectType") != "StatementRef":
            _fail(f"{path}.statement.objectType", "must_be", value="StatementRef")
        _statement_ref(ref, f"{path}.statement")
    if "extensions" in value:
        _extensions(value["extensions"], f"{path}.extensions")


def _statement_body(value: dict, prefix: str, *, in_substatement: bool = False) -> None:
    def at(name: str) -> str:
        return f"{prefix}.{name}" if prefix else name

    for name in ("actor", "verb", "object"):
        if name not in value:
            _fail(at(name), "required")
    _actor(value["actor"], at("actor"))
    _verb(value["verb"], at("verb"))
    kind = _statement_object(value["object"], at("object"), in_substatement=in_substatement)
    if value["verb"]["id"] == VOIDED_VERB and kind != "StatementRef":
        _fail(at("object"), "voiding_object")
    if "result" in value:
        _result(value["result"], at("result"))
    if "context" in value:
        _context(value["context"], at("context"), kind)
    if "timestamp" in value:
        _timestamp(value["timestamp"], at("timestamp"))


def validate_statement(statement: object, *, attachment_parts: bool = False) -> dict:
    """Check one statement against xAPI 1.0.3; return it, or raise InvalidStatement.

    Without `attachment_parts` (a JSON body, a bulk file) every attachment must have a fileUrl;
    with them (a statement request, multipart or not) an attachment may come as bytes instead,
    which analytics.services.attachments.check_parts then requires."""
    _object(statement, "")
    _keys(statement, STATEMENT_KEYS, "")
    if "id" in statement:
        _uuid(statement["id"], "id")
    _statement_body(statement, "")
    if "stored" in statement:
        _timestamp(statement["stored"], "stored")
    if "authority" in statement:
        authority = statement["authority"]
        _actor(authority, "authority")
        # A group as authority is the OAuth pair: anonymous, exactly two members.
        if authority.get("objectType") == "Group" and (
                any(k in authority for k in IFI_KEYS) or len(authority.get("member", [])) != 2):
            _fail("authority", "group_authority")
    if "version" in statement:
        version = statement["version"]
        if not isinstance(version, str) or not re.match(r"^1\.0(\.\d+)?$", version):
            _fail("version", "version")
    if "attachments" in statement:
        attachments = statement["attachments"]
        if not isinstance(attachments, list):
            _fail("attachments", "array")
        for n, attachment in enumerate(attachments):
            where = f"attachments[{n}]"
            _object(attachment, where)
            _keys(attachment, ATTACHMENT_KEYS, where)
            for name in ("usageType", "display", "contentType", "length", "sha2"):
                if name not in attachment:
                    _fail(f"{where}.{name}", "required")
            _iri(attachment["usageType"], f"{where}.usageType")
            _language_map(attachment["display"], f"{where}.display")
            if "description" in attachment:
                _language_map(attachment["description"], f"{where}.description")
            _string(attachment["contentType"], f"{where}.contentType")
            if isinstance(attachment["length"], bool) or not isinstance(attachment["length"], int):
                _fail(f"{where}.length", "integer")
            _string(attachment["sha2"], f"{where}.sha2")
            if "fileUrl" in attachment:
                _iri(attachment["fileUrl"], f"{where}.fileUrl")
            elif not attachment_parts:
                _fail(f"{where}.fileUrl", "attachment_part")
    return statement


def validate_batch(statements: list[dict]) -> None:
    """Validate every statement; the first bad one names its place in the batch."""
    for index, statement in enumerate(statements):
        try:
            validate_statement(statement)
        except InvalidStatement as exc:
            raise exc.at(index) from None


def validate_agent(value: object, path: str = "agent") -> dict:
    """An Agent (or Group) given as a request parameter: the document resources and /agents."""
    _actor(value, path)
    return value


def validate_iri(value: object, path: str) -> str:
    """An IRI given as a request parameter (activityId)."""
    return _iri(value, path)

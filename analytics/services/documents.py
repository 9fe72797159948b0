"""The xAPI document resources (xAPI 1.0.3 part 3, §7.3–7.6) and the activity and agent views.

Learning apps keep documents beside their statements: a state per activity, agent, optional
registration and stateId; an activity profile per activity and profileId; an agent profile per
agent and profileId. A document is kept byte for byte with its Content-Type; its ETag is the sha1
of its bytes (hex), which If-Match / If-None-Match compare against:

* If-Match (a list of ETags or `*`) fails with 412 when the document is absent or its ETag is not
  listed; If-None-Match fails with 412 when the document exists and is `*` or listed.
* A PUT to an activity or agent profile with neither header is refused: 409 when the profile
  exists (the app must say which version it means to overwrite), 400 when it does not (it
  should have sent If-None-Match: *), as ADL's conformance suite expects. States may be
  overwritten (the 1.0.3 spec asks preconditions of profiles only), but headers sent are honoured.
* POST merges: absent, it stores like PUT; present, both the stored and the new document must
  be JSON objects (`application/json`), and the new one's top-level properties replace the old
  ones' (one level deep). Otherwise 400 and nothing changes.

`activity` and `person` answer GET /xapi/activities and GET /xapi/agents from the statements.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime

from analytics.services import lrs
from analytics.services.xapi_validate import (
    InvalidStatement,
    parse_json,
    parse_timestamp,
    validate_agent,
    validate_iri,
)
from kernel import http
from kernel.clock import Clock
from kernel.errors import Conflict, InvalidInput
from kernel.store import Store

STATE = "state"
ACTIVITY_PROFILE = "activity_profile"
AGENT_PROFILE = "agent_profile"
JSON_TYPE = "application/json"
DEFAULT_TYPE = "application/octet-stream"
_MERGED_MAPS = ("name", "description", "extensions")
MAX_BYTES = 16 * 1024 * 1024  # a document larger than this is refused (413)


class DocumentProblem(InvalidInput):
    """A request to a document resource that breaks a rule (400): `reason` says which."""

    key = "analytics.xapi_doc.bad_request"

    def __init__(self, reason: str) -> None:
        super().__init__(None, reason=reason)
        self.reason = reason


class PreconditionFailed(Conflict):
    """If-Match / If-None-Match did not hold (412)."""

    key = "analytics.xapi_doc.precondition_failed"


class PreconditionRequired(Conflict):
    """A PUT would overwrite a profile without If-Match or If-None-Match (409)."""

    key = "analytics.xapi_doc.precondition_required"


@dataclass(frozen=True)
class Scope:
    """Where documents live: the kind and the parameters besides the document's own id."""

    kind: str
    activity_id: str = ""
    agent_key: str = ""
    registration: str = ""


@dataclass(frozen=True)
class Document:
    content: bytes
    content_type: str
    etag: str
    updated: datetime


@dataclass(frozen=True)
class Preconditions:
    """The request's If-Match and If-None-Match headers, as sent (None when absent)."""

    if_match: str | None = None
    if_none_match: str | None = None

    @property
    def given(self) -> bool:
        return self.if_match is not None or self.if_none_match is not None


# --- parameters ------------------------------------------------------------------------------


def parse_agent(text: str | None) -> dict:
    """The `agent` parameter: JSON of an Agent (or identified Group), checked as in statements."""
    if text is None:
        raise DocumentProblem("the agent parameter is required")
    try:
        agent = parse_json(text)
    except InvalidInput as exc:
        raise DocumentProblem("agent must be an Agent object in JSON") from exc
    try:
        return validate_agent(agent)
    except InvalidStatement as exc:
        raise DocumentProblem(f"agent is not a valid Agent: {exc.where} {exc.reason}") from exc


def parse_activity_id(text: str | None) -> str:
    if text is None:
        raise DocumentProblem("the activityId parameter is required")
    try:
        return validate_iri(text, "activityId")
    except InvalidInput as exc:
        raise DocumentProblem("activityId must be an IRI") from exc


def parse_registration(text: str | None) -> str:
    if text is None:
        return ""
    try:
        return str(lrs.valid_uuid(text, "registration"))
    except (InvalidInput, ValueError) as exc:
        raise DocumentProblem("registration must be a UUID") from exc


def parse_since(text: str | None) -> datetime | None:
    if text is None:
        return None
    try:
        return parse_timestamp(text)
    except InvalidInput as exc:
        raise DocumentProblem("since must be an ISO 8601 timestamp") from exc


def state_scope(activity_id: str | None, agent: str | None, registration: str | None) -> Scope:
    return Scope(STATE, parse_activity_id(activity_id), lrs.actor_key(parse_agent(agent)),
                 parse_registration(registration))


def activity_profile_scope(activity_id: str | None) -> Scope:
    return Scope(ACTIVITY_PROFILE, activity_id=parse_activity_id(activity_id))


def agent_profile_scope(agent: str | None) -> Scope:
    return Scope(AGENT_PROFILE, agent_key=lrs.actor_key(parse_agent(agent)))


def etag_of(content: bytes) -> str:
    return hashlib.sha1(content).hexdigest()  # noqa: S324 — the spec's ETag, not a secret


def media_type(content_type: str | None) -> str:
    return (content_type or "").split(";")[0].strip().lower()


def _tags(header: str) -> set[str]:
    tags = set()
    for part in header.split(","):
        tag = part.strip()
        if tag.startswith("W/"):
            tag = tag[2:]
        tags.add(tag.strip('"').lower())
    return tags


def _check(pre: Preconditions, current: str | None) -> None:
    """Raise PreconditionFailed unless the headers hold for the current ETag (None: absent)."""
    if pre.if_match is not None:
        tags = _tags(pre.if_match)
        if current is None or ("*" not in tags and current not in tags):
            raise PreconditionFailed()
    if pre.if_none_match is not None and current is not None:
        tags = _tags(pre.if_none_match)
        if "*" in tags or current in tags:
            raise PreconditionFailed()


def _json_object(content: bytes, which: str) -> dict:
    try:
        value = http.loads(content)
    except http.JsonTooDeep as exc:
        raise DocumentProblem(f"{which} nests deeper than {http.MAX_JSON_DEPTH} levels") from exc
    except (ValueError, UnicodeDecodeError) as exc:
        raise DocumentProblem(f"{which} is not JSON") from exc
    if not isinstance(value, dict):
        raise DocumentProblem(f"{which} is not a JSON object")
    return value


# --- SQL -------------------------------------------------------------------------------------

_WHERE = "kind = ? AND activity_id = ? AND agent_key = ? AND registration = ?"


def _scope_params(scope: Scope) -> list[str]:
    return [scope.kind, scope.activity_id, scope.agent_key, scope.registration]


def _current(cur, scope: Scope, doc_id: str) -> tuple[bytes, str, str] | None:
    row = cur.execute(f"SELECT content, content_type, etag FROM analytics_xapi_documents "
                      f"WHERE {_WHERE} AND doc_id = ?", [*_scope_params(scope), doc_id]).fetchone()
    return None if row is None else (bytes(row[0]), row[1], row[2])


def _save(cur, scope: Scope, doc_id: str, content: bytes, content_type: str, exists: bool,
          now: datetime, client_id: int) -> None:
    if exists:
        # Only the non-key columns change, so DuckDB updates in place.
        cur.execute(f"UPDATE analytics_xapi_documents SET content = ?, content_type = ?, etag = ?, "
                    f"updated = ?, client_id = ? WHERE {_WHERE} AND doc_id = ?",
                    [content, content_type, etag_of(content), now, client_id, *_scope_params(scope), doc_id])
    else:
        cur.execute("INSERT INTO analytics_xapi_documents VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    [*_scope_params(scope), doc_id, content_type, content, etag_of(content), now, client_id])


def _doc_id(doc_id: str | None, name: str) -> str:
    if not doc_id:
        raise DocumentProblem(f"the {name} parameter is required")
    if len(doc_id) > 1000:
        raise DocumentProblem(f"{name} is longer than 1000 characters")
    return doc_id


# --- the resources ---------------------------------------------------------------------------


def get_document(store: Store, scope: Scope, doc_id: str) -> Document | None:
    row = store.cursor().execute(
        f"SELECT content, content_type, etag, updated FROM analytics_xapi_documents "
        f"WHERE {_WHERE} AND doc_id = ?", [*_scope_params(scope), doc_id]).fetchone()
    return None if row is None else Document(bytes(row[0]), row[1], row[2], row[3])


def document_ids(store: Store, scope: Scope, since: datetime | None = None) -> list[str]:
    """The ids of the scope's documents, those changed after `since` when given."""
    sql = f"SELECT doc_id FROM analytics_xapi_documents WHERE {_WHERE}"
    params: list[object] = _scope_params(scope)
    if since is not None:
        sql += " AND updated > ?"
        params.append(since)
    return [row[0] for row in store.query(sql + " ORDER BY updated, doc_id", params)]


def put_document(store: Store, clock: Clock, client_id: int, scope: Scope, doc_id: str | None,
                 content: bytes, content_type: str | None, pre: Preconditions = Preconditions()) -> str:
    """Store (or replace) a document; returns its new ETag."""
    doc_id = _doc_id(doc_id, "stateId" if scope.kind == STATE else "profileId")
    kept_type = (content_type or "").strip() or DEFAULT_TYPE

    def work(cur) -> str:
        current = _current(cur, scope, doc_id)
        if scope.kind != STATE and not pre.given:
            if current is not None:
                raise PreconditionRequired()
            raise DocumentProblem("a PUT to a profile needs If-None-Match: * for a new document "
                                  "(or If-Match with the stored ETag)")
        _check(pre, current[2] if current else None)
        _save(cur, scope, doc_id, content, kept_type, current is not None, clock.now(), client_id)
        return etag_of(content)

    return store.write(work)


def post_document(store: Store, clock: Clock, client_id: int, scope: Scope, doc_id: str | None,
                  content: bytes, content_type: str | None, pre: Preconditions = Preconditions()) -> str:
    """Store a new document, or merge a JSON object into the stored one; returns the ETag."""
    doc_id = _doc_id(doc_id, "stateId" if scope.kind == STATE else "profileId")
    sent_json = media_type(content_type) == JSON_TYPE
    incoming = _json_object(content, "the document") if sent_json else None

    def work(cur) -> str:
        current = _current(cur, scope, doc_id)
        _check(pre, current[2] if current else None)
        if current is None:
            kept = (content_type or "").strip() or DEFAULT_TYPE
            _save(cur, scope, doc_id, content, kept, False, clock.now(), client_id)
            return etag_of(content)
        stored, stored_type, _ = current
        if media_type(stored_type) != JSON_TYPE or incoming is None:
            raise DocumentProblem("POST merges JSON objects only: both the stored document and the "
                                  "new one must be application/json")
        merged = {**_json_object(stored, "the stored document"), **incoming}
        body = json.dumps(merged, ensure_ascii=False, separators=(",", ":")).encode()
        _save(cur, scope, doc_id, body, JSON_TYPE, True, clock.now(), client_id)
        return etag_of(body)

    return store.write(work)


def delete_document(store: Store, scope: Scope, doc_id: str, pre: Preconditions = Preconditions()) -> None:
    """Delete one document (absent is fine: DELETE is idempotent)."""
    def work(cur) -> None:
        current = _current(cur, scope, doc_id)
        _check(pre, current[2] if current else None)
        cur.execute(f"DELETE FROM analytics_xapi_documents WHERE {_WHERE} AND doc_id = ?",
                    [*_scope_params(scope), doc_id])

    store.write(work)


def delete_documents(store: Store, scope: Scope) -> None:
    """Delete every document of the scope (DELETE on the state resource without stateId)."""
    store.write(lambda cur: cur.execute(f"DELETE FROM analytics_xapi_documents WHERE {_WHERE}",
                                        _scope_params(scope)))


# --- activities and agents -------------------------------------------------------------------


def _merge_definition(into: dict, definition: dict) -> None:
    for name, value in definition.items():
        if name in _MERGED_MAPS and isinstance(value, dict) and isinstance(into.get(name), dict):
            into[name] = {**into[name], **value}
        else:
            into[name] = value


def _written_by(client_id: int | None) -> str:
    """The condition on statements a key reads (lrs.Client.reads_only: only its own, or all)."""
    return "" if client_id is None else f" AND client_id = {int(client_id)}"


def activity(store: Store, activity_id: str, written_by: int | None = None) -> dict:
    """The Activity with everything the statements said of it (those of client `written_by`
    when given): each distinct definition sent, oldest first, merged (language maps and
    extensions joined, other properties the latest)."""
    rows = store.query(
        "SELECT definition, max(seq) AS last FROM analytics_statements "
        f"WHERE object_type = 'Activity' AND object_id = ? AND definition IS NOT NULL{_written_by(written_by)} "
        "GROUP BY definition ORDER BY last", [activity_id])
    definition: dict = {}
    for text, _ in rows:
        value = json.loads(text)
        if isinstance(value, dict):
            _merge_definition(definition, value)
    found: dict = {"objectType": "Activity", "id": activity_id}
    if definition:
        found["definition"] = definition
    return found


def person(store: Store, agent: dict, written_by: int | None = None) -> dict:
    """The Person object for an agent: its identifier and the names statements (those of client
    `written_by` when given) gave it."""
    key = lrs.actor_key(agent)
    names = [r[0] for r in store.query(
        "SELECT actor_name FROM analytics_statements WHERE actor_key = ? AND actor_name IS NOT NULL"
        f"{_written_by(written_by)} GROUP BY actor_name ORDER BY max(seq) DESC LIMIT 20", [key])]
    if isinstance(agent.get("name"), str) and agent["name"] not in names:
        names.insert(0, agent["name"])
    found: dict = {"objectType": "Person"}
    if names:
        found["name"] = names
    for ifi in ("mbox", "mbox_sha1sum", "openid", "account"):
        if ifi in agent:
            found[ifi] = [agent[ifi]]
    return found

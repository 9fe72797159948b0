"""The learning record store: client apps, storing, voiding and querying xAPI statements.

A batch is all or nothing: every statement is validated first, then one transaction
checks ids already stored (same content: accepted again without a copy; different:
StatementConflict), inserts the new rows in one set-based INSERT and marks voided ones.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import hmac
import json
import re
import secrets
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TypeVar

import duckdb
import polars as pl
import pyarrow as pa
import pyarrow.compute as pc

from analytics.services import attachments, stored_ids, texts
from analytics.services.xapi_validate import (
    IFI_KEYS,
    VOIDED_VERB,
    InvalidStatement,
    parse_json,
    parse_timestamp,
    validate_statement,
)
from kernel.actor import Actor
from kernel.clock import Clock
from kernel.errors import Conflict, InvalidInput, NotFound
from kernel.store import Store

# The extension a learning app uses to name the curriculum unit (学習指導要領コード).
CURRICULUM_EXTENSION = "https://manabi.city.iizuka.lg.jp/xapi/extensions/curriculum-code"
# A 16-digit path segment of the activity id, e.g. …/units/8101001110000000/test.
_UNIT_SEGMENT = re.compile(r"/([0-9]{16})(?=/|$|\?|#)")  # ASCII digits, as SQL's [0-9] (not \d)
_CODE = re.compile(r"[0-9]{16}")
_DURATION_PARTS = re.compile(
    r"^P(?:(?P<Y>[\d.]+)Y)?(?:(?P<M>[\d.]+)M)?(?:(?P<W>[\d.]+)W)?(?:(?P<D>[\d.]+)D)?"
    r"(?:T(?:(?P<h>[\d.]+)H)?(?:(?P<m>[\d.]+)M)?(?:(?P<s>[\d.]+)S)?)?$"
)
_SECONDS = {"Y": 365 * 86400, "M": 30 * 86400, "W": 7 * 86400, "D": 86400, "h": 3600, "m": 60, "s": 1}
# What a stored statement's content is compared on: everything but what the store sets.
_NOT_CONTENT = ("id", "stored", "authority", "version")
IMPORT_CLIENT_ID = 0
IMPORT_AUTHORITY = {"objectType": "Agent", "name": "manabi import",
                    "account": {"homePage": "urn:manabi:xapi:clients", "name": "import"}}
MAX_LIMIT = 500
XAPI_VERSION = "1.0.3"


T = TypeVar("T")


class StatementConflict(Conflict):
    key = "analytics.xapi.conflict"


# --- client apps (HTTP Basic credentials) ----------------------------------------------------


@dataclass(frozen=True)
class Client:
    id: int
    name: str
    api_key: str
    read_all: bool = False  # the city administrator's grant; without it the key reads only its own

    @property
    def reads_only(self) -> int | None:
        """The client id whose statements this key may read (xAPI statements/read/mine), or
        None when it may read all."""
        return None if self.read_all else self.id

    @property
    def authority(self) -> dict:
        return {"objectType": "Agent", "name": self.name,
                "account": {"homePage": "urn:manabi:xapi:clients", "name": self.api_key}}


@dataclass(frozen=True)
class NewClient:
    id: int
    name: str
    api_key: str
    secret: str  # shown once; only its hash is kept


def _hash_secret(secret: str) -> str:
    # The secret is 32 random bytes, so a plain SHA-256 is as strong as a slow hash here,
    # and it keeps each request's check cheap.
    return hashlib.sha256(secret.encode()).hexdigest()


def add_client(store: Store, clock: Clock, actor: Actor, name: str) -> NewClient:
    actor.require("city_admin")
    name = name.strip()
    if not 1 <= len(name) <= 100:
        raise InvalidInput("analytics.xapi.client_name_rule")
    api_key = "mk_" + secrets.token_hex(8)
    secret = secrets.token_urlsafe(32)

    def work(cur) -> int:
        if cur.execute("SELECT 1 FROM analytics_xapi_clients WHERE name = ?", [name]).fetchone():
            raise InvalidInput("analytics.xapi.client_exists", name=name)
        return cur.execute(
            "INSERT INTO analytics_xapi_clients (name, api_key, secret_hash, created_at) VALUES (?, ?, ?, ?) "
            "RETURNING id", [name, api_key, _hash_secret(secret), clock.now()]).fetchone()[0]

    return NewClient(store.write(work), name, api_key, secret)


def list_clients(store: Store, actor: Actor) -> list[dict]:
    actor.require("city_admin")
    return store.query_dicts(
        "SELECT c.id, c.name, c.api_key, c.created_at, c.disabled, c.read_all IS TRUE AS read_all, "
        "(SELECT count(*) FROM analytics_statements s WHERE s.client_id = c.id) AS statements "
        "FROM analytics_xapi_clients c ORDER BY c.name")


def grant_read_all(store: Store, actor: Actor, name: str, read_all: bool) -> dict:
    """Let the app named `name` read every statement (read_all) or only its own; returns
    the app as list_clients shows it."""
    actor.require("city_admin")

    def work(cur) -> None:
        if not cur.execute("SELECT 1 FROM analytics_xapi_clients WHERE name = ?", [name]).fetchone():
            raise NotFound("analytics.xapi.client_not_found", name=name)
        cur.execute("UPDATE analytics_xapi_clients SET read_all = ? WHERE name = ?", [read_all, name])

    store.write(work)
    forget_authenticated()
    return next(c for c in list_clients(store, actor) if c["name"] == name)


# Keys checked lately, so that a learning app's every request does not ask the database: by
# (store, key, hash of the secret), with when the answer expires. A grant or change made in this
# process clears them at once; one made by another process is seen within AUTH_CACHE_SECONDS.
AUTH_CACHE_SECONDS = 5.0
_authenticated: dict[tuple[int, str, str], tuple[Client, float]] = {}


def forget_authenticated() -> None:
    _authenticated.clear()


def authenticated(store: Store, api_key: str, secret: str) -> Client | None:
    """The client of a key and secret checked within AUTH_CACHE_SECONDS, else None (then ask authenticate)."""
    found = _authenticated.get((id(store), api_key, _hash_secret(secret)))
    return found[0] if found and found[1] > time.monotonic() else None


def authenticate(store: Store, api_key: str, secret: str) -> Client | None:
    secret_hash = _hash_secret(secret)
    row = store.query("SELECT id, name, secret_hash, read_all IS TRUE FROM analytics_xapi_clients "
                      "WHERE api_key = ? AND NOT disabled", [api_key])
    if not row or not hmac.compare_digest(row[0][2], secret_hash):
        return None
    client = Client(row[0][0], row[0][1], api_key, row[0][3])
    if len(_authenticated) > 10_000:
        _authenticated.clear()
    _authenticated[(id(store), api_key, secret_hash)] = (client, time.monotonic() + AUTH_CACHE_SECONDS)
    return client


# --- from a statement to a row ---------------------------------------------------------------


def actor_key(agent: dict) -> str:
    """One string per identified agent or group, as GET's `agent` filter compares them."""
    if "mbox" in agent:
        return "mbox:" + agent["mbox"].lower()
    if "mbox_sha1sum" in agent:
        return "sha1:" + agent["mbox_sha1sum"].lower()
    if "openid" in agent:
        return "openid:" + agent["openid"]
    if "account" in agent:
        return f"account:{agent['account']['homePage']}|{agent['account']['name']}"
    members = sorted(actor_key(m) for m in agent.get("member", []))
    return "group:" + hashlib.sha256("\n".join(members).encode()).hexdigest()[:32]


def raw_text(statement: dict) -> str:
    """The statement as sent, without what the store sets, as compact JSON."""
    significant = {k: v for k, v in statement.items() if k not in _NOT_CONTENT}
    return json.dumps(significant, ensure_ascii=False, separators=(",", ":"))


def same_content(raw_a: str, raw_b: str) -> bool:
    """Whether two stored texts say the same, written alike or not (key order, 1.0 vs 1; a bulk
    import keeps each line whole, its id too)."""
    if raw_a == raw_b:
        return True

    def significant(raw: str) -> dict:
        return {k: v for k, v in json.loads(raw).items() if k not in _NOT_CONTENT}

    return significant(raw_a) == significant(raw_b)


def duration_seconds(text: str | None) -> float | None:
    match = _DURATION_PARTS.match(text) if text else None
    if not match:
        return None
    return sum(float(v) * _SECONDS[k] for k, v in match.groupdict().items() if v)


def _unit_code(statement: dict) -> str | None:
    target = statement["object"]
    for extensions in (target.get("definition", {}).get("extensions", {}),
                       statement.get("context", {}).get("extensions", {})):
        code = extensions.get(CURRICULUM_EXTENSION)
        if isinstance(code, str) and _CODE.fullmatch(code):
            return code
    if target.get("objectType", "Activity") == "Activity":
        match = _UNIT_SEGMENT.search(target["id"])
        if match:
            return match.group(1)
    return None


def _activity_name(target: dict) -> str | None:
    names = target.get("definition", {}).get("name") or {}
    for tag in ("ja", "ja-JP", "en", "en-US", "en-GB"):
        if tag in names:
            return names[tag]
    return next(iter(names.values()), None)


ROW_COLUMNS = ("id", "ts", "actor_key", "learner_id", "verb_id", "object_type", "object_id",
               "activity_name", "unit_code", "score_scaled", "success", "completion", "duration_s",
               "registration", "voids_id", "version", "actor_name", "definition", "raw")


def statement_row(statement: dict) -> tuple:
    """The typed facts of one validated statement (an id is assigned when it has none)."""
    statement_id = str(uuid.UUID(statement["id"])) if "id" in statement else str(uuid.uuid4())
    actor = statement["actor"]
    target = statement["object"]
    kind = target.get("objectType", "Activity")
    if kind in ("Agent", "Group"):
        object_id = actor_key(target)
    elif kind == "SubStatement":
        object_id = None
    else:
        object_id = target["id"]
    result = statement.get("result", {})
    score = result.get("score", {})
    verb_id = statement["verb"]["id"]
    return (
        statement_id,
        parse_timestamp(statement["timestamp"]) if "timestamp" in statement else None,
        actor_key(actor),
        actor["account"]["name"] if "account" in actor else None,
        verb_id,
        kind,
        object_id,
        _activity_name(target) if kind == "Activity" else None,
        _unit_code(statement),
        score.get("scaled"),
        result.get("success"),
        result.get("completion"),
        duration_seconds(result.get("duration")),
        statement.get("context", {}).get("registration"),
        target["id"].lower() if verb_id == VOIDED_VERB else None,
        statement.get("version"),  # stored NULL when 1.0.0 (analytics migration 005)
        actor.get("name"),
        json.dumps(target["definition"], ensure_ascii=False, separators=(",", ":"))
        if kind == "Activity" and "definition" in target else None,
        raw_text(statement),
    )


_SCHEMA = {
    "id": pl.String, "ts": pl.Datetime("us", "UTC"), "actor_key": pl.String, "learner_id": pl.String,
    "verb_id": pl.String, "object_type": pl.String, "object_id": pl.String, "activity_name": pl.String,
    "unit_code": pl.String, "score_scaled": pl.Float64, "success": pl.Boolean, "completion": pl.Boolean,
    "duration_s": pl.Float64, "registration": pl.String, "voids_id": pl.String,
    "version": pl.String, "actor_name": pl.String, "definition": pl.String, "raw": pl.String,
}


# A table of incoming rows (n and ROW_COLUMNS) as DuckDB types, for a caller that fills it in
# SQL. (Made by this DDL, not by CREATE TABLE AS from an empty polars frame: in DuckDB 1.5.5 such
# a temporary table silently dropped the rows of a later large INSERT in the same transaction.)
_DUCKDB_TYPES = {pl.String: "VARCHAR", pl.Float64: "DOUBLE", pl.Boolean: "BOOLEAN"}
INCOMING_COLUMNS = ", ".join(["n UBIGINT"] + [
    f"{name} {'TIMESTAMPTZ' if isinstance(kind, pl.Datetime) else _DUCKDB_TYPES[kind]}" for name, kind in _SCHEMA.items()])


_ARROW_TYPES = {name: pa.timestamp("us", "UTC") if isinstance(kind, pl.Datetime) else
                {pl.String: pa.string(), pl.Float64: pa.float64(), pl.Boolean: pa.bool_()}[kind]
                for name, kind in _SCHEMA.items()}


def rows_arrow(rows: list[tuple]) -> pa.Table:
    """As rows_frame, an Arrow table: DuckDB scans it as it is (a polars frame is converted
    to Arrow at every query that reads it)."""
    columns = list(zip(*rows, strict=True)) if rows else [()] * len(ROW_COLUMNS)
    return pa.table({"n": pa.array(range(len(rows)), pa.uint64()),
                     **{name: pa.array(values, _ARROW_TYPES[name]) for name, values in zip(ROW_COLUMNS, columns,
                                                                                          strict=True)}})


def rows_frame(rows: list[tuple]) -> pl.DataFrame:
    """ROW_COLUMNS and n, the row's place in the batch (0, 1, …): its seq is the batch's first plus n."""
    return pl.DataFrame(rows, schema=_SCHEMA, orient="row").with_row_index("n")


# --- storing ---------------------------------------------------------------------------------


POINT_LOOKUPS = 2000  # up to this many ids a batch names them as literals, past it a join


def with_roster_places(cur, rows: pa.Table) -> pa.Table:
    """rows (with learner_id) and each learner's school_id, grade and class_name on the roster
    (null for one not on it), looked up in Arrow: the INSERT of insert_incoming(rows=…)
    then needs no join with the roster, which cost 0.15 s of its 0.7 per 200,000 statements."""
    roster = cur.execute("SELECT learner_id, school_id, grade, class_name FROM analytics_learners").arrow().read_all()
    places = pc.index_in(rows.column("learner_id"), value_set=roster.column("learner_id").cast(rows.schema.field(
        "learner_id").type))
    for name in ("school_id", "grade", "class_name"):
        rows = rows.append_column(name, pc.take(roster.column(name), places))
    return rows


def insert_incoming(cur, incoming: str, client_id: int, now: datetime,
                    texts_in_order: Callable[[], texts.Packed] | None = None,
                    raws: Callable[[], str] | None = None, rows: str | None = None) -> None:
    """Insert the rows of table `incoming` (ROW_COLUMNS and n: 0, 1, … in the batch) inside the
    caller's transaction, which holds the statements lock (see write_statements). The texts
    are the raw column of `incoming`, or when it has none, of the table or subquery of n, raw
    that `raws` readies and names (called only if texts are needed). A caller that has the
    texts in n order passes a function giving them packed (texts.pack), which it may be
    computing meanwhile in another thread (texts_in_order).
    Each learner's school, grade and class are the roster's now: looked up here, or given in
    `rows`: a source read once (such as an Arrow stream) of all the batch's columns, each
    learner placed (with_roster_places); `incoming` then needs only n, id and voids_id.

    Ids already stored with the same content are skipped; with other content the whole
    batch fails with StatementConflict. A voiding statement may not void another voiding one.
    """
    # The texts are read only for ids met twice, in the batch or in the store.
    texts_as_sent = functools.cache(raws) if raws else None

    def with_texts() -> str:
        return f"{incoming} JOIN {texts_as_sent()} r USING (n)" if texts_as_sent else incoming

    batch_size, distinct_ids = cur.execute(f"SELECT count(*), count(DISTINCT id) FROM {incoming}").fetchone()
    doubled = _doubled_in_batch(cur, incoming, with_texts) if distinct_ids < batch_size else []
    # The stored statements with an id of the batch. A batch of an app's size names its ids as
    # literals (DuckDB then compares each stored id with a small set); a bulk file joins.
    small = distinct_ids <= POINT_LOOKUPS
    if small:
        of_batch = f"IN ({_uuid_list([r[0] for r in cur.execute(f'SELECT DISTINCT id FROM {incoming}').fetchall()])})"
    else:
        of_batch = f"IN (SELECT id::UUID FROM {incoming})"
    existing = _stored_of_batch(cur, incoming, of_batch, small)
    all_stored = len(existing) == distinct_ids  # a batch sent again: nothing to add, only to compare
    if existing:
        _compare_with_stored(cur, existing, with_texts, all_stored)
    targets = _voided_by_batch(cur, incoming)
    # The new statements, numbered 0, 1, … again when some are left out (their seqs follow on).
    fresh = incoming
    if (existing or doubled) and not all_stored:
        cur.execute(f"CREATE OR REPLACE TEMP TABLE statements_fresh AS "
                    f"SELECT * EXCLUDE (n), n AS batch_n, row_number() OVER (ORDER BY n) - 1 AS n "
                    f"FROM (SELECT DISTINCT ON (id) * FROM {rows or incoming} ORDER BY id, n) "
                    f"WHERE id::VARCHAR NOT IN (SELECT unnest(?::VARCHAR[]))", [list(existing)])
        fresh = "statements_fresh"
    count = 0 if all_stored else batch_size if fresh == incoming else \
        cur.execute(f"SELECT count(*) FROM {fresh}").fetchone()[0]
    if count:
        first = next_seq(cur)
        _insert_rows(cur, (rows or incoming) if fresh == incoming else fresh, first, client_id, now,
                     placed=rows is not None)
        if (kept := stored_ids.in_use()) is not None:
            kept.add(cur, fresh, whole_batch=fresh == incoming, last_seq=first + count - 1, voids=targets)
        if fresh == incoming and texts_in_order is not None:
            texts.save_packed(cur, first, texts_in_order())
        elif texts_as_sent:
            place_in_batch = "batch_n" if fresh != incoming else "n"
            texts.save(cur, f"(SELECT {first} + f.n AS seq, r.raw FROM {fresh} f JOIN {texts_as_sent()} r "
                            f"ON r.n = f.{place_in_batch})")
        else:
            texts.save(cur, f"(SELECT {first} + n AS seq, raw FROM {fresh})")
    if fresh != incoming:
        cur.execute("DROP TABLE statements_fresh")
    _mark_voided(cur, incoming, of_batch, small, targets)


def _doubled_in_batch(cur, incoming: str, with_texts: Callable[[], str]) -> list[str]:
    """Ids given twice in one batch: fine when the content is the same (kept once), else
    InvalidStatement."""
    doubled = [i for (i,) in cur.execute(
        f"SELECT id::VARCHAR FROM {incoming} GROUP BY id HAVING count(*) > 1").fetchall()]
    if doubled:
        texts_of = cur.execute(f"SELECT id::VARCHAR, list(raw) FROM {with_texts()} "
                               f"WHERE id::VARCHAR IN (SELECT unnest(?::VARCHAR[])) GROUP BY id", [doubled]).fetchall()
        for statement_id, sent in texts_of:
            if not all(same_content(sent[0], other) for other in sent[1:]):
                raise InvalidStatement("id", "batch_twice", id=str(statement_id))
    return doubled


def _compare_with_stored(cur, existing: dict[str, int], with_texts: Callable[[], str], all_stored: bool) -> None:
    """StatementConflict when an id of the batch is stored with other content."""
    stored_texts = texts.fetch(cur, existing.values())
    where, params = ("", []) if all_stored else ("WHERE id::VARCHAR IN (SELECT unnest(?::VARCHAR[]))", [list(existing)])
    for statement_id, raw in cur.execute(f"SELECT id::VARCHAR, raw FROM {with_texts()} {where}", params).fetchall():
        if not same_content(raw, stored_texts[existing[statement_id]]):
            raise StatementConflict(id=str(statement_id))


def _voided_by_batch(cur, incoming: str) -> list:
    """The ids the batch's voiding statements name; InvalidStatement when one names a voiding
    statement (stored, or of the same batch)."""
    targets = [r[0] for r in cur.execute(f"SELECT DISTINCT voids_id FROM {incoming} WHERE voids_id IS NOT NULL")
               .fetchall()]
    voids_voiding = cur.execute(
        f"SELECT id FROM analytics_statements WHERE id IN ({_uuid_list(targets)}) AND voids_id IS NOT NULL "
        f"UNION ALL SELECT i.voids_id::UUID FROM {incoming} i JOIN {incoming} j ON j.id::VARCHAR = i.voids_id "
        f"WHERE j.voids_id IS NOT NULL LIMIT 1", _uuid_params(targets)).fetchone() if targets else None
    if voids_voiding:
        raise InvalidStatement("object.id", "void_voiding")
    return targets


def _insert_rows(cur, source: str, first: int, client_id: int, now: datetime, *, placed: bool) -> None:
    """The statements of `source` as seqs first, first + 1, … (by n), sorted by class for the
    dashboards' scans; `placed`: source carries each learner's roster place, else it is looked up."""
    roster = "i" if placed else "l"
    # Literals, not parameters: DuckDB imports pandas to convert any parameter (0.3 s of
    # CPU the first time in a process, which a bulk import from the command line paid).
    stored = f"{_sql_text(now.isoformat())}::TIMESTAMPTZ"
    cur.execute(
        f"""INSERT INTO analytics_statements
            SELECT i.id::UUID, {first} + i.n, {stored}, coalesce(i.ts, {stored}), {int(client_id)},
                   i.actor_key, i.learner_id, {roster}.school_id, {roster}.grade, {roster}.class_name, i.verb_id,
                   i.object_type, i.object_id, i.activity_name, i.unit_code, i.score_scaled, i.success,
                   i.completion, i.duration_s, i.registration::UUID, i.voids_id::UUID, false,
                   nullif(i.version, '1.0.0'), NULL, i.actor_name, i.definition
            FROM {source} i
                 {"" if placed else "LEFT JOIN analytics_learners l ON l.learner_id = i.learner_id"}
            ORDER BY {roster}.school_id, {roster}.grade, {roster}.class_name, coalesce(i.ts, {stored})""")


def _mark_voided(cur, incoming: str, of_batch: str, small: bool, targets: list) -> None:
    """Voiding: the statements this batch voids, and statements of this batch that a voiding
    statement stored earlier had named before they arrived. (voids_id has no index, but its
    row groups are mostly all NULL, which DuckDB's statistics skip.)"""
    if small:
        voided_before = [r[0] for r in cur.execute(
            f"SELECT voids_id FROM analytics_statements WHERE voids_id {of_batch}").fetchall()]
    else:
        # A file: the stored voiding statements are few, so take their targets and look for
        # them in the file (hashing every id of the file against them cost more).
        named = [str(r[0]) for r in cur.execute(
            "SELECT DISTINCT voids_id FROM analytics_statements WHERE voids_id IS NOT NULL").fetchall()]
        voided_before = [r[0] for r in cur.execute(
            f"SELECT id::VARCHAR FROM {incoming} WHERE id::VARCHAR IN (SELECT unnest(?::VARCHAR[]))", [named]
        ).fetchall()] if named else []
    targets = targets + [str(v) for v in voided_before]
    if targets:
        cur.execute(f"UPDATE analytics_statements SET voided = true WHERE id IN ({_uuid_list(targets)}) "
                    "AND NOT voided AND voids_id IS NULL", _uuid_params(targets))


def insert_live(cur, rows: list[tuple], client_id: int, now: datetime, in_flight: bool = False) -> None:
    """The few statements (ROW_COLUMNS rows) of a live batch (analytics/services/live_writes.py),
    inside the caller's transaction under the statements lock: insert_incoming's rules with the
    fewest queries, since for a batch of an app's size each query's fixed cost is most of the
    work. What Python already holds (the ids, the texts, whom each voids) is not asked of DuckDB;
    what it must ask (whether the stored ids' hashes and last seq still describe the table, the
    learners' places on the roster) is one query, the stored voiding
    statements naming its ids are known to the store's hashes (StoredIds.named_by_voiding), and
    the rows go in as one list parameter per column (a registered Arrow table cost 1.4 to 2 ms
    of CPU a batch to register and scan, a VALUES list of literals 0.13 ms a row).

    The same id twice with other content (in the batch or stored) raises StatementConflict or
    InvalidStatement for the whole batch, as insert_incoming does; the caller then tries the
    statements one by one. in_flight: the batch will commit while the writer prepares others
    (stored_ids.StoredIds.flying); stored_ids.Stale when the hashes must be read first."""
    index = {name: i for i, name in enumerate(ROW_COLUMNS)}
    by_id: dict[str, tuple] = {}
    for row in rows:  # the same id twice in the batch: fine when the content is the same (kept once)
        earlier = by_id.setdefault(row[0], row)
        if earlier is not row and not same_content(earlier[-1], row[-1]):
            raise InvalidStatement("id", "batch_twice", id=row[0])
    rows = list(by_id.values())
    hashes = stored_ids.hashes_of(list(by_id))  # each parsed as a UUID: nothing else reaches the SQL
    voids, learner = index["voids_id"], index["learner_id"]
    targets = sorted({row[voids] for row in rows if row[voids] is not None})
    learners = sorted({row[learner] for row in rows if row[learner] is not None})
    voids_voiding = (f"(SELECT count(*) > 0 FROM analytics_statements WHERE id IN ({_uuid_list(targets)}) "
                     "AND voids_id IS NOT NULL)") if targets else "false"
    places_of = (f"(SELECT list((learner_id, school_id, grade, class_name)) FROM analytics_learners "
                 f"WHERE learner_id IN ({', '.join(map(_sql_text, learners))}))") if learners else "NULL"
    kept = stored_ids.in_use()
    voided_before = "NULL" if kept else \
        f"(SELECT list(voids_id::VARCHAR) FROM analytics_statements WHERE voids_id IN ({_uuid_list(list(by_id))}))"
    written_past = kept.written_past() if kept else "1"
    past, voided_before, places, stored_voids_voiding = cur.execute(
        f"SELECT {written_past}, {voided_before}, {places_of}, {voids_voiding}").fetchone()
    # A voiding statement may not void another voiding one (stored, or of this batch).
    if stored_voids_voiding or any(by_id[t][voids] is not None for t in targets if t in by_id):
        raise InvalidStatement("object.id", "void_voiding")
    if in_flight and past:
        raise stored_ids.Stale()  # read with batches in flight, the hashes would miss theirs
    maybe = list(by_id) if kept is None else [
        row[0] for row, maybe in zip(rows, kept.maybe_among(cur, past, hashes), strict=True) if maybe]
    if kept is not None:  # the hashes describe the table now (maybe_among read them if not)
        named = kept.named_by_voiding
        voided_before = [i for i in by_id if str(uuid.UUID(i)) in named] if named else []
    existing = dict(cur.execute("SELECT id::VARCHAR, seq FROM analytics_statements "
                                f"WHERE id IN ({_uuid_list(maybe)})", _uuid_params(maybe)).fetchall()) if maybe else {}
    if existing:
        stored_texts = texts.fetch(cur, existing.values())
        for statement_id, seq in existing.items():
            if not same_content(by_id[statement_id][-1], stored_texts[seq]):
                raise StatementConflict(id=statement_id)
        # Sent again with the same content: kept once, as stored.
        fresh = [n for n, row in enumerate(rows) if row[0] not in existing]
        rows, hashes = [rows[n] for n in fresh], hashes[fresh]
        if not rows:
            return
    first = kept.describes + 1 if kept else next_seq(cur)  # past every stored seq, as next_seq
    placed = {learner_id: place for learner_id, *place in places or []}
    unplaced = (None, None, None)
    stored = f"{_sql_text(now.isoformat())}::TIMESTAMPTZ"
    # Numbered in the order they came; laid down in the dashboards' order (school, grade, class,
    # time), as insert_incoming's ORDER BY does (NULLs last).
    numbered = sorted(((first + n, row, placed.get(row[learner], unplaced)) for n, row in enumerate(rows)),
                      key=lambda s: (*((v is None, v) for v in s[2]), s[1][1] or now))
    columns = [list(c) for c in zip(*((seq, *place, *row) for seq, row, place in numbered), strict=True)]
    cur.execute(f"""INSERT INTO analytics_statements
        SELECT id::UUID, seq, {stored}, coalesce(ts, {stored}), {int(client_id)}, actor_key, learner_id, school_id,
               grade, class_name, verb_id, object_type, object_id, activity_name, unit_code, score_scaled, success,
               completion, duration_s, registration::UUID, voids_id::UUID, false, nullif(version, '1.0.0'), NULL,
               actor_name, definition
        FROM (SELECT {_LIVE_COLUMNS})""", columns[:-1])
    # Plain texts, one row each (a live batch is small; texts.SMALLEST_BLOCKED_BATCH).
    cur.execute("INSERT INTO analytics_statement_texts SELECT seq, seq, NULL, raw "
                "FROM (SELECT unnest(?::BIGINT[]) AS seq, unnest(?::VARCHAR[]) AS raw)", [columns[0], columns[-1]])
    if kept is not None:
        kept.batch_hashes = hashes
        kept.add(cur, "", whole_batch=True, last_seq=first + len(rows) - 1, voids=targets, in_flight=in_flight)
    # Voiding: what this batch voids, and statements of it that a stored voiding one named before they came.
    targets += voided_before or []
    if targets:
        cur.execute(f"UPDATE analytics_statements SET voided = true WHERE id IN ({_uuid_list(targets)}) "
                    "AND NOT voided AND voids_id IS NULL", _uuid_params(targets))


# The SELECT list of insert_live's INSERT: a column per parameter (seq, the roster's place, then
# ROW_COLUMNS but raw), unnested side by side.
_LIVE_TYPES = {"seq": "BIGINT", "school_id": "INTEGER", "grade": "INTEGER", "class_name": "VARCHAR",
               **{name: {pl.String: "VARCHAR", pl.Float64: "DOUBLE", pl.Boolean: "BOOLEAN"}.get(kind, "TIMESTAMPTZ")
                  for name, kind in _SCHEMA.items()}}
_LIVE_COLUMNS = ", ".join(f"unnest(${place}::{_LIVE_TYPES[name]}[]) AS {name}" for place, name in enumerate(
    ("seq", "school_id", "grade", "class_name", *ROW_COLUMNS[:-1]), start=1))


def _stored_of_batch(cur, incoming: str, of_batch: str, small: bool) -> dict[str, int]:
    """The stored statements (id: seq) with an id of the batch. Looked up only for the ids
    whose hashes stored ones share, when the writer keeps them (stored_ids); else a scan of
    the stored ids."""
    kept = stored_ids.in_use()
    maybe = None if kept is None else kept.maybe_stored(cur, incoming, read_if_stale=small)
    if maybe == []:
        return {}
    params = None
    if maybe is not None:
        of_batch, params = f"IN ({_uuid_list(maybe)})", _uuid_params(maybe)
    return dict(cur.execute(f"SELECT id::VARCHAR, seq FROM analytics_statements WHERE id {of_batch}",
                            params).fetchall())


def next_seq(cur) -> int:
    """The seq after every seq stored: a batch numbers its statements from it. Writers of
    statements take turns (write_statements), so no other writer takes the same ones. (Not a
    sequence: rows written with seqs of their own, as before migration 004, would then collide
    with later ones.)"""
    # As top-1 queries: DuckDB prunes those by the row groups' statistics even while the
    # transaction has written rows, where max() scanned all (0.1 s at 20 million statements).
    last = cur.execute("SELECT greatest((SELECT seq FROM analytics_statements ORDER BY seq DESC LIMIT 1), "
                       "(SELECT last_seq FROM analytics_statement_texts ORDER BY last_seq DESC LIMIT 1))"
                       ).fetchone()[0]
    return int(last or 0) + 1


def _uuid_list(ids: list) -> str:
    """Ids as SQL literals, for an IN list DuckDB checks each row against as it scans (a list
    passed as a parameter is joined instead). Each is parsed as a UUID first, so nothing but
    a UUID's text reaches the SQL. Past POINT_LOOKUPS ids: a parameter (see _uuid_params)."""
    if len(ids) > POINT_LOOKUPS:
        return "SELECT unnest(?::UUID[])"
    return ", ".join(f"'{uuid.UUID(str(i))}'" for i in ids) or "NULL"


def _sql_text(text: str) -> str:
    """text as an SQL string literal (DuckDB's plain strings know no escape but a doubled quote)."""
    return "'" + text.replace("'", "''") + "'"


def _uuid_params(ids: list) -> list:
    return [[str(i) for i in ids]] if len(ids) > POINT_LOOKUPS else []


def _insert_frame(cur, batch: pl.DataFrame, client_id: int, now: datetime) -> list[str]:
    cur.register("incoming", batch)
    try:
        insert_incoming(cur, "incoming", client_id, now)
    finally:
        cur.unregister("incoming")
    return batch["id"].to_list()


def checked_statements(statements: list[dict], statement_id: str | None = None) -> list[dict]:
    """The statements validated (InvalidStatement placed by its index), with PUT's
    `statement_id` merged in."""
    checked = []
    for index, statement in enumerate(statements):
        try:
            validate_statement(statement, attachment_parts=True)
        except InvalidStatement as exc:
            raise exc.at(index) from None
        if statement_id is not None:
            if "id" in statement and statement["id"].lower() != statement_id.lower():
                raise InvalidStatement("id", "statement_id_differs")
            statement = {**statement, "id": statement_id}
        checked.append(statement)
    return checked


def store_statements(store: Store, clock: Clock, client: Client, statements: list[dict],
                     *, statement_id: str | None = None, parts: list[attachments.Part] | None = None) -> list[str]:
    """Validate and store a batch (POST), or one statement under `statement_id` (PUT), with the
    attachment parts of a multipart request (see analytics.services.attachments)."""
    checked = checked_statements(statements, statement_id)
    kept = attachments.check_parts(checked, parts or [])
    rows = [statement_row(statement) for statement in checked]
    return _write_batch(store, rows_frame(rows), client.id, clock.now(), kept)


def _write_batch(store: Store, batch: pl.DataFrame, client_id: int, now: datetime,
                 kept: list[attachments.Stored] | None = None) -> list[str]:
    def work(cur) -> list[str]:
        ids = _insert_frame(cur, batch, client_id, now)
        attachments.save(cur, kept or [])  # in the statements' transaction: both or neither
        return ids

    return write_statements(store, work)


def write_statements(store: Store, work: Callable[[duckdb.DuckDBPyConnection], T]) -> T:
    """Run `work` in a transaction while no other writer of statements runs: no index keeps
    ids unique (see migration analytics 004), so a writer's check of the stored ids must not
    race another's insert."""
    with statements_held(store) as kept:
        done = store.write(work)
        kept.committed()
        return done


@contextlib.contextmanager
def statements_held(store: Store) -> Iterator[stored_ids.StoredIds]:
    """No other writer of statements runs in the block, and the live writer's batches have all
    committed before it starts. A transaction that changes what a statement is stamped with
    (the roster: a learner's class) runs in such a block, else a live batch begun before it
    commits could commit after it with the old stamp. Offered as "analytics.statements_held"."""
    with store.lock("analytics.statements"), stored_ids.kept_for(store) as kept:
        kept.wait_landed()  # the live writer's batches still committing
        yield kept


# --- reading ---------------------------------------------------------------------------------


def xapi_time(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _context_activities_as_lists(statement: dict) -> None:
    """The spec returns each context activity kind as an array, even when one was sent."""
    for part in (statement, statement.get("object", {})):
        kinds = part.get("context", {}).get("contextActivities") if isinstance(part, dict) else None
        if isinstance(kinds, dict):
            for kind, value in kinds.items():
                if isinstance(value, dict):
                    kinds[kind] = [value]


def _ids_only(node: object, key: str = "") -> object:
    """format=ids: agents and groups by identifier, activities and verbs by id alone."""
    if not isinstance(node, dict):
        return [_ids_only(n, key) for n in node] if isinstance(node, list) else node
    kind = node.get("objectType")
    if key in ("actor", "instructor", "team", "authority") or kind in ("Agent", "Group"):
        kept = {k: node[k] for k in ("objectType", *IFI_KEYS) if k in node}
        if "member" in node and not any(k in node for k in IFI_KEYS):
            kept["member"] = [_ids_only(m, "actor") for m in node["member"]]
        return kept
    if key == "verb" or (key == "object" and kind in (None, "Activity")):
        return {"id": node["id"]} if "id" in node else {}
    return {k: _ids_only(v, k) for k, v in node.items()}


def _one_language(node: object, languages: list[str]) -> object:
    """format=canonical: each language map reduced to the visitor's best language."""
    if isinstance(node, list):
        return [_one_language(n, languages) for n in node]
    if not isinstance(node, dict):
        return node
    out = {}
    for key, value in node.items():
        if key in ("display", "name", "description") and isinstance(value, dict) and value:
            chosen = next((tag for want in languages for tag in value if tag.lower().startswith(want.lower())),
                          next(iter(value)))
            out[key] = {chosen: value[chosen]}
        else:
            out[key] = _one_language(value, languages)
    return out


def _as_statement(row: dict, statement_format: str = "exact", languages: list[str] | None = None) -> dict:
    """The stored statement as the spec returns it: what was sent, plus what the store set."""
    statement = json.loads(row["raw"])
    statement.setdefault("timestamp", xapi_time(row["ts"]))
    _context_activities_as_lists(statement)
    full = {**statement, "id": str(row["id"]), "stored": xapi_time(row["stored"]),
            "authority": row["authority"], "version": row["version"] or "1.0.0"}
    if statement_format == "ids":
        return _ids_only(full)
    if statement_format == "canonical":
        return _one_language(full, languages or [])
    return full


def valid_uuid(text: str, name: str) -> uuid.UUID:
    try:
        return uuid.UUID(text)
    except ValueError as exc:
        raise InvalidInput("analytics.xapi.bad_parameter", name=name) from exc


def get_statement(store: Store, statement_id: str, *, voided: bool = False, statement_format: str = "exact",
                  languages: list[str] | None = None, written_by: int | None = None) -> dict:
    """statementId (not voided) or voidedStatementId (only voided); NotFound otherwise, also
    for a statement that client `written_by` (when given: a key that reads only its own) did not write."""
    wanted = valid_uuid(statement_id, "voidedStatementId" if voided else "statementId")
    mine = "" if written_by is None else f" AND client_id = {int(written_by)}"
    rows = _with_texts(store, store.query_dicts("SELECT id, seq, ts, stored, client_id, authority, version "
                                                f"FROM analytics_statements WHERE id = ? AND voided = ?{mine}",
                                                [wanted, voided]))
    if not rows:
        raise NotFound("analytics.xapi.statement_not_found", id=statement_id)
    return _as_statement(rows[0], statement_format, languages)


def _with_texts(store: Store, rows: list[dict]) -> list[dict]:
    """The rows, each with its statement's text as `raw` and its authority as a dict (stored
    NULL where it is the writing client's own: analytics migration 005)."""
    found = texts.fetch(store.cursor(), [row["seq"] for row in rows])
    writers = {row["client_id"] for row in rows if row["authority"] is None}
    authorities = {IMPORT_CLIENT_ID: IMPORT_AUTHORITY} | {
        client_id: Client(client_id, name, api_key).authority for client_id, name, api_key in store.query(
            f"SELECT id, name, api_key FROM analytics_xapi_clients WHERE id IN ({', '.join(map(str, writers))})")
    } if writers else {}
    return [{**row, "raw": found[row["seq"]],
             "authority": json.loads(row["authority"]) if row["authority"] else authorities[row["client_id"]]}
            for row in rows]


@dataclass(frozen=True)
class StatementQuery:
    agent: str | None = None  # JSON of an Agent or Group
    verb: str | None = None
    activity: str | None = None
    registration: str | None = None
    since: str | None = None
    until: str | None = None
    limit: int = 0
    ascending: bool = False
    after_seq: int | None = None  # `more` paging: continue after this seq
    statement_format: str = "exact"  # exact | ids | canonical
    languages: tuple[str, ...] = ()  # from Accept-Language, for canonical
    written_by: int | None = None  # only the statements of this client (a key that reads only its own)


def _agent_filter(text: str) -> str:
    try:
        agent = parse_json(text)
        if not isinstance(agent, dict):
            raise InvalidStatement("agent", "object")
        # The same rules as a statement's actor.
        validate_statement({"actor": agent, "verb": {"id": "urn:x"}, "object": {"id": "urn:x"}})
    except InvalidStatement as exc:
        raise InvalidInput("analytics.xapi.bad_parameter", name="agent") from exc
    return actor_key(agent)


def query_statements(store: Store, query: StatementQuery) -> tuple[list[dict], int | None]:
    """Statements matching the filters, newest stored first (or oldest with ascending),
    voided ones left out; the second value is the seq to continue after when more remain."""
    # The filters other than time and paging also take a statement whose object is a
    # StatementRef to a statement that meets them (xAPI 1.0.3 part 3 §2.1.3), voided or not.
    where, params = [], []
    if query.agent:
        where.append("actor_key = ?")
        params.append(_agent_filter(query.agent))
    if query.verb:
        where.append("verb_id = ?")
        params.append(query.verb)
    if query.activity:
        where.append("object_type = 'Activity' AND object_id = ?")
        params.append(query.activity)
    if query.registration:
        try:
            params.append(uuid.UUID(query.registration))
        except ValueError as exc:
            raise InvalidInput("analytics.xapi.bad_parameter", name="registration") from exc
        where.append("registration = ?")
    mine = "" if query.written_by is None else f"client_id = {int(query.written_by)}"
    if where:
        matches = " AND ".join(where)
        # A key that reads only its own learns nothing of others' statements through a reference either.
        referred = f"{matches} AND {mine}" if mine else matches
        where = [f"(({matches}) OR (object_type = 'StatementRef' AND TRY_CAST(object_id AS UUID) IN "
                 f"(SELECT id FROM analytics_statements WHERE {referred})))"]
        params = params + params
    if mine:
        where.append(mine)
    where.append("NOT voided")
    for name, op in (("since", ">"), ("until", "<=")):
        value = getattr(query, name)
        if value:
            try:
                params.append(parse_timestamp(value))
            except InvalidStatement as exc:
                raise InvalidInput("analytics.xapi.bad_parameter", name=name) from exc
            where.append(f"stored {op} ?")
    if query.after_seq is not None:
        where.append("seq > ?" if query.ascending else "seq < ?")
        params.append(query.after_seq)
    limit = MAX_LIMIT if query.limit <= 0 else min(query.limit, MAX_LIMIT)
    order = "ASC" if query.ascending else "DESC"
    rows = _with_texts(store, store.query_dicts(
        f"SELECT id, seq, ts, stored, client_id, authority, version FROM analytics_statements "
        f"WHERE {' AND '.join(where)} ORDER BY seq {order} LIMIT {limit + 1}", params))
    more = rows[limit - 1]["seq"] if len(rows) > limit else None
    return [_as_statement(r, query.statement_format, list(query.languages)) for r in rows[:limit]], more


def statement_count(store: Store) -> int:
    return int(store.scalar("SELECT count(*) FROM analytics_statements"))

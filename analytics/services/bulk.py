"""Bulk loading of JSONL statement files, validated set-wise in DuckDB.

A per-statement Python loop cannot check hundreds of thousands of statements a second.
So DuckDB reads the file and parses each line once, taking its json_structure (keys and
value types). Most lines of a learning app share a handful of structures; each distinct
structure is judged once, in Python (`fast_shape`: an Agent with an account or mbox, a
verb, an Activity, result, context, timestamp, with only allowed keys of the right types).
Lines of a fast structure then get their values checked in SQL (FAST_VALUES: IRIs, UUIDs,
score ranges, durations, timestamps; no key twice) and their typed columns extracted in SQL.
Any other line — unusual but maybe valid (groups, sub-statements, voiding), or broken —
goes through the full Python validator, which names the rule it breaks.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

from analytics.services import lrs
from analytics.services.xapi_validate import (
    VOIDED_VERB,
    InvalidStatement,
    parse_json,
    validate_statement,
)
from kernel.actor import Actor
from kernel.clock import Clock
from kernel.errors import ImportRejected, InvalidInput, RowProblem
from kernel.store import Store

MAX_PROBLEMS = 100

_IRI = r"[A-Za-z][A-Za-z0-9+.\-]*:\S+"
_UUID = r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}"
_TAG = r"[A-Za-z]{1,8}(-[A-Za-z0-9]{1,8})*"
_DURATION = (r"P(([0-9]+(\.[0-9]+)?)Y)?(([0-9]+(\.[0-9]+)?)M)?(([0-9]+(\.[0-9]+)?)D)?"
             r"(T(([0-9]+(\.[0-9]+)?)H)?(([0-9]+(\.[0-9]+)?)M)?(([0-9]+(\.[0-9]+)?)S)?)?")
# With an explicit zone only: a zoneless time is read as UTC by the rules, DuckDB would
# read it in the session's zone, so those lines take the Python path.
_TIMESTAMP = r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,6})?)?(Z|[+\-]\d{2}:\d{2})"
_DURATION_PARTS = (r"^P(?:([0-9.]+)Y)?(?:([0-9.]+)M)?(?:([0-9.]+)W)?(?:([0-9.]+)D)?"
                   r"(?:T(?:([0-9.]+)H)?(?:([0-9.]+)M)?(?:([0-9.]+)S)?)?$")

# The leaf values the row checks and the typed columns need, read in one parse per line.
PATHS = ("$.id", "$.actor.objectType", "$.actor.mbox", "$.actor.account.homePage", "$.actor.account.name",
         "$.verb.id", "$.object.objectType", "$.object.id", "$.object.definition.type",
         "$.result.score.scaled", "$.result.score.raw", "$.result.score.min", "$.result.score.max",
         "$.result.success", "$.result.completion", "$.result.duration",
         "$.context.registration", "$.context.language", "$.timestamp",
         "$.object.definition.name.ja", '$.object.definition.name."ja-JP"', "$.object.definition.name.en",
         '$.object.definition.name."en-US"', '$.object.definition.name."en-GB"',
         f'$.object.definition.extensions."{lrs.CURRICULUM_EXTENSION}"',
         f'$.context.extensions."{lrs.CURRICULUM_EXTENSION}"')
_AT = {path: n + 1 for n, path in enumerate(PATHS)}
_PATH_LIST = "[" + ", ".join("'" + p.replace("'", "''") + "'" for p in PATHS) + "]"
# The objects whose keys must each appear once (JSON allows duplicates, xAPI does not).
OBJECT_PATHS = ("$", "$.actor", "$.actor.account", "$.verb", "$.verb.display", "$.object", "$.object.definition",
                "$.object.definition.name", "$.object.definition.description", "$.object.definition.extensions",
                "$.result", "$.result.score", "$.context", "$.context.extensions")


def v(path: str) -> str:
    return f"v[{_AT[path]}]"


# --- the shape, checked once per distinct json_structure --------------------------------------

_STRING, _BOOLEAN, _NUMBERS = "VARCHAR", "BOOLEAN", ("UBIGINT", "BIGINT", "DOUBLE")
_SCALARS = (_STRING, _BOOLEAN, *_NUMBERS)
_TAG_RE = re.compile(r"^[A-Za-z]{1,8}(-[A-Za-z0-9]{1,8})*$")
_IRI_RE = re.compile(r"^[A-Za-z][A-Za-z0-9+.\-]*:[^\s]+$")


def _keys(node: object, allowed: set[str], required: set[str] = frozenset()) -> bool:
    return isinstance(node, dict) and set(node) <= allowed and required <= set(node)


def _language_map(node: object) -> bool:
    return isinstance(node, dict) and all(_TAG_RE.match(k) and t == _STRING for k, t in node.items())


def _extensions(node: object) -> bool:
    return isinstance(node, dict) and all(_IRI_RE.match(k) and t in _SCALARS for k, t in node.items())


def fast_shape(structure: dict) -> bool:
    """True when a line's structure (DuckDB's json_structure) is the fast shape: only allowed
    keys, every value of the right type. The values themselves are checked per row in SQL."""
    top = structure
    if not _keys(top, {"id", "actor", "verb", "object", "result", "context", "timestamp"},
                 {"actor", "verb", "object"}):
        return False
    actor, verb, target = top["actor"], top["verb"], top["object"]
    checks = [
        top.get("id", _STRING) == _STRING and top.get("timestamp", _STRING) == _STRING,
        _keys(actor, {"objectType", "name", "account", "mbox"})
        and (("account" in actor) != ("mbox" in actor))
        and all(actor.get(k, _STRING) == _STRING for k in ("objectType", "name", "mbox"))
        and ("account" not in actor or actor["account"] == {"homePage": _STRING, "name": _STRING}),
        _keys(verb, {"id", "display"}, {"id"}) and verb["id"] == _STRING
        and ("display" not in verb or _language_map(verb["display"])),
        _keys(target, {"objectType", "id", "definition"}, {"id"}) and target["id"] == _STRING
        and target.get("objectType", _STRING) == _STRING,
    ]
    if "definition" in target:
        definition = target["definition"]
        checks.append(_keys(definition, {"name", "description", "type", "extensions"})
                      and all(_language_map(definition[k]) for k in ("name", "description") if k in definition)
                      and definition.get("type", _STRING) == _STRING
                      and ("extensions" not in definition or _extensions(definition["extensions"])))
    if "result" in top:
        result = top["result"]
        checks.append(_keys(result, {"score", "success", "completion", "duration", "response"})
                      and all(result.get(k, _BOOLEAN) == _BOOLEAN for k in ("success", "completion"))
                      and all(result.get(k, _STRING) == _STRING for k in ("duration", "response"))
                      and ("score" not in result or (_keys(result["score"], {"scaled", "raw", "min", "max"})
                                                     and all(t in _NUMBERS for t in result["score"].values()))))
    if "context" in top:
        context = top["context"]
        checks.append(_keys(context, {"registration", "extensions", "platform", "revision", "language"})
                      and all(context.get(k, _STRING) == _STRING
                              for k in ("registration", "platform", "revision", "language"))
                      and ("extensions" not in context or _extensions(context["extensions"])))
    return all(checks)


# The skeleton of a line: its text with each string value after a key (`":"…"`) as S and each
# number as N; keys, structure, true/false/null stay. Lines with the same skeleton have the same
# keys in the same order and the same value types. `":` only ever separates a key from its value
# unless a string holds an escaped quote before a colon (`\\":`): those lines take the full
# validator. No capture groups: RE2 replaces several times faster without them.
SKELETON = r"""regexp_replace(regexp_replace(text, '":\s*"(?:[^"\\]|\\.)*"', '":S', 'g'),
                                 '":\s*-?[0-9][0-9.eE+\-]*', '":N', 'g')"""
_SKELETON_UNSAFE = r"""contains(text, '\":')"""


def _types(value: object) -> object:
    """The structure of a parsed value in json_structure's words."""
    if isinstance(value, dict):
        return {k: _types(v) for k, v in value.items()}
    if isinstance(value, bool):
        return _BOOLEAN
    if isinstance(value, int):
        return "BIGINT"
    if isinstance(value, float):
        return "DOUBLE"
    if isinstance(value, str):
        return _STRING
    return "NULL" if value is None else "ARRAY"


def _fast_sample(text: str) -> bool:
    try:
        sample = parse_json(text)  # refuses a key given twice
    except InvalidStatement:
        return False
    return isinstance(sample, dict) and fast_shape(_types(sample))


def _iri(expr: str) -> str:
    return f"regexp_full_match({expr}, '{_IRI}')"


# --- the values, checked per row (NULL: the part is absent) -------------------------------

_SCORE = [f"TRY_CAST({v('$.result.score.' + k)} AS DOUBLE)" for k in ("scaled", "raw", "min", "max")]
FAST_VALUES = f"""
    ({v('$.id')} IS NULL OR regexp_full_match({v('$.id')}, '{_UUID}'))
    AND coalesce({v('$.actor.objectType')}, 'Agent') = 'Agent'
    AND ({v('$.actor.mbox')} IS NULL OR regexp_full_match({v('$.actor.mbox')}, 'mailto:[^@\\s]+@[^@\\s]+'))
    AND ({v('$.actor.account.homePage')} IS NULL OR {_iri(v('$.actor.account.homePage'))})
    AND {_iri(v('$.verb.id'))} AND {v('$.verb.id')} <> '{VOIDED_VERB}'
    AND coalesce({v('$.object.objectType')}, 'Activity') = 'Activity'
    AND {_iri(v('$.object.id'))}
    AND ({v('$.object.definition.type')} IS NULL OR {_iri(v('$.object.definition.type'))})
    AND coalesce({_SCORE[0]} BETWEEN -1 AND 1, true)
    AND coalesce({_SCORE[2]} < {_SCORE[3]}, true)
    AND coalesce({_SCORE[1]} >= {_SCORE[2]}, true) AND coalesce({_SCORE[1]} <= {_SCORE[3]}, true)
    AND ({v('$.result.duration')} IS NULL OR (regexp_full_match({v('$.result.duration')}, '{_DURATION}')
         AND {v('$.result.duration')} NOT IN ('P', 'PT') AND NOT ends_with({v('$.result.duration')}, 'T')))
    AND ({v('$.context.registration')} IS NULL OR regexp_full_match({v('$.context.registration')}, '{_UUID}'))
    AND ({v('$.context.language')} IS NULL OR regexp_full_match({v('$.context.language')}, '{_TAG}'))
    AND ({v('$.timestamp')} IS NULL OR (regexp_full_match({v('$.timestamp')}, '{_TIMESTAMP}')
         AND NOT ends_with({v('$.timestamp')}, '-00:00')
         AND TRY_CAST(replace({v('$.timestamp')}, 'Z', '+00:00') AS TIMESTAMPTZ) IS NOT NULL))
"""

# A line checked in SQL: its values pass and its skeleton was judged fast.
_FAST = "values_ok AND skeleton IN (SELECT skeleton FROM bulk_fast)"
_CODE = "'[0-9]{16}'"
_FACTS = f"""
    SELECT coalesce(lower({v('$.id')}), uuid()::VARCHAR) AS id,
           CAST(replace({v('$.timestamp')}, 'Z', '+00:00') AS TIMESTAMPTZ) AS ts,
           CASE WHEN {v('$.actor.mbox')} IS NULL
                THEN 'account:' || {v('$.actor.account.homePage')} || '|' || {v('$.actor.account.name')}
                ELSE 'mbox:' || lower({v('$.actor.mbox')}) END AS actor_key,
           {v('$.actor.account.name')} AS learner_id,
           {v('$.verb.id')} AS verb_id,
           'Activity' AS object_type,
           {v('$.object.id')} AS object_id,
           coalesce({', '.join(v(p) for p in PATHS[19:24])},
                    json_extract_string(text, '$.object.definition.name.*')[1]) AS activity_name,
           coalesce(CASE WHEN regexp_full_match({v(PATHS[24])}, {_CODE}) THEN {v(PATHS[24])} END,
                    CASE WHEN regexp_full_match({v(PATHS[25])}, {_CODE}) THEN {v(PATHS[25])} END,
                    nullif(regexp_extract({v('$.object.id')}, '/([0-9]{{16}})(?:[/?#]|$)', 1), '')) AS unit_code,
           {_SCORE[0]} AS score_scaled,
           {v('$.result.success')}::BOOLEAN AS success,
           {v('$.result.completion')}::BOOLEAN AS completion,
           CASE WHEN {v('$.result.duration')} IS NOT NULL THEN
               coalesce(try_cast(dur.y AS DOUBLE), 0) * 31536000 + coalesce(try_cast(dur.mo AS DOUBLE), 0) * 2592000
               + coalesce(try_cast(dur.w AS DOUBLE), 0) * 604800 + coalesce(try_cast(dur.d AS DOUBLE), 0) * 86400
               + coalesce(try_cast(dur.h AS DOUBLE), 0) * 3600 + coalesce(try_cast(dur.mi AS DOUBLE), 0) * 60
               + coalesce(try_cast(dur.s AS DOUBLE), 0) END AS duration_s,
           lower({v('$.context.registration')}) AS registration,
           NULL::VARCHAR AS voids_id,
           '1.0.0' AS version,
           text AS raw,
           row_number() OVER () - 1 AS n
    FROM (SELECT v, text,
                 -- one regexp per row (a correlated subquery here cost seconds per 100k rows)
                 regexp_extract({v('$.result.duration')}, '{_DURATION_PARTS}',
                                ['y', 'mo', 'w', 'd', 'h', 'mi', 's']) AS dur
          FROM bulk_values JOIN bulk_lines USING (line_no) WHERE {_FAST})
"""


def import_jsonl(store: Store, clock: Clock, actor: Actor, path: Path,
                 progress: Callable[[str, int], None] | None = None) -> dict:
    """Load a JSONL file of statements, all or nothing: every bad line is named, none stored."""
    actor.require("city_admin")
    path = Path(path)
    if not path.is_file():
        raise InvalidInput("analytics.xapi.import_unreadable", path=str(path), detail="not a file")
    report = progress or (lambda stage, count: None)

    def work(cur) -> dict:
        # One column per line: a delimiter and quote that JSON text never holds unescaped.
        cur.execute(
            """CREATE OR REPLACE TEMP TABLE bulk_lines AS
               SELECT row_number() OVER () AS line_no, text
               FROM read_csv(?, columns = {'text': 'VARCHAR'}, delim = '\x1e', quote = '', escape = '',
                             header = false, auto_detect = false, strict_mode = false)""", [str(path)])
        lines = cur.execute("SELECT count(*) FROM bulk_lines").fetchone()[0]
        report("read", lines)
        # One pass: each line's skeleton, its leaves and their values checked in SQL. Then one
        # line per skeleton is judged in Python (duplicate keys, allowed keys, types).
        # (MATERIALIZED: else DuckDB evaluates the extraction again for each check naming a leaf.)
        cur.execute(f"""CREATE OR REPLACE TEMP TABLE bulk_values AS
                        WITH parsed AS MATERIALIZED (
                            SELECT line_no, CASE WHEN NOT {_SKELETON_UNSAFE} THEN {SKELETON} END AS skeleton,
                                   json_extract_string(text, {_PATH_LIST}) AS v
                            FROM bulk_lines WHERE json_valid(text))
                        SELECT line_no, skeleton, v, coalesce(({FAST_VALUES}), false) AS values_ok
                        FROM parsed""")
        samples = cur.execute("""SELECT s.skeleton, l.text
                                 FROM (SELECT skeleton, min(line_no) AS line_no FROM bulk_values
                                       WHERE skeleton IS NOT NULL GROUP BY skeleton) s
                                 JOIN bulk_lines l USING (line_no)""").fetchall()
        fast_skeletons = [skeleton for skeleton, text in samples if _fast_sample(text)]
        cur.execute("CREATE OR REPLACE TEMP TABLE bulk_fast AS SELECT unnest(?::VARCHAR[]) AS skeleton",
                    [fast_skeletons])
        # The lines of another shape, or broken: the full validator decides and says why.
        others = cur.execute(f"SELECT line_no, text FROM bulk_lines ANTI JOIN (SELECT line_no FROM bulk_values "
                             f"WHERE {_FAST}) USING (line_no) ORDER BY line_no").fetchall()
        problems, rows, blank = [], [], 0
        for line_no, text in others:
            if not (text or "").strip():
                blank += 1
                continue
            try:
                statement = parse_json(text)
                validate_statement(statement)
                rows.append(lrs.statement_row(statement))
            except InvalidStatement as exc:
                problems.append(RowProblem(line_no, "analytics.xapi.invalid_line",
                                           {"path": exc.params["path"], "reason": exc.params["reason"]}))
                if len(problems) >= MAX_PROBLEMS:
                    break
        statements = lines - blank
        report("checked", statements)
        if problems:
            raise ImportRejected(problems, path=str(path))
        if statements == 0:
            raise InvalidInput("analytics.xapi.import_empty", path=str(path))
        cur.execute(f"CREATE OR REPLACE TEMP TABLE bulk_incoming AS {_FACTS}")
        if rows:
            cur.register("bulk_slow_rows", lrs.rows_frame(rows))
            cur.execute("INSERT INTO bulk_incoming BY NAME SELECT * REPLACE (n + (SELECT count(*) FROM bulk_incoming) "
                        "AS n) FROM bulk_slow_rows")
            cur.unregister("bulk_slow_rows")
        before = cur.execute("SELECT count(*) FROM analytics_statements").fetchone()[0]
        lrs.insert_incoming(cur, "bulk_incoming", lrs.IMPORT_CLIENT_ID, lrs.IMPORT_AUTHORITY, clock.now())
        added = cur.execute("SELECT count(*) FROM analytics_statements").fetchone()[0] - before
        for table in ("bulk_lines", "bulk_values", "bulk_fast", "bulk_incoming"):
            cur.execute(f"DROP TABLE {table}")
        report("stored", added)
        return {"lines": lines, "statements": statements, "checked_in_sql": statements - len(rows), "added": added,
                "already_stored": statements - added}

    return lrs.write_statements(store, work)

"""Bulk loading of JSONL statement files, validated set-wise in DuckDB.

A per-statement Python loop cannot check hundreds of thousands of statements a second,
so the file is read by DuckDB and every line is tested against one SQL predicate,
FAST_SHAPE: the common shape of a learning app's statement (an Agent with an account or
mbox, a verb, an Activity, result, context, timestamp) with every rule of that shape
checked. A line passing it is valid by construction and its typed columns are extracted
in SQL. Any other line — unusual but maybe valid (groups, sub-statements, voiding), or
broken — goes through the full Python validator, which names the rule it breaks.
"""

from __future__ import annotations

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
_DURATION = (r"P(([0-9]+(\.[0-9]+)?)Y)?(([0-9]+(\.[0-9]+)?)M)?(([0-9]+(\.[0-9]+)?)W)?(([0-9]+(\.[0-9]+)?)D)?"
             r"(T(([0-9]+(\.[0-9]+)?)H)?(([0-9]+(\.[0-9]+)?)M)?(([0-9]+(\.[0-9]+)?)S)?)?")
# With an explicit zone only: a zoneless time is read as UTC by the rules, DuckDB would
# read it in the session's zone, so those lines take the Python path.
_TIMESTAMP = r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,6})?)?(Z|[+\-]\d{2}:\d{2})"
_DURATION_PARTS = (r"^P(?:([0-9.]+)Y)?(?:([0-9.]+)M)?(?:([0-9.]+)W)?(?:([0-9.]+)D)?"
                   r"(?:T(?:([0-9.]+)H)?(?:([0-9.]+)M)?(?:([0-9.]+)S)?)?$")

_MACROS = f"""
CREATE OR REPLACE TEMP MACRO x_keys_ok(o, allowed) AS
    json_type(o) = 'OBJECT' AND len(json_keys(o)) = len(list_distinct(json_keys(o)))
    AND list_has_all(allowed, json_keys(o));
CREATE OR REPLACE TEMP MACRO x_str(o, path) AS coalesce(json_type(o, path) = 'VARCHAR', false);
CREATE OR REPLACE TEMP MACRO x_num(o, path) AS coalesce(json_type(o, path) IN ('BIGINT', 'UBIGINT', 'DOUBLE'), false);
CREATE OR REPLACE TEMP MACRO x_bool(o, path) AS coalesce(json_type(o, path) = 'BOOLEAN', false);
CREATE OR REPLACE TEMP MACRO x_absent(o, path) AS json_type(o, path) IS NULL;
CREATE OR REPLACE TEMP MACRO x_iri(o, path) AS x_str(o, path) AND regexp_full_match(o ->> path, '{_IRI}');
CREATE OR REPLACE TEMP MACRO x_uuid(o, path) AS x_str(o, path) AND regexp_full_match(o ->> path, '{_UUID}');
CREATE OR REPLACE TEMP MACRO x_langmap(m) AS
    json_type(m) = 'OBJECT' AND len(json_keys(m)) = len(list_distinct(json_keys(m)))
    AND coalesce(list_bool_and(list_transform(json_keys(m), k -> regexp_full_match(k, '{_TAG}'))), true)
    AND coalesce(list_bool_and(list_transform(json_extract(m, '$.*'), v -> json_type(v) = 'VARCHAR')), true);
CREATE OR REPLACE TEMP MACRO x_extensions(e) AS
    json_type(e) = 'OBJECT' AND len(json_keys(e)) = len(list_distinct(json_keys(e)))
    AND coalesce(list_bool_and(list_transform(json_keys(e), k -> regexp_full_match(k, '{_IRI}'))), true)
    AND coalesce(list_bool_and(list_transform(json_extract(e, '$.*'),
                                              v -> json_type(v) IN ('VARCHAR', 'BIGINT', 'UBIGINT', 'DOUBLE', 'BOOLEAN'))), true);
"""

# Every clause is a rule of xAPI 1.0.3 for this shape; NULL (a missing part) counts as false.
FAST_SHAPE = f"""
    x_keys_ok(j, ['id', 'actor', 'verb', 'object', 'result', 'context', 'timestamp'])
    AND (x_absent(j, '$.id') OR x_uuid(j, '$.id'))
    -- actor: an Agent identified by exactly one of account or mbox
    AND x_keys_ok(j -> '$.actor', ['objectType', 'name', 'account', 'mbox'])
    AND (x_absent(j, '$.actor.objectType') OR (j ->> '$.actor.objectType') = 'Agent')
    AND (x_absent(j, '$.actor.name') OR x_str(j, '$.actor.name'))
    AND ((x_absent(j, '$.actor.mbox') AND x_keys_ok(j -> '$.actor.account', ['homePage', 'name'])
          AND x_iri(j, '$.actor.account.homePage') AND x_str(j, '$.actor.account.name'))
      OR (x_absent(j, '$.actor.account') AND x_str(j, '$.actor.mbox')
          AND regexp_full_match(j ->> '$.actor.mbox', 'mailto:[^@\\s]+@[^@\\s]+')))
    -- verb
    AND x_keys_ok(j -> '$.verb', ['id', 'display']) AND x_iri(j, '$.verb.id')
    AND (j ->> '$.verb.id') <> '{VOIDED_VERB}'
    AND (x_absent(j, '$.verb.display') OR x_langmap(j -> '$.verb.display'))
    -- object: an Activity
    AND x_keys_ok(j -> '$.object', ['objectType', 'id', 'definition'])
    AND (x_absent(j, '$.object.objectType') OR (j ->> '$.object.objectType') = 'Activity')
    AND x_iri(j, '$.object.id')
    AND (x_absent(j, '$.object.definition') OR (
         x_keys_ok(j -> '$.object.definition', ['name', 'description', 'type', 'extensions'])
         AND (x_absent(j, '$.object.definition.name') OR x_langmap(j -> '$.object.definition.name'))
         AND (x_absent(j, '$.object.definition.description') OR x_langmap(j -> '$.object.definition.description'))
         AND (x_absent(j, '$.object.definition.type') OR x_iri(j, '$.object.definition.type'))
         AND (x_absent(j, '$.object.definition.extensions') OR x_extensions(j -> '$.object.definition.extensions'))))
    -- result
    AND (x_absent(j, '$.result') OR (
         x_keys_ok(j -> '$.result', ['score', 'success', 'completion', 'duration', 'response'])
         AND (x_absent(j, '$.result.success') OR x_bool(j, '$.result.success'))
         AND (x_absent(j, '$.result.completion') OR x_bool(j, '$.result.completion'))
         AND (x_absent(j, '$.result.response') OR x_str(j, '$.result.response'))
         AND (x_absent(j, '$.result.duration') OR (x_str(j, '$.result.duration')
              AND regexp_full_match(j ->> '$.result.duration', '{_DURATION}')
              AND (j ->> '$.result.duration') NOT IN ('P', 'PT') AND NOT ends_with(j ->> '$.result.duration', 'T')))
         AND (x_absent(j, '$.result.score') OR (
              x_keys_ok(j -> '$.result.score', ['scaled', 'raw', 'min', 'max'])
              AND (x_absent(j, '$.result.score.scaled') OR (x_num(j, '$.result.score.scaled')
                   AND (j ->> '$.result.score.scaled')::DOUBLE BETWEEN -1 AND 1))
              AND (x_absent(j, '$.result.score.raw') OR x_num(j, '$.result.score.raw'))
              AND (x_absent(j, '$.result.score.min') OR x_num(j, '$.result.score.min'))
              AND (x_absent(j, '$.result.score.max') OR x_num(j, '$.result.score.max'))
              AND coalesce((j ->> '$.result.score.min')::DOUBLE < (j ->> '$.result.score.max')::DOUBLE, true)
              AND coalesce((j ->> '$.result.score.raw')::DOUBLE >= (j ->> '$.result.score.min')::DOUBLE, true)
              AND coalesce((j ->> '$.result.score.raw')::DOUBLE <= (j ->> '$.result.score.max')::DOUBLE, true)))))
    -- context
    AND (x_absent(j, '$.context') OR (
         x_keys_ok(j -> '$.context', ['registration', 'extensions', 'platform', 'revision', 'language'])
         AND (x_absent(j, '$.context.registration') OR x_uuid(j, '$.context.registration'))
         AND (x_absent(j, '$.context.platform') OR x_str(j, '$.context.platform'))
         AND (x_absent(j, '$.context.revision') OR x_str(j, '$.context.revision'))
         AND (x_absent(j, '$.context.language') OR (x_str(j, '$.context.language')
              AND regexp_full_match(j ->> '$.context.language', '{_TAG}')))
         AND (x_absent(j, '$.context.extensions') OR x_extensions(j -> '$.context.extensions'))))
    -- timestamp, with its zone
    AND (x_absent(j, '$.timestamp') OR (x_str(j, '$.timestamp')
         AND regexp_full_match(j ->> '$.timestamp', '{_TIMESTAMP}') AND NOT ends_with(j ->> '$.timestamp', '-00:00')
         AND try_cast(replace(j ->> '$.timestamp', 'Z', '+00:00') AS TIMESTAMPTZ) IS NOT NULL))
"""

_EXT = lrs.CURRICULUM_EXTENSION
_FACTS = f"""
    SELECT coalesce(lower(j ->> '$.id'), uuid()::VARCHAR) AS id,
           CAST(replace(j ->> '$.timestamp', 'Z', '+00:00') AS TIMESTAMPTZ) AS ts,
           CASE WHEN x_absent(j, '$.actor.mbox')
                THEN 'account:' || (j ->> '$.actor.account.homePage') || '|' || (j ->> '$.actor.account.name')
                ELSE 'mbox:' || lower(j ->> '$.actor.mbox') END AS actor_key,
           j ->> '$.actor.account.name' AS learner_id,
           j ->> '$.verb.id' AS verb_id,
           'Activity' AS object_type,
           j ->> '$.object.id' AS object_id,
           coalesce(j ->> '$.object.definition.name.ja', j ->> '$.object.definition.name."ja-JP"',
                    j ->> '$.object.definition.name.en', j ->> '$.object.definition.name."en-US"',
                    j ->> '$.object.definition.name."en-GB"',
                    json_extract_string(j, '$.object.definition.name.*')[1]) AS activity_name,
           coalesce(
               CASE WHEN regexp_full_match(j ->> '$.object.definition.extensions."{_EXT}"', '[0-9]{{16}}')
                    THEN j ->> '$.object.definition.extensions."{_EXT}"' END,
               CASE WHEN regexp_full_match(j ->> '$.context.extensions."{_EXT}"', '[0-9]{{16}}')
                    THEN j ->> '$.context.extensions."{_EXT}"' END,
               nullif(regexp_extract(j ->> '$.object.id', '/([0-9]{{16}})(?:[/?#]|$)', 1), '')) AS unit_code,
           (j ->> '$.result.score.scaled')::DOUBLE AS score_scaled,
           (j ->> '$.result.success')::BOOLEAN AS success,
           (j ->> '$.result.completion')::BOOLEAN AS completion,
           CASE WHEN j ->> '$.result.duration' IS NOT NULL THEN (
               SELECT coalesce(try_cast(p.y AS DOUBLE), 0) * 31536000 + coalesce(try_cast(p.mo AS DOUBLE), 0) * 2592000
                    + coalesce(try_cast(p.w AS DOUBLE), 0) * 604800 + coalesce(try_cast(p.d AS DOUBLE), 0) * 86400
                    + coalesce(try_cast(p.h AS DOUBLE), 0) * 3600 + coalesce(try_cast(p.mi AS DOUBLE), 0) * 60
                    + coalesce(try_cast(p.s AS DOUBLE), 0)
               FROM (SELECT unnest(regexp_extract(j ->> '$.result.duration', '{_DURATION_PARTS}',
                                                  ['y', 'mo', 'w', 'd', 'h', 'mi', 's']))) p) END AS duration_s,
           lower(j ->> '$.context.registration') AS registration,
           NULL::VARCHAR AS voids_id,
           sha256(raw) AS content_hash,
           '1.0.0' AS version,
           raw
    FROM (SELECT line_no, j, json_merge_patch(j, '{{"id": null}}')::VARCHAR AS raw FROM bulk_json WHERE fast)
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
        cur.execute(_MACROS)
        # One column per line: a delimiter and quote that JSON text never holds unescaped.
        cur.execute(
            """CREATE OR REPLACE TEMP TABLE bulk_lines AS
               SELECT row_number() OVER () AS line_no, text
               FROM read_csv(?, columns = {'text': 'VARCHAR'}, delim = '\x1e', quote = '', escape = '',
                             header = false, auto_detect = false, strict_mode = false)""", [str(path)])
        lines = cur.execute("SELECT count(*) FROM bulk_lines").fetchone()[0]
        report("read", lines)
        cur.execute(f"""CREATE OR REPLACE TEMP TABLE bulk_json AS
                        SELECT line_no, j, coalesce(({FAST_SHAPE}), false) AS fast
                        FROM (SELECT line_no, CASE WHEN json_valid(text) THEN text::JSON END AS j
                              FROM bulk_lines WHERE trim(coalesce(text, '')) <> '')""")
        counts = cur.execute("SELECT count(*), count(*) FILTER (WHERE fast) FROM bulk_json").fetchone()
        if counts[0] == 0:
            raise InvalidInput("analytics.xapi.import_empty", path=str(path))
        # The lines of another shape, or broken: the full validator decides and says why.
        others = cur.execute("SELECT b.line_no, l.text FROM bulk_json b JOIN bulk_lines l USING (line_no) "
                             "WHERE NOT b.fast ORDER BY b.line_no").fetchall()
        problems, rows = [], []
        for line_no, text in others:
            try:
                statement = parse_json(text)
                validate_statement(statement)
                rows.append(lrs.statement_row(statement))
            except InvalidStatement as exc:
                problems.append(RowProblem(line_no, "analytics.xapi.invalid_line",
                                           {"path": exc.params["path"], "reason": exc.reason}))
                if len(problems) >= MAX_PROBLEMS:
                    break
        report("checked", counts[0])
        if problems:
            raise ImportRejected(problems, path=str(path))
        cur.execute(f"CREATE OR REPLACE TEMP TABLE bulk_incoming AS {_FACTS}")
        if rows:
            cur.register("bulk_slow_rows", lrs.rows_frame(rows))
            cur.execute("INSERT INTO bulk_incoming SELECT * FROM bulk_slow_rows")
            cur.unregister("bulk_slow_rows")
        before = cur.execute("SELECT count(*) FROM analytics_statements").fetchone()[0]
        lrs.insert_incoming(cur, "bulk_incoming", lrs.IMPORT_CLIENT_ID, lrs.IMPORT_AUTHORITY, clock.now())
        added = cur.execute("SELECT count(*) FROM analytics_statements").fetchone()[0] - before
        for table in ("bulk_lines", "bulk_json", "bulk_incoming"):
            cur.execute(f"DROP TABLE {table}")
        report("stored", added)
        return {"lines": lines, "statements": counts[0], "checked_in_sql": counts[1], "added": added,
                "already_stored": counts[0] - added}

    return lrs.write_with_race_retry(store, work)

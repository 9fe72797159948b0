"""Bulk loading of JSONL statement files, validated set-wise, not statement by statement.

A per-statement Python loop cannot check hundreds of thousands of statements a second. Most
lines of a learning app have one common shape: an Agent (account or mbox), a verb, an
Activity, a result, a context, a timestamp. For those:
1. one regular expression, FAST_LINE, states that shape as a grammar: only the allowed keys,
   each value of its JSON type and form (IRIs, UUIDs, language tags, durations, timestamps),
   no null. polars matches it on every line with Rust's regex engine;
2. DuckDB's JSON reader reads the file into typed columns (READ_COLUMNS) and refuses a file
   with a key given twice, which no regular expression can see;
3. SQL checks what a grammar cannot say (FAST_VALUES: required parts, one identifier, score
   ranges, real dates) and derives the typed facts (FACTS).
Every other line — unusual but maybe valid (groups, sub-statements, voiding, context
activities), or broken — goes through the full Python validator, which names the rule it
breaks. When the JSON reader refuses the file, every line does.

Both cores stay busy: polars reads the lines while DuckDB reads the facts; the texts are
compressed and the grammar matched while DuckDB stores the facts, which takes every line to
have the common shape and is rolled back and done again when the grammar finds otherwise.
"""

from __future__ import annotations

import glob
import itertools
import shutil
import tempfile
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import suppress
from dataclasses import dataclass
from pathlib import Path

import duckdb
import numpy as np
import polars as pl
import pyarrow as pa

from analytics.services import lrs, texts
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
# An import holds the file about five times over at its peak (measured: 0.65 GB for a file of
# 112 MB, 4.7 GB for 1.1 GB): the lines in polars, the file's bytes for the texts, DuckDB's
# reader and the facts. A file that would not fit is read in parts, in one transaction.
MEMORY_PER_FILE_BYTE = 5
# Read in parts, two are held at once (one read while the other is stored) with the open
# transaction: measured 11.6 GB at the peak for parts of 1 GB.
MEMORY_PER_PART_BYTE = 12
MAX_PART_BYTES = 1 << 30  # about 2 million statements: a part's own costs (the id check) stay small
MIN_PART_BYTES = 8 << 20
SCRATCH_PREFIX = "manabi-import-"  # + the database's file name: the directory of a file's parts, beside it

# --- the common shape as a grammar (Rust regex syntax, which is also Python's here) ----------

_WS = r"[ \t\r]*"
_STRING = r'"(?:[^"\\\x00-\x1f]|\\["\\/bfnrt]|\\u[0-9a-fA-F]{4})*"'
_NUMBER = r"-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+\-]?[0-9]+)?"
_BOOLEAN = r"(?:true|false)"
# IRIs and the like without escapes (but JSON's `\/`): an escaped one takes the Python path.
_IRI = r'"[A-Za-z][A-Za-z0-9+.\-]*:(?:[^"\\\s\x00-\x1f]|\\/)+"'
_UUID = r'"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}"'
_TAG = r'"[A-Za-z]{1,8}(?:-[A-Za-z0-9]{1,8})*"'
_MAILTO = r'"mailto:[^@\s"\\\x00-\x1f]+@[^@\s"\\\x00-\x1f]+"'
# With an explicit zone only: a zoneless time is read as UTC by the rules, DuckDB would read
# it in the session's zone, so those lines take the Python path.
_TIMESTAMP = (r'"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}(?::[0-9]{2}(?:\.[0-9]{1,6})?)?'
              r'(?:Z|[+\-][0-9]{2}:[0-9]{2})"')
_FIGURE = r"[0-9]+(?:\.[0-9]+)?"
_DURATION = (rf'"P(?:{_FIGURE}Y)?(?:{_FIGURE}M)?(?:{_FIGURE}D)?'
             rf'(?:T(?:{_FIGURE}H)?(?:{_FIGURE}M)?(?:{_FIGURE}S)?)?"')


def _members(member: str) -> str:
    """A JSON object of one or more members (an empty object takes the Python path)."""
    return rf"\{{{_WS}{member}(?:{_WS},{_WS}{member})*{_WS}\}}"


def _object(members: dict[str, str]) -> str:
    # The key right before its colon, so that `"key" :` takes the Python path as well.
    return _members("(?:" + "|".join(f'"{key}":{_WS}{value}' for key, value in members.items()) + ")")


_LANGUAGE_MAP = _members(f"{_TAG}:{_WS}{_STRING}")
_EXTENSIONS = _members(f"{_IRI}:{_WS}(?:{_STRING}|{_NUMBER}|{_BOOLEAN})")
_ACTOR = _object({"objectType": '"Agent"', "name": _STRING, "mbox": _MAILTO,
                  "account": _object({"homePage": _IRI, "name": _STRING})})
_VERB = _object({"id": _IRI, "display": _LANGUAGE_MAP})
_OBJECT = _object({"objectType": '"Activity"', "id": _IRI,
                   "definition": _object({"name": _LANGUAGE_MAP, "description": _LANGUAGE_MAP, "type": _IRI,
                                          "extensions": _EXTENSIONS})})
_RESULT = _object({"score": _object({"scaled": _NUMBER, "raw": _NUMBER, "min": _NUMBER, "max": _NUMBER}),
                   "success": _BOOLEAN, "completion": _BOOLEAN, "duration": _DURATION, "response": _STRING})
_CONTEXT = _object({"registration": _UUID, "extensions": _EXTENSIONS, "platform": _STRING, "revision": _STRING,
                    "language": _TAG})
FAST_LINE = "^" + _WS + _object({"id": _UUID, "actor": _ACTOR, "verb": _VERB, "object": _OBJECT,
                                  "result": _RESULT, "context": _CONTEXT, "timestamp": _TIMESTAMP}) + _WS + "$"

# Every object FAST_LINE allows, with the types valid statements have, so that the reader
# refuses a key given twice in any of them but a map (and never a valid statement: what it
# does not name, e.g. contextActivities, it skips).
_LANGUAGES = "MAP(VARCHAR, VARCHAR)"
READ_COLUMNS = {
    "id": "VARCHAR",
    "actor": "STRUCT(objectType VARCHAR, name VARCHAR, mbox VARCHAR, account STRUCT(homePage VARCHAR, name VARCHAR))",
    "verb": f"STRUCT(id VARCHAR, display {_LANGUAGES})",
    "object": f"STRUCT(objectType VARCHAR, id VARCHAR, definition STRUCT(name {_LANGUAGES}, "
              f"description {_LANGUAGES}, type VARCHAR, extensions MAP(VARCHAR, JSON)))",
    "result": "STRUCT(score STRUCT(scaled DOUBLE, raw DOUBLE, min DOUBLE, max DOUBLE), success BOOLEAN, "
              "completion BOOLEAN, duration VARCHAR, response VARCHAR)",
    "context": "STRUCT(registration VARCHAR, extensions MAP(VARCHAR, JSON), platform VARCHAR, revision VARCHAR, "
               "language VARCHAR)",
    "timestamp": "VARCHAR",
}
_READ_COLUMNS_SQL = "{" + ", ".join(f"'{name}': '{kind}'" for name, kind in READ_COLUMNS.items()) + "}"

# The maps of READ_COLUMNS: the reader keeps a key given twice in them (FAST_VALUES refuses it).
_MAPS = ("p.verb.display", "p.object.definition.name", "p.object.definition.description",
         "p.object.definition.extensions", "p.context.extensions")
# What the grammar cannot say, per line of the common shape (p: the typed columns).
FAST_VALUES = f"""
    p.actor IS NOT NULL AND p.verb.id IS NOT NULL AND p.object.id IS NOT NULL
    AND ((p.actor.account IS NULL) <> (p.actor.mbox IS NULL))
    AND (p.actor.account IS NULL OR (p.actor.account.homePage IS NOT NULL AND p.actor.account.name IS NOT NULL))
    AND p.verb.id <> '{VOIDED_VERB}'
    AND coalesce(p.result.score.scaled BETWEEN -1 AND 1, true)
    AND coalesce(p.result.score.min < p.result.score.max, true)
    AND coalesce(p.result.score.raw >= p.result.score.min, true)
    AND coalesce(p.result.score.raw <= p.result.score.max, true)
    AND (p.result.duration IS NULL
         OR (p.result.duration NOT IN ('P', 'PT') AND NOT ends_with(p.result.duration, 'T')))
    AND (p.timestamp IS NULL OR (NOT ends_with(p.timestamp, '-00:00')
         AND TRY_CAST(replace(p.timestamp, 'Z', '+00:00') AS TIMESTAMPTZ) IS NOT NULL))
    AND {" AND ".join(f"({m} IS NULL OR cardinality({m}) < 2 OR list_unique(map_keys({m})) = cardinality({m}))"
                      for m in _MAPS)}
"""

_DURATION_PARTS = (r"^P(?:([0-9.]+)Y)?(?:([0-9.]+)M)?(?:([0-9.]+)W)?(?:([0-9.]+)D)?"
                   r"(?:T(?:([0-9.]+)H)?(?:([0-9.]+)M)?(?:([0-9.]+)S)?)?$")
_CODE = "'[0-9]{16}'"
_NAMES = "p.object.definition.name"


def _curriculum_code(extensions: str) -> str:
    value = f"({extensions}['{lrs.CURRICULUM_EXTENSION}'] ->> '$')"
    return f"CASE WHEN regexp_full_match({value}, {_CODE}) THEN {value} END"


# The typed facts of every line as lrs.statement_row derives them, straight from DuckDB's JSON
# reader, and whether the line passes FAST_VALUES (ok). They count only for lines that also
# match FAST_LINE. (No WITH ORDINALITY: it numbers the lines on one thread, which halved the
# reader's speed; the rows are numbered by where a CREATE TABLE AS puts them, see _read_facts.)
FACTS = f"""
    SELECT coalesce(lower(p.id), uuid()::VARCHAR) AS id,
           CAST(replace(p.timestamp, 'Z', '+00:00') AS TIMESTAMPTZ) AS ts,
           CASE WHEN p.actor.mbox IS NULL
                THEN 'account:' || p.actor.account.homePage || '|' || p.actor.account.name
                ELSE 'mbox:' || lower(p.actor.mbox) END AS actor_key,
           p.actor.account.name AS learner_id,
           p.verb.id AS verb_id,
           'Activity' AS object_type,
           p.object.id AS object_id,
           coalesce({_NAMES}['ja'], {_NAMES}['ja-JP'], {_NAMES}['en'], {_NAMES}['en-US'], {_NAMES}['en-GB'],
                    map_values({_NAMES})[1]) AS activity_name,
           coalesce({_curriculum_code('p.object.definition.extensions')},
                    {_curriculum_code('p.context.extensions')},
                    nullif(regexp_extract(p.object.id, '/([0-9]{{16}})(?:[/?#]|$)', 1), '')) AS unit_code,
           p.result.score.scaled AS score_scaled,
           p.result.success AS success,
           p.result.completion AS completion,
           CASE WHEN p.result.duration IS NOT NULL THEN  -- (an absent part is '')
               coalesce(nullif(dur.y, '')::DOUBLE, 0) * 31536000 + coalesce(nullif(dur.mo, '')::DOUBLE, 0) * 2592000
               + coalesce(nullif(dur.w, '')::DOUBLE, 0) * 604800 + coalesce(nullif(dur.d, '')::DOUBLE, 0) * 86400
               + coalesce(nullif(dur.h, '')::DOUBLE, 0) * 3600 + coalesce(nullif(dur.mi, '')::DOUBLE, 0) * 60
               + coalesce(nullif(dur.s, '')::DOUBLE, 0) END AS duration_s,
           lower(p.context.registration) AS registration,
           NULL::VARCHAR AS voids_id,
           '1.0.0' AS version,
           p.actor.name AS actor_name,
           -- the typed definition as JSON again, its absent members (NULL) dropped by the patch
           json_merge_patch('{{}}', to_json(p.object.definition))::VARCHAR AS definition,
           coalesce({FAST_VALUES}, false) AS ok
    FROM (SELECT *, regexp_extract(p.result.duration, '{_DURATION_PARTS}', ['y', 'mo', 'w', 'd', 'h', 'mi', 's']) AS dur
          FROM read_json(?, format = 'newline_delimited', columns = {_READ_COLUMNS_SQL}) p) p
"""
# Which lines of a file that is not all of the common shape keep the facts from DuckDB: those
# FAST_LINE matched, and only where the two readers saw the same line (they agree on which
# lines there are; this checks it, since a line of another shape could hold two values).
_KEPT_OF_MIXED = "l.fast AND f.ok AND contains(l.text, f.verb_id) AND contains(l.text, f.object_id)"


def _read_lines(path: Path) -> pl.DataFrame:
    """Each line of the file (line_no from 1, blank lines included) and k: its place among the
    non-blank lines, as DuckDB's JSON reader counts."""
    try:
        lines = pl.read_csv(path, has_header=False, separator="\x1e", quote_char=None, new_columns=["text"],
                            schema_overrides={"text": pl.String}, infer_schema=False, encoding="utf8")
        utf8 = pl.lit(True)
    except pl.exceptions.NoDataError:  # an empty file: no lines (and so no statements, said later)
        lines, utf8 = pl.DataFrame(schema={"text": pl.String}), pl.lit(True)
    except pl.exceptions.ComputeError:  # a raw control character in a line, or bytes not UTF-8
        lines = _split_lines(path)
        utf8 = pl.col("utf8")
    blank = pl.col("text").is_null() | ~pl.col("text").str.contains(r"[^ \t\r]")
    # Beside the texts, which stay in the chunks the reader made (see _fast_lines).
    return lines.select("text").hstack(lines.select(
        pl.int_range(1, pl.len() + 1, dtype=pl.UInt32).alias("line_no"),
        pl.when(blank).then(None).otherwise((~blank).cum_sum()).alias("k"), utf8.alias("utf8")).get_columns())


def _split_lines(path: Path) -> pl.DataFrame:
    """The lines of a file polars could not read as lines of text, split in Python (slow, but
    only for a file that will be refused), each with whether it is UTF-8 (utf8): a line that
    is not is kept decoded with replacement characters, to be named, never stored."""
    texts, utf8 = [], []
    parts = path.read_bytes().split(b"\n")
    if parts[-1] == b"":
        parts.pop()  # after the newline at the end
    for raw in parts:
        raw = raw.removesuffix(b"\r")
        try:
            texts.append(raw.decode("utf-8"))
            utf8.append(True)
        except UnicodeDecodeError:
            texts.append(raw.decode("utf-8", "replace"))
            utf8.append(False)
    return pl.DataFrame({"text": texts, "utf8": utf8}, schema={"text": pl.String, "utf8": pl.Boolean})


def _fast_lines(lines: pl.DataFrame) -> pl.Series:
    """Whether each line has the common shape (FAST_LINE). On the texts alone, in the reader's
    chunks: polars then matches them on every core (on a frame of one chunk, or beside other
    columns, it matched on one: 0.40 s per 200,000 lines instead of 0.23)."""
    texts_alone = pl.DataFrame({"text": lines["text"]})
    shaped = texts_alone.select(pl.col("text").str.contains(FAST_LINE).fill_null(False).alias("fast")).to_series()
    return shaped & lines["utf8"]


class _OtherShapes(Exception):
    """A file taken to be all of the common shape was not (see _load)."""


def import_jsonl(store: Store, clock: Clock, actor: Actor, path: Path,
                 progress: Callable[[str, int], None] | None = None, part_bytes: int | None = None) -> dict:
    """Load a JSONL file of statements, all or nothing: every bad line is named, none stored.
    A file larger than part_bytes (by default: larger than the free memory allows to read at
    once) is read in parts of about that size, still in one transaction."""
    actor.require("city_admin")
    path = Path(path)
    if not path.is_file():
        raise InvalidInput("analytics.xapi.import_unreadable", path=str(path), detail="not a file")
    report = progress or (lambda stage, count: None)
    size = path.stat().st_size
    part_bytes = part_bytes or _part_bytes(size)
    if part_bytes and size > part_bytes:
        return _import_in_parts(store, clock, path, part_bytes, report)
    # Temporary tables belong to this thread's connection, which the write below uses too.
    cur = store.cursor()
    # The file is read twice at once: polars reads its lines in another thread while DuckDB's JSON
    # reader derives the facts. There the texts are then compressed and the lines matched with
    # the grammar while DuckDB checks and stores the facts, on the core its insert leaves idle.
    with ThreadPoolExecutor(max_workers=1) as beside:
        lines_read = beside.submit(_read_lines, path)
        registered = False
        try:
            parsed = _read_facts(cur, path)
            lines = _lines_of(lines_read.result, path)
            report("read", lines.height)
            packed = beside.submit(_packed_texts, path, lines)
            fast = beside.submit(_fast_lines, lines)
            # Lazily: a file of the common shape never reads it (registering the frame itself
            # converted every text, 0.07 s per 200,000 lines).
            cur.register("bulk_lines", lines.lazy())
            registered = True
            statements = int(lines["k"].max() or 0)
            # The readers agree on which lines there are (else the full validator decides each).
            agree = parsed and cur.execute("SELECT count(*) FROM bulk_facts").fetchone()[0] == statements

            def attempt(trust_shape: bool) -> dict:
                return lrs.write_statements(store, lambda cur: _load(
                    cur, clock, path, lines, agree, fast, packed, report, trust_shape))

            if not agree:
                return attempt(trust_shape=False)
            try:
                return attempt(trust_shape=True)
            except Exception as exc:
                # Rolled back. Lines of another shape may be what failed (e.g. an id no UUID),
                # and may be bad themselves, each to be named: again, with each line's shape known.
                if isinstance(exc, _OtherShapes) or not _all_fast(lines, fast):
                    return attempt(trust_shape=False)
                raise
        finally:
            if registered:
                cur.unregister("bulk_lines")
            cur.execute("DROP VIEW IF EXISTS bulk_facts")
            for table in ("bulk_facts_read", "bulk_incoming"):
                cur.execute(f"DROP TABLE IF EXISTS {table}")


def _lines_of(read: Callable[[], pl.DataFrame], path: Path) -> pl.DataFrame:
    """The lines read, or InvalidInput saying why the file cannot be."""
    try:
        return read()
    except (pl.exceptions.PolarsError, OSError) as exc:
        raise InvalidInput("analytics.xapi.import_unreadable", path=str(path),
                           detail=str(exc).splitlines()[0]) from exc


def memory_available() -> int | None:
    """Bytes this machine can still give without swapping (Linux's MemAvailable), or None."""
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemAvailable:"):
                return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        return None
    return None


def _part_bytes(size: int) -> int | None:
    """None when a file of `size` bytes can be read at once (MEMORY_PER_FILE_BYTE); else the
    size of the parts to read it in (MEMORY_PER_PART_BYTE)."""
    free = memory_available()
    if free is None or size * MEMORY_PER_FILE_BYTE <= free:
        return None
    return max(MIN_PART_BYTES, min(MAX_PART_BYTES, free // MEMORY_PER_PART_BYTE))


# --- a file too large for memory, in parts ------------------------------------------------------


@dataclass
class _Part:
    """One part of a file: its own file (path), how many lines came before it, and its lines."""
    path: Path
    lines_before: int
    lines: pl.DataFrame


def _import_in_parts(store: Store, clock: Clock, path: Path, part_bytes: int,
                     report: Callable[[str, int], None]) -> dict:
    """The file in parts of about part_bytes, all in one transaction: all or nothing still,
    ids met again in a later part compared with the earlier, every bad line of every part
    named. While DuckDB reads a part's facts and stores them, another thread matches its
    grammar, compresses its texts, and cuts and reads the lines of the next part. DuckDB's
    reader reads each part by a connection of its own: outside the transaction, which a reader
    refusing a part (for a bad line, to be named) would end."""
    # The parts are written beside the database (a system temporary directory may be memory),
    # in a directory named after it: another database in the same place has its own.
    scratch_in = None if store.path == ":memory:" else Path(store.path).parent
    prefix = f"{SCRATCH_PREFIX}{Path(store.path).name}-"

    def load_parts(cur) -> dict:
        totals = {"lines": 0, "statements": 0, "checked_in_sql": 0, "added": 0, "parts": 0}
        problems: list[RowProblem] = []
        if scratch_in:
            # Left by an import of this database whose process was killed (the statements lock,
            # held here, and DuckDB's lock on the file say no other import is using them).
            for left in scratch_in.glob(f"{glob.escape(prefix)}*"):
                shutil.rmtree(left, ignore_errors=True)
        with tempfile.TemporaryDirectory(prefix=prefix, dir=scratch_in) as scratch, \
                store.own_cursor() as reader, ThreadPoolExecutor(max_workers=1) as beside:
            parts = _cut(path, part_bytes, Path(scratch))
            upcoming = beside.submit(_next_part, parts, path)
            while (part := upcoming.result()) is not None:
                # The grammar and the texts beside DuckDB's reader, then the next part's lines.
                fast = beside.submit(_fast_lines, part.lines)
                packed = beside.submit(_packed_texts, part.path, part.lines)
                upcoming = beside.submit(_next_part, parts, path)
                facts = _part_facts(reader, part.path)
                statements = int(part.lines["k"].max() or 0)
                totals["parts"] += 1
                totals["lines"] += part.lines.height
                totals["statements"] += statements
                report("read", totals["lines"])
                cur.register("bulk_lines", part.lines.lazy())
                if facts is not None:
                    cur.register("bulk_facts", facts)
                agree = facts is not None and facts.num_rows == statements
                try:
                    checked = _check(cur, part.lines, agree, fast, trust_shape=False,
                                     lines_before=part.lines_before)
                    report("checked", totals["statements"])
                    problems += checked.problems
                    totals["checked_in_sql"] += checked.checked_in_sql
                    if not problems:  # once one is found, the rest is only checked
                        totals["added"] += _store_checked(cur, clock, checked, packed)
                        report("stored", totals["added"])
                finally:
                    packed.result()  # before its file goes
                    for name in ("bulk_lines", "bulk_facts"):
                        with suppress(duckdb.Error):
                            cur.unregister(name)
                    cur.execute("DROP TABLE IF EXISTS bulk_incoming")
                    part.path.unlink()
                if len(problems) >= MAX_PROBLEMS:
                    break
        if problems:
            raise ImportRejected(problems[:MAX_PROBLEMS], path=str(path))
        if totals["statements"] == 0:
            raise InvalidInput("analytics.xapi.import_empty", path=str(path))
        return totals | {"already_stored": totals["statements"] - totals["added"]}

    return lrs.write_statements(store, load_parts)


def _cut(path: Path, part_bytes: int, scratch: Path) -> Iterator[tuple[Path, int]]:
    """The file cut at line ends into files of about part_bytes (a longer line makes its part
    longer), each with how many lines came before it. Without copies of the blocks read: at
    1 GB a part, each copy was another gigabyte of memory."""
    lines_before, carry = 0, b""
    with path.open("rb") as source:
        for number in itertools.count(1):
            block = source.read(part_bytes)
            if not block and not carry:
                return
            end = block.rfind(b"\n") + 1 if block else 0  # after the block's last line end
            if block and end == 0:  # no line end yet: one long line
                carry += block
                continue
            part = scratch / f"part-{number:06d}.jsonl"
            try:
                with part.open("wb") as out:
                    out.write(carry)
                    out.write(memoryview(block)[:end])
            except OSError as exc:  # no room beside the database, most likely
                raise InvalidInput("analytics.xapi.import_parts_unwritable", path=str(path), folder=str(scratch.parent),
                                   part_size=_size(max(part_bytes, len(carry) + end)),
                                   detail=exc.strerror or str(exc)) from exc
            yield part, lines_before
            lines_before += carry.count(b"\n") + block.count(b"\n", 0, end)
            carry = block[end:]
            if not block:
                return  # that was the last line, without a line end


def _size(size: int) -> str:
    return f"{size / 1e9:.1f} GB" if size >= 1e9 else f"{size / 1e6:.0f} MB"


def _next_part(parts: Iterator[tuple[Path, int]], path: Path) -> _Part | None:
    """The next part cut and its lines read, or None after the last."""
    try:
        part_path, lines_before = next(parts)
    except StopIteration:
        return None
    return _Part(part_path, lines_before, _lines_of(lambda: _read_lines(part_path), path))


def _part_facts(reader, part_path: Path) -> pa.Table | None:
    """FACTS of a part and n, by the reader's connection; None when DuckDB's reader refuses it.
    (Through a table, numbered as in _read_facts: a query's result straight to Arrow took a
    third longer.)"""
    try:
        reader.execute(f"CREATE OR REPLACE TEMP TABLE bulk_part_facts AS {FACTS}", [str(part_path)])
    except duckdb.Error:
        return None
    try:
        return reader.execute("SELECT rowid AS n, * FROM bulk_part_facts").to_arrow_table()
    finally:
        reader.execute("DROP TABLE bulk_part_facts")


def _read_facts(cur, path: Path) -> bool:
    """DuckDB's JSON reader on the file: bulk_facts, FACTS and n, the line's place among the
    statements. False when the reader refuses the file (a key twice, a value of another type,
    broken JSON); outside the write's transaction, which a failed statement would end."""
    try:
        # In file order (DuckDB keeps the insertion order of a scan), so n is the rowid: a
        # row_number() window here would number the rows as the threads deliver them.
        cur.execute(f"CREATE OR REPLACE TEMP TABLE bulk_facts_read AS {FACTS}", [str(path)])
    except duckdb.Error:
        return False
    cur.execute("CREATE OR REPLACE TEMP VIEW bulk_facts AS SELECT rowid AS n, * FROM bulk_facts_read")
    return True


def _packed_texts(path: Path, lines: pl.DataFrame) -> texts.Packed:
    """The texts in n order: the non-blank lines as read, each with its newline."""
    lengths = lines.select(pl.col("text").str.len_bytes().fill_null(0) + 1).to_series().to_numpy()
    data = path.read_bytes()
    if lines["k"].null_count() == 0 and data.endswith(b"\n") and int(lengths.sum()) == len(data):
        # The file is its texts, one per line (no blank line, a newline at the end): no copy.
        return texts.pack_buffer(data, np.concatenate([[0], np.cumsum(lengths)]))
    return texts.pack(lines.filter(pl.col("k").is_not_null()).select(pl.col("text") + "\n").to_series().to_arrow())


def _all_fast(lines: pl.DataFrame, fast: Future) -> bool:
    return bool(fast.result().filter(lines["k"].is_not_null()).all())


@dataclass
class _Checked:
    """A batch of lines checked: the rows ready to store (incoming: the table of those checked
    in SQL, rows: those the full validator passed, at places), or the problems."""
    incoming: str
    checked_in_sql: int
    problems: list[RowProblem]
    rows: list[dict]
    places: list[int]


def _check(cur, lines: pl.DataFrame, agree: bool, fast: Future, trust_shape: bool,
           lines_before: int = 0) -> _Checked:
    """Check the lines (bulk_lines) and their facts (bulk_facts). With trust_shape, every line
    is taken to have the common shape (see _load). Problems name lines_before + line_no."""
    statements = int(lines["k"].max() or 0)
    incoming = "bulk_facts"
    if not agree:
        kept = "false"  # the full validator decides each line
    elif trust_shape or _all_fast(lines, fast):
        kept = "f.ok"  # every line one object of the common shape: the readers saw the same lines
    else:
        kept = _KEPT_OF_MIXED
        cur.register("bulk_lines", lines.with_columns(fast.result()).lazy())
    if kept != "f.ok" or cur.execute("SELECT NOT bool_and(ok) FROM bulk_facts").fetchone()[0]:
        incoming = "bulk_incoming"
        cur.execute(f"CREATE OR REPLACE TEMP TABLE bulk_incoming ({lrs.INCOMING_COLUMNS.replace(', raw VARCHAR', '')})")
        if agree:
            cur.execute("INSERT INTO bulk_incoming BY NAME SELECT f.* EXCLUDE (ok) "
                        f"FROM bulk_facts f JOIN bulk_lines l ON l.k = f.n + 1 WHERE {kept}")
    checked_in_sql = cur.execute(f"SELECT count(*) FROM {incoming}").fetchone()[0]
    # The lines of another shape, or broken: the full validator decides and says why.
    others = [] if checked_in_sql == statements else cur.execute(
        "SELECT line_no, text, k, utf8 FROM bulk_lines WHERE k IS NOT NULL "
        f"AND k - 1 NOT IN (SELECT n FROM {incoming}) ORDER BY line_no").fetchall()
    checked = _Checked(incoming, checked_in_sql, [], [], [])
    for line_no, text, k, utf8 in others:
        try:
            if not utf8:
                raise InvalidStatement("", "not_utf8_json", detail="not UTF-8")
            statement = parse_json(text)
            validate_statement(statement)
            checked.rows.append(lrs.statement_row(statement))
            checked.places.append(k - 1)
        except InvalidStatement as exc:
            checked.problems.append(RowProblem(lines_before + line_no, "analytics.xapi.invalid_line",
                                               {"path": exc.params["path"], "reason": exc.params["reason"]}))
            if len(checked.problems) >= MAX_PROBLEMS:
                break
    return checked


def _store_checked(cur, clock: Clock, checked: _Checked, packed: Future) -> int:
    """Store a checked batch in the caller's transaction; how many statements were new."""
    if checked.rows:
        cur.register("bulk_slow_rows", lrs.rows_frame(checked.rows).drop("raw").with_columns(
            n=pl.Series(checked.places, dtype=pl.UInt64)))
        cur.execute("INSERT INTO bulk_incoming BY NAME SELECT * FROM bulk_slow_rows")
        cur.unregister("bulk_slow_rows")
    before = cur.execute("SELECT count(*) FROM analytics_statements").fetchone()[0]
    lrs.insert_incoming(cur, checked.incoming, lrs.IMPORT_CLIENT_ID, lrs.IMPORT_AUTHORITY, clock.now(),
                        texts_in_order=packed.result,
                        raws="(SELECT k - 1 AS n, text AS raw FROM bulk_lines WHERE k IS NOT NULL)")
    return cur.execute("SELECT count(*) FROM analytics_statements").fetchone()[0] - before


def _load(cur, clock: Clock, path: Path, lines: pl.DataFrame, agree: bool, fast: Future, packed: Future,
          report: Callable[[str, int], None], trust_shape: bool) -> dict:
    """Check and store the statements. With trust_shape, every line is taken to have the common
    shape until the grammar, matched meanwhile, says so or not before the commit (a file of
    another shape then costs a rolled-back attempt; most files are an app's own)."""
    statements = int(lines["k"].max() or 0)
    checked = _check(cur, lines, agree, fast, trust_shape)
    if not trust_shape:
        report("checked", statements)
    if checked.problems:
        raise ImportRejected(checked.problems, path=str(path))
    if statements == 0:
        raise InvalidInput("analytics.xapi.import_empty", path=str(path))
    added = _store_checked(cur, clock, checked, packed)
    if trust_shape:
        if not _all_fast(lines, fast):
            raise _OtherShapes
        report("checked", statements)
    report("stored", added)
    return {"lines": lines.height, "statements": statements, "checked_in_sql": checked.checked_in_sql,
            "added": added, "already_stored": statements - added, "parts": 1}

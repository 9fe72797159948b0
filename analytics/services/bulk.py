"""Bulk loading of JSONL statement files, validated set-wise, not statement by statement.

A per-statement Python loop cannot check hundreds of thousands of statements a second. Most
lines of a learning app have one common shape: an Agent (account or mbox), a verb, an
Activity, a result, a context (with context activities), a timestamp, extensions holding any
JSON. A compiled reader (_xapi_scan.c, through statement_lines) reads the file once, on every
core: it knows that shape as a grammar (only
the allowed keys, each given once, each value of its JSON type and form: IRIs, UUIDs,
language tags, durations, real timestamps, score ranges) and gives the typed facts of every
line that has it. Every other line — unusual but maybe valid (groups, sub-statements,
voiding, interaction definitions, escapes in a name), or broken — goes through the full Python
validator, which names the rule it breaks. The reader says yes only to lines the validator
accepts (tests/analytics/test_bulk_agreement.py holds it to that).

While DuckDB stores the facts, another thread compresses the texts (texts.pack).
"""

from __future__ import annotations

import mmap
import os
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import suppress
from dataclasses import dataclass
from pathlib import Path

import duckdb
import polars as pl
import pyarrow as pa
import pyarrow.compute as pc

from analytics.services import lrs, statement_lines, texts
from analytics.services.statement_lines import Lines
from analytics.services.xapi_validate import InvalidStatement, parse_json, validate_statement
from kernel.actor import Actor
from kernel.clock import Clock
from kernel.errors import ImportRejected, InvalidInput, RowProblem
from kernel.store import Store

MAX_PROBLEMS = 100
# An import holds the file about MEMORY_PER_FILE_BYTE times over at its peak (measured 3.4:
# 3.7 GB for a file of 1.1 GB read at once): its bytes, the facts the reader gives, and
# DuckDB's insert. A file that would not fit is read in parts, in one transaction.
MEMORY_PER_FILE_BYTE = 5
# Read in parts, two are held at once (the next is read while one is stored) with the open
# transaction.
MEMORY_PER_PART_BYTE = 12
# A large file is read in parts even when it would fit in memory: the next part is then read
# while one is stored. Measured here, 2,000,000 statements (1.1 GB): 287,000/s at once,
# 330,000/s in 4 parts, in 2.3 GB of memory instead of 3.7. Every part pays a look at the
# ids stored (0.4 s at 20 million), so the parts of a very large file grow to an eighth of it.
PIPELINE_PART_BYTES = 256 << 20
MAX_PART_BYTES = 1 << 30
MIN_PART_BYTES = 8 << 20


def import_jsonl(store: Store, clock: Clock, actor: Actor, path: Path,
                 progress: Callable[[str, int], None] | None = None, part_bytes: int | None = None) -> dict:
    """Load a JSONL file of statements, all or nothing: every bad line is named, none stored.
    A file larger than part_bytes (by default: _part_bytes) is read in parts of about that
    size, still in one transaction."""
    actor.require("city_admin")
    path = Path(path)
    if not path.is_file():
        raise InvalidInput("analytics.xapi.import_unreadable", path=str(path), detail="not a file")
    report = progress or (lambda stage, count: None)
    size = path.stat().st_size
    part_bytes = part_bytes or _part_bytes(size)
    if part_bytes and size > part_bytes:
        return _import_in_parts(store, clock, path, part_bytes, report)
    with ThreadPoolExecutor(max_workers=1) as beside:
        data, size = _file_bytes(path, populate=True)
        lines = statement_lines.read(data, size)
        report("read", lines.count)
        packed = beside.submit(_packed_texts, lines)
        return lrs.write_statements(store, lambda cur: _load(cur, clock, path, lines, packed, report))


def _load(cur, clock: Clock, path: Path, lines: Lines, packed: Future, report: Callable[[str, int], None]) -> dict:
    """Check and store the statements of a whole file in the caller's transaction."""
    statements = lines.statements
    try:
        checked = _check(cur, lines)
        report("checked", statements)
        if checked.problems:
            raise ImportRejected(checked.problems, path=str(path))
        if statements == 0:
            raise InvalidInput("analytics.xapi.import_empty", path=str(path))
        added = _store_checked(cur, clock, checked, lines, packed)
    finally:
        _drop_batch(cur)
    report("stored", added)
    return {"lines": lines.count, "statements": statements, "read_compiled": checked.read_compiled,
            "added": added, "already_stored": statements - added, "parts": 1}


def memory_available() -> int | None:
    """Bytes this machine can still give without swapping (Linux's MemAvailable), or None."""
    try:
        with open("/proc/meminfo") as meminfo:
            for line in meminfo:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        return None
    return None


def _part_bytes(size: int) -> int | None:
    """None when a file of `size` bytes is best read at once: it fits in memory
    (MEMORY_PER_FILE_BYTE) and is not large (PIPELINE_PART_BYTES). Else the size of the
    parts to read it in, all about equal."""
    free = memory_available()
    fits = free is None or size * MEMORY_PER_FILE_BYTE <= free
    if fits and size < 2 * PIPELINE_PART_BYTES:
        return None
    part = min(MAX_PART_BYTES, max(PIPELINE_PART_BYTES, size // 8))
    if not fits:
        part = min(part, free // MEMORY_PER_PART_BYTE)
    part = max(MIN_PART_BYTES, part)
    return size // -(-size // part) + 1


# --- checking and storing one batch (a file, or a part of one) ----------------------------------


@dataclass
class _Checked:
    """A batch of lines checked: the rows ready to store (incoming: the table of the facts the
    reader gave, or of their ids when whole_rows has them; rows: those the full validator
    passed, at places), or the problems."""
    incoming: str
    whole_rows: str | None  # see lrs.insert_incoming's rows
    read_compiled: int  # lines of the usual shape: checked by the compiled reader, not the validator
    problems: list[RowProblem]
    rows: list[tuple]
    places: list[int]


def _check(cur, lines: Lines, lines_before: int = 0) -> _Checked:
    """The facts of the lines of the common shape (bulk_facts, or bulk_incoming when rows
    of the validator will join them), and every other line through the full validator.
    Problems name lines_before + the line's number."""
    others = lines.others()
    whole_rows = None
    if others or lines.facts.column("id").null_count:
        incoming = "bulk_incoming"
        _read_once(cur, "bulk_lines_facts", lines.facts)
        cur.execute(f"CREATE OR REPLACE TEMP TABLE bulk_incoming ({lrs.INCOMING_COLUMNS.replace(', raw VARCHAR', '')})")
        cur.execute(f"INSERT INTO bulk_incoming BY NAME {statement_lines.FACTS_SQL} FROM bulk_lines_facts")
    else:  # every line read by the reader, each with its id: the facts as they are, placed,
        # read once by the INSERT; the checks before it read a table of the ids alone.
        incoming = "bulk_ids"
        facts = lrs.with_roster_places(cur, lines.facts)
        _read_once(cur, "bulk_lines_ids", facts.select(["n", "id"]))
        cur.execute("CREATE OR REPLACE TEMP TABLE bulk_ids AS SELECT n, id::UUID AS id, NULL::VARCHAR AS voids_id FROM bulk_lines_ids")
        _read_once(cur, "bulk_lines_facts", facts)
        whole_rows = f"({statement_lines.FACTS_SQL}, school_id, grade, class_name FROM bulk_lines_facts)"
    checked = _Checked(incoming, whole_rows, lines.facts.num_rows, [], [], [])
    for index, place, text, utf8 in others:
        try:
            if not utf8:
                raise InvalidStatement("", "not_utf8_json", detail="not UTF-8")
            statement = parse_json(text)
            validate_statement(statement)
            checked.rows.append(lrs.statement_row(statement))
            checked.places.append(place)
        except InvalidStatement as exc:
            checked.problems.append(RowProblem(lines_before + index + 1, "analytics.xapi.invalid_line",
                                               {"path": exc.params["path"], "reason": exc.params["reason"]}))
            if len(checked.problems) >= MAX_PROBLEMS:
                break
    return checked


def _store_checked(cur, clock: Clock, checked: _Checked, lines: Lines, packed: Future) -> int:
    """Store a checked batch in the caller's transaction; how many statements were new."""
    if checked.rows:
        frame = lrs.rows_frame(checked.rows).drop("raw").with_columns(n=pl.Series(checked.places, dtype=pl.UInt64))
        cur.register("bulk_slow_rows", frame)
        cur.execute("INSERT INTO bulk_incoming BY NAME SELECT * FROM bulk_slow_rows")
        cur.unregister("bulk_slow_rows")

    def texts_as_sent() -> str:
        """The texts as sent, asked for ids met twice (in the file, or stored before)."""
        cur.register("bulk_texts", lines.texts())
        return "(SELECT n, raw FROM bulk_texts WHERE n >= 0)"

    before = cur.execute("SELECT count(*) FROM analytics_statements").fetchone()[0]
    lrs.insert_incoming(cur, checked.incoming, lrs.IMPORT_CLIENT_ID, clock.now(),
                        texts_in_order=packed.result, raws=texts_as_sent, rows=checked.whole_rows)
    return cur.execute("SELECT count(*) FROM analytics_statements").fetchone()[0] - before


def _drop_batch(cur) -> None:
    for name in ("bulk_lines_facts", "bulk_lines_ids", "bulk_texts", "bulk_slow_rows"):
        with suppress(duckdb.Error):
            cur.unregister(name)
    cur.execute("DROP TABLE IF EXISTS bulk_ids")
    cur.execute("DROP TABLE IF EXISTS bulk_incoming")


def _read_once(cur, name: str, table: pa.Table) -> None:
    """Lets DuckDB read `table` once, as `name`, through the Arrow C stream interface. (Given a
    pyarrow Table, which it may read many times, DuckDB imports pyarrow.dataset, and with it
    pandas: 0.3 s of CPU an import paid, on a core the reader wanted.)"""
    cur.register(name, table.__arrow_c_stream__())


def _packed_texts(lines: Lines) -> texts.Packed:
    """The texts in n order: the non-blank lines as read, each with a newline."""
    offsets = lines.packed_offsets()
    if offsets is not None:
        # The data is its texts, one per line: compressed where they lie, no copy.
        return texts.pack_buffer(lines.data, offsets)
    if not lines.all_utf8():
        return texts.Packed(0, [])  # a batch that will be refused: nothing to keep
    found = lines.texts()
    kept = found.filter(pc.greater_equal(found.column("n"), 0)).column("raw")
    newline, nothing = pa.scalar("\n", pa.large_string()), pa.scalar("", pa.large_string())
    return texts.pack(pc.binary_join_element_wise(kept, newline, nothing))


# --- a file too large for memory, in parts ------------------------------------------------------


@dataclass
class _Part:
    """One part of a file: data[begin:end], whole lines."""
    data: statement_lines.Data
    begin: int
    end: int


def _import_in_parts(store: Store, clock: Clock, path: Path, part_bytes: int,
                     report: Callable[[str, int], None]) -> dict:
    """The file in parts of about part_bytes, all in one transaction: all or nothing still,
    ids met again in a later part compared with the earlier, every bad line of every part
    named. While a part is checked and stored, another thread compresses its texts and reads
    the next part."""

    def load_parts(cur) -> dict:
        totals = {"lines": 0, "statements": 0, "read_compiled": 0, "added": 0, "parts": 0}
        problems: list[RowProblem] = []
        with ThreadPoolExecutor(max_workers=1) as beside:
            parts = _cut(path, part_bytes)

            def read_next() -> Lines | None:
                part = next(parts, None)
                return None if part is None else statement_lines.read(part.data, part.end, begin=part.begin)

            upcoming = beside.submit(read_next)
            while (lines := upcoming.result()) is not None:
                packed = beside.submit(_packed_texts, lines) if not problems else None
                upcoming = beside.submit(read_next)
                lines_before = totals["lines"]
                totals["parts"] += 1
                totals["lines"] += lines.count
                totals["statements"] += lines.statements
                report("read", totals["lines"])
                try:
                    checked = _check(cur, lines, lines_before=lines_before)
                    report("checked", totals["statements"])
                    problems += checked.problems
                    totals["read_compiled"] += checked.read_compiled
                    if not problems:  # once one is found, the rest is only checked
                        totals["added"] += _store_checked(cur, clock, checked, lines, packed)
                        report("stored", totals["added"])
                finally:
                    _drop_batch(cur)
                    if packed is not None:
                        packed.result()  # before its bytes go
                if len(problems) >= MAX_PROBLEMS:
                    break
        if problems:
            raise ImportRejected(problems[:MAX_PROBLEMS], path=str(path))
        if totals["statements"] == 0:
            raise InvalidInput("analytics.xapi.import_empty", path=str(path))
        return totals | {"already_stored": totals["statements"] - totals["added"]}

    return lrs.write_statements(store, load_parts)


def _file_bytes(path: Path, populate: bool) -> tuple[statement_lines.Data, int]:
    """The file's bytes and how many there are: mapped from the page cache, read only (no copy
    and no fresh memory to fault in: 0.015 s for 560 MB, where reading them into fresh huge
    pages took 0.15 s, and 1.6 s when Linux first had to compact memory for those); populate:
    its pages mapped at once (one call, not a page fault every 4 KB), for a file that fits in
    memory. Bytes appended while the file is imported are not part of it. A file that cannot
    be mapped is read. (Cutting the file shorter during its import ends the process: nothing
    is stored.)"""
    try:
        with path.open("rb") as source:
            size = os.fstat(source.fileno()).st_size
            if size:
                flags = mmap.MAP_PRIVATE | (getattr(mmap, "MAP_POPULATE", 0) if populate else 0)
                with suppress(OSError, ValueError):
                    return mmap.mmap(source.fileno(), size, flags=flags, prot=mmap.PROT_READ), size
            whole = source.read()
            return whole, len(whole)
    except OSError as exc:
        raise InvalidInput("analytics.xapi.import_unreadable", path=str(path), detail=exc.strerror or str(exc)) from exc


def _cut(path: Path, part_bytes: int) -> Iterator[_Part]:
    """The file in parts of part_bytes and on to the next line end, over one mapping of the
    file: a part's pages are read from disk as the reader comes to them and are the page
    cache's, which Linux may take back once they are read."""
    data, size = _file_bytes(path, populate=False)
    begin = 0
    while begin < size:
        found = data.find(b"\n", begin + part_bytes - 1, size)  # the first line end from part_bytes on
        end = size if found < 0 else found + 1
        yield _Part(data, begin, end)
        begin = end

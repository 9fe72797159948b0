"""`manabi lake export`: this municipality's learning facts and yearly indicators as Parquet
files with Hive partitions (see layout.py), for the prefecture's board to read.

- Facts, not names: each statement's typed columns (what the dashboards aggregate), its pupil
  by a keyed pseudonym (HMAC-SHA256 under the lake's own key, so the prefecture cannot link it
  to a class export), never the learner id, the actor or the statement's JSON.
- Incremental: a run takes the statements after the last committed seq, up to the largest
  seq when it starts (statements get rising seqs as they arrive, analytics/services/lrs.py).
- Crash-safe: a run writes into _staging/, moves each whole file into its partition, and
  only then commits its last seq (_state/<code>.json, written by rename). A run cut short
  leaves whole files only; readers count no statement past the committed seq (board.py),
  and the next run takes them back before it starts, so nothing is ever there twice.
- Voiding is a fact too: a voiding statement is exported with `voids_id`, and readers leave
  out what it voids (the lake is append-only; a statement voided later stays in its file).
- Aggregates leave nothing of a group under MIN_GROUP pupils (a school's pupil count too).
"""

from __future__ import annotations

import fcntl
import hashlib
import hmac
import json
import os
import secrets
import shutil
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa

from kernel import municipality, offers
from kernel.clock import Clock
from kernel.config import setting
from kernel.errors import InvalidInput
from kernel.migrations import get_meta
from kernel.provided import provided
from kernel.store import Store
from lake.services import layout

MIN_GROUP = 5
MAX_OPEN_PARTITIONS = 4096
SECRET_META = "lake:pseudonym_secret"  # used when MANABI_LAKE_SECRET is not set


@dataclass(frozen=True)
class ExportResult:
    municipality: str
    statements: int  # facts written by this run
    files: int  # statement files written by this run
    first_seq: int | None  # None: nothing new
    last_seq: int  # the committed seq after this run
    taken_back: int  # files of a run cut short, removed before this one
    seconds: float


def lake_secret(store: Store) -> bytes:
    """The pseudonyms' key: MANABI_LAKE_SECRET, else one made at random on first use and kept
    in this municipality's database (never in the lake, never in the repository)."""
    configured = setting("lake_secret")
    if configured:
        return configured.encode()
    kept = get_meta(store, SECRET_META)
    if kept is None:
        store.write(lambda cur: cur.execute("INSERT OR IGNORE INTO manabi_meta VALUES (?, ?)",
                                            [SECRET_META, secrets.token_hex(32)]))
        kept = get_meta(store, SECRET_META)
    return kept.encode()


def pseudonym(secret: bytes, pupil_key: str) -> str:
    return "P" + hmac.new(secret, pupil_key.encode(), hashlib.sha256).hexdigest()[:16]


@contextmanager
def _exclusive(lake: Path, code: str) -> Iterator[None]:
    """One export of a municipality at a time (the nightly job and a command by hand)."""
    (lake / layout.STATE).mkdir(parents=True, exist_ok=True)
    with open(lake / layout.STATE / f"{code}.lock", "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _commit(lake: Path, code: str, last_seq: int, clock: Clock) -> None:
    path = layout.state_path(lake, code)
    temporary = path.with_suffix(".json.tmp")
    temporary.write_text(json.dumps({"municipality": code, "last_seq": last_seq,
                                     "committed_at": clock.now().isoformat()}), encoding="utf-8")
    with open(temporary, "rb") as handle:
        os.fsync(handle.fileno())
    os.replace(temporary, path)


def _take_back(lake: Path, code: str, done: int) -> int:
    """Remove the files of a run that did not commit (their first seq is past the committed)."""
    shutil.rmtree(lake / layout.STAGING / code, ignore_errors=True)
    uncommitted = [p for p in layout.part_files(lake, code) if p.last_seq > done]
    for part in uncommitted:
        part.path.unlink()
    return len(uncommitted)


# The facts of each statement (analytics offers them, the portal its schools, as relations):
# its pupil by pseudonym, its school by code, its month in Tokyo.
_FACTS = """
    SELECT f.statement_id, f.seq, f.ts, p.pupil, f.grade, f.class_name, f.verb_id, f.activity_id, f.unit_code,
           f.score_scaled, f.success, f.completion, f.duration_s, f.voids_id, f.voided,
           coalesce(sc.code, 'none') AS school, strftime(f.ts AT TIME ZONE 'Asia/Tokyo', '%Y-%m') AS month
    FROM lake_facts f
    JOIN lake_pupils p ON p.pupil_key = f.pupil_key
    LEFT JOIN lake_schools sc ON sc.id = f.school_id
"""


def _temporary_view(cur, name: str, relation) -> None:
    """The relation as a view of this cursor only (a relation's create_view would write a lasting
    view into the municipality's database)."""
    cur.execute(f"CREATE OR REPLACE TEMP VIEW {name} AS {relation.sql_query()}")


def _offered(offer: offers.Offer[offers.F]) -> offers.F:
    offered = provided(offer)
    if offered is None:  # the portal runs without the module that owns them
        raise InvalidInput("lake.not_offered", name=offer.name)
    return offered


def export(store: Store, clock: Clock, lake: Path, *,
           moved: Callable[[Path], None] | None = None) -> ExportResult:
    """Export what is new since the last committed run. `moved` is told each file as it is
    moved into its partition (the crash test stops the process there)."""
    started = time.perf_counter()
    code = municipality.code(store)
    lake = Path(lake)
    with _exclusive(lake, code):
        done = layout.committed_seq(lake, code)
        taken_back = _take_back(lake, code, done)
        staging = lake / layout.STAGING / code
        staging.mkdir(parents=True)
        written = files = 0
        with store.own_cursor() as cur:
            _temporary_view(cur, "lake_schools", _offered(offers.PORTAL_SCHOOLS)(cur))
            last = int(_offered(offers.ANALYTICS_STATEMENT_FACTS)(cur, 0).aggregate("coalesce(max(seq), 0)").fetchone()[0])
            if last < done:  # the lake holds more than this database: another database, or a restore
                raise InvalidInput("lake.ahead_of_store", code=code, committed=done, stored=last)
            if last > done:
                facts = _offered(offers.ANALYTICS_STATEMENT_FACTS)(cur, done, last)
                _temporary_view(cur, "lake_facts", facts)
                keys = [k for (k,) in cur.execute("SELECT DISTINCT pupil_key FROM lake_facts").fetchall()]
                secret = lake_secret(store)
                # One file per partition: past 100 open partitions DuckDB would close and reopen
                # files, leaving many small ones (a first export spans every school and month).
                # zstd at level 1: a quarter faster than its default 3, files 4 % larger (bench).
                cur.execute(f"SET partitioned_write_max_open_files = {MAX_OPEN_PARTITIONS}")
                cur.register("lake_pupils", pa.table({"pupil_key": keys,
                                                      "pupil": [pseudonym(secret, k) for k in keys]}))
                written = int(cur.execute(
                    f"COPY ({_FACTS}) TO '{_sql_path(staging / layout.STATEMENTS)}' "
                    f"(FORMAT parquet, COMPRESSION zstd, COMPRESSION_LEVEL 1, PARTITION_BY (school, month), "
                    f"FILENAME_PATTERN 'part-{done + 1}-{last}-{{i}}')").fetchone()[0])
                cur.unregister("lake_pupils")
            _write_dimensions(store, clock, cur, staging)
        target = layout.municipality_dir(lake, code)
        for path in sorted((staging / layout.STATEMENTS).glob("school=*/month=*/*.parquet")):
            destination = target / path.relative_to(staging / layout.STATEMENTS)
            destination.parent.mkdir(parents=True, exist_ok=True)
            os.replace(path, destination)
            files += 1
            if moved is not None:
                moved(destination)
        for name in layout.DIMENSIONS:  # replaced whole, each by one rename
            destination = lake / name / f"municipality={code}" / "part.parquet"
            destination.parent.mkdir(parents=True, exist_ok=True)
            os.replace(staging / f"{name}.parquet", destination)
        _commit(lake, code, last, clock)
        shutil.rmtree(lake / layout.STAGING / code, ignore_errors=True)
    return ExportResult(code, written, files, done + 1 if last > done else None, last, taken_back,
                        round(time.perf_counter() - started, 3))


def _write_dimensions(store: Store, clock: Clock, cur, staging: Path) -> None:
    cur.execute(f"""COPY (SELECT code AS school, name_ja, name_en, kind,
                                 CASE WHEN pupils >= {MIN_GROUP} THEN pupils END AS pupils
                          FROM lake_schools ORDER BY code)
                    TO '{_sql_path(staging / "schools.parquet")}' (FORMAT parquet)""")
    _temporary_view(cur, "lake_units", _offered(offers.ANALYTICS_UNITS)(cur))
    cur.execute(f"""COPY (SELECT * FROM lake_units ORDER BY unit_code)
                    TO '{_sql_path(staging / "units.parquet")}' (FORMAT parquet)""")
    gather = provided(offers.PORTAL_INDICATORS)
    found = gather(store, clock) if gather else []
    rows = [(i.measure, i.key, i.unit, year, value, i.target, i.higher_is_better)
            for i in found for year, value in i.series]
    columns = ("measure", "key", "unit", "fiscal_year", "value", "target", "higher_is_better")
    table = pa.table({name: [row[n] for row in rows] for n, name in enumerate(columns)},
                     schema=pa.schema([("measure", pa.string()), ("key", pa.string()), ("unit", pa.string()),
                                       ("fiscal_year", pa.int32()), ("value", pa.float64()),
                                       ("target", pa.float64()), ("higher_is_better", pa.bool_())]))
    cur.register("lake_indicators", table)
    cur.execute(f"COPY (SELECT * FROM lake_indicators) TO '{_sql_path(staging / 'indicators.parquet')}' "
                "(FORMAT parquet)")
    cur.unregister("lake_indicators")


def _sql_path(path: Path) -> str:
    return str(path).replace("'", "''")


def nightly(store: Store, clock: Clock) -> dict | None:
    """The server's nightly job: export into MANABI_LAKE_DIR, when one is set."""
    folder = setting("lake_dir")
    if not folder:
        return None
    result = export(store, clock, Path(folder))
    return {"statements": result.statements, "files": result.files, "last_seq": result.last_seq}

"""The prefecture's board over the lake: the board view (school, grade and unit), mastery by
curriculum code and time on task, on DuckDB (one machine) or Apache Spark (a cluster; local mode
here), with the same SQL. Each engine only names the files as views (`statements`, `schools`,
`units`, `committed`); everything after that is the SQL below, run unchanged by both.

Only committed runs count (a statement's seq at most its municipality's committed seq), voided
statements and the voiding ones never count, and no group of fewer than MIN_GROUP pupils is
shown. Figures are not rounded here (the engines then agree to the last bits a sum in another
order can change); the page and the CLI round them for reading.
"""

from __future__ import annotations

import json
import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from kernel.clock import Clock
from kernel.errors import InvalidInput
from lake.services import layout

MIN_GROUP = 5
ENGINES = ("duckdb", "spark")

# Statements of committed runs, less voided ones and voiding ones.
_LIVE_VIEWS = (
    """CREATE OR REPLACE TEMPORARY VIEW facts AS
       SELECT s.* FROM statements s
       JOIN committed c ON c.municipality = s.municipality AND s.seq <= c.last_seq""",
    """CREATE OR REPLACE TEMPORARY VIEW live AS
       SELECT f.* FROM facts f
       WHERE NOT f.voided AND f.voids_id IS NULL
         AND NOT EXISTS (SELECT 1 FROM facts v
                         WHERE v.municipality = f.municipality AND v.voids_id = f.statement_id)""",
)

_COMPLETED = "CASE WHEN completion THEN CAST(1 AS DOUBLE) ELSE CAST(0 AS DOUBLE) END"

VIEWS: dict[str, str] = {
    # What analytics' board_view shows a city, for every school of every municipality.
    "board": f"""
        WITH per_pupil AS (
            SELECT municipality, school, grade, unit_code, pupil, avg(score_scaled) AS mastery,
                   avg({_COMPLETED}) AS completion
            FROM live
            WHERE score_scaled IS NOT NULL AND unit_code IS NOT NULL AND school <> 'none'
            GROUP BY municipality, school, grade, unit_code, pupil)
        SELECT p.municipality, p.school, sc.name_ja AS school_ja, sc.name_en AS school_en, p.grade,
               p.unit_code, u.subject, u.name_ja AS unit_ja, u.name_en AS unit_en,
               count(*) AS pupils, avg(p.mastery) AS mastery, avg(p.completion) AS completion
        FROM per_pupil p
        LEFT JOIN schools sc ON sc.municipality = p.municipality AND sc.school = p.school
        LEFT JOIN units u ON u.municipality = p.municipality AND u.unit_code = p.unit_code
        GROUP BY p.municipality, p.school, sc.name_ja, sc.name_en, p.grade, p.unit_code, u.subject,
                 u.name_ja, u.name_en
        HAVING count(*) >= {MIN_GROUP}
        ORDER BY p.municipality, p.school, p.grade, p.unit_code""",
    # Each curriculum unit across the prefecture: how far its pupils got.
    "mastery": f"""
        WITH per_pupil AS (
            SELECT municipality, unit_code, pupil, avg(score_scaled) AS mastery,
                   avg({_COMPLETED}) AS completion
            FROM live
            WHERE score_scaled IS NOT NULL AND unit_code IS NOT NULL AND school <> 'none'
            GROUP BY municipality, unit_code, pupil),
        named AS (
            SELECT unit_code, min(subject) AS subject, min(grade) AS grade, min(name_ja) AS unit_ja,
                   min(name_en) AS unit_en
            FROM units GROUP BY unit_code)
        SELECT p.unit_code, n.subject, n.grade, n.unit_ja, n.unit_en,
               count(DISTINCT p.municipality) AS municipalities, count(*) AS pupils,
               avg(p.mastery) AS mastery, avg(p.completion) AS completion
        FROM per_pupil p LEFT JOIN named n ON n.unit_code = p.unit_code
        GROUP BY p.unit_code, n.subject, n.grade, n.unit_ja, n.unit_en
        HAVING count(*) >= {MIN_GROUP}
        ORDER BY p.unit_code""",
    # Minutes on task per month, school and grade, and per active pupil.
    "time": f"""
        SELECT l.municipality, l.school, sc.name_ja AS school_ja, sc.name_en AS school_en, l.grade, l.month,
               count(DISTINCT l.pupil) AS pupils,
               sum(coalesce(l.duration_s, CAST(0 AS DOUBLE))) / 60 AS minutes,
               sum(coalesce(l.duration_s, CAST(0 AS DOUBLE))) / 60 / count(DISTINCT l.pupil) AS minutes_per_pupil
        FROM live l
        LEFT JOIN schools sc ON sc.municipality = l.municipality AND sc.school = l.school
        WHERE l.school <> 'none'
        GROUP BY l.municipality, l.school, sc.name_ja, sc.name_en, l.grade, l.month
        HAVING count(DISTINCT l.pupil) >= {MIN_GROUP}
        ORDER BY l.municipality, l.school, l.grade, l.month""",
}


@dataclass(frozen=True)
class BoardResult:
    engine: str
    views: dict[str, list[dict[str, Any]]]
    statements: int  # committed facts the figures were computed over
    seconds: float  # wall time of the views' SQL (the engine's start not counted)


def _committed(lake: Path) -> list[tuple[str, int]]:
    found = [(code, layout.committed_seq(lake, code)) for code in layout.municipalities(lake)]
    if not found or not any(layout.part_files(lake, code) for code, _ in found):
        raise InvalidInput("lake.empty", path=str(lake))
    return found


def _glob(lake: Path, kind: str) -> str:
    pattern = "*/*/*/*.parquet" if kind == layout.STATEMENTS else "*/part.parquet"
    return str(lake / kind / pattern).replace("'", "''")


def run_duckdb(lake: Path, views: tuple[str, ...] = tuple(VIEWS)) -> BoardResult:
    import duckdb

    lake = Path(lake)
    committed = _committed(lake)
    con = duckdb.connect()
    try:
        con.execute("SET TimeZone = 'Asia/Tokyo'")
        partitions = "{'municipality': VARCHAR, 'school': VARCHAR, 'month': VARCHAR}"
        con.execute(f"CREATE TEMPORARY VIEW statements AS SELECT * FROM read_parquet('{_glob(lake, 'statements')}', "
                    f"hive_partitioning = true, hive_types = {partitions})")
        for kind in ("schools", "units"):
            con.execute(f"CREATE TEMPORARY VIEW {kind} AS SELECT * FROM read_parquet('{_glob(lake, kind)}', "
                        "hive_partitioning = true, hive_types = {'municipality': VARCHAR})")
        con.execute("CREATE TEMPORARY TABLE committed (municipality VARCHAR, last_seq BIGINT)")
        con.executemany("INSERT INTO committed VALUES (?, ?)", committed)
        for sql in _LIVE_VIEWS:
            con.execute(sql)
        started = time.perf_counter()
        results = {}
        for name in views:
            cur = con.execute(VIEWS[name])
            columns = [d[0] for d in cur.description]
            results[name] = [dict(zip(columns, row, strict=True)) for row in cur.fetchall()]
        seconds = time.perf_counter() - started
        statements = int(con.execute("SELECT count(*) FROM facts").fetchone()[0])
    finally:
        con.close()
    return BoardResult("duckdb", results, statements, round(seconds, 3))


_spark = None


def spark_session():
    """One Spark session per process, in local mode unless MANABI_SPARK_MASTER names a cluster."""
    global _spark
    if _spark is None:
        from pyspark.sql import SparkSession

        master = os.environ.get("MANABI_SPARK_MASTER", "local[2]")
        _spark = (SparkSession.builder.master(master).appName("manabi-lake-board")
                  .config("spark.ui.enabled", "false")
                  .config("spark.sql.session.timeZone", "Asia/Tokyo")
                  # Partition values stay strings, as DuckDB reads them (hive_types above).
                  .config("spark.sql.sources.partitionColumnTypeInference.enabled", "false")
                  .config("spark.sql.shuffle.partitions", os.environ.get("MANABI_SPARK_SHUFFLE", "8"))
                  .config("spark.driver.memory", os.environ.get("MANABI_SPARK_MEMORY", "2g"))
                  .config("spark.ui.showConsoleProgress", "false")
                  .getOrCreate())
        _spark.sparkContext.setLogLevel("ERROR")
    return _spark


def stop_spark() -> None:
    global _spark
    if _spark is not None:
        _spark.stop()
        _spark = None


def run_spark(lake: Path, views: tuple[str, ...] = tuple(VIEWS)) -> BoardResult:
    lake = Path(lake)
    committed = _committed(lake)
    spark = spark_session()
    spark.read.parquet(str(lake / layout.STATEMENTS)).createOrReplaceTempView("statements")
    for kind in ("schools", "units"):
        spark.read.parquet(str(lake / kind)).createOrReplaceTempView(kind)
    spark.createDataFrame(committed, "municipality STRING, last_seq BIGINT").createOrReplaceTempView("committed")
    for sql in _LIVE_VIEWS:
        spark.sql(sql)
    started = time.perf_counter()
    results = {name: [row.asDict() for row in spark.sql(VIEWS[name]).collect()] for name in views}
    seconds = time.perf_counter() - started
    statements = spark.sql("SELECT count(*) AS n FROM facts").collect()[0]["n"]
    return BoardResult("spark", results, int(statements), round(seconds, 3))


def run(lake: Path, engine: str, views: tuple[str, ...] = tuple(VIEWS)) -> BoardResult:
    if engine not in ENGINES:
        raise InvalidInput("lake.bad_engine", engine=engine, engines=", ".join(ENGINES))
    unknown = [v for v in views if v not in VIEWS]
    if unknown:
        raise InvalidInput("lake.bad_view", view=", ".join(unknown), views=", ".join(VIEWS))
    return (run_duckdb if engine == "duckdb" else run_spark)(Path(lake), views)


def save(lake: Path, result: BoardResult, clock: Clock) -> Path:
    """Keep the figures in the lake's _results/ (one JSON, replaced by rename) for the board's page."""
    folder = Path(lake) / layout.RESULTS
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "board.json"
    temporary = path.with_suffix(".json.tmp")
    temporary.write_text(json.dumps({"engine": result.engine, "computed_at": clock.now().isoformat(),
                                     "statements": result.statements, "seconds": result.seconds,
                                     "views": result.views}, ensure_ascii=False), encoding="utf-8")
    os.replace(temporary, path)
    return path


def saved(lake: Path) -> dict | None:
    """The figures as last saved, or None."""
    path = Path(lake) / layout.RESULTS / "board.json"
    return json.loads(path.read_text(encoding="utf-8")) if path.is_file() else None


@dataclass(frozen=True)
class BoardPage:
    lake: Path | None  # None: this instance has no lake (MANABI_LAKE_DIR unset)
    figures: dict | None  # as saved (save()), None: not computed yet


def board_page(actor, clock: Clock, *, compute: bool = False) -> BoardPage:
    """What the prefecture's board page shows: the figures last saved in MANABI_LAKE_DIR,
    computed now with DuckDB when asked. For the board of education's administrators only."""
    from kernel.config import setting

    actor.require("city_admin")
    folder = setting("lake_dir")
    if not folder:
        return BoardPage(None, None)
    lake = Path(folder)
    if compute:
        save(lake, run(lake, "duckdb"), clock)
    return BoardPage(lake, saved(lake))

"""School network load (measure 4-1-2): traffic samples per school, peak bandwidth per
pupil against the target the board sets, and a school's day."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import polars as pl

from kernel import csv_import
from kernel.actor import Actor
from kernel.clock import TOKYO
from kernel.errors import ImportRejected, InvalidInput, RowProblem
from kernel.provided import offered_view
from kernel.store import Store
from school_ict.services.access import require_board, require_manage, school_scope

TARGET_KEY = "network_target_mbps_per_pupil"
DEFAULT_TARGET = 0.7


def target(store: Store) -> float:
    value = store.scalar("SELECT value FROM school_ict_settings WHERE key = ?", [TARGET_KEY])
    return float(value) if value is not None else DEFAULT_TARGET


def set_target(store: Store, actor: Actor, mbps_per_pupil: float) -> None:
    require_board(actor)
    if not 0 < mbps_per_pupil <= 100:
        raise InvalidInput("ict.error.bad_target")
    store.write(lambda cur: cur.execute("INSERT OR REPLACE INTO school_ict_settings VALUES (?, ?)",
                                        [TARGET_KEY, str(mbps_per_pupil)]))


def peaks(store: Store, clock, actor: Actor, days: int = 30) -> list[dict]:
    """Per visible school over the last `days` days: peak download, peak per pupil, over target?"""
    require_manage(actor, actor.school_id if not actor.has("city_admin") else None)
    school_id = school_scope(actor, None)
    since = clock.now() - timedelta(days=days)
    goal = target(store)
    offered_view(store.cursor(), "portal.schools")
    rows = store.query_dicts(
        """SELECT s.id AS school_id, s.code, s.name_ja, s.name_en, s.pupils,
                  max(n.mbps_down) AS peak_down, max(n.mbps_up) AS peak_up
           FROM offered_schools s JOIN school_ict_network_samples n ON n.school_id = s.id
           WHERE n.sampled_at >= ? AND (? IS NULL OR s.id = ?)
           GROUP BY ALL ORDER BY s.code""", [since, school_id, school_id])
    for row in rows:
        row["peak_per_pupil"] = round(row["peak_down"] / row["pupils"], 3) if row["pupils"] else None
        row["over_target"] = row["peak_per_pupil"] is not None and row["peak_per_pupil"] > goal
    return rows


def school_day(store: Store, actor: Actor, school_id: int, day: date) -> list[dict]:
    """The samples of one school on one day (Tokyo time), for a chart."""
    require_manage(actor, school_id)
    school_scope(actor, school_id)
    start = datetime.combine(day, datetime.min.time(), TOKYO)
    return store.query_dicts(
        """SELECT sampled_at, mbps_down, mbps_up FROM school_ict_network_samples
           WHERE school_id = ? AND sampled_at >= ? AND sampled_at < ? ORDER BY sampled_at""",
        [school_id, start, start + timedelta(days=1)])


def import_samples(store: Store, actor: Actor, data: bytes | str) -> int:
    """A traffic CSV (school, timestamp, mbps_down, mbps_up); all or nothing, bad lines named.
    A sample already stored for the same school and time is replaced."""
    require_board(actor)
    frame = csv_import.read_frame(data, unreadable_key="ict.import.unreadable", lower_names=True)
    missing = [c for c in ("school", "timestamp", "mbps_down", "mbps_up") if c not in frame.columns]
    if missing:
        raise ImportRejected([RowProblem(1, "ict.network.missing_columns", {"columns": ", ".join(missing)})])
    offered_view(store.cursor(), "portal.schools")
    schools = pl.DataFrame(store.query("SELECT upper(code), id FROM offered_schools"),
                           schema={"key": pl.Utf8, "school_id": pl.Int64}, orient="row")
    frame = (frame.with_columns(pl.col("school").str.strip_chars().str.to_uppercase().alias("key"),
                           pl.col("timestamp").str.strip_chars().str.to_datetime(strict=False, time_zone="Asia/Tokyo")
                           .alias("at"),
                           pl.col("mbps_down").cast(pl.Float64, strict=False).alias("down"),
                           pl.col("mbps_up").cast(pl.Float64, strict=False).alias("up"))
             .join(schools, on="key", how="left").sort("line"))
    problems = csv_import.frame_problems(frame, [
        (pl.col("school_id").is_null(), "ict.import.unknown_school", {"school": pl.col("school")}),
        (pl.col("at").is_null(), "ict.import.bad_date", {"value": pl.col("timestamp"), "column": pl.lit("timestamp")}),
        (pl.col("down").is_null() | pl.col("up").is_null() | (pl.col("down") < 0) | (pl.col("up") < 0),
         "ict.network.bad_number", {}),
    ])
    rows = frame.select("school_id", "at", "down", "up").unique(["school_id", "at"], keep="last")

    def work(cur) -> None:
        cur.register("_samples", rows)
        cur.execute("INSERT OR REPLACE INTO school_ict_network_samples SELECT * FROM _samples")
        cur.unregister("_samples")

    csv_import.store_all(store, problems, work, rows=frame.height)
    return frame.height

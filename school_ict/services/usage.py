"""Device usage: daily active minutes per device (from a telemetry CSV or the demo),
averaged per grade and week, for teachers and the board."""

from __future__ import annotations

import polars as pl

from kernel import csv_import
from kernel.actor import Actor
from kernel.errors import ImportRejected, RowProblem
from kernel.store import Store
from school_ict.services.access import require_manage, school_scope


def usage_by_grade_week(store: Store, actor: Actor, school_id: int | None = None) -> list[dict]:
    """[{week, grade, minutes_per_day, device_days}]: pupil tablets' mean active minutes per school day."""
    school_id = school_scope(actor, school_id)
    return store.query_dicts(
        """SELECT week, grade, round(sum(minutes) / sum(device_days), 1) AS minutes_per_day,
                  sum(device_days) AS device_days
           FROM school_ict_usage_weekly WHERE (? IS NULL OR school_id = ?)
           GROUP BY ALL ORDER BY week, grade""", [school_id, school_id])


def refresh_weekly(cur, weeks: list | None = None) -> None:
    """Recompute the weekly summary for `weeks` (Mondays), or for every week, from the daily rows.
    The grade is the pupil's grade now: a week is summarised when its usage arrives."""
    where = "" if weeks is None else "WHERE date_trunc('week', u.day)::DATE IN (SELECT unnest(?::DATE[]))"
    params = [] if weeks is None else [weeks]
    cur.execute("DELETE FROM school_ict_usage_weekly" + ("" if weeks is None else
                " WHERE week IN (SELECT unnest(?::DATE[]))"), params)
    cur.execute(f"""INSERT INTO school_ict_usage_weekly
        SELECT date_trunc('week', u.day)::DATE, d.school_id, p.grade, sum(u.active_minutes), count(*)
        FROM school_ict_usage u JOIN school_ict_devices d ON d.id = u.device_id
        JOIN school_ict_pupils p ON p.id = d.pupil_id {where} GROUP BY ALL""", params)


def import_usage(store: Store, actor: Actor, data: bytes | str) -> int:
    """A telemetry CSV (asset_tag or serial, date, active_minutes); all or nothing.
    Each device's last-seen time moves forward to its latest active day."""
    require_manage(actor, actor.school_id if not actor.has("city_admin") else None)
    school_id = school_scope(actor, None)
    frame = csv_import.read_frame(data, unreadable_key="ict.import.unreadable", lower_names=True)
    key = "asset_tag" if "asset_tag" in frame.columns else "serial" if "serial" in frame.columns else None
    if key is None or not {"date", "active_minutes"} <= set(frame.columns):
        raise ImportRejected([RowProblem(1, "ict.network.missing_columns",
                                         {"columns": "asset_tag|serial, date, active_minutes"})])
    devices = pl.DataFrame(
        store.query(f"SELECT {key}, id FROM school_ict_devices WHERE (? IS NULL OR school_id = ?)",
                    [school_id, school_id]), schema={"k": pl.Utf8, "device_id": pl.Int64}, orient="row")
    frame = (frame.with_columns(pl.col(key).str.strip_chars().alias("k"),
                           pl.col("date").str.strip_chars().str.to_date(strict=False).alias("day"),
                           pl.col("active_minutes").cast(pl.Int64, strict=False).alias("minutes"))
             .join(devices, on="k", how="left").sort("line"))
    problems = csv_import.frame_problems(frame, [
        (pl.col("device_id").is_null(), "ict.error.no_such_device", {"tag": pl.col("k")}),
        (pl.col("day").is_null(), "ict.import.bad_date", {"value": pl.col("date"), "column": pl.lit("date")}),
        (pl.col("minutes").is_null() | ~pl.col("minutes").is_between(0, 1440), "ict.network.bad_number", {}),
    ])
    rows = frame.select("device_id", "day", "minutes").unique(["device_id", "day"], keep="last")

    def work(cur) -> None:
        cur.register("_usage", rows)
        cur.execute("INSERT OR REPLACE INTO school_ict_usage SELECT * FROM _usage")
        cur.execute("""UPDATE school_ict_devices d SET last_seen_at = greatest(coalesce(d.last_seen_at, u.seen), u.seen)
                       FROM (SELECT device_id, max(day)::TIMESTAMP AT TIME ZONE 'Asia/Tokyo' + INTERVAL 15 HOUR AS seen
                             FROM _usage WHERE minutes > 0 GROUP BY device_id) u WHERE u.device_id = d.id""")
        weeks = [r[0] for r in cur.execute(
            "SELECT DISTINCT date_trunc('week', day)::DATE FROM _usage").fetchall()]
        cur.unregister("_usage")
        refresh_weekly(cur, weeks)

    csv_import.store_all(store, problems, work, rows=frame.height)
    return frame.height

"""What school ICT offers other modules (kernel.provided): a school's classrooms and
pupils with whether each pupil has a working tablet today (courses' online classes use
it), and the weeks each pupil's tablet was in repair (learning analytics shows them beside
the pupil's learning). They never read school ICT's tables themselves."""

from __future__ import annotations

from datetime import date

import polars as pl

from kernel.store import Store
from school_ict.services.registry import Classroom

# A pupil's tablet is ready when it is assigned to them and still supported.
_READY = "d.pupil_id = p.id AND d.status = 'assigned' AND (d.support_end IS NULL OR d.support_end > ?)"


def classrooms_with_readiness(store: Store, school_id: int, today: date) -> list[Classroom]:
    """A school's classrooms, each with its active pupils and those with a ready tablet."""
    return [Classroom(*row) for row in store.query(
        f"""SELECT c.id, c.school_id, c.grade, c.class_name,
                   count(DISTINCT p.id) AS pupils,
                   count(DISTINCT p.id) FILTER (WHERE d.id IS NOT NULL) AS ready
            FROM school_ict_classrooms c
            LEFT JOIN school_ict_pupils p ON p.classroom_id = c.id AND p.active
            LEFT JOIN school_ict_devices d ON {_READY}
            WHERE c.school_id = ? GROUP BY ALL ORDER BY c.grade, c.class_name""",
        [today, school_id])]


def pupils_with_readiness(store: Store, classroom_id: int, today: date) -> list[tuple[str, bool]]:
    """(pseudonym, has a ready tablet) for each active pupil of a classroom."""
    return [(pseudonym, bool(ready)) for pseudonym, ready in store.query(
        f"""SELECT p.pseudonym, bool_or(d.id IS NOT NULL) FROM school_ict_pupils p
            LEFT JOIN school_ict_devices d ON {_READY}
            WHERE p.classroom_id = ? AND p.active GROUP BY p.pseudonym ORDER BY p.pseudonym""",
        [today, classroom_id])]


def repair_weeks(store: Store, pseudonyms: list[str], start: date, end: date) -> dict[str, list[date]]:
    """For each pupil (by pseudonym), the weeks between `start` and `end` in which the
    tablet they held was in repair on at least one day: from a repair ticket naming the
    pupil, the day it was opened up to the day it was closed (or `end` while still open).
    Weeks are named by their Monday; pupils with no such week are left out."""
    if not pseudonyms:
        return {}
    rows = store.query(
        """WITH spans AS (
               SELECT p.pseudonym, greatest(r.opened_at::DATE, ?::DATE) AS first_day,
                      least(coalesce(r.closed_at::DATE, ?::DATE), ?::DATE) AS last_day
               FROM school_ict_repairs r JOIN school_ict_pupils p ON p.id = r.pupil_id
               WHERE p.pseudonym IN (SELECT unnest(?::VARCHAR[]))
                 AND r.opened_at::DATE <= ? AND (r.closed_at IS NULL OR r.closed_at::DATE >= ?)),
           weeks AS (
               SELECT pseudonym, unnest(generate_series(date_trunc('week', first_day)::TIMESTAMP,
                                                        last_day::TIMESTAMP, INTERVAL 7 DAY))::DATE AS week
               FROM spans WHERE first_day <= last_day)
           SELECT DISTINCT pseudonym, week FROM weeks ORDER BY pseudonym, week""",
        [start, end, end, list(pseudonyms), end, start])
    found: dict[str, list[date]] = {}
    for pseudonym, week in rows:
        found.setdefault(pseudonym, []).append(week)
    return found


def repair_spans(store: Store, pseudonyms: list[str], start: date,
                 end: date) -> dict[str, list[tuple[date, date | None]]]:
    """For each pupil (by pseudonym), the repairs of a tablet they held that were open at some
    time between `start` and `end`: (day opened, day closed or None while open), oldest first."""
    if not pseudonyms:
        return {}
    rows = store.query(
        """SELECT p.pseudonym, r.opened_at::DATE, r.closed_at::DATE
           FROM school_ict_repairs r JOIN school_ict_pupils p ON p.id = r.pupil_id
           WHERE p.pseudonym IN (SELECT unnest(?::VARCHAR[]))
             AND r.opened_at::DATE <= ? AND (r.closed_at IS NULL OR r.closed_at::DATE >= ?)
           ORDER BY 1, 2, 3""", [list(pseudonyms), end, start])
    found: dict[str, list[tuple[date, date | None]]] = {}
    for pseudonym, opened, closed in rows:
        found.setdefault(pseudonym, []).append((opened, closed))
    return found


def apply_roster(cur, classes: list[tuple[int, int, str]], pupils: list[tuple[str, int, int, str]],
                 leavers: list[str], now) -> None:
    """The portal's school roster, followed inside the roster import's transaction (offered as
    "school_ict.apply_roster"): classrooms (school id, grade, class name) that are new are added;
    pupils (pseudonym, school id, grade, class name) join or move; leavers (pseudonyms) become
    inactive, and a tablet they still hold is flagged for return."""
    if classes:
        cur.register("_roster_classes", pl.DataFrame(sorted(set(classes)), orient="row", schema={
            "school_id": pl.Int32, "grade": pl.Int32, "class_name": pl.Utf8}))
        cur.execute("""INSERT INTO school_ict_classrooms (school_id, grade, class_name)
                       SELECT * FROM _roster_classes r WHERE NOT EXISTS (SELECT 1 FROM school_ict_classrooms c
                           WHERE c.school_id = r.school_id AND c.grade = r.grade AND c.class_name = r.class_name)""")
        cur.unregister("_roster_classes")
    if pupils:
        frame = pl.DataFrame(pupils, schema={"pseudonym": pl.Utf8, "school_id": pl.Int32, "grade": pl.Int32,
                                             "class_name": pl.Utf8}, orient="row")
        cur.register("_roster_pupils", frame)
        cur.execute("""CREATE OR REPLACE TEMP TABLE _placed AS
                       SELECT r.pseudonym, r.school_id, c.id AS classroom_id, r.grade FROM _roster_pupils r
                       JOIN school_ict_classrooms c ON c.school_id = r.school_id AND c.grade = r.grade
                            AND c.class_name = r.class_name""")
        cur.unregister("_roster_pupils")
        # Only pupils whose place changed are rewritten; new ones are added.
        cur.execute("""UPDATE school_ict_pupils p SET school_id = r.school_id, classroom_id = r.classroom_id,
                           grade = r.grade, active = true
                       FROM _placed r WHERE p.pseudonym = r.pseudonym AND (p.school_id, p.classroom_id, p.grade,
                           p.active) IS DISTINCT FROM (r.school_id, r.classroom_id, r.grade, true)""")
        cur.execute("""INSERT INTO school_ict_pupils (pseudonym, school_id, classroom_id, grade, active)
                       SELECT pseudonym, school_id, classroom_id, grade, true FROM _placed r
                       WHERE NOT EXISTS (SELECT 1 FROM school_ict_pupils p WHERE p.pseudonym = r.pseudonym)""")
        cur.execute("DROP TABLE _placed")
    if leavers:
        cur.execute("UPDATE school_ict_pupils SET active = false WHERE pseudonym IN (SELECT unnest(?::VARCHAR[]))",
                    [leavers])
        cur.execute("""INSERT INTO school_ict_device_returns
                       SELECT d.id, p.id, ?, 'left_roster' FROM school_ict_devices d
                       JOIN school_ict_pupils p ON p.id = d.pupil_id
                       WHERE p.pseudonym IN (SELECT unnest(?::VARCHAR[]))
                       ON CONFLICT DO NOTHING""", [now, leavers])


def devices_to_return(store: Store, school_id: int | None = None) -> list[tuple[str, str, object]]:
    """(asset tag, pupil pseudonym, flagged at) of tablets flagged for return and still held."""
    return store.query(
        """SELECT d.asset_tag, p.pseudonym, r.flagged_at FROM school_ict_device_returns r
           JOIN school_ict_devices d ON d.id = r.device_id JOIN school_ict_pupils p ON p.id = r.pupil_id
           WHERE d.pupil_id = r.pupil_id AND (? IS NULL OR d.school_id = ?) ORDER BY d.asset_tag""",
        [school_id, school_id])

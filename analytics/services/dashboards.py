"""What the learning dashboards show, computed in DuckDB from the typed statement columns.

Teachers (and school administrators) see only their own school's learners: the school
comes from the actor, never from the page. The board of education sees schools and
grades per unit, with no learner ids and no group of fewer than MIN_GROUP pupils.
Voided statements never count.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np
import polars as pl

from kernel.actor import Actor
from kernel.clock import Clock
from kernel.errors import NotFound, PermissionDenied
from kernel.store import Store

MIN_GROUP = 5  # the board never sees a group smaller than this
FAILED_VERB = "http://adlnet.gov/expapi/verbs/failed"
# The "may need help" rules, written so a teacher can read them.
FAILED_ATTEMPTS = 3
LOW_MASTERY = 0.5
CLASS_MEDIAN_OVER = 0.7
INACTIVE_SCHOOL_DAYS = 10
TEACHING_ROLES = ("teacher", "school_admin")


@dataclass(frozen=True)
class ClassRef:
    grade: int
    class_name: str
    pupils: int


@dataclass(frozen=True)
class HelpReason:
    learner_id: str
    rule: str  # "failed_attempts" | "below_class" | "inactive"
    params: dict


def teacher_school(actor: Actor) -> int:
    """The school whose learners this actor may see; refused to anyone else."""
    actor.require(*TEACHING_ROLES)
    if actor.school_id is None:
        raise PermissionDenied("analytics.dash.no_school")
    return actor.school_id


def classes(store: Store, actor: Actor) -> list[ClassRef]:
    school = teacher_school(actor)
    rows = store.query(
        "SELECT grade, class_name, count(*) FROM analytics_learners WHERE school_id = ? "
        "GROUP BY grade, class_name ORDER BY grade, lpad(class_name, 3, '0')", [school])
    return [ClassRef(*r) for r in rows]


def _frame(store: Store, sql: str, params: list) -> pl.DataFrame:
    return store.cursor().execute(sql, params).pl()


def mastery_by_pupil(store: Store, actor: Actor, grade: int, class_name: str, lang: str = "ja") -> pl.DataFrame:
    """One row per pupil and unit: mean scaled score and the share of completed attempts."""
    school = teacher_school(actor)
    return _frame(store, f"""
        SELECT s.learner_id, s.unit_code, u.name_{_lang(lang)} AS unit, u.subject,
               round(avg(s.score_scaled), 3) AS mastery,
               round(avg(CASE WHEN s.completion THEN 1.0 ELSE 0.0 END), 3) AS completion,
               count(*) AS attempts
        FROM analytics_statements s JOIN analytics_units u ON u.code = s.unit_code
        WHERE s.school_id = ? AND s.grade = ? AND s.class_name = ? AND NOT s.voided
          AND s.voids_id IS NULL AND s.score_scaled IS NOT NULL
        GROUP BY ALL ORDER BY s.learner_id, s.unit_code""", [school, grade, class_name])


def mastery_by_class(store: Store, actor: Actor, grade: int, lang: str = "ja") -> pl.DataFrame:
    """One row per class of the grade and unit: mean scaled score, completion, pupils."""
    school = teacher_school(actor)
    return _frame(store, f"""
        SELECT s.class_name, s.unit_code, u.name_{_lang(lang)} AS unit, u.subject,
               round(avg(s.score_scaled), 3) AS mastery,
               round(avg(CASE WHEN s.completion THEN 1.0 ELSE 0.0 END), 3) AS completion,
               count(DISTINCT s.learner_id) AS pupils
        FROM analytics_statements s JOIN analytics_units u ON u.code = s.unit_code
        WHERE s.school_id = ? AND s.grade = ? AND NOT s.voided AND s.voids_id IS NULL
          AND s.score_scaled IS NOT NULL
        GROUP BY ALL ORDER BY s.class_name, s.unit_code""", [school, grade])


def score_distribution(store: Store, actor: Actor, grade: int, class_name: str) -> pl.DataFrame:
    """Every scored assessment attempt of the class (tests: passed or failed)."""
    school = teacher_school(actor)
    return _frame(store, """
        SELECT coalesce(activity_name, object_id) AS assessment, learner_id, score_scaled AS score
        FROM analytics_statements
        WHERE school_id = ? AND grade = ? AND class_name = ? AND NOT voided AND voids_id IS NULL
          AND score_scaled IS NOT NULL AND verb_id IN ('http://adlnet.gov/expapi/verbs/passed', ?)
        ORDER BY assessment""", [school, grade, class_name, FAILED_VERB])


def weekly_time(store: Store, actor: Actor, grade: int, class_name: str) -> pl.DataFrame:
    """Minutes on task per pupil per week (weeks start on Monday)."""
    school = teacher_school(actor)
    return _frame(store, """
        SELECT learner_id, date_trunc('week', ts AT TIME ZONE 'Asia/Tokyo')::DATE AS week,
               round(sum(coalesce(duration_s, 0)) / 60) AS minutes
        FROM analytics_statements
        WHERE school_id = ? AND grade = ? AND class_name = ? AND NOT voided AND voids_id IS NULL
        GROUP BY ALL ORDER BY week, learner_id""", [school, grade, class_name])


def school_days_between(last: date, today: date) -> int:
    """Weekdays after `last` up to and excluding `today` (national holidays not counted out)."""
    return int(np.busday_count(last + timedelta(days=1), today)) if last < today else 0


def activity_overview(store: Store, clock: Clock, actor: Actor, grade: int, class_name: str) -> list[dict]:
    """Each pupil of the class with their last activity and school days since (inactivity)."""
    school = teacher_school(actor)
    today = clock.now().date()
    rows = store.query_dicts("""
        SELECT l.learner_id, max(s.ts AT TIME ZONE 'Asia/Tokyo')::DATE AS last_active, count(s.id) AS statements
        FROM analytics_learners l
        LEFT JOIN analytics_statements s ON s.learner_id = l.learner_id AND NOT s.voided AND s.voids_id IS NULL
        WHERE l.school_id = ? AND l.grade = ? AND l.class_name = ?
        GROUP BY ALL ORDER BY l.learner_id""", [school, grade, class_name])
    for row in rows:
        row["idle_school_days"] = (school_days_between(row["last_active"], today)
                                   if row["last_active"] else None)
    return rows


def may_need_help(store: Store, clock: Clock, actor: Actor, grade: int, class_name: str,
                  lang: str = "ja") -> list[HelpReason]:
    """Pupils who may need help, each with the rule that flagged them:
    - FAILED_ATTEMPTS or more failed attempts on one unit;
    - mastery under LOW_MASTERY on a unit where the class median is over CLASS_MEDIAN_OVER;
    - no activity for INACTIVE_SCHOOL_DAYS school days (or none at all)."""
    school = teacher_school(actor)
    name = f"u.name_{_lang(lang)}"
    reasons: list[HelpReason] = []
    failed = store.query(f"""
        SELECT s.learner_id, {name}, count(*) AS failures
        FROM analytics_statements s JOIN analytics_units u ON u.code = s.unit_code
        WHERE s.school_id = ? AND s.grade = ? AND s.class_name = ? AND NOT s.voided AND s.verb_id = ?
        GROUP BY ALL HAVING count(*) >= ? ORDER BY s.learner_id, 2""",
        [school, grade, class_name, FAILED_VERB, FAILED_ATTEMPTS])
    reasons += [HelpReason(lid, "failed_attempts", {"unit": unit, "count": n}) for lid, unit, n in failed]
    below = store.query(f"""
        WITH per_pupil AS (
            SELECT s.learner_id, s.unit_code, avg(s.score_scaled) AS mastery
            FROM analytics_statements s
            WHERE s.school_id = ? AND s.grade = ? AND s.class_name = ? AND NOT s.voided
              AND s.voids_id IS NULL AND s.score_scaled IS NOT NULL AND s.unit_code IS NOT NULL
            GROUP BY ALL),
        per_unit AS (SELECT unit_code, median(mastery) AS class_median FROM per_pupil GROUP BY ALL)
        SELECT p.learner_id, {name}, round(p.mastery, 2), round(c.class_median, 2)
        FROM per_pupil p JOIN per_unit c USING (unit_code) JOIN analytics_units u ON u.code = p.unit_code
        WHERE p.mastery < ? AND c.class_median > ? ORDER BY p.learner_id, 2""",
        [school, grade, class_name, LOW_MASTERY, CLASS_MEDIAN_OVER])
    reasons += [HelpReason(lid, "below_class", {"unit": unit, "mastery": m, "median": med})
                for lid, unit, m, med in below]
    for row in activity_overview(store, clock, actor, grade, class_name):
        if row["last_active"] is None:
            reasons.append(HelpReason(row["learner_id"], "never_active", {}))
        elif row["idle_school_days"] >= INACTIVE_SCHOOL_DAYS:
            reasons.append(HelpReason(row["learner_id"], "inactive",
                                      {"days": row["idle_school_days"], "since": row["last_active"]}))
    return sorted(reasons, key=lambda r: (r.learner_id, r.rule))


def pupil_timeline(store: Store, clock: Clock, actor: Actor, learner_id: str, view: str = "timeline") -> pl.DataFrame:
    """One pupil's statements, newest first; the view is written to the access log."""
    school = teacher_school(actor)
    known = store.query("SELECT school_id FROM analytics_learners WHERE learner_id = ?", [learner_id])
    if not known or known[0][0] != school:
        # Another school's pupil reads the same as no pupil: ids do not leak across schools.
        raise NotFound("analytics.dash.no_such_learner", learner=learner_id)

    def log(cur) -> None:
        cur.execute("INSERT INTO analytics_access_log VALUES (?, ?, ?, ?)",
                    [clock.now(), actor.user_id, learner_id, view])

    store.write(log)
    return _frame(store, """
        SELECT ts AT TIME ZONE 'Asia/Tokyo' AS at, regexp_extract(verb_id, '[^/]+$') AS verb,
               coalesce(activity_name, object_id) AS activity, unit_code, score_scaled AS score,
               success, round(duration_s / 60, 1) AS minutes
        FROM analytics_statements
        WHERE learner_id = ? AND school_id = ? AND NOT voided AND voids_id IS NULL
        ORDER BY ts DESC""", [learner_id, school])


def access_log(store: Store, actor: Actor, limit: int = 200) -> list[dict]:
    """Who viewed which pupil's records: the city administrator audits it."""
    actor.require("city_admin")
    return store.query_dicts(
        "SELECT viewed_at, user_id, learner_id, view FROM analytics_access_log ORDER BY viewed_at DESC LIMIT ?",
        [limit])


def board_view(store: Store, actor: Actor, lang: str = "ja") -> pl.DataFrame:
    """Schools and grades per unit: pupils, mean mastery, completion. No learner ids; a
    school-grade-unit group of fewer than MIN_GROUP pupils is left out."""
    actor.require("city_admin")
    return _frame(store, f"""
        WITH per_pupil AS (
            SELECT school_id, grade, unit_code, learner_id, avg(score_scaled) AS mastery,
                   avg(CASE WHEN completion THEN 1.0 ELSE 0.0 END) AS completion
            FROM analytics_statements
            WHERE NOT voided AND voids_id IS NULL AND score_scaled IS NOT NULL
              AND school_id IS NOT NULL AND unit_code IS NOT NULL
            GROUP BY ALL)
        SELECT sc.name_{_lang(lang)} AS school, p.grade, u.subject, u.name_{_lang(lang)} AS unit, p.unit_code,
               count(*) AS pupils, round(avg(p.mastery), 3) AS mastery, round(avg(p.completion), 3) AS completion
        FROM per_pupil p JOIN analytics_units u ON u.code = p.unit_code
        JOIN portal_schools sc ON sc.id = p.school_id
        GROUP BY ALL HAVING count(*) >= {MIN_GROUP}
        ORDER BY p.grade, p.unit_code, school""", [])


def _lang(lang: str) -> str:
    return "en" if lang == "en" else "ja"

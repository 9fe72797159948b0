"""What the learning dashboards show, computed in DuckDB from the typed statement columns.

A teacher sees only the classes they teach (the portal's teacher-class link, offered as
"portal.teacher_classes"); a school administrator sees their whole school. Both come from
the actor, never from the page: every function here checks the class it is asked about.
The board of education sees schools and grades per unit, with no learner ids and no group
of fewer than MIN_GROUP pupils. Voided statements never count. A class export names each
pupil by a keyed pseudonym (HMAC-SHA256 of the learner id), never by the learner id.
Where school ICT is part of the portal, the weeks a pupil's tablet was in repair are
shown beside their learning ("school_ict.repair_weeks").
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta

import numpy as np
import polars as pl

from kernel import offers
from kernel.actor import Actor
from kernel.clock import Clock
from kernel.config import setting
from kernel.csv_export import write_csv_bytes
from kernel.errors import NotFound, PermissionDenied
from kernel.migrations import get_meta
from kernel.provided import offered_view, provided
from kernel.store import Store

MIN_GROUP = 5  # the board never sees a group smaller than this
FAILED_VERB = "http://adlnet.gov/expapi/verbs/failed"
# The "may need help" rules, written so a teacher can read them.
FAILED_ATTEMPTS = 3
LOW_MASTERY = 0.5
CLASS_MEDIAN_OVER = 0.7
INACTIVE_SCHOOL_DAYS = 10
TEACHING_ROLES = ("teacher", "school_admin")
EXPORT_SECRET_META = "analytics:export_secret"  # used when MANABI_EXPORT_SECRET is not set


@dataclass(frozen=True)
class ClassRef:
    grade: int
    class_name: str
    pupils: int


@dataclass(frozen=True)
class HelpReason:
    learner_id: str
    rule: str  # "failed_attempts" | "below_class" | "inactive" | "never_active"
    params: dict = field(default_factory=dict)

    @property
    def key(self) -> str:
        """The catalogue sentence: inactivity explained by a tablet in repair says so."""
        return f"analytics.help.{self.rule}" + ("_repair" if "repair_from" in self.params else "")


@dataclass(frozen=True)
class Scope:
    """What a teaching actor may see: a school, and within it `classes` (grade, class
    name), or every class of the school when `classes` is None (school administrators)."""

    school_id: int
    classes: frozenset[tuple[int, str]] | None

    @property
    def whole_school(self) -> bool:
        return self.classes is None


def teacher_school(actor: Actor) -> int:
    """The school whose learners this actor may see; refused to anyone else."""
    actor.require(*TEACHING_ROLES)
    if actor.school_id is None:
        raise PermissionDenied("analytics.dash.no_school")
    return actor.school_id


def scope(store: Store, actor: Actor) -> Scope:
    """A school administrator sees the whole school; a teacher the classes the portal
    says they teach (none when that link is missing: closed by default)."""
    school = teacher_school(actor)
    if actor.has("school_admin"):
        return Scope(school, None)
    taught = provided(offers.PORTAL_TEACHER_CLASSES)
    rows = taught(store, actor.user_id) if taught else []
    return Scope(school, frozenset((int(g), str(c)) for s, g, c in rows if s == school))


def _own_class(store: Store, actor: Actor, grade: int, class_name: str) -> int:
    """The actor's school, once the class is one they may see; refused otherwise."""
    allowed = scope(store, actor)
    if not allowed.whole_school and (int(grade), str(class_name)) not in allowed.classes:
        raise PermissionDenied("analytics.dash.not_your_class", grade=grade, name=class_name)
    return allowed.school_id


def _own_learner(store: Store, actor: Actor, learner_id: str) -> int:
    """The actor's school, once the learner is in a class they may see. Anyone else's
    pupil reads the same as no pupil: ids do not leak across schools or classes."""
    allowed = scope(store, actor)
    known = store.query("SELECT school_id, grade, class_name FROM analytics_learners WHERE learner_id = ?",
                        [learner_id])
    if (not known or known[0][0] != allowed.school_id
            or not (allowed.whole_school or (known[0][1], known[0][2]) in allowed.classes)):
        raise NotFound("analytics.dash.no_such_learner", learner=learner_id)
    return allowed.school_id


def pupil_labels(store: Store, actor: Actor, grade: int, class_name: str) -> dict[str, str]:
    """learner id -> "name (kana)" for the pupils of a class the actor teaches, from the portal's
    school roster ("portal.pupil_names"); empty for anyone else, who sees pseudonyms. Only the
    pages use it: exports and the board view stay pseudonymous."""
    school = _own_class(store, actor, grade, class_name)
    names = provided(offers.PORTAL_PUPIL_NAMES)
    if not names:
        return {}
    labels = {learner: f"{name}（{kana}）" if kana else name
              for learner, (name, kana) in names(store, actor, school, grade, class_name).items()}
    # Two pupils of the same name stay two rows: their pseudonyms tell them apart.
    seen: dict[str, int] = {}
    for label in labels.values():
        seen[label] = seen.get(label, 0) + 1
    return {learner: f"{label} [{learner}]" if seen[label] > 1 else label for learner, label in labels.items()}


def classes(store: Store, actor: Actor) -> list[ClassRef]:
    """The classes the actor may open: a teacher's own, or every class of the school."""
    allowed = scope(store, actor)
    rows = store.query(
        "SELECT grade, class_name, count(*) FROM analytics_learners WHERE school_id = ? "
        "GROUP BY grade, class_name ORDER BY grade, lpad(class_name, 3, '0')", [allowed.school_id])
    return [ClassRef(*r) for r in rows if allowed.whole_school or (r[0], r[1]) in allowed.classes]


def school_classes(store: Store, school_id: int) -> list[tuple[int, str]]:
    """(grade, class name) of every class on a school's learner roster. Offered as
    "analytics.classes" so the portal's page that assigns teachers' classes can list them."""
    return store.query("SELECT DISTINCT grade, class_name FROM analytics_learners WHERE school_id = ? "
                       "ORDER BY grade, lpad(class_name, 3, '0')", [school_id])


def _frame(store: Store, sql: str, params: list) -> pl.DataFrame:
    return store.cursor().execute(sql, params).pl()


def mastery_by_pupil(store: Store, actor: Actor, grade: int, class_name: str, lang: str = "ja") -> pl.DataFrame:
    """One row per pupil and unit: mean scaled score and the share of completed attempts."""
    school = _own_class(store, actor, grade, class_name)
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
    """One row per class of the grade and unit: mean scaled score, completion, pupils.
    A teacher compares only the classes of that grade they teach."""
    allowed = scope(store, actor)
    mine = None if allowed.whole_school else sorted(c for g, c in allowed.classes if g == int(grade))
    if mine is not None and not mine:
        raise PermissionDenied("analytics.dash.not_your_grade", grade=grade)
    return _frame(store, f"""
        SELECT s.class_name, s.unit_code, u.name_{_lang(lang)} AS unit, u.subject,
               round(avg(s.score_scaled), 3) AS mastery,
               round(avg(CASE WHEN s.completion THEN 1.0 ELSE 0.0 END), 3) AS completion,
               count(DISTINCT s.learner_id) AS pupils
        FROM analytics_statements s JOIN analytics_units u ON u.code = s.unit_code
        WHERE s.school_id = ? AND s.grade = ? AND NOT s.voided AND s.voids_id IS NULL
          AND s.score_scaled IS NOT NULL AND (?::VARCHAR[] IS NULL OR list_contains(?::VARCHAR[], s.class_name))
        GROUP BY ALL ORDER BY s.class_name, s.unit_code""", [allowed.school_id, grade, mine, mine])


def score_distribution(store: Store, actor: Actor, grade: int, class_name: str, lang: str = "ja") -> pl.DataFrame:
    """Every scored assessment attempt of the class (tests: passed or failed)."""
    school = _own_class(store, actor, grade, class_name)
    return _frame(store, f"""
        SELECT {_activity_name(lang)} AS assessment, learner_id, score_scaled AS score
        FROM analytics_statements
        WHERE school_id = ? AND grade = ? AND class_name = ? AND NOT voided AND voids_id IS NULL
          AND score_scaled IS NOT NULL AND verb_id IN ('http://adlnet.gov/expapi/verbs/passed', ?)
        ORDER BY assessment""", [school, grade, class_name, FAILED_VERB])


def weekly_time(store: Store, actor: Actor, grade: int, class_name: str) -> pl.DataFrame:
    """Minutes on task per pupil per week (weeks start on Monday)."""
    school = _own_class(store, actor, grade, class_name)
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
    school = _own_class(store, actor, grade, class_name)
    today = clock.now().date()
    # The statements side is filtered by the class too (a statement carries its learner's class,
    # kept in step by roster imports): DuckDB then reads only the class's row groups, where a
    # join on learner_id alone read the learner_id of every statement (50 ms on 20 million).
    rows = store.query_dicts("""
        SELECT l.learner_id, (max(s.ts) AT TIME ZONE 'Asia/Tokyo')::DATE AS last_active, count(s.ts) AS statements
        FROM analytics_learners l
        LEFT JOIN (SELECT learner_id, ts FROM analytics_statements
                   WHERE school_id = $school AND grade = $grade AND class_name = $class AND NOT voided
                     AND voids_id IS NULL) s ON s.learner_id = l.learner_id
        WHERE l.school_id = $school AND l.grade = $grade AND l.class_name = $class
        GROUP BY ALL ORDER BY l.learner_id""", {"school": school, "grade": grade, "class": class_name})
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
    school = _own_class(store, actor, grade, class_name)
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
        -- In whole percent, rounded towards the rule's side: a pupil under 50 % never reads "50 %",
        -- a median over 70 % never "70 %".
        SELECT p.learner_id, {name}, floor(round(p.mastery * 100, 6))::INTEGER,
               ceil(round(c.class_median * 100, 6))::INTEGER
        FROM per_pupil p JOIN per_unit c USING (unit_code) JOIN analytics_units u ON u.code = p.unit_code
        WHERE p.mastery < ? AND c.class_median > ? ORDER BY p.learner_id, 2""",
        [school, grade, class_name, LOW_MASTERY, CLASS_MEDIAN_OVER])
    reasons += [HelpReason(lid, "below_class", {"unit": unit, "mastery": m, "median": med})
                for lid, unit, m, med in below]
    idle = [row for row in activity_overview(store, clock, actor, grade, class_name)
            if row["last_active"] is None or row["idle_school_days"] >= INACTIVE_SCHOOL_DAYS]
    today = clock.now().date()
    repairs = _repair_spans(store, [row["learner_id"] for row in idle], today)
    for row in idle:
        explained = repair_explaining(repairs.get(row["learner_id"], []), row["last_active"], today)
        params = {"repair_from": explained} if explained else {}
        if row["last_active"] is None:
            reasons.append(HelpReason(row["learner_id"], "never_active", params))
        else:
            reasons.append(HelpReason(row["learner_id"], "inactive",
                                      {"days": row["idle_school_days"], "since": row["last_active"], **params}))
    return sorted(reasons, key=lambda r: (r.learner_id, r.rule))


def help_by_pupil(reasons: list[HelpReason]) -> list[tuple[str, list[HelpReason]]]:
    """Each pupil once, with every reason that flagged them (in the order given)."""
    grouped: dict[str, list[HelpReason]] = {}
    for reason in reasons:
        grouped.setdefault(reason.learner_id, []).append(reason)
    return list(grouped.items())


def repair_explaining(spans: list[tuple[date, date | None]], last_active: date | None, today: date) -> date | None:
    """The day a tablet repair that explains a pupil's silence since `last_active` (None: no
    activity this school year) was filed, or None. A repair explains it when the tablet was in
    repair during the silence and the repair was filed before today: a fault reported today
    says nothing about the weeks before it."""
    silence_start = (last_active + timedelta(days=1)) if last_active else school_year_start(today)
    for opened, closed in spans:
        if opened < today and (closed is None or closed >= silence_start):
            return opened
    return None


def _repair_spans(store: Store, learner_ids: list[str], today: date) -> dict[str, list[tuple[date, date | None]]]:
    """Each pupil's tablet repairs open at some time this school year (none without school ICT)."""
    offered = provided(offers.SCHOOL_ICT_REPAIR_SPANS)
    if offered is None or not learner_ids:
        return {}
    return offered(store, learner_ids, school_year_start(today), today)


def school_year_start(today: date) -> date:
    """1 April of the Japanese school year that `today` is in."""
    return date(today.year if today.month >= 4 else today.year - 1, 4, 1)


def _repair_weeks(store: Store, learner_ids: list[str], today: date) -> dict[str, list[date]] | None:
    """Weeks of this school year in which each pupil's tablet was in repair, from school
    ICT; None when school ICT is not part of the portal."""
    offered = provided(offers.SCHOOL_ICT_REPAIR_WEEKS)
    if offered is None:
        return None
    return offered(store, learner_ids, school_year_start(today), today) if learner_ids else {}


def class_repair_weeks(store: Store, clock: Clock, actor: Actor, grade: int,
                       class_name: str) -> dict[str, list[date]] | None:
    """For each pupil of the class, the weeks (Mondays) their tablet was in repair this
    school year; None when there is no school ICT data to ask."""
    school = _own_class(store, actor, grade, class_name)
    learners = [lid for (lid,) in store.query(
        "SELECT learner_id FROM analytics_learners WHERE school_id = ? AND grade = ? AND class_name = ? "
        "ORDER BY learner_id", [school, grade, class_name])]
    return _repair_weeks(store, learners, clock.now().date())


def weekly_time_with_repairs(store: Store, clock: Clock, actor: Actor, grade: int,
                             class_name: str) -> pl.DataFrame:
    """weekly_time, plus a row for every pupil-week with the tablet in repair, and an
    `in_repair` column (false throughout when school ICT is not present)."""
    weekly = weekly_time(store, actor, grade, class_name).with_columns(pl.lit(False).alias("in_repair"))
    repairs = class_repair_weeks(store, clock, actor, grade, class_name) or {}
    marks = pl.DataFrame([(lid, w) for lid, weeks in repairs.items() for w in weeks],
                         schema={"learner_id": pl.Utf8, "week": pl.Date}, orient="row")
    if marks.is_empty() or weekly.is_empty():
        return weekly
    joined = weekly.join(marks.with_columns(pl.lit(True).alias("repair")), on=["learner_id", "week"], how="full",
                         coalesce=True)
    return joined.with_columns(pl.col("minutes").fill_null(0.0), pl.col("repair").fill_null(False).alias("in_repair")
                               ).drop("repair").sort("week", "learner_id")


def pupil_timeline(store: Store, clock: Clock, actor: Actor, learner_id: str, view: str = "timeline",
                   lang: str = "ja") -> pl.DataFrame:
    """One pupil's statements, newest first; the view is written to the access log."""
    school = _own_learner(store, actor, learner_id)

    def log(cur) -> None:
        cur.execute("INSERT INTO analytics_access_log VALUES (?, ?, ?, ?)",
                    [clock.now(), actor.user_id, learner_id, view])

    store.write(log)
    return _frame(store, f"""
        SELECT ts AT TIME ZONE 'Asia/Tokyo' AS at, regexp_extract(verb_id, '[^/]+$') AS verb,
               {_activity_name(lang)} AS activity, unit_code, score_scaled AS score,
               success, round(duration_s / 60, 1) AS minutes
        FROM analytics_statements
        WHERE learner_id = ? AND school_id = ? AND NOT voided AND voids_id IS NULL
        ORDER BY ts DESC""", [learner_id, school])


def pupil_repair_weeks(store: Store, clock: Clock, actor: Actor, learner_id: str) -> list[date] | None:
    """The weeks this school year the pupil's tablet was in repair; None without school ICT."""
    _own_learner(store, actor, learner_id)
    found = _repair_weeks(store, [learner_id], clock.now().date())
    return None if found is None else found.get(learner_id, [])


def export_secret(store: Store) -> bytes:
    """The key of export pseudonyms: MANABI_EXPORT_SECRET when set, else one made at
    random on first use and kept in the database (manabi_meta), never in the repo."""
    configured = setting("export_secret")
    if configured:
        return configured.encode()
    kept = get_meta(store, EXPORT_SECRET_META)
    if kept is None:
        fresh = secrets.token_hex(32)
        store.write(lambda cur: cur.execute("INSERT OR IGNORE INTO manabi_meta VALUES (?, ?)",
                                            [EXPORT_SECRET_META, fresh]))
        kept = get_meta(store, EXPORT_SECRET_META)
    return kept.encode()


def pseudonym(secret: bytes, learner_id: str) -> str:
    """A stable pseudonym: the same pupil reads the same in every export under one key,
    and the learner id cannot be read back from it without the key."""
    return "X" + hmac.new(secret, learner_id.encode(), hashlib.sha256).hexdigest()[:12]


EXPORT_COLUMNS = ("pupil", "grade", "class_name", "unit_code", "subject", "unit", "mastery", "completion",
                  "attempts")


def class_export(store: Store, clock: Clock, actor: Actor, grade: int, class_name: str,
                 lang: str = "ja") -> pl.DataFrame:
    """Mastery per pupil and unit for a class, each pupil named by a pseudonym: no learner
    id and no name leaves in the file. The export is written to the access log per pupil."""
    by_pupil = mastery_by_pupil(store, actor, grade, class_name, lang)
    secret = export_secret(store)
    learners = sorted(set(by_pupil["learner_id"].to_list()))
    now = clock.now()
    if learners:
        store.write(lambda cur: cur.executemany("INSERT INTO analytics_access_log VALUES (?, ?, ?, ?)",
                                                [[now, actor.user_id, lid, "class_export"] for lid in learners]))
    names = {lid: pseudonym(secret, lid) for lid in learners}
    return (by_pupil.with_columns(pl.col("learner_id").replace_strict(names, return_dtype=pl.Utf8).alias("pupil"),
                                  pl.lit(int(grade)).alias("grade"), pl.lit(str(class_name)).alias("class_name"))
            .select(EXPORT_COLUMNS).sort("pupil", "unit_code"))


def export_csv(frame: pl.DataFrame, headers: dict[str, str],
               worded: dict[str, Callable[[str], str]] | None = None) -> bytes:
    """A frame as CSV (UTF-8 with a byte-order mark, as Excel in Japan opens it), with
    the column names the reader's language gives them, and the values of the columns in
    `worded` put in it too (e.g. a subject)."""
    for column, word in (worded or {}).items():
        frame = frame.with_columns(pl.col(column).map_elements(word, return_dtype=pl.String))
    return write_csv_bytes([headers.get(c, c) for c in frame.columns], frame.rows())


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
    offered_view(store.cursor(), "portal.schools")
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
        JOIN offered_schools sc ON sc.id = p.school_id
        GROUP BY ALL HAVING count(*) >= {MIN_GROUP}
        ORDER BY p.grade, p.unit_code, school""", [])


def _activity_name(lang: str) -> str:
    """SQL: an activity's name in the reader's language. The stored name is the app's Japanese
    one when it sent one (lrs.statement_row); an English page takes the English name of the
    activity's definition, when the app sent one."""
    stored = "coalesce(activity_name, object_id)"
    if _lang(lang) == "ja":
        return stored
    english = ", ".join(f"""json_extract_string(definition, '$.name."{tag}"')""" for tag in ("en", "en-US", "en-GB"))
    return f"coalesce({english}, {stored})"


def _lang(lang: str) -> str:
    return "en" if lang == "en" else "ja"

"""The learner roster and the curriculum units: both imported from CSV, all or nothing.

The roster maps the pseudonymous learner id that learning apps send (the xAPI actor's
account name) to a school, grade and class; the dashboards group by it. Units carry
MEXT's 16-digit 学習指導要領コード with subject and grade.
"""

from __future__ import annotations

import re
from collections.abc import Callable

import polars as pl

from analytics.services import lrs
from kernel import csv_import
from kernel.actor import Actor
from kernel.errors import InvalidInput, RowProblem
from kernel.provided import offered_view
from kernel.store import Store

LEARNER_COLUMNS = ("learner_id", "school_code", "grade", "class")
UNIT_COLUMNS = ("code", "subject", "grade", "name_ja", "name_en")
# MEXT's subject names (教科等) as a units CSV gives them, and their catalogue keys
# (analytics.subject.*): the English pages name them in English. Others are shown as given.
SUBJECT_KEYS = {
    "国語": "japanese", "社会": "social_studies", "算数": "arithmetic", "数学": "mathematics",
    "算数・数学": "arithmetic_mathematics", "理科": "science", "生活": "life_studies", "音楽": "music",
    "図画工作": "arts_and_crafts", "美術": "fine_arts", "家庭": "home_economics",
    "技術・家庭": "technology_home_economics", "体育": "physical_education", "保健体育": "health_physical_education",
    "外国語": "foreign_language", "外国語活動": "foreign_language_activities", "英語": "english",
    "道徳": "moral_education", "特別の教科 道徳": "special_moral_education",
    "総合的な学習の時間": "integrated_studies", "特別活動": "special_activities",
}
_LEARNER_ID = re.compile(r"^[A-Za-z0-9_.\-]{1,128}$")
_UNIT_CODE = re.compile(r"^\d{16}$")


def subject_label(t: Callable[[str], str], subject: str) -> str:
    """A unit's subject in the reader's language (t: the page's translator)."""
    key = SUBJECT_KEYS.get(subject.strip())
    return t(f"analytics.subject.{key}") if key else subject


def _rows(text: str, columns: tuple[str, ...]) -> list[tuple[int, dict]]:
    """The records by line, each with every column (a short record's missing cells empty,
    a long record's extra cells left out)."""
    table = csv_import.read_rows(csv_import.decode_text(text))
    if table.header != list(columns):
        raise InvalidInput("analytics.roster.bad_header", expected=",".join(columns))
    return [(line, dict(zip(columns, cells + [""] * len(columns), strict=False))) for line, cells in table.records]


def _grade(value: str) -> int | None:
    return int(value) if value.isdigit() and 1 <= int(value) <= 9 else None


def import_learners(store: Store, actor: Actor, text: str) -> int:
    """Add or update learners from CSV (learner_id,school_code,grade,class).

    A school administrator may load only their own school's pupils."""
    actor.require("city_admin", "school_admin")
    rows = _rows(text, LEARNER_COLUMNS)
    offered_view(store.cursor(), "portal.schools")
    schools = dict(store.query("SELECT code, id FROM offered_schools"))
    problems, records, seen = [], [], set()
    for number, row in rows:
        school_id = schools.get(row["school_code"].upper())
        grade = _grade(row["grade"])
        if not _LEARNER_ID.match(row["learner_id"]):
            problems.append(RowProblem(number, "analytics.roster.bad_learner_id", {"value": row["learner_id"]}))
        elif row["learner_id"] in seen:
            problems.append(RowProblem(number, "analytics.roster.twice", {"value": row["learner_id"]}))
        elif school_id is None:
            problems.append(RowProblem(number, "analytics.roster.no_such_school", {"value": row["school_code"]}))
        elif not actor.has("city_admin") and school_id != actor.school_id:
            problems.append(RowProblem(number, "analytics.roster.other_school", {"value": row["school_code"]}))
        elif grade is None:
            problems.append(RowProblem(number, "analytics.roster.bad_grade", {"value": row["grade"]}))
        elif not 1 <= len(row["class"]) <= 20:
            problems.append(RowProblem(number, "analytics.roster.bad_class", {"value": row["class"]}))
        else:
            seen.add(row["learner_id"])
            records.append((row["learner_id"], school_id, grade, row["class"]))
    csv_import.reject(problems)
    if not records:
        raise InvalidInput("analytics.roster.empty")

    def work(cur) -> int:
        cur.executemany(
            "INSERT INTO analytics_learners VALUES (?, ?, ?, ?) ON CONFLICT (learner_id) DO UPDATE SET "
            "school_id = excluded.school_id, grade = excluded.grade, class_name = excluded.class_name",
            records)
        # Statements that arrived before the roster named their learner now join a class.
        cur.execute(
            "UPDATE analytics_statements s SET school_id = l.school_id, grade = l.grade, class_name = l.class_name "
            "FROM analytics_learners l WHERE l.learner_id = s.learner_id AND l.learner_id IN "
            "(SELECT unnest(?::VARCHAR[])) AND (s.school_id IS DISTINCT FROM l.school_id "
            "OR s.grade IS DISTINCT FROM l.grade OR s.class_name IS DISTINCT FROM l.class_name)",
            [[r[0] for r in records]])
        return len(records)

    return lrs.write_statements(store, work)  # it stamps statements: see lrs.statements_held


def import_units(store: Store, actor: Actor, text: str) -> int:
    """Add or update curriculum units from CSV (code,subject,grade,name_ja,name_en)."""
    actor.require("city_admin")
    rows = _rows(text, UNIT_COLUMNS)
    problems, records, seen = [], [], set()
    for number, row in rows:
        grade = _grade(row["grade"])
        if not _UNIT_CODE.match(row["code"]):
            problems.append(RowProblem(number, "analytics.units.bad_code", {"value": row["code"]}))
        elif row["code"] in seen:
            problems.append(RowProblem(number, "analytics.roster.twice", {"value": row["code"]}))
        elif not row["subject"] or not row["name_ja"] or not row["name_en"]:
            problems.append(RowProblem(number, "analytics.units.missing_text", {}))
        elif grade is None:
            problems.append(RowProblem(number, "analytics.roster.bad_grade", {"value": row["grade"]}))
        else:
            seen.add(row["code"])
            records.append((row["code"], row["subject"], grade, row["name_ja"], row["name_en"]))
    csv_import.reject(problems)
    if not records:
        raise InvalidInput("analytics.roster.empty")

    def work(cur) -> int:
        cur.executemany(
            "INSERT INTO analytics_units VALUES (?, ?, ?, ?, ?) ON CONFLICT (code) DO UPDATE SET "
            "subject = excluded.subject, grade = excluded.grade, name_ja = excluded.name_ja, "
            "name_en = excluded.name_en", records)
        return len(records)

    return store.write(work)


def learner_count(store: Store, school_id: int | None = None) -> int:
    if school_id is None:
        return int(store.scalar("SELECT count(*) FROM analytics_learners"))
    return int(store.scalar("SELECT count(*) FROM analytics_learners WHERE school_id = ?", [school_id]))


def apply_roster(cur, classes: list[tuple[int, int, str]], pupils: list[tuple[str, int, int, str]],
                 leavers: list[str], now) -> None:
    """The portal's school roster, followed inside the roster import's transaction (offered as
    "analytics.apply_roster"): each pupil (learner id = the roster's sourcedId, the account name
    a learning app sends) joins or moves class; leavers leave the learner roster, while their
    statements, stamped with the class they were in, stay as learning records."""
    del classes, now  # the dashboards' classes are those their learners are in
    if pupils:
        cur.register("_roster_learners", pl.DataFrame(pupils, schema={
            "learner_id": pl.Utf8, "school_id": pl.Int32, "grade": pl.Int32, "class_name": pl.Utf8}, orient="row"))
        cur.execute("""UPDATE analytics_learners l SET school_id = r.school_id, grade = r.grade,
                           class_name = r.class_name
                       FROM _roster_learners r WHERE l.learner_id = r.learner_id
                         AND (l.school_id, l.grade, l.class_name) IS DISTINCT FROM (r.school_id, r.grade, r.class_name)""")
        cur.execute("""INSERT INTO analytics_learners SELECT * FROM _roster_learners r
                       WHERE NOT EXISTS (SELECT 1 FROM analytics_learners l WHERE l.learner_id = r.learner_id)""")
        # Statements that came before their learner was on the roster now join the class.
        cur.execute("""UPDATE analytics_statements s SET school_id = r.school_id, grade = r.grade,
                           class_name = r.class_name
                       FROM _roster_learners r WHERE r.learner_id = s.learner_id AND s.school_id IS NULL""")
        cur.unregister("_roster_learners")
    if leavers:
        cur.execute("DELETE FROM analytics_learners WHERE learner_id IN (SELECT unnest(?::VARCHAR[]))", [leavers])

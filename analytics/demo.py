"""The analytics demo: a roster, curriculum units and a second term of xAPI statements.

Every pupil of the demo schools gets a pseudonymous learner id, a grade and a class (the
pupils and classrooms of school ICT's registry when it is present, so that a pupil's
learning meets their tablet's repairs; the demo teachers get these classes as homerooms)
and an ability; each school day they may practise and take unit tests of their grade's units,
scoring by ability (a few pupils struggle, a few stop working three weeks before today,
and none works in a week their tablet is in repair).
Statements are generated column-wise with numpy and inserted in one set-based INSERT that
also builds each statement's JSON in DuckDB, so the city scale stays quick.
"""

from __future__ import annotations

import hashlib
import uuid
from datetime import date, datetime, time, timedelta

import numpy as np
import polars as pl

from analytics.services import lrs, texts
from analytics.services.lrs import CURRICULUM_EXTENSION, Client
from kernel import offers
from kernel.clock import TOKYO
from kernel.module import DemoContext
from kernel.provided import offered_view, provided

HOME_PAGE = "https://manabi.city.iizuka.lg.jp"
ACTIVITY_BASE = "https://manabi.city.iizuka.lg.jp/xapi/activities/units"
# The demo learning app's credentials, public like the demo accounts' password.
DEMO_CLIENT_NAME = "デモ ドリルアプリ"
DEMO_CLIENT_KEY = "mk_demo_drill"
DEMO_CLIENT_SECRET = "manabi-demo-xapi"
CLASS_SIZE = 30

# (subject code, ja, en, first grade it is taught); a grade studies 3 units of each subject a term.
SUBJECTS = (("1", "国語", "Japanese", 1), ("2", "算数・数学", "Mathematics", 1),
            ("3", "理科", "Science", 3), ("4", "社会", "Social studies", 3), ("5", "外国語", "English", 5))
UNIT_TOPICS = {
    "1": (("物語を読む", "Reading stories"), ("漢字の学習", "Kanji"), ("説明文を書く", "Writing explanations")),
    "2": (("分数の計算", "Fractions"), ("図形の面積", "Area of shapes"), ("割合とグラフ", "Ratios and graphs")),
    "3": (("植物のつくり", "How plants are built"), ("電気の働き", "Electricity"), ("天気の変化", "Weather")),
    "4": (("わたしたちの市", "Our city"), ("日本の産業", "Japan's industries"), ("歴史の流れ", "History")),
    "5": (("自己紹介", "Introducing yourself"), ("道案内", "Giving directions"), ("過去のできごと", "Past events")),
}
VERBS = {
    "completed": ("http://adlnet.gov/expapi/verbs/completed", "完了した", "completed"),
    "passed": ("http://adlnet.gov/expapi/verbs/passed", "合格した", "passed"),
    "failed": ("http://adlnet.gov/expapi/verbs/failed", "不合格だった", "failed"),
}


def unit_code(grade: int, subject: str, number: int) -> str:
    """A 16-digit code in the shape of MEXT's 学習指導要領コード (demo values)."""
    school_kind = "8" if grade <= 6 else "9"
    return f"{school_kind}{subject}{grade:02d}0{number:02d}1100000000"[:16]


SCHOOL_DAYS = 63  # about a term: at the end of November, the second term from 1 September


def school_days(today: date) -> list[date]:
    """The last SCHOOL_DAYS school days (Mon–Fri) before today, oldest first, outside the
    summer break (August) and the New Year holidays (29 December – 3 January): the demo's
    learning is as recent on any day the demo city is made."""
    days, day = [], today - timedelta(days=1)
    while len(days) < SCHOOL_DAYS:
        holiday = day.month == 8 or (day.month, day.day) >= (12, 29) or (day.month, day.day) <= (1, 3)
        if day.weekday() < 5 and not holiday:
            days.append(day)
        day -= timedelta(days=1)
    return days[::-1]


def _grades(kind: str) -> range:
    return {"elementary": range(1, 7), "junior_high": range(7, 10)}.get(kind, range(1, 10))


def load(ctx: DemoContext) -> None:
    cur = ctx.cur
    offered_view(cur, "portal.schools")
    schools = cur.execute("SELECT id, code, kind, pupils FROM offered_schools ORDER BY id").fetchall()
    client_id = cur.execute(
        "INSERT INTO analytics_xapi_clients (name, api_key, secret_hash, created_at) VALUES (?, ?, ?, ?) "
        "RETURNING id",
        [DEMO_CLIENT_NAME, DEMO_CLIENT_KEY, hashlib.sha256(DEMO_CLIENT_SECRET.encode()).hexdigest(),
         ctx.clock.now()]).fetchone()[0]

    units = [(unit_code(g, s, n + 1), name_s, g, topic[0], topic[1])
             for g in range(1, 10) for s, name_s, _, first in SUBJECTS if g >= first
             for n, topic in enumerate(UNIT_TOPICS[s])]
    cur.executemany("INSERT INTO analytics_units VALUES (?, ?, ?, ?, ?)", units)

    learners = _learners_from_devices(ctx, schools) or _own_learners(schools)
    cur.executemany("INSERT INTO analytics_learners VALUES (?, ?, ?, ?)", learners)
    homerooms = provided(offers.PORTAL_DEMO_HOMEROOMS)
    if homerooms:
        classes: dict[int, set[tuple[int, str]]] = {}
        for _, school_id, grade, class_name in learners:
            classes.setdefault(school_id, set()).add((grade, class_name))
        homerooms(cur, {s: sorted(c, key=lambda gc: (gc[0], gc[1].rjust(3, "0"))) for s, c in classes.items()})
    if learners:
        _statements(ctx, learners, units, Client(client_id, DEMO_CLIENT_NAME, DEMO_CLIENT_KEY))


def _own_learners(schools: list[tuple]) -> list[tuple]:
    """A roster of our own when school ICT is not part of the portal: classes of CLASS_SIZE."""
    learners = []
    for school_id, code, kind, pupils in schools:
        grades = list(_grades(kind))
        for n in range(pupils):
            grade = grades[n % len(grades)]
            per_grade = n // len(grades)
            learners.append((f"{code}-{n + 1:05d}", school_id, grade, str(per_grade // CLASS_SIZE + 1)))
    return learners


class _InTransaction:
    """The `store.query` that offered functions expect, over the demo's transaction."""

    def __init__(self, cur) -> None:
        self.cur = cur

    def query(self, sql: str, params=()) -> list[tuple]:
        return self.cur.execute(sql, list(params)).fetchall()


def _learners_from_devices(ctx: DemoContext, schools: list[tuple]) -> list[tuple]:
    """The pupils of school ICT's registry, in their classrooms: the learner id a learning
    app sends is the pupil's pseudonym on their tablet (P-E01-0001), so that a pupil's
    learning and their tablet's repairs meet. Empty when school ICT is not present."""
    classrooms, pupils = provided(offers.SCHOOL_ICT_CLASSROOMS), provided(offers.SCHOOL_ICT_PUPILS)
    if not classrooms or not pupils:
        return []
    store, today = _InTransaction(ctx.cur), ctx.clock.now().date()
    learners = []
    for school_id, *_ in schools:
        for room in classrooms(store, school_id, today):
            learners += [(pseudonym, school_id, room.grade, room.class_name)
                         for pseudonym, _ready in pupils(store, room.id, today)]
    return learners


def _no_tablet_no_drill(ctx: DemoContext, learners: list[tuple], days: list[date], counts) -> None:
    """A pupil whose tablet is in repair does no drills that week (school ICT's repairs)."""
    repair_weeks = provided(offers.SCHOOL_ICT_REPAIR_WEEKS)
    if not repair_weeks or not days:
        return
    weeks = repair_weeks(_InTransaction(ctx.cur), [x[0] for x in learners], days[0], days[-1])
    row = {x[0]: i for i, x in enumerate(learners)}
    monday = [d - timedelta(days=d.weekday()) for d in days]
    for learner, in_repair in weeks.items():
        idle = set(in_repair)
        counts[row[learner], [j for j, m in enumerate(monday) if m in idle]] = 0


def _statements(ctx: DemoContext, learners: list[tuple], units: list[tuple], client: Client) -> None:
    """The term's statements, as if the demo drill app had sent them."""
    gen = np.random.default_rng(ctx.rng.getrandbits(64))
    days = school_days(ctx.clock.now().date())
    count = len(learners)
    ability = gen.normal(0.0, 1.0, count)
    struggling = gen.random(count) < 0.04
    ability[struggling] = gen.normal(-2.2, 0.3, struggling.sum())
    stops_early = gen.random(count) < 0.03  # no activity in the last three weeks
    # Small scale: a few thousand statements; city: a few a day per pupil.
    per_day = 0.25 if ctx.small else 2.2

    # How many statements each pupil makes each day, then one row per statement.
    counts = gen.poisson(per_day, (count, len(days)))
    counts[gen.random((count, len(days))) < 0.06] = 0  # absences
    cutoff = len(days) - 15
    counts[stops_early, cutoff:] = 0
    _no_tablet_no_drill(ctx, learners, days, counts)
    pupil_index, day_index = np.nonzero(counts)
    repeats = counts[pupil_index, day_index]
    pupil_index = np.repeat(pupil_index, repeats)
    day_index = np.repeat(day_index, repeats)
    total = len(pupil_index)

    grades = np.array([g for _, _, g, _ in learners])
    grade = grades[pupil_index]
    # Units of the pupil's grade; the term moves through each subject's three units in order.
    units_by_grade = {g: [u for u in units if u[2] == g] for g in range(1, 10)}
    subjects_in_grade = np.array([len(units_by_grade[g]) // 3 for g in range(1, 10)])[grade - 1]
    subject_pick = (gen.random(total) * subjects_in_grade).astype(int)
    unit_number = np.minimum(day_index * 3 // len(days), 2)
    unit_codes = np.array([u[0] for g in range(1, 10) for u in units_by_grade[g]])
    first_unit_of_grade = np.cumsum([0] + [len(units_by_grade[g]) for g in range(1, 9)])
    unit_index = first_unit_of_grade[grade - 1] + subject_pick * 3 + unit_number
    unit_names = {u[0]: (u[3], u[4]) for u in units}

    is_test = gen.random(total) < 0.3
    progress_in_unit = (day_index * 3 / len(days)) % 1.0
    logit = ability[pupil_index] + 0.9 + 1.2 * progress_in_unit + gen.normal(0, 0.6, total)
    score = np.round(1 / (1 + np.exp(-logit)), 2)
    verb = np.where(is_test, np.where(score >= 0.6, "passed", "failed"), "completed")
    minutes = np.clip(gen.gamma(2.0, 6.0, total), 1, 90).round().astype(int)
    # During lessons, or homework in the evening.
    seconds_in_day = np.where(gen.random(total) < 0.75, gen.integers(8 * 3600 + 40 * 60, 15 * 3600, total),
                              gen.integers(18 * 3600, 21 * 3600, total))
    day_start = np.array([datetime.combine(d, time(0), TOKYO).timestamp() for d in days])
    epoch = (day_start[day_index] + seconds_in_day).astype("int64") * 1_000_000

    ids = [str(uuid.UUID(int=ctx.rng.getrandbits(128), version=4)) for _ in range(total)]
    codes = unit_codes[unit_index]
    frame = pl.DataFrame({
        "id": ids,
        "ts": pl.Series(epoch).cast(pl.Datetime("us", "UTC")),
        "learner_id": np.array([x[0] for x in learners])[pupil_index],
        "school_id": np.array([x[1] for x in learners])[pupil_index],
        "grade": grade,
        "class_name": np.array([x[3] for x in learners])[pupil_index],
        "verb": verb,
        "unit_code": codes,
        "kind": np.where(is_test, "test", "drill"),
        "score": score,
        "minutes": minutes,
    })
    names = pl.DataFrame({"unit_code": list(unit_names), "unit_ja": [v[0] for v in unit_names.values()],
                          "unit_en": [v[1] for v in unit_names.values()]})
    verbs = pl.DataFrame({"verb": list(VERBS), "verb_id": [v[0] for v in VERBS.values()],
                          "verb_ja": [v[1] for v in VERBS.values()], "verb_en": [v[2] for v in VERBS.values()]})
    cur = ctx.cur
    cur.register("demo_rows", frame)
    cur.register("demo_units", names)
    cur.register("demo_verbs", verbs)
    # Keys in sorted order at every level, compact: the same text (and hash) as the store
    # makes for a statement that an app sends.
    cur.execute(
        f"""
        CREATE TEMP TABLE demo_statements AS
        SELECT r.*, v.verb_id,
               '{ACTIVITY_BASE}/' || r.unit_code || '/' || r.kind AS activity_id,
               u.unit_ja || CASE r.kind WHEN 'test' THEN ' 単元テスト' ELSE ' ドリル' END AS name_ja,
               u.unit_en || CASE r.kind WHEN 'test' THEN ' unit test' ELSE ' drill' END AS name_en,
               json_object(
                 'actor', json_object('account', json_object('homePage', '{HOME_PAGE}', 'name', r.learner_id),
                                      'objectType', 'Agent'),
                 'context', json_object('extensions', json_object('{CURRICULUM_EXTENSION}', r.unit_code),
                                        'platform', 'Manabi Drill'),
                 'object', json_object('definition', json_object('name', json_object('en', name_en, 'ja', name_ja)),
                                       'id', activity_id, 'objectType', 'Activity'),
                 'result', json_object('completion', true, 'duration', 'PT' || r.minutes || 'M',
                                       'score', json_object('scaled', r.score),
                                       'success', CASE r.verb WHEN 'failed' THEN false ELSE true END),
                 'timestamp', strftime(r.ts AT TIME ZONE 'Asia/Tokyo', '%Y-%m-%dT%H:%M:%S+09:00'),
                 'verb', json_object('display', json_object('en', v.verb_en, 'ja', v.verb_ja), 'id', v.verb_id)
               )::VARCHAR AS raw
        FROM demo_rows r JOIN demo_units u USING (unit_code) JOIN demo_verbs v USING (verb)
        """)
    first = lrs.next_seq(cur)
    cur.execute("CREATE TEMP TABLE demo_numbered AS "
                "SELECT ? - 1 + row_number() OVER () AS seq, * FROM demo_statements", [first])
    cur.execute(
        """
        INSERT INTO analytics_statements
        SELECT id::UUID, seq, ?, ts, ?,
               'account:' || ? || '|' || learner_id, learner_id, school_id, grade, class_name, verb_id,
               'Activity', activity_id, name_ja, unit_code, score, verb <> 'failed', true, minutes * 60.0,
               NULL, NULL, false, NULL, NULL, NULL, json_extract(raw, '$.object.definition')::VARCHAR
        FROM demo_numbered ORDER BY school_id, grade, class_name, ts
        """,
        [ctx.clock.now(), client.id, HOME_PAGE])
    texts.save(cur, "demo_numbered")
    cur.execute("DROP TABLE demo_statements")
    cur.execute("DROP TABLE demo_numbered")
    for name in ("demo_rows", "demo_units", "demo_verbs"):
        cur.unregister(name)

"""School ICT demo rows: classrooms, pupils, the city's fleet with a realistic mix of
statuses, repairs, a term of usage and a year of network samples.

At `city` scale the counts are the plan's: 9,923 pupil tablets (one per pupil the
portal's schools count), 320 e-blackboards (one per ordinary classroom), 830 teacher tablets.
Rows go in through DataFrames (one INSERT per table), so the city loads in seconds
and the small scale in well under one.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

import polars as pl

from data import city
from kernel.clock import TOKYO
from kernel.module import DemoContext
from kernel.provided import offered_view
from school_ict.services import usage

# (model, kind, share of its kind, purchase window start, support end): GIGA-school tablets
# bought in 2020-21 reach end of support around now, a later batch lasts longer.
PUPIL_MODELS = (
    ("Lenovo 300e Chromebook Gen 2", 0.50, date(2020, 12, 1), date(2026, 6, 30)),
    ("NEC Chromebook Y2", 0.35, date(2021, 1, 15), date(2027, 6, 30)),
    ("Dynabook Chromebook C1", 0.15, date(2023, 4, 1), date(2030, 6, 30)),
)
TEACHER_MODELS = (
    ("iPad (9th generation)", 0.6, date(2021, 3, 1), date(2027, 9, 30)),
    ("Surface Go 3", 0.4, date(2022, 3, 1), date(2028, 10, 31)),
)
BOARD_MODELS = (
    ("EPSON EB-1485FT", 0.7, date(2020, 8, 1), date(2029, 3, 31)),
    ("SHARP BIG PAD PN-L651H", 0.3, date(2022, 8, 1), date(2031, 3, 31)),
)
SYMPTOMS = ("画面が割れた", "充電できない", "キーボードが反応しない", "起動しない", "タッチパネルが反応しない",
            "水をこぼした", "ヒンジが壊れた", "Wi-Fi につながらない")
CAUSES = (("drop", 0.55), ("liquid", 0.15), ("wear", 0.15), ("unknown", 0.15))
SMALL_BLACKBOARDS = 24
SMALL_TEACHER_TABLETS = 14
NETWORK_TARGET_MBPS_PER_PUPIL = 0.7  # what the board plans per pupil (a common GIGA-school guide)


def _grades(kind: str) -> list[int]:
    return {"elementary": [1, 2, 3, 4, 5, 6], "junior_high": [7, 8, 9]}.get(kind, list(range(1, 10)))


def _pick(rng, models):
    roll, total = rng.random(), 0.0
    for model in models:
        total += model[1]
        if roll <= total:
            return model
    return models[-1]


def _insert(cur, table: str, frame: pl.DataFrame) -> None:
    if frame.height:
        cur.register("_demo_rows", frame)
        cur.execute(f"INSERT INTO {table} ({', '.join(frame.columns)}) SELECT * FROM _demo_rows")
        cur.unregister("_demo_rows")


def load(ctx: DemoContext) -> None:
    cur, rng, now = ctx.cur, ctx.rng, ctx.clock.now()
    offered_view(cur, "portal.schools", "portal.users", "portal.user_roles")  # the portal's, as offered (kernel.provided)
    schools = cur.execute("SELECT id, code, kind, pupils FROM offered_schools ORDER BY code").fetchall()
    teachers = cur.execute(
        """SELECT u.school_id, u.id FROM offered_users u JOIN offered_user_roles r ON r.user_id = u.id
           WHERE r.role = 'teacher' AND u.school_id IS NOT NULL ORDER BY u.login""").fetchall()
    boards_total = SMALL_BLACKBOARDS if ctx.small else city.E_BLACKBOARDS
    teacher_total = SMALL_TEACHER_TABLETS if ctx.small else city.TEACHER_TABLETS
    weights = [float(max(s[3], 1)) for s in schools]
    boards_per_school = city.split(boards_total, len(schools), weights)
    teacher_tablets_per_school = city.split(teacher_total, len(schools), weights)

    # Classrooms: one per e-blackboard, spread over the school's grades.
    classroom_rows = []
    for (school_id, _code, kind, _pupils), rooms in zip(schools, boards_per_school, strict=True):
        grades = _grades(kind)
        per_grade: dict[int, int] = {}
        for i in range(rooms):
            grade = grades[i * len(grades) // rooms]
            per_grade[grade] = per_grade.get(grade, 0) + 1
            classroom_rows.append((school_id, grade, str(per_grade[grade])))
    cur.executemany("INSERT INTO school_ict_classrooms (school_id, grade, class_name) VALUES (?, ?, ?)",
                    classroom_rows)
    rooms_by_school: dict[int, list[tuple[int, int]]] = {}
    for room_id, school_id, grade in cur.execute(
            "SELECT id, school_id, grade FROM school_ict_classrooms ORDER BY school_id, grade, class_name").fetchall():
        rooms_by_school.setdefault(school_id, []).append((room_id, grade))

    # Pupils: pseudonyms only, spread evenly over the school's classrooms.
    pupil_rows = []
    for school_id, code, _kind, pupils in schools:
        rooms = rooms_by_school[school_id]
        for n in range(pupils):
            room_id, grade = rooms[n * len(rooms) // pupils]
            pupil_rows.append({"pseudonym": f"P-{code}-{n + 1:04d}", "school_id": school_id,
                               "classroom_id": room_id, "grade": grade})
    _insert(cur, "school_ict_pupils", pl.DataFrame(pupil_rows, schema={
        "pseudonym": pl.Utf8, "school_id": pl.Int32, "classroom_id": pl.Int32, "grade": pl.Int32}))
    pupils_by_school: dict[int, list[int]] = {}
    for pupil_id, school_id in cur.execute("SELECT id, school_id FROM school_ict_pupils ORDER BY id").fetchall():
        pupils_by_school.setdefault(school_id, []).append(pupil_id)
    teachers_by_school: dict[int, list[int]] = {}
    for school_id, user_id in teachers:
        teachers_by_school.setdefault(school_id, []).append(user_id)

    devices: list[dict] = []
    serial_no = 0

    def device(kind: str, models, code: str, school_id: int, status: str, number: int, **holder) -> dict:
        nonlocal serial_no
        serial_no += 1
        model, _share, bought_from, support_end = _pick(rng, models)
        bought = bought_from + timedelta(days=rng.randrange(0, 90))
        prefix = {"pupil_tablet": "PT", "teacher_tablet": "TT", "e_blackboard": "EB"}[kind]
        seen_days = rng.choice((0, 0, 0, 1, 1, 2, 3)) if rng.random() > 0.05 else rng.randrange(15, 45)
        return {
            "asset_tag": f"{prefix}-{code}-{number:04d}", "serial": f"5CD{serial_no:07d}{prefix}",
            "kind": kind, "model": model, "os_version": "ChromeOS 128" if "Chromebook" in model else None,
            "school_id": school_id, "purchase_date": bought, "warranty_end": bought + timedelta(days=5 * 365 - 1),
            "support_end": support_end, "status": status,
            "pupil_id": holder.get("pupil_id"), "teacher_id": holder.get("teacher_id"),
            "classroom_id": holder.get("classroom_id"), "cart": holder.get("cart"),
            "last_seen_at": (now - timedelta(days=seen_days, minutes=rng.randrange(0, 600)))
            if status in ("assigned", "in_stock") else None,
            "updated_at": now,
        }

    def status_roll() -> str:
        roll = rng.random()
        return "assigned" if roll < 0.92 else "in_stock" if roll < 0.955 else "in_repair" if roll < 0.99 else "lost"

    for (school_id, code, _kind, _pupils), teacher_count in zip(schools, teacher_tablets_per_school, strict=True):
        for n, pupil_id in enumerate(pupils_by_school.get(school_id, []), start=1):
            status = status_roll()
            if status == "assigned":
                devices.append(device("pupil_tablet", PUPIL_MODELS, code, school_id, status, n, pupil_id=pupil_id))
            else:
                devices.append(device("pupil_tablet", PUPIL_MODELS, code, school_id, status, n,
                                      cart="A" if n % 2 else "B"))
        staff = teachers_by_school.get(school_id, [])
        for n in range(1, teacher_count + 1):
            if n <= len(staff) and rng.random() < 0.95:
                devices.append(device("teacher_tablet", TEACHER_MODELS, code, school_id, "assigned", n,
                                      teacher_id=staff[n - 1]))
            else:
                devices.append(device("teacher_tablet", TEACHER_MODELS, code, school_id, "in_stock", n))
        for n, (room_id, _grade) in enumerate(rooms_by_school[school_id], start=1):
            if rng.random() < 0.96:
                devices.append(device("e_blackboard", BOARD_MODELS, code, school_id, "assigned", n,
                                      classroom_id=room_id))
            else:
                devices.append(device("e_blackboard", BOARD_MODELS, code, school_id, "in_repair", n))
    frame = pl.DataFrame(devices, infer_schema_length=None)
    _insert(cur, "school_ict_devices", frame)

    # Holders, and the history: registered on purchase, handed out at the start of the school year.
    cur.execute("""INSERT INTO school_ict_holders
        SELECT CASE WHEN pupil_id IS NOT NULL THEN 'pupil:' || pupil_id
                    WHEN teacher_id IS NOT NULL THEN 'teacher:' || teacher_id
                    ELSE 'board:' || classroom_id END, id
        FROM school_ict_devices WHERE status = 'assigned'""")
    handed_out = datetime.combine(date(2026, 4, 8), time(9, 0), TOKYO)
    cur.execute("""INSERT INTO school_ict_events (device_id, happened_at, actor_id, actor_login, kind, from_status,
                       to_status, detail)
        SELECT id, purchase_date::TIMESTAMP AT TIME ZONE 'Asia/Tokyo' + INTERVAL 10 HOUR, NULL, 'demo',
               'registered', NULL, 'in_stock', serial FROM school_ict_devices""")
    cur.execute("""INSERT INTO school_ict_events (device_id, happened_at, actor_id, actor_login, kind, from_status,
                       to_status, detail)
        SELECT d.id, ?, NULL, 'demo', 'check_out', 'in_stock', 'assigned',
               coalesce(p.pseudonym, u.login, c.grade || '-' || c.class_name)
        FROM school_ict_devices d LEFT JOIN school_ict_pupils p ON p.id = d.pupil_id
        LEFT JOIN offered_users u ON u.id = d.teacher_id LEFT JOIN school_ict_classrooms c ON c.id = d.classroom_id
        WHERE d.status = 'assigned'""", [handed_out])

    _repairs(cur, rng, now)
    salt = rng.randrange(1, 1_000_000)
    _usage(cur, now, salt)
    usage.refresh_weekly(cur)
    _network(cur, now, salt)
    cur.execute("INSERT INTO school_ict_settings VALUES ('network_target_mbps_per_pupil', ?)",
                [str(NETWORK_TARGET_MBPS_PER_PUPIL)])


def _repairs(cur, rng, now: datetime) -> None:
    """An open ticket for every device in repair; past tickets for about 7% of tablets."""
    def cause() -> str:
        return _pick(rng, [(c, share) for c, share in CAUSES])[0]

    rows = []
    # A pupil tablet in repair was taken from the pupil of the same number (PT-E01-0007 → P-E01-0007).
    in_repair = cur.execute("""SELECT d.id, d.school_id, d.model, p.id FROM school_ict_devices d
                               LEFT JOIN school_ict_pupils p ON p.pseudonym = replace(d.asset_tag, 'PT-', 'P-')
                               WHERE d.status = 'in_repair' ORDER BY d.id""").fetchall()
    for device_id, school_id, model, pupil_id in in_repair:
        rows.append({"device_id": device_id, "school_id": school_id, "model": model,
                     "opened_at": now - timedelta(days=rng.randrange(1, 40), hours=rng.randrange(0, 8)),
                     "opened_by": "demo", "symptom": rng.choice(SYMPTOMS), "pupil_id": pupil_id, "cause": cause(),
                     "state": "open", "closed_at": None, "resolution": None})
    tablets = cur.execute(
        "SELECT id, school_id, model, pupil_id FROM school_ict_devices WHERE kind = 'pupil_tablet'").fetchall()
    for device_id, school_id, model, pupil_id in tablets:
        if rng.random() < 0.07:
            opened = now - timedelta(days=rng.randrange(20, 600), hours=rng.randrange(0, 8))
            rows.append({"device_id": device_id, "school_id": school_id, "model": model, "opened_at": opened,
                         "opened_by": "demo", "symptom": rng.choice(SYMPTOMS), "pupil_id": pupil_id,
                         "cause": cause(), "state": "returned", "closed_at": opened + timedelta(days=rng.randrange(5, 19)),
                         "resolution": "修理完了"})
    _insert(cur, "school_ict_repairs", pl.DataFrame(rows, infer_schema_length=None))
    cur.execute("""INSERT INTO school_ict_events (device_id, happened_at, actor_id, actor_login, kind, from_status,
                       to_status, detail)
        SELECT device_id, opened_at, NULL, 'demo', 'repair_opened', 'assigned', 'in_repair', symptom
        FROM school_ict_repairs
        UNION ALL
        SELECT device_id, closed_at, NULL, 'demo', 'repair_closed', 'in_repair', 'in_stock', resolution
        FROM school_ict_repairs WHERE state <> 'open'""")


def _usage(cur, now: datetime, salt: int) -> None:
    """Daily active minutes for the second term's school days, up to each device's last sighting."""
    term_start, yesterday = date(2026, 9, 1), now.date() - timedelta(days=1)
    cur.execute(f"""INSERT INTO school_ict_usage
        SELECT d.id, day::DATE,
               CAST(20 + (hash(d.id, day, {salt}) % 200) * CASE WHEN d.kind = 'teacher_tablet' THEN 1.5 ELSE 1 END
                    AS INTEGER)
        FROM school_ict_devices d,
             generate_series(DATE '{term_start}', DATE '{yesterday}', INTERVAL 1 DAY) AS days(day)
        WHERE d.kind <> 'e_blackboard' AND d.last_seen_at IS NOT NULL
          AND isodow(day) <= 5 AND day::DATE <= d.last_seen_at::DATE""")


def _network(cur, now: datetime, salt: int) -> None:
    """A year of hourly traffic per school: busy on school days 8–16, quiet otherwise."""
    end = now.replace(minute=0, second=0, microsecond=0)
    start = end - timedelta(days=365)
    cur.execute(f"""INSERT INTO school_ict_network_samples
        WITH hours AS (SELECT unnest(generate_series(?::TIMESTAMPTZ, ?::TIMESTAMPTZ, INTERVAL 1 HOUR)) AS at)
        SELECT s.id, h.at,
               round(load * (0.6 + (hash(s.id, h.at, {salt}) % 100) / 100.0 * 0.8), 1) AS down,
               round(load * 0.25 * (0.6 + (hash(h.at, s.id, {salt}) % 100) / 100.0 * 0.8), 1) AS up
        FROM offered_schools s, hours h,
             LATERAL (SELECT CASE WHEN isodow(h.at) <= 5 AND hour(h.at) BETWEEN 8 AND 15
                                  THEN s.pupils * (0.35 + (hash(s.id, {salt}) % 50) / 100.0)
                                  ELSE 5 + s.pupils * 0.01 END AS load)""", [start, end])

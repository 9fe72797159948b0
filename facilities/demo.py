"""Demo rows of facility booking: the city's facilities (names from data/city.py) with rooms,
blocks, fees and equipment, a few closures, user profiles, past and future bookings, and a
lottery month open for applications. Deterministic: every choice comes from ctx.rng.

Small scale (tests): two months back and two ahead. City scale: two years back.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

import polars as pl

from data import city
from facilities.services.booking import TAX_PERCENT
from kernel.clock import TOKYO
from kernel.module import DemoContext
from kernel.provided import offered_view

BLOCKS = (("am", time(9), time(12)), ("pm", time(13), time(17)), ("ev", time(18), time(22)))

EQUIPMENT = (
    ("whiteboard", "ホワイトボード", "Whiteboard", 0),
    ("wifi", "公衆無線LAN", "Public Wi-Fi", 0),
    ("projector", "プロジェクター", "Projector", 500),
    ("screen", "スクリーン", "Screen", 0),
    ("mic", "マイク", "Microphone", 300),
    ("sound", "音響設備", "Sound system", 1000),
    ("piano", "ピアノ", "Piano", 1000),
    ("kitchen", "調理器具一式", "Cooking equipment", 0),
    ("lights", "夜間照明", "Night lighting", 500),
    ("net", "テニスネット", "Tennis net", 0),
)

REDUCTIONS = (
    ("disability", "障がい者手帳をお持ちの方の利用（全額免除）", "Disability handbook holders (exempt)", 100),
    ("school", "学校の教育活動（全額免除）", "School educational activities (exempt)", 100),
    ("community", "登録社会教育団体（5割減額）", "Registered community learning groups (50% off)", 50),
    ("senior", "老人クラブ（5割減額）", "Senior citizens' clubs (50% off)", 50),
)

# Room templates: (code, name_ja, name_en, kind, capacity, equipment, fee am/pm/ev for a resident group).
HALL_ROOMS = (
    ("H1", "大ホール", "Main hall", "hall", 300, ("sound", "mic", "piano", "projector", "screen", "wifi"), (6000, 8000, 9000)),
    ("M1", "第1会議室", "Meeting room 1", "room", 36, ("whiteboard", "projector", "screen", "wifi"), (800, 1100, 1100)),
    ("M2", "第2会議室", "Meeting room 2", "room", 18, ("whiteboard", "wifi"), (500, 700, 700)),
    ("J1", "和室", "Japanese-style room", "japanese", 24, ("wifi",), (600, 800, 800)),
    ("K1", "調理実習室", "Cooking studio", "kitchen", 24, ("kitchen", "whiteboard"), (1000, 1300, 1300)),
    ("S1", "視聴覚室", "Audio-visual room", "studio", 48, ("projector", "screen", "sound", "mic", "wifi"), (1200, 1500, 1500)),
)
CENTRE_ROOMS = (
    ("H1", "多目的ホール", "Multi-purpose hall", "hall", 100, ("sound", "mic", "projector", "screen", "wifi"), (1500, 2000, 2000)),
    ("M1", "会議室1", "Meeting room 1", "room", 24, ("whiteboard", "projector", "wifi"), (500, 700, 700)),
    ("M2", "会議室2", "Meeting room 2", "room", 12, ("whiteboard", "wifi"), (300, 400, 400)),
    ("J1", "和室", "Japanese-style room", "japanese", 20, ("wifi",), (400, 500, 500)),
    ("K1", "調理室", "Kitchen", "kitchen", 20, ("kitchen",), (700, 900, 900)),
)
TENNIS_ROOMS = tuple(
    (f"C{n}", f"{n}番コート", f"Court {n}", "court", 4, ("net", "lights") if n <= 4 else ("net",), (1000, 1300, 1500))
    for n in range(1, 9)
)
GYM_ROOMS = (
    ("A1", "メインアリーナ", "Main arena", "gym", 300, ("sound", "mic", "lights"), (5000, 7000, 8000)),
    ("A2", "サブアリーナ", "Sub arena", "gym", 120, ("lights",), (2500, 3500, 4000)),
    ("B1", "武道場", "Martial arts hall", "gym", 60, (), (1500, 2000, 2200)),
    ("T1", "トレーニング室", "Training room", "studio", 20, (), (1000, 1200, 1200)),
)
WELFARE_ROOMS = (
    ("J1", "大広間", "Great hall (tatami)", "japanese", 80, ("sound", "mic", "wifi"), (1500, 2000, 2000)),
    ("M1", "会議室", "Meeting room", "room", 30, ("whiteboard", "projector", "wifi"), (600, 800, 800)),
    ("S1", "機能訓練室", "Exercise room", "studio", 20, ("sound",), (600, 800, 800)),
)

# Rough places of the facilities (the city centre is about 33.64 N, 130.69 E).
CENTRE_PLACES = (
    (33.6459, 130.6915), (33.6290, 130.6795), (33.6510, 130.6990), (33.6440, 130.7150),
    (33.6690, 130.6890), (33.6390, 130.6560), (33.6700, 130.6620), (33.6170, 130.6960),
    (33.6010, 130.6660), (33.5690, 130.6240), (33.5930, 130.7330), (33.7010, 130.6940),
)


def _nonresident(yen: int) -> int:
    return int(round(yen * 1.5, -1))


def _individual(yen: int, kind: str) -> int:
    # Sports facilities let individuals in for a per-person fee; rooms cost the same for everyone.
    return int(round(yen * 0.3, -1)) if kind in ("court", "gym", "studio") else yen


def _residents(cur, but: str = "") -> list[int]:
    """The residents' account ids (the portal's accounts, as offered), in the order they were made."""
    offered_view(cur, "portal.users", "portal.user_roles")
    return [r[0] for r in cur.execute(
        """SELECT u.id FROM offered_users u JOIN offered_user_roles r ON r.user_id = u.id
           WHERE r.role = 'resident' AND u.login <> ? ORDER BY u.id""", [but]).fetchall()]


def load(ctx: DemoContext, years_back: int | None = None) -> None:
    """`years_back` overrides how much booking history to make (the benchmark asks for five)."""
    cur, _rng, now = ctx.cur, ctx.rng, ctx.clock.now()
    today = now.date()
    cur.executemany("INSERT INTO facilities_equipment VALUES (?, ?, ?, ?)", list(EQUIPMENT))
    cur.executemany("INSERT INTO facilities_reductions VALUES (?, ?, ?, ?)", list(REDUCTIONS))

    facilities = [("HALL", "hall", *city.CENTRAL_HALL, "飯塚市新立岩 8-1", 33.6425, 130.6920, [1], HALL_ROOMS)]
    for n, ((ja, en), (lat, lon)) in enumerate(zip(city.COMMUNITY_CENTRES, CENTRE_PLACES, strict=True), start=1):
        facilities.append((f"CC{n:02d}", "centre", ja, en, "飯塚市", lat, lon, [1], CENTRE_ROOMS[:3] if ctx.small and n > 2 else CENTRE_ROOMS))
    sports = city.SPORTS_FACILITIES
    facilities += [
        ("TENNIS", "sports", *sports[0], "飯塚市仁保 8-38", 33.6135, 130.6880, [], TENNIS_ROOMS[:4] if ctx.small else TENNIS_ROOMS),
        ("GYM", "sports", *sports[1], "飯塚市芳雄町 13-1", 33.6300, 130.6930, [3], GYM_ROOMS),
        ("HONAMI", "sports", *sports[2], "飯塚市秋松 408-1", 33.6080, 130.6630, [1], WELFARE_ROOMS),
    ]

    rooms: list[tuple[int, int, str, int]] = []  # (room_id, facility_id, kind, capacity)
    fee_rows = []
    for code, kind, ja, en, address, lat, lon, closed, templates in facilities:
        facility_id = cur.execute(
            """INSERT INTO facilities_facilities (code, kind, name_ja, name_en, address_ja, lat, lon, closed_weekdays,
                   resident_days_ahead, nonresident_days_ahead, max_blocks_per_month)
               VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id""",
            [code, kind, ja, en, address, lat, lon, closed, 90 if kind != "sports" else 60,
             30, 12 if kind == "sports" else 8]).fetchone()[0]
        for block, starts, ends in BLOCKS:
            cur.execute("INSERT INTO facilities_blocks VALUES (?, ?, ?, ?)", [facility_id, block, starts, ends])
        for r_code, r_ja, r_en, r_kind, capacity, equipment, fees in templates:
            room_id = cur.execute(
                """INSERT INTO facilities_rooms (facility_id, code, name_ja, name_en, kind, capacity, equipment, accessible)
                   VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING id""",
                [facility_id, r_code, r_ja, r_en, r_kind, capacity, list(equipment), r_kind != "japanese"]).fetchone()[0]
            rooms.append((room_id, facility_id, r_kind, capacity))
            for (block, _, _), yen in zip(BLOCKS, fees, strict=True):
                for residency, base in (("resident", yen), ("nonresident", _nonresident(yen))):
                    fee_rows.append((room_id, block, residency, "group", base))
                    fee_rows.append((room_id, block, residency, "individual", _individual(base, r_kind)))
    cur.executemany("INSERT INTO facilities_fees VALUES (?, ?, ?, ?, ?)", fee_rows)

    # Closures: the year-end holidays everywhere, and a maintenance week at the main arena.
    facility_ids = dict(cur.execute("SELECT code, id FROM facilities_facilities").fetchall())
    for year in (today.year - 1, today.year):
        for fid in facility_ids.values():
            cur.execute("INSERT INTO facilities_closures (facility_id, first_day, last_day, reason) VALUES (?, ?, ?, ?)",
                        [fid, date(year, 12, 29), date(year + 1, 1, 3), "年末年始休館 / Year-end holidays"])
    arena = cur.execute("SELECT id FROM facilities_rooms WHERE facility_id = ? AND code = 'A1'",
                        [facility_ids["GYM"]]).fetchone()[0]
    cur.execute("INSERT INTO facilities_closures (facility_id, room_id, first_day, last_day, reason) VALUES (?, ?, ?, ?, ?)",
                [facility_ids["GYM"], arena, today + timedelta(days=20), today + timedelta(days=26),
                 "床改修工事 / Floor maintenance"])

    # Profiles: most residents live in the city; some are groups; a few have a reduction.
    residents = _residents(cur)
    groups = ("飯塚コーラス会", "立岩囲碁クラブ", "穂波ヨガ教室", "筑豊写真同好会", "嘉麻川テニス会", "子ども食堂いいづか")
    for n, user_id in enumerate(residents):
        group = groups[n % len(groups)] if n % 3 == 0 else None
        reduction, note = (None, None)
        if n % 10 == 4:
            reduction, note = "disability", "身体障害者手帳 確認済 / handbook checked"
        elif n % 10 == 7 and group:
            reduction, note = "community", f"社会教育団体登録 第{100 + n}号 / registered group"
        cur.execute(
            "INSERT INTO facilities_profiles (user_id, is_resident, group_name, reduction_code, reduction_note, updated_at) "
            "VALUES (?, ?, ?, ?, ?, ?)", [user_id, n % 8 != 5, group, reduction, note, now])

    _bookings(ctx, rooms, residents, today, years_back)
    _lottery(ctx, facility_ids, today)


def _bookings(ctx: DemoContext, rooms, residents, today: date, years_back: int | None) -> None:
    """Past (paid, used) and future bookings, drawn without repeating a slot."""
    cur, rng, now = ctx.cur, ctx.rng, ctx.clock.now()
    first = today - timedelta(days=365 * years_back if years_back else 60 if ctx.small else 730)
    last = today + timedelta(days=60)
    fee = {(r, b, res, p): y for r, b, res, p, y in cur.execute("SELECT * FROM facilities_fees").fetchall()}
    closed = {fid: set(days) for fid, days in cur.execute(
        "SELECT id, closed_weekdays FROM facilities_facilities").fetchall()}
    closures = cur.execute("SELECT facility_id, room_id, first_day, last_day FROM facilities_closures").fetchall()
    purposes = ("会議 / Meeting", "練習 / Practice", "講座 / Class", "サークル活動 / Club", "発表会 / Recital",
                "試合 / Match", "研修 / Training")
    profiles = {u: (res, grp, red, note) for u, res, grp, red, note in cur.execute(
        "SELECT user_id, is_resident, group_name, reduction_code, reduction_note FROM facilities_profiles").fetchall()}
    percent = dict(cur.execute("SELECT code, percent FROM facilities_reductions").fetchall())
    rows = []
    occupancy = 0.10 if ctx.small else 0.35
    day = first
    while day <= last:
        for room_id, facility_id, _kind, capacity in rooms:
            if day.isoweekday() in closed[facility_id]:
                continue
            if any(f == facility_id and (r is None or r == room_id) and a <= day <= b for f, r, a, b in closures):
                continue
            for block, starts, _ in BLOCKS:
                if rng.random() >= occupancy * (1.4 if block == "ev" else 1.0):
                    continue
                start = datetime.combine(day, starts, TOKYO)
                user = rng.choice(residents)
                is_resident, group, reduction, note = profiles[user]
                residency = "resident" if is_resident else "nonresident"
                party = "group" if group else "individual"
                room_yen = fee[(room_id, block, residency, party)]
                cut = room_yen - room_yen * (100 - percent.get(reduction, 0)) // 100
                total = room_yen - cut
                created = min(start - timedelta(days=rng.randint(3, 40)), now - timedelta(hours=1))
                past = start < now
                # Future bookings: most are paid, some still owe their fee.
                paid = total == 0 or past or rng.random() < 0.6
                pay_by = None if total == 0 else min(created + timedelta(days=7), start)
                if not paid and pay_by < now:
                    pay_by = now + timedelta(days=rng.randint(1, 6))
                rows.append({
                    "room_id": room_id, "day": day, "block_code": block, "user_id": user,
                    "purpose": rng.choice(purposes), "attendees": max(1, min(capacity, rng.randint(2, 30))),
                    "party": party, "residency": residency, "source": "demo", "status": "confirmed",
                    "room_yen": room_yen, "reduction_code": reduction if cut else None,
                    "reduction_reason": note if cut else None, "reduction_yen": cut,
                    "addon_yen": 0, "total_yen": total, "tax_yen": total * TAX_PERCENT // (100 + TAX_PERCENT),
                    "payment_ref": f"MNB-D{len(rows):07d}", "pay_by": pay_by,
                    "paid_at": min(created + timedelta(days=1), now) if paid else None,
                    "paid_yen": total if paid else 0,
                    "payment_method": ("none" if total == 0 else rng.choice(("qr", "counter"))) if paid else None,
                    "created_at": created, "created_by": user,
                })
        day += timedelta(days=1)
    if not rows:
        return
    frame = pl.DataFrame(rows, schema_overrides={"pay_by": pl.Datetime("us", "Asia/Tokyo"),
                                                 "paid_at": pl.Datetime("us", "Asia/Tokyo"),
                                                 "created_at": pl.Datetime("us", "Asia/Tokyo")})
    cur.register("demo_bookings", frame)
    columns = ", ".join(frame.columns)
    cur.execute(f"INSERT INTO facilities_bookings ({columns}) SELECT {columns} FROM demo_bookings")
    cur.unregister("demo_bookings")
    cur.execute("""INSERT INTO facilities_slots SELECT room_id, day, block_code, id FROM facilities_bookings
                   WHERE status IN ('won', 'confirmed')""")
    cur.execute("""INSERT INTO facilities_payments (booking_id, kind, method, yen, transaction_id, recorded_at)
                   SELECT id, 'payment', payment_method, paid_yen, 'DEMO-' || id, paid_at FROM facilities_bookings
                   WHERE paid_yen > 0""")


def _lottery(ctx: DemoContext, facility_ids: dict[str, int], today: date) -> None:
    """The lottery for the month after next: the evening blocks of the central hall's main hall
    and the tennis courts' weekends; applications open now."""
    cur, rng, now = ctx.cur, ctx.rng, ctx.clock.now()
    month_start = (today.replace(day=1) + timedelta(days=64)).replace(day=1)
    month = f"{month_start:%Y-%m}"
    apply_from = today - timedelta(days=3)
    cur.execute("INSERT INTO facilities_lottery_months VALUES (?, ?, ?, ?, ?, ?, 3, NULL, NULL, NULL)",
                [month, apply_from, apply_from + timedelta(days=12), apply_from + timedelta(days=14),
                 apply_from + timedelta(days=21), apply_from + timedelta(days=24)])
    hall = cur.execute("SELECT id FROM facilities_rooms WHERE facility_id = ? AND code = 'H1'",
                       [facility_ids["HALL"]]).fetchone()[0]
    courts = [r[0] for r in cur.execute("SELECT id FROM facilities_rooms WHERE facility_id = ? ORDER BY code",
                                        [facility_ids["TENNIS"]]).fetchall()]
    slots = []
    day = month_start
    while day.month == month_start.month:
        if day.isoweekday() in (6, 7):
            slots += [(month, hall, day, "pm"), (month, hall, day, "ev")]
            slots += [(month, court, day, block) for court in courts[:2] for block in ("am", "pm")]
        day += timedelta(days=1)
    # The demo's bookings may already hold some of those slots; the lottery takes only free ones.
    taken = set(cur.execute("SELECT room_id, day, block_code FROM facilities_slots").fetchall())
    slots = [s for s in slots if (s[1], s[2], s[3]) not in taken]
    cur.executemany("INSERT INTO facilities_lottery_slots VALUES (?, ?, ?, ?)", slots)
    residents = _residents(cur, but="resident01")
    apps = []
    popular = slots[: max(4, len(slots) // 4)]
    for user in residents[: 12 if ctx.small else 200]:
        for choice, (m, room, day, block) in enumerate(rng.sample(popular, k=min(3, len(popular))), start=1):
            apps.append((m, user, choice, room, day, block, "group", "練習 / Practice", 8, now))
    cur.executemany(
        """INSERT INTO facilities_lottery_applications (month, user_id, choice, room_id, day, block_code, party,
               purpose, attendees, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)""", apps)

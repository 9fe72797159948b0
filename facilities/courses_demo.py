"""Demo courses: a term at the community centres (smartphone basics for seniors, online
safety, PC for seniors, English conversation), some online, with registrations and a
waiting list. Runs after the booking demo: room sessions take real slots through
`booking.insert_booking`, in the demo's one transaction.

Dates follow the demo clock, so the term is always upcoming; the online-safety course
has a session running "now", so a demo visitor can try the one-click join. Jitsi uses
the HS256 demo configuration (facilities.services.meetings) because the database is a demo.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

from facilities.services import booking, catalogue, meetings
from kernel.clock import TOKYO
from kernel.module import DemoContext
from kernel.provided import offered_view

# code, title ja/en, description ja/en, lecturer login, capacity, fee, facility kind or code,
# room sessions (weeks ahead, block), online sessions (days ahead, hour, hours), online with room,
# registration (opens days from today, closes days from today), residents registering (by number)
COURSES = (
    ("SMART-BASIC", "シニアのためのスマホ教室（基礎）", "Smartphone basics for seniors",
     "電話・写真・LINE の使い方を、実際に触りながら少人数で学びます。スマートフォンをお持ちください。",
     "Calls, photos and LINE, hands-on in a small group. Bring your smartphone.",
     "facility02", 12, 0, "centre:0", ((1, "am"), (2, "am"), (3, "am")), (), True, (-7, 6), range(1, 9)),
    ("NET-SAFETY", "インターネット安全教室（オンライン）", "Staying safe online (online)",
     "詐欺メールや偽サイトの見分け方、パスワードの守り方をオンラインで学びます。自宅から参加できます。",
     "Spotting scam mail and fake sites, keeping passwords safe — online, from home.",
     "facility02", 30, 0, None, (), ((0, None, 2), (7, 14, 2)), False, (-10, 5), range(2, 7)),
    ("PC-SENIOR", "シニアのパソコン入門", "PC for seniors",
     "電源の入れ方から文書作成・メールまで。定員が少ないため、満席時はキャンセル待ちを受け付けます。",
     "From switching on to writing letters and e-mail. Few seats: when full, join the waiting list.",
     "facility01", 3, 1000, "HALL", ((1, "pm"), (2, "pm")), (), False, (-5, 8), range(7, 12)),
    ("ENGLISH-CONV", "英会話（初級）", "English conversation (beginners)",
     "旅行や日常で使える簡単な英会話。会場とオンラインの両方で参加できます。",
     "Simple English for travel and everyday life, in the room or online.",
     "teacher01", 10, 3000, "centre:1", ((3, "ev"), (4, "ev")), (), True, (3, 18), ()),
)


def _facility(cur, facility_id: int) -> catalogue.Facility:
    """The booking part's Facility, read with the demo's cursor (its services take a Store)."""
    cursor = cur.execute(f"SELECT {catalogue._FACILITY_COLUMNS} FROM facilities_facilities WHERE id = ?",
                         [facility_id])
    names = [d[0] for d in cursor.description]
    row = dict(zip(names, cursor.fetchone(), strict=True))
    blocks = tuple(catalogue.Block(code, starts, ends) for code, starts, ends in cur.execute(
        "SELECT code, starts, ends FROM facilities_blocks WHERE facility_id = ? ORDER BY starts",
        [facility_id]).fetchall())
    return catalogue.Facility(**{**row, "closed_weekdays": tuple(row["closed_weekdays"])}, blocks=blocks)


def _room(cur, facility_key: str) -> tuple[catalogue.Facility, catalogue.Room] | None:
    """A meeting room of the facility with that code, or of the n-th community centre."""
    if facility_key.startswith("centre:"):
        ids = [r[0] for r in cur.execute(
            "SELECT id FROM facilities_facilities WHERE kind = 'centre' AND active ORDER BY code").fetchall()]
        index = int(facility_key.split(":")[1])
        if index >= len(ids):
            return None
        facility_id = ids[index]
    else:
        row = cur.execute("SELECT id FROM facilities_facilities WHERE code = ?", [facility_key]).fetchone()
        if row is None:
            return None
        facility_id = row[0]
    cursor = cur.execute("""SELECT * FROM facilities_rooms WHERE facility_id = ? AND active
                            ORDER BY kind = 'room' DESC, kind = 'studio' DESC, code LIMIT 1""", [facility_id])
    names = [d[0] for d in cursor.description]
    found = cursor.fetchone()
    if found is None:
        return None
    r = dict(zip(names, found, strict=True))
    room = catalogue.Room(r["id"], r["facility_id"], r["code"], r["name_ja"], r["name_en"], r["kind"], r["capacity"],
                        tuple(r["equipment"]), r["accessible"])
    return _facility(cur, facility_id), room


def _free_day(cur, facility: catalogue.Facility, room_id: int, around: date, block: str) -> date | None:
    """The first day from `around` on which the room's block is open and not taken."""
    for offset in range(14):
        day = around + timedelta(days=offset)
        if day.isoweekday() in facility.closed_weekdays:
            continue
        if booking.closure_reason(cur, facility, room_id, day):
            continue
        taken = cur.execute(
            """SELECT 1 FROM facilities_slots WHERE room_id = ? AND day = ? AND block_code = ?
               UNION ALL SELECT 1 FROM facilities_lottery_slots WHERE room_id = ? AND day = ? AND block_code = ?""",
            [room_id, day, block, room_id, day, block]).fetchone()
        if not taken:
            return day
    return None


def load(ctx: DemoContext) -> None:
    cur, now = ctx.cur, ctx.clock.now()
    today = now.date()
    offered_view(cur, "portal.users")
    users = dict(cur.execute("SELECT login, id FROM offered_users").fetchall())
    residents = [users[f"resident{n:02d}"] for n in range(1, 100) if f"resident{n:02d}" in users]
    staff_id = users.get("facility01") or next(iter(users.values()))
    free_fee = booking.Quote("resident", "group", 0, None, None, 0, 0, (), 0, 0, 0)

    for (code, title_ja, title_en, desc_ja, desc_en, lecturer, capacity, fee, place, room_sessions,
         online_sessions, room_online, (opens, closes), registering) in COURSES:
        lecturer_id = users.get(lecturer, staff_id)
        found = _room(cur, place) if place else None
        course_id = cur.execute(
            """INSERT INTO facilities_courses (code, title_ja, title_en, description_ja, description_en, lecturer_id,
                   facility_id, capacity, fee_yen, registration_opens, registration_closes, created_at, created_by)
               VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id""",
            [code, title_ja, title_en, desc_ja, desc_en, lecturer_id, found[0].id if found else None, capacity, fee,
             datetime.combine(today + timedelta(days=opens), time(9), TOKYO),
             datetime.combine(today + timedelta(days=closes), time(17), TOKYO), now, staff_id]).fetchone()[0]

        sessions = []
        if found:
            facility, room = found
            for weeks, block in room_sessions:
                day = _free_day(cur, facility, room.id, today + timedelta(weeks=weeks), block)
                if day is None:
                    continue  # a busy demo room: the course simply has one session fewer
                booking_id = booking.insert_booking(
                    cur, ctx.clock, facility, room, day, block, lecturer_id, staff_id, free_fee,
                    purpose=title_ja, attendees=min(capacity + 1, room.capacity), source="course",
                    status="confirmed")
                sessions.append((booking.block_start(facility, day, block), booking.block_end(facility, day, block),
                                 room.id, block, booking_id,
                                 meetings.new_room_name(f"course-{code.lower()}") if room_online else None))
        for days, hour, hours in online_sessions:
            # hour None: running now (from the top of this hour), so the join button works in the demo.
            start = (now.replace(minute=0, second=0, microsecond=0) if hour is None
                     else datetime.combine(today + timedelta(days=days), time(hour), TOKYO))
            sessions.append((start, start + timedelta(hours=hours), None, None, None,
                             meetings.new_room_name(f"course-{code.lower()}")))
        cur.executemany(
            """INSERT INTO facilities_course_sessions (course_id, starts_at, ends_at, room_id, block_code, booking_id,
                   meeting_room) VALUES (?, ?, ?, ?, ?, ?, ?)""",
            [[course_id, *s] for s in sessions])

        # Registrations in order: seats first, then the waiting list (the demo clock's "now").
        chosen = [residents[n - 1] for n in registering if n - 1 < len(residents)]
        for index, user_id in enumerate(chosen):
            seat = index < capacity
            paid = fee if seat and fee and ctx.rng.random() < 0.5 else 0
            cur.execute(
                """INSERT INTO facilities_course_registrations (course_id, user_id, status, waitlist_ticket, fee_yen,
                       paid_yen, paid_at, created_at, registered_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)""",
                [course_id, user_id, "registered" if seat else "waitlisted", None if seat else index + 1, fee,
                 paid, now if paid else None,
                 now - timedelta(hours=len(chosen) - index), now if seat else None])
        cur.execute("UPDATE facilities_courses SET seats_taken = ?, waitlist_counter = ? WHERE id = ?",
                    [min(len(chosen), capacity), len(chosen), course_id])
        # Online sessions already running: most seat holders have opened their join link.
        for (session_id,) in cur.execute(
                "SELECT id FROM facilities_course_sessions WHERE course_id = ? AND meeting_room IS NOT NULL "
                "AND starts_at <= ? ORDER BY id", [course_id, now]).fetchall():
            for user_id in chosen[:capacity]:
                if ctx.rng.random() < 0.6:
                    cur.execute("INSERT INTO facilities_meeting_joins VALUES ('course', ?, ?, false, ?, ?, 1)",
                                [session_id, str(user_id), now, now])

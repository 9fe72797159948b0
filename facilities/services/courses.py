"""Courses: sessions in a booked room and/or online, registration, waitlist, join links.

Rules
- Facility staff (or a city administrator) create a course and its sessions. A session
  in a room is booked through `facilities.services.booking.book(for_course=True)`, so
  the room is really taken; an online session gets an unguessable Jitsi room name.
- Signed-in residents register between the course's registration dates. While seats are
  left they get one; after that they join the waiting list. When someone with a seat
  cancels, the first on the list gets it in the same transaction, before the course ends.
- Every registration and cancellation writes the course row (`seats_taken`,
  `waitlist_counter`), so racing writers conflict, `Store.write` re-runs the loser with
  fresh numbers, and the CHECK on seats_taken is the last line of defence.
- A fee is recorded as owed on the registration when the seat is given; it is paid by QR code
  (reference "C-<registration id>", facilities.services.payments) or recorded by staff at the
  counter; both write facilities_course_payments.
- Only the lecturer (moderator) and people holding a seat get a join link for an online
  session; each link asked for is recorded as attendance.
Tables: facilities_courses, facilities_course_sessions, facilities_course_registrations,
facilities_meeting_joins.
"""

from __future__ import annotations

import contextlib
import re
from dataclasses import dataclass, field
from datetime import date, datetime

import duckdb

from facilities.services import booking, catalogue, meetings
from kernel.actor import Actor, Role
from kernel.clock import Clock
from kernel.errors import Conflict, InvalidInput, ManabiError, Message, NotFound, PermissionDenied
from kernel.migrations import get_meta
from kernel.outbox import notify
from kernel.provided import offered_view
from kernel.store import Store

STAFF = ("facility_staff", "city_admin")
_CODE = re.compile(r"^[A-Z0-9][A-Z0-9-]{1,31}$")


class NotRegistrable(InvalidInput):
    key = "courses.not_registrable"


class AlreadyRegistered(Conflict):
    key = "courses.already_registered"


class NoJoinLink(PermissionDenied):
    """Only the lecturer and people holding a seat get into an online room."""

    key = "courses.no_join_link"


@dataclass(frozen=True)
class Session:
    id: int
    course_id: int
    starts_at: datetime
    ends_at: datetime
    room_id: int | None
    block_code: str | None
    booking_id: int | None
    place_ja: str | None
    place_en: str | None
    online: bool
    status: str

    def place(self, lang: str) -> str | None:
        return self.place_ja if lang == "ja" else self.place_en


@dataclass(frozen=True)
class Course:
    id: int
    code: str
    title_ja: str
    title_en: str
    description_ja: str
    description_en: str
    lecturer_id: int
    lecturer_name: str
    facility_id: int | None
    capacity: int
    seats_taken: int
    waitlisted: int
    fee_yen: int
    registration_opens: datetime
    registration_closes: datetime
    status: str
    sessions: tuple[Session, ...] = field(default_factory=tuple)

    def title(self, lang: str) -> str:
        return self.title_ja if lang == "ja" else self.title_en

    def description(self, lang: str) -> str:
        return self.description_ja if lang == "ja" else self.description_en

    @property
    def seats_left(self) -> int:
        return self.capacity - self.seats_taken

    @property
    def has_online(self) -> bool:
        return any(s.online for s in self.sessions if s.status == "planned")

    @property
    def last_end(self) -> datetime | None:
        planned = [s.ends_at for s in self.sessions if s.status == "planned"]
        return max(planned) if planned else None

    def registration_state(self, now: datetime) -> str:
        """'open', 'not_yet', 'closed' or 'cancelled'."""
        if self.status != "published":
            return "cancelled"
        if now < self.registration_opens:
            return "not_yet"
        if now >= self.registration_closes or (self.last_end is not None and now >= self.last_end):
            return "closed"
        return "open"


@dataclass(frozen=True)
class Registration:
    id: int
    course_id: int
    user_id: int
    status: str
    waitlist_position: int | None
    fee_yen: int
    paid_yen: int
    created_at: datetime
    registered_at: datetime | None
    promoted: bool

    @property
    def owed_yen(self) -> int:
        return max(self.fee_yen - self.paid_yen, 0) if self.status == "registered" else 0

    @property
    def payment_ref(self) -> str:
        return payment_ref(self.id)


@dataclass(frozen=True)
class ParticipantRow:
    registration: Registration
    login: str
    name: str
    email: str | None
    links: int  # join links asked for across the course's online sessions


# --- reading -----------------------------------------------------------------------------

# Lecturers and participants are the portal's accounts, as "portal.users" offers them.
_COURSE_SQL = """
SELECT c.*, coalesce(u.display_name, '') AS lecturer_name,
       (SELECT count(*) FROM facilities_course_registrations r
         WHERE r.course_id = c.id AND r.status = 'waitlisted') AS waitlisted
FROM facilities_courses c LEFT JOIN offered_users u ON u.id = c.lecturer_id
"""

_SESSION_SQL = """
SELECT s.id, s.course_id, s.starts_at, s.ends_at, s.room_id, s.block_code, s.booking_id, s.status,
       s.meeting_room IS NOT NULL AS online,
       f.name_ja || ' ' || r.name_ja AS place_ja, r.name_en || ', ' || f.name_en AS place_en
FROM facilities_course_sessions s
LEFT JOIN facilities_rooms r ON r.id = s.room_id
LEFT JOIN facilities_facilities f ON f.id = r.facility_id
"""


def _sessions(cur, course_ids: list[int]) -> dict[int, list[Session]]:
    found: dict[int, list[Session]] = {}
    if not course_ids:
        return found
    cursor = cur.execute(_SESSION_SQL + " WHERE s.course_id IN (SELECT unnest(?)) ORDER BY s.starts_at, s.id",
                         [course_ids])
    names = [d[0] for d in cursor.description]
    for values in cursor.fetchall():
        row = dict(zip(names, values, strict=True))
        found.setdefault(row["course_id"], []).append(Session(
            row["id"], row["course_id"], row["starts_at"], row["ends_at"], row["room_id"], row["block_code"],
            row["booking_id"], row["place_ja"], row["place_en"], bool(row["online"]), row["status"]))
    return found


def _courses(cur, where: str = "TRUE", params: list | None = None) -> list[Course]:
    offered_view(cur, "portal.users")
    cursor = cur.execute(_COURSE_SQL + f" WHERE {where} ORDER BY c.registration_closes, c.code", params or [])
    names = [d[0] for d in cursor.description]
    rows = [dict(zip(names, values, strict=True)) for values in cursor.fetchall()]
    sessions = _sessions(cur, [r["id"] for r in rows])
    courses = [
        Course(r["id"], r["code"], r["title_ja"], r["title_en"], r["description_ja"], r["description_en"],
               r["lecturer_id"], r["lecturer_name"], r["facility_id"], r["capacity"], r["seats_taken"],
               r["waitlisted"], r["fee_yen"], r["registration_opens"], r["registration_closes"], r["status"],
               tuple(sessions.get(r["id"], ())))
        for r in rows
    ]
    # Upcoming first: by the first session (courses without sessions last).
    return sorted(courses, key=lambda c: (c.sessions[0].starts_at.timestamp() if c.sessions else float("inf"), c.code))


def list_courses(store: Store, clock: Clock, *, include_past: bool = False) -> list[Course]:
    """The public course list: published courses that have not ended yet."""
    courses = _courses(store.cursor(), "c.status = 'published'")
    if include_past:
        return courses
    now = clock.now()
    return [c for c in courses if c.last_end is None or c.last_end > now]


def get_course(store: Store, course_id: int) -> Course:
    found = _courses(store.cursor(), "c.id = ?", [course_id])
    if not found:
        raise NotFound("courses.unknown_course", course=course_id)
    return found[0]


def find_course(store: Store, key: str | int) -> Course:
    """A course by id or by code (the CLI accepts either)."""
    found = _courses(store.cursor(), "CAST(c.id AS VARCHAR) = ? OR c.code = ?", [str(key), str(key).upper()])
    if not found:
        raise NotFound("courses.unknown_course", course=key)
    return found[0]


def login_id(store: Store, login: str) -> int:
    """The user id of a lecturer's or participant's login, as staff type it at the counter."""
    try:
        return catalogue.user_id_for_login(store, login.strip().lower())
    except NotFound:
        raise NotFound("courses.unknown_lecturer", lecturer=login) from None


def _registration(row: dict, position: int | None) -> Registration:
    return Registration(row["id"], row["course_id"], row["user_id"], row["status"], position, row["fee_yen"],
                        row["paid_yen"], row["created_at"], row["registered_at"], row["promoted"])


_REG_SQL = """
SELECT r.*, CASE WHEN r.status = 'waitlisted' THEN
         (SELECT count(*) FROM facilities_course_registrations w
           WHERE w.course_id = r.course_id AND w.status = 'waitlisted' AND w.waitlist_ticket <= r.waitlist_ticket)
       END AS position
FROM facilities_course_registrations r
"""


def _registrations(cur, where: str, params: list) -> list[Registration]:
    cursor = cur.execute(_REG_SQL + f" WHERE {where} ORDER BY r.status, r.waitlist_ticket, r.id", params)
    names = [d[0] for d in cursor.description]
    return [_registration(row, row["position"])
            for row in (dict(zip(names, values, strict=True)) for values in cursor.fetchall())]


def my_registration(store: Store, actor: Actor, course_id: int) -> Registration | None:
    if not actor.signed_in:
        return None
    found = _registrations(store.cursor(), "r.course_id = ? AND r.user_id = ?", [course_id, actor.user_id])
    return found[0] if found else None


def my_courses(store: Store, actor: Actor) -> list[tuple[Course, Registration]]:
    """The actor's own registrations (seat, waiting list, cancelled), with their courses."""
    actor.require()
    regs = _registrations(store.cursor(), "r.user_id = ?", [actor.user_id])
    courses = {c.id: c for c in _courses(store.cursor(), "c.id IN (SELECT unnest(?))", [[r.course_id for r in regs]])}
    pairs = [(courses[r.course_id], r) for r in regs if r.course_id in courses]
    order = {"registered": 0, "waitlisted": 1, "cancelled": 2}
    return sorted(pairs, key=lambda p: (order[p[1].status], p[0].sessions[0].starts_at.timestamp()
                                        if p[0].sessions else float("inf")))


def lecturer_courses(store: Store, actor: Actor) -> list[Course]:
    """Courses the actor teaches; staff see every course."""
    actor.require()
    if actor.has(*STAFF):
        return _courses(store.cursor())
    return _courses(store.cursor(), "c.lecturer_id = ?", [actor.user_id])


def _may_see_participants(actor: Actor, course: Course) -> bool:
    return actor.signed_in and (actor.has(*STAFF) or course.lecturer_id == actor.user_id)


def participants(store: Store, actor: Actor, course_id: int) -> list[ParticipantRow]:
    """Who holds a seat, who waits (in order) and who cancelled: for the lecturer and staff only."""
    course = get_course(store, course_id)
    if not _may_see_participants(actor, course):
        raise PermissionDenied()
    regs = _registrations(store.cursor(), "r.course_id = ?", [course_id])
    offered_view(store.cursor(), "portal.users")
    users = {uid: (login, name, email) for uid, login, name, email in store.query(
        "SELECT id, login, display_name, email FROM offered_users WHERE id IN (SELECT unnest(?))",
        [[r.user_id for r in regs]])}
    links = dict(store.query(
        """SELECT j.participant, sum(j.links) FROM facilities_meeting_joins j
           JOIN facilities_course_sessions s ON s.id = j.session_id AND j.kind = 'course'
           WHERE s.course_id = ? GROUP BY j.participant""", [course_id]))
    order = {"registered": 0, "waitlisted": 1, "cancelled": 2}
    rows = [ParticipantRow(r, *users.get(r.user_id, ("?", "?", None)), int(links.get(str(r.user_id), 0)))
            for r in regs]
    return sorted(rows, key=lambda p: (order[p.registration.status], p.registration.waitlist_position or 0,
                                       p.registration.id))


# --- staff: courses and sessions ----------------------------------------------------------

def create_course(store: Store, clock: Clock, actor: Actor, *, code: str, title_ja: str, title_en: str,
                  lecturer_id: int, capacity: int, registration_opens: datetime, registration_closes: datetime,
                  description_ja: str = "", description_en: str = "", fee_yen: int = 0,
                  facility_id: int | None = None) -> Course:
    actor.require(*STAFF)
    code = code.strip().upper()
    if not _CODE.match(code):
        raise InvalidInput("courses.bad_code", code=code)
    if not title_ja.strip() or not title_en.strip():
        raise InvalidInput("courses.title_required")
    if capacity < 1:
        raise InvalidInput("courses.bad_capacity")
    if fee_yen < 0:
        raise InvalidInput("courses.bad_fee")
    if registration_closes <= registration_opens:
        raise InvalidInput("courses.bad_window")

    def work(cur) -> int:
        offered_view(cur, "portal.users")
        if not cur.execute("SELECT 1 FROM offered_users WHERE id = ? AND NOT disabled", [lecturer_id]).fetchone():
            raise NotFound("courses.unknown_lecturer", lecturer=lecturer_id)
        if facility_id is not None and not cur.execute(
                "SELECT 1 FROM facilities_facilities WHERE id = ?", [facility_id]).fetchone():
            raise NotFound("facilities.unknown_facility", facility=facility_id)
        if cur.execute("SELECT 1 FROM facilities_courses WHERE code = ?", [code]).fetchone():
            raise Conflict("courses.code_taken", code=code)
        return cur.execute(
            """INSERT INTO facilities_courses (code, title_ja, title_en, description_ja, description_en, lecturer_id,
                   facility_id, capacity, fee_yen, registration_opens, registration_closes, created_at, created_by)
               VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id""",
            [code, title_ja.strip(), title_en.strip(), description_ja.strip(), description_en.strip(), lecturer_id,
             facility_id, capacity, fee_yen, registration_opens, registration_closes, clock.now(),
             actor.user_id]).fetchone()[0]

    return get_course(store, store.write(work))


def add_session(store: Store, clock: Clock, actor: Actor, course_id: int, *, room_id: int | None = None,
                day: date | None = None, block_code: str | None = None, online: bool = False,
                starts_at: datetime | None = None, ends_at: datetime | None = None) -> Session:
    """A session in a room (a date and block, booked through facility booking), online
    (its own times), or both (the room's block times, streamed online)."""
    actor.require(*STAFF)
    course = get_course(store, course_id)
    if course.status != "published":
        raise InvalidInput("courses.cancelled")
    booking_id = None
    if room_id is not None:
        if day is None or block_code is None:
            raise InvalidInput("courses.session_needs_day_block")
        facility, room = catalogue.get_room(store, room_id)
        starts_at = booking.block_start(facility, day, block_code)
        ends_at = booking.block_end(facility, day, block_code)
        if starts_at <= clock.now():
            raise InvalidInput("courses.session_in_past")
        # The room is really taken: a course booking holds the slot like any other.
        taken = booking.book(store, clock, actor, room_id, day, block_code, purpose=course.title_ja,
                             attendees=min(course.capacity + 1, room.capacity), for_course=True)
        booking_id = taken.id
    elif not online:
        raise InvalidInput("courses.session_needs_place")
    elif starts_at is None or ends_at is None or ends_at <= starts_at:
        raise InvalidInput("courses.session_needs_times")
    elif starts_at <= clock.now():
        raise InvalidInput("courses.session_in_past")
    meeting_room = meetings.new_room_name(f"course-{course.code.lower()}") if online else None

    def work(cur) -> int:
        return cur.execute(
            """INSERT INTO facilities_course_sessions (course_id, starts_at, ends_at, room_id, block_code, booking_id,
                   meeting_room) VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id""",
            [course_id, starts_at, ends_at, room_id, block_code, booking_id, meeting_room]).fetchone()[0]

    try:
        session_id = store.write(work)
    except BaseException:
        if booking_id is not None:  # do not keep a room for a session that was not written
            booking.cancel(store, clock, actor, booking_id)
        raise
    return next(s for s in get_course(store, course_id).sessions if s.id == session_id)


def cancel_session(store: Store, clock: Clock, actor: Actor, session_id: int) -> Session:
    """Staff call a session off: nobody gets a join link for it any more, and its room
    booking is cancelled so the slot is free for others."""
    actor.require(*STAFF)

    def work(cur) -> tuple[int, int | None]:
        row = cur.execute("SELECT course_id, booking_id, status FROM facilities_course_sessions WHERE id = ?",
                          [session_id]).fetchone()
        if row is None:
            raise NotFound("courses.unknown_session", session=session_id)
        if row[2] == "cancelled":
            raise InvalidInput("courses.session_cancelled")
        cur.execute("UPDATE facilities_course_sessions SET status = 'cancelled' WHERE id = ?", [session_id])
        # Everyone holding a seat hears of it, in this transaction.
        title_ja, title_en, code, starts_at, ends_at = cur.execute(
            """SELECT c.title_ja, c.title_en, c.code, s.starts_at, s.ends_at FROM facilities_course_sessions s
               JOIN facilities_courses c ON c.id = s.course_id WHERE s.id = ?""", [session_id]).fetchone()
        for (user_id,) in cur.execute("SELECT user_id FROM facilities_course_registrations WHERE course_id = ? "
                                      "AND status = 'registered' ORDER BY user_id", [row[0]]).fetchall():
            notify(cur, clock, user_id, "facilities.session_cancelled",
                   {"course": {"ja": title_ja, "en": title_en}, "code": code, "starts": starts_at,
                    "ends_time": ends_at})
        return row[0], row[1]

    course_id, booking_id = store.write(work)
    if booking_id is not None:
        booking.cancel(store, clock, actor, booking_id)
    return next(s for s in get_course(store, course_id).sessions if s.id == session_id)


def change_capacity(store: Store, clock: Clock, actor: Actor, course_id: int, capacity: int) -> list[int]:
    """Staff change the number of seats; more seats move the waiting list up at once.
    Returns the user ids promoted."""
    actor.require(*STAFF)

    def work(cur) -> list[int]:
        row = cur.execute("SELECT seats_taken FROM facilities_courses WHERE id = ?", [course_id]).fetchone()
        if row is None:
            raise NotFound("courses.unknown_course", course=course_id)
        if capacity < max(row[0], 1):
            raise InvalidInput("courses.capacity_below_taken", taken=row[0])
        cur.execute("UPDATE facilities_courses SET capacity = ? WHERE id = ?", [capacity, course_id])
        return _promote(cur, clock, course_id)

    return store.write(work)


# --- residents: registration and the waiting list -------------------------------------------

def _promote(cur, clock: Clock, course_id: int) -> list[int]:
    """Give free seats to the waiting list, first come first served, in the caller's transaction."""
    capacity, taken, status = cur.execute(
        "SELECT capacity, seats_taken, status FROM facilities_courses WHERE id = ?", [course_id]).fetchone()
    last_end = cur.execute("SELECT max(ends_at) FROM facilities_course_sessions WHERE course_id = ? "
                           "AND status = 'planned'", [course_id]).fetchone()[0]
    now = clock.now()
    if status != "published" or (last_end is not None and now >= last_end) or taken >= capacity:
        return []
    waiting = cur.execute(
        """SELECT id, user_id FROM facilities_course_registrations
           WHERE course_id = ? AND status = 'waitlisted' ORDER BY waitlist_ticket LIMIT ?""",
        [course_id, capacity - taken]).fetchall()
    title_ja, title_en, code, fee = cur.execute(
        "SELECT title_ja, title_en, code, fee_yen FROM facilities_courses WHERE id = ?", [course_id]).fetchone()
    for reg_id, user_id in waiting:
        cur.execute("""UPDATE facilities_course_registrations SET status = 'registered', waitlist_ticket = NULL,
                           registered_at = ?, promoted = true WHERE id = ?""", [now, reg_id])
        notify(cur, clock, user_id, "facilities.waitlist_offered",
               {"course": {"ja": title_ja, "en": title_en}, "code": code, "fee_yen": fee,
                "reference": payment_ref(reg_id)})
    if waiting:
        cur.execute("UPDATE facilities_courses SET seats_taken = seats_taken + ? WHERE id = ?",
                    [len(waiting), course_id])
    return [user_id for _, user_id in waiting]


def register(store: Store, clock: Clock, actor: Actor, course_id: int) -> Registration:
    """A seat while there is one, else a place on the waiting list. Never more seats than capacity."""
    actor.require(Role.RESIDENT)

    def work(cur) -> None:
        found = _courses(cur, "c.id = ?", [course_id])
        if not found:
            raise NotFound("courses.unknown_course", course=course_id)
        course = found[0]
        state = course.registration_state(clock.now())
        if state != "open":
            raise NotRegistrable(f"courses.registration_{state}", opens=course.registration_opens,
                                 closes=course.registration_closes)
        if course.lecturer_id == actor.user_id:
            raise NotRegistrable("courses.lecturer_cannot_register")
        existing = cur.execute("SELECT id, status FROM facilities_course_registrations WHERE course_id = ? AND "
                               "user_id = ?", [course_id, actor.user_id]).fetchone()
        if existing and existing[1] != "cancelled":
            raise AlreadyRegistered()
        now = clock.now()
        # Read-and-bump the course row first: this is the write racing registrations collide on.
        capacity, taken = cur.execute(
            "UPDATE facilities_courses SET waitlist_counter = waitlist_counter + 1 WHERE id = ? "
            "RETURNING capacity, seats_taken", [course_id]).fetchone()
        if taken < capacity:
            cur.execute("UPDATE facilities_courses SET seats_taken = seats_taken + 1 WHERE id = ?", [course_id])
            values = {"status": "registered", "waitlist_ticket": None, "registered_at": now}
        else:
            ticket = cur.execute("SELECT waitlist_counter FROM facilities_courses WHERE id = ?",
                                 [course_id]).fetchone()[0]
            values = {"status": "waitlisted", "waitlist_ticket": ticket, "registered_at": None}
        if existing:
            cur.execute("""UPDATE facilities_course_registrations SET status = ?, waitlist_ticket = ?, registered_at = ?,
                               fee_yen = ?, paid_yen = 0, paid_at = NULL, created_at = ?, promoted = false,
                               cancelled_at = NULL WHERE id = ?""",
                        [values["status"], values["waitlist_ticket"], values["registered_at"], course.fee_yen, now,
                         existing[0]])
        else:
            cur.execute("""INSERT INTO facilities_course_registrations (course_id, user_id, status, waitlist_ticket,
                               fee_yen, created_at, registered_at) VALUES (?, ?, ?, ?, ?, ?, ?)""",
                        [course_id, actor.user_id, values["status"], values["waitlist_ticket"], course.fee_yen, now,
                         values["registered_at"]])

    try:
        store.write(work)
    except duckdb.ConstraintException as exc:
        mine = my_registration(store, actor, course_id)
        if mine is not None and mine.status != "cancelled":  # the same person twice at once
            raise AlreadyRegistered() from exc
        raise Conflict() from exc  # the seat CHECK: someone took the last seat first
    return my_registration(store, actor, course_id)


def cancel_registration(store: Store, clock: Clock, actor: Actor, course_id: int,
                        user_id: int | None = None) -> list[int]:
    """Give up a seat or a place on the waiting list (staff may do it for anyone).
    A freed seat goes to the first on the waiting list at once. Returns the promoted user ids."""
    actor.require()
    target = user_id if user_id is not None else actor.user_id
    if target != actor.user_id and not actor.has(*STAFF):
        raise PermissionDenied()

    def work(cur) -> list[int]:
        row = cur.execute("SELECT id, status FROM facilities_course_registrations WHERE course_id = ? "
                          "AND user_id = ?", [course_id, target]).fetchone()
        if row is None or row[1] == "cancelled":
            raise NotFound("courses.not_registered")
        reg_id, status = row
        cur.execute("""UPDATE facilities_course_registrations SET status = 'cancelled', waitlist_ticket = NULL,
                           cancelled_at = ? WHERE id = ?""", [clock.now(), reg_id])
        if status != "registered":
            # Touch the course row all the same, so this serialises with promotions.
            cur.execute("UPDATE facilities_courses SET waitlist_counter = waitlist_counter WHERE id = ?", [course_id])
            return []
        cur.execute("UPDATE facilities_courses SET seats_taken = seats_taken - 1 WHERE id = ?", [course_id])
        return _promote(cur, clock, course_id)

    return store.write(work)


PAYMENT_PREFIX = "C-"  # bookings' references are "MNB-<hex>", so the two never collide


def payment_ref(registration_id: int) -> str:
    return f"{PAYMENT_PREFIX}{registration_id}"


def record_course_payment(cur, clock: Clock, registration_id: int, method: str, yen: int,
                          transaction_id: str | None, recorded_by: int | None) -> None:
    """One row in facilities_course_payments and the registration marked paid (same transaction)."""
    now = clock.now()
    cur.execute("""INSERT INTO facilities_course_payments (registration_id, method, yen, transaction_id, recorded_at,
                   recorded_by) VALUES (?, ?, ?, ?, ?, ?)""", [registration_id, method, yen, transaction_id, now,
                                                                recorded_by])
    cur.execute("UPDATE facilities_course_registrations SET paid_yen = paid_yen + ?, paid_at = ? WHERE id = ?",
                [yen, now, registration_id])
    user_id, code, title_ja, title_en = cur.execute(
        """SELECT r.user_id, c.code, c.title_ja, c.title_en FROM facilities_course_registrations r
           JOIN facilities_courses c ON c.id = r.course_id WHERE r.id = ?""", [registration_id]).fetchone()
    notify(cur, clock, user_id, "facilities.payment_received",
           {"what": {"ja": f"講座「{title_ja}」（{code}）", "en": f"the course \"{title_en}\" ({code})"},
            "paid_yen": yen, "paid_at": now, "reference": payment_ref(registration_id)})


def record_fee_paid(store: Store, clock: Clock, actor: Actor, course_id: int, user_id: int) -> Registration:
    """Staff record that a participant paid the course fee (at the counter)."""
    actor.require(*STAFF)

    def work(cur) -> None:
        row = cur.execute("SELECT id, status, fee_yen FROM facilities_course_registrations WHERE course_id = ? "
                          "AND user_id = ?", [course_id, user_id]).fetchone()
        if row is None or row[1] != "registered":
            raise NotFound("courses.not_registered")
        cur.execute("SELECT paid_yen FROM facilities_course_registrations WHERE id = ?", [row[0]])
        owed = row[2] - cur.fetchone()[0]
        if owed > 0:
            record_course_payment(cur, clock, row[0], "counter", owed, None, actor.user_id)
        else:
            cur.execute("UPDATE facilities_course_registrations SET paid_yen = fee_yen, paid_at = ? WHERE id = ?",
                        [clock.now(), row[0]])

    store.write(work)
    return _registrations(store.cursor(), "r.course_id = ? AND r.user_id = ?", [course_id, user_id])[0]


# --- online sessions -----------------------------------------------------------------------

def meeting_config(store: Store) -> meetings.JitsiConfig:
    """The Jitsi configuration; demo defaults only when this database holds the demo city."""
    return meetings.load_config(demo=get_meta(store, "demo_scale") is not None)


def record_join(cur, clock: Clock, kind: str, session_id: int, participant: str, moderator: bool) -> None:
    now = clock.now()
    cur.execute(
        """INSERT INTO facilities_meeting_joins (kind, session_id, participant, moderator, first_at, last_at)
           VALUES (?, ?, ?, ?, ?, ?)
           ON CONFLICT (kind, session_id, participant) DO UPDATE SET last_at = excluded.last_at,
               links = facilities_meeting_joins.links + 1""",
        [kind, session_id, participant, moderator, now, now])


def join_link_for(store: Store, clock: Clock, user_id: int, session_id: int,
                  config: meetings.JitsiConfig | None = None, *, record: bool = True) -> meetings.JoinLink:
    """The join link of `user_id` for an online session: the lecturer as moderator, a
    participant holding a seat as member; anyone else gets NoJoinLink."""
    config = config or meeting_config(store)
    row = store.query_dicts(
        """SELECT s.id, s.course_id, s.starts_at, s.ends_at, s.meeting_room, s.status, c.lecturer_id,
                  c.status AS course_status
           FROM facilities_course_sessions s JOIN facilities_courses c ON c.id = s.course_id WHERE s.id = ?""",
        [session_id])
    if not row or row[0]["meeting_room"] is None:
        raise NotFound("courses.unknown_online_session", session=session_id)
    session = row[0]
    if session["status"] != "planned" or session["course_status"] != "published":
        raise NoJoinLink("courses.session_cancelled")
    offered_view(store.cursor(), "portal.users")
    user = store.query("SELECT id, display_name, coalesce(email, '') FROM offered_users WHERE id = ? AND NOT disabled",
                       [user_id])
    if not user:
        raise NoJoinLink()
    moderator = session["lecturer_id"] == user_id
    if not moderator and not store.query(
            "SELECT 1 FROM facilities_course_registrations WHERE course_id = ? AND user_id = ? "
            "AND status = 'registered'", [session["course_id"], user_id]):
        raise NoJoinLink()
    who = meetings.Participant(str(user_id), user[0][1], user[0][2], moderator=moderator)
    link = meetings.join_link(config, session["meeting_room"], who, session["starts_at"], session["ends_at"],
                              clock.now())
    if record:
        store.write(lambda cur: record_join(cur, clock, "course", session_id, str(user_id), moderator))
    return link


def join_online(store: Store, clock: Clock, actor: Actor, session_id: int) -> meetings.JoinLink:
    """The signed-in actor's own one-click join link."""
    actor.require()
    return join_link_for(store, clock, actor.user_id, session_id)


def can_join_now(session: Session, now: datetime) -> bool:
    opens, closes = meetings.token_window(session.starts_at, session.ends_at)
    return session.online and session.status == "planned" and opens <= now < closes


@dataclass(frozen=True)
class OnlineSession:
    id: int
    course_code: str
    title_ja: str
    title_en: str
    starts_at: datetime
    ends_at: datetime
    lecturer_login: str
    participant_logins: tuple[str, ...]


def online_sessions(store: Store, actor: Actor, clock: Clock, *, include_past: bool = False) -> list[OnlineSession]:
    """Every planned online course session, with who may join it (staff and administrators)."""
    actor.require(*STAFF)
    offered_view(store.cursor(), "portal.users")
    rows = store.query_dicts(
        """SELECT s.id, c.code, c.title_ja, c.title_en, s.starts_at, s.ends_at, u.login AS lecturer,
                  list(p.login ORDER BY p.login) FILTER (WHERE p.login IS NOT NULL) AS logins
           FROM facilities_course_sessions s
           JOIN facilities_courses c ON c.id = s.course_id
           LEFT JOIN offered_users u ON u.id = c.lecturer_id
           LEFT JOIN facilities_course_registrations r ON r.course_id = c.id AND r.status = 'registered'
           LEFT JOIN offered_users p ON p.id = r.user_id
           WHERE s.meeting_room IS NOT NULL AND s.status = 'planned' AND (? OR s.ends_at > ?)
           GROUP BY ALL ORDER BY s.starts_at, s.id""", [include_past, clock.now()])
    return [OnlineSession(r["id"], r["code"], r["title_ja"], r["title_en"], r["starts_at"], r["ends_at"],
                          r["lecturer"] or "?", tuple(r["logins"] or ())) for r in rows]


@dataclass(frozen=True)
class AttendanceRow:
    session_id: int
    starts_at: datetime
    user_id: int
    name: str
    joined: bool
    first_at: datetime | None


def attendance(store: Store, actor: Actor, course_id: int) -> list[AttendanceRow]:
    """Per online session, each participant holding a seat and whether they asked for their link."""
    course = get_course(store, course_id)
    if not _may_see_participants(actor, course):
        raise PermissionDenied()
    offered_view(store.cursor(), "portal.users")
    rows = store.query(
        """SELECT s.id, s.starts_at, r.user_id, coalesce(u.display_name, '?'), j.first_at
           FROM facilities_course_sessions s
           JOIN facilities_course_registrations r ON r.course_id = s.course_id AND r.status = 'registered'
           LEFT JOIN offered_users u ON u.id = r.user_id
           LEFT JOIN facilities_meeting_joins j ON j.kind = 'course' AND j.session_id = s.id
                 AND j.participant = CAST(r.user_id AS VARCHAR)
           WHERE s.course_id = ? AND s.meeting_room IS NOT NULL AND s.status = 'planned'
           ORDER BY s.starts_at, u.display_name""", [course_id])
    return [AttendanceRow(sid, starts, uid, name, first is not None, first) for sid, starts, uid, name, first in rows]


# --- mail: an online session about to start -------------------------------------------------

def remind_online_sessions(store: Store, clock: Clock) -> int:
    """Mail each participant (and the lecturer) of an online session that starts within the
    next 15 minutes, when its join link opens, with that link. Run every minute by the
    server's mail thread; the dedupe key sends each person one reminder per session.
    Returns how many reminders were queued."""
    now = clock.now()
    sessions = store.query_dicts(
        """SELECT s.id, s.starts_at, s.ends_at, c.code, c.title_ja, c.title_en, c.lecturer_id
           FROM facilities_course_sessions s JOIN facilities_courses c ON c.id = s.course_id
           WHERE s.meeting_room IS NOT NULL AND s.status = 'planned' AND c.status = 'published'
             AND s.starts_at > ? AND s.starts_at <= ?""", [now, now + meetings.OPEN_BEFORE])
    if not sessions:
        return 0
    try:
        config = meeting_config(store)
    except ManabiError:
        config = None  # no meeting server configured: the mail points to the portal's page only
    reminders: list[tuple[int, dict, str, str | None]] = []
    for session in sessions:
        people = [session["lecturer_id"]] + [uid for (uid,) in store.query(
            "SELECT user_id FROM facilities_course_registrations WHERE course_id = "
            "(SELECT course_id FROM facilities_course_sessions WHERE id = ?) AND status = 'registered' "
            "ORDER BY user_id", [session["id"]])]
        for user_id in people:
            key = f"facilities.session_starting:{session['id']}:{user_id}"
            if store.query("SELECT 1 FROM manabi_outbox WHERE dedupe_key = ?", [key]):
                continue
            link = None
            if config is not None:
                with contextlib.suppress(ManabiError):
                    link = join_link_for(store, clock, user_id, session["id"], config, record=False).url
            reminders.append((user_id, session, key, link))

    def work(cur) -> int:
        queued = 0
        for user_id, session, key, link in reminders:
            queued += notify(cur, clock, user_id, "facilities.session_starting",
                             {"course": {"ja": session["title_ja"], "en": session["title_en"]},
                              "code": session["code"], "starts": session["starts_at"],
                              "ends_time": session["ends_at"],
                              "join": link or Message("mail.facilities.join_on_page")},
                             dedupe_key=key) is not None
        return queued

    return store.write(work) if reminders else 0

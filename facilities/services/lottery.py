"""The monthly lottery of popular slots (抽選).

Staff put slots of a month to the lottery and set its dates: an application window
(apply_from … apply_until), the draw day, a confirmation deadline and the day left-over
slots open first-come. Residents apply with up to `max_choices` ranked choices. The draw:

- goes round by round: every first choice is decided before any second choice, and so on;
- in each round, slots in a fixed order (room, day, block); a slot already won is skipped;
- the applicants of the slot in that round are put in a random order made from the recorded
  seed (Python's random.Random(seed) over applicants sorted by user id); the first one wins.

So every applicant of a slot in the same round has the same chance, and anyone can replay a
draw from its seed and the recorded applications (`replay`) to check it. Winners get a booking
in status 'won' and must confirm by the deadline; unconfirmed wins are released with unpaid
bookings (booking.release_overdue) and, like slots nobody applied for, open first-come on
`open_on`. One application, hence at most one win, per person per slot (UNIQUE in the schema).

Tables: facilities_lottery_months, facilities_lottery_slots, facilities_lottery_applications,
facilities_lottery_draws (the audit: per step the slot, round, applicants in drawn order, winner).
"""

from __future__ import annotations

import random
import secrets
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from facilities.services import booking, catalogue, vacancy
from facilities.services.catalogue import STAFF
from kernel.actor import Actor
from kernel.clock import TOKYO, Clock
from kernel.errors import Conflict, InvalidInput, NotFound
from kernel.outbox import notify
from kernel.store import Store

Slot = tuple[int, date, str]  # (room_id, day, block_code)


@dataclass(frozen=True)
class LotteryMonth:
    month: str
    apply_from: date
    apply_until: date
    draw_on: date
    confirm_by: date
    open_on: date
    max_choices: int
    seed: str | None
    drawn_at: datetime | None

    @property
    def drawn(self) -> bool:
        return self.seed is not None

    def phase(self, today: date) -> str:
        if self.drawn:
            return "drawn" if today < self.open_on else "open"
        if today < self.apply_from:
            return "before"
        if today <= self.apply_until:
            return "applying"
        return "closed"


@dataclass(frozen=True)
class Application:
    user_id: int
    choice: int
    slot: Slot


@dataclass(frozen=True)
class Step:
    """One decision of a draw: a slot in a round, its applicants in drawn order, the winner."""

    step: int
    slot: Slot
    choice: int
    applicants: tuple[int, ...]
    winner_id: int


# --- the pure draw ------------------------------------------------------------------------

def run_draw(seed: str, applications: list[Application]) -> list[Step]:
    """The draw, as a function of the seed and the applications only (so it can be replayed)."""
    rng = random.Random(seed)
    rounds = sorted({a.choice for a in applications})
    by_round: dict[tuple[int, Slot], list[int]] = {}
    for app in applications:
        by_round.setdefault((app.choice, app.slot), []).append(app.user_id)
    won: set[Slot] = set()
    steps: list[Step] = []
    for choice in rounds:
        for slot in sorted(s for c, s in by_round if c == choice):
            if slot in won:
                continue
            order = sorted(by_round[(choice, slot)])
            rng.shuffle(order)
            steps.append(Step(len(steps) + 1, slot, choice, tuple(order), order[0]))
            won.add(slot)
    return steps


# --- months and slots (staff) ---------------------------------------------------------------

def get_month(store: Store, month: str) -> LotteryMonth:
    row = store.query_dicts(
        """SELECT month, apply_from, apply_until, draw_on, confirm_by, open_on, max_choices, seed, drawn_at
           FROM facilities_lottery_months WHERE month = ?""", [month])
    if not row:
        raise NotFound("lottery.unknown_month", month=month)
    return LotteryMonth(**row[0])


def list_months(store: Store) -> list[LotteryMonth]:
    return [LotteryMonth(**r) for r in store.query_dicts(
        """SELECT month, apply_from, apply_until, draw_on, confirm_by, open_on, max_choices, seed, drawn_at
           FROM facilities_lottery_months ORDER BY month DESC""")]


def create_month(store: Store, clock: Clock, actor: Actor, month: str, *, apply_from: date, apply_until: date,
                 draw_on: date, confirm_by: date, open_on: date, max_choices: int = 3) -> LotteryMonth:
    actor.require(*STAFF)
    vacancy.parse_month(month)
    if not (apply_from <= apply_until < draw_on <= confirm_by <= open_on):
        raise InvalidInput("lottery.bad_dates")
    if not 1 <= max_choices <= 10:
        raise InvalidInput("lottery.bad_choices")

    def work(cur):
        if cur.execute("SELECT 1 FROM facilities_lottery_months WHERE month = ?", [month]).fetchone():
            raise InvalidInput("lottery.month_exists", month=month)
        cur.execute("INSERT INTO facilities_lottery_months VALUES (?, ?, ?, ?, ?, ?, ?, NULL, NULL, NULL)",
                    [month, apply_from, apply_until, draw_on, confirm_by, open_on, max_choices])

    store.write(work)
    return get_month(store, month)


def mark_slots(store: Store, clock: Clock, actor: Actor, month: str, room_ids: list[int], weekdays: list[int],
               blocks: list[str]) -> int:
    """Put every free slot of the month in those rooms, weekdays and blocks to the lottery.
    Slots already booked or closed are left out. Returns how many were added."""
    actor.require(*STAFF)
    lottery = get_month(store, month)
    if lottery.drawn:
        raise InvalidInput("lottery.already_drawn", month=month)
    days = [d for d in vacancy.month_days(vacancy.parse_month(month)) if d.isoweekday() in weekdays]
    rooms = [catalogue.get_room(store, r) for r in room_ids]

    def work(cur) -> int:
        added = 0
        for facility, room in rooms:
            for day in days:
                if booking.closure_reason(cur, facility, room.id, day):
                    continue
                for block in blocks:
                    facility.block(block)
                    if cur.execute("SELECT 1 FROM facilities_slots WHERE room_id = ? AND day = ? AND block_code = ?",
                                   [room.id, day, block]).fetchone():
                        continue
                    inserted = cur.execute(
                        """INSERT INTO facilities_lottery_slots VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING
                           RETURNING room_id""", [month, room.id, day, block]).fetchall()
                    added += len(inserted)
        return added

    return store.write(work)


def unmark_slot(store: Store, clock: Clock, actor: Actor, month: str, slot: Slot) -> None:
    actor.require(*STAFF)
    if get_month(store, month).drawn:
        raise InvalidInput("lottery.already_drawn", month=month)

    def work(cur):
        if cur.execute("""SELECT 1 FROM facilities_lottery_applications WHERE room_id = ? AND day = ?
                          AND block_code = ?""", list(slot)).fetchone():
            raise InvalidInput("lottery.slot_has_applications")
        cur.execute("DELETE FROM facilities_lottery_slots WHERE room_id = ? AND day = ? AND block_code = ?", list(slot))

    store.write(work)


@dataclass(frozen=True)
class LotterySlot:
    room_id: int
    facility_id: int
    day: date
    block_code: str
    applicants: int


def slots_of(store: Store, month: str) -> list[LotterySlot]:
    """The month's lottery slots with how many applied (numbers only, never names)."""
    order = {"am": 0, "pm": 1, "ev": 2}
    found = [LotterySlot(*r) for r in store.query(
        """SELECT s.room_id, r.facility_id, s.day, s.block_code, count(a.id)
           FROM facilities_lottery_slots s JOIN facilities_rooms r ON r.id = s.room_id
           LEFT JOIN facilities_lottery_applications a
             ON a.month = s.month AND a.room_id = s.room_id AND a.day = s.day AND a.block_code = s.block_code
           WHERE s.month = ? GROUP BY ALL""", [month])]
    return sorted(found, key=lambda s: (s.facility_id, s.room_id, s.day, order.get(s.block_code, 9)))


# --- applying (residents) ------------------------------------------------------------------

def apply(store: Store, clock: Clock, actor: Actor, month: str, choices: list[Slot], *, purpose: str = "",
          attendees: int = 1, party: str = "group") -> list[Application]:
    """Enter (or replace) the actor's ranked choices for the month, first choice first."""
    actor.require()
    lottery = get_month(store, month)
    today = clock.now().date()
    if lottery.phase(today) != "applying":
        raise InvalidInput("lottery.window_closed", start=lottery.apply_from, end=lottery.apply_until)
    if not choices:
        raise InvalidInput("lottery.no_choices")
    if len(choices) > lottery.max_choices:
        raise InvalidInput("lottery.too_many", max=lottery.max_choices)
    if len(set(choices)) != len(choices):
        raise InvalidInput("lottery.duplicate_choice")
    if party not in ("group", "individual") or attendees < 1:
        raise InvalidInput("facilities.bad_party")

    def work(cur) -> None:
        for room_id, day, block in choices:
            if not cur.execute("""SELECT 1 FROM facilities_lottery_slots WHERE month = ? AND room_id = ? AND day = ?
                                  AND block_code = ?""", [month, room_id, day, block]).fetchone():
                raise InvalidInput("lottery.not_a_lottery_slot")
            capacity = cur.execute("SELECT capacity FROM facilities_rooms WHERE id = ?", [room_id]).fetchone()[0]
            if attendees > capacity:
                raise InvalidInput("facilities.over_capacity", capacity=capacity)
        cur.execute("DELETE FROM facilities_lottery_applications WHERE month = ? AND user_id = ?",
                    [month, actor.user_id])
        cur.executemany(
            """INSERT INTO facilities_lottery_applications (month, user_id, choice, room_id, day, block_code, party,
                   purpose, attendees, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)""",
            [(month, actor.user_id, n, r, d, b, party, purpose.strip(), attendees, clock.now())
             for n, (r, d, b) in enumerate(choices, start=1)])

    store.write(work)
    return my_applications(store, actor, month)


def withdraw(store: Store, clock: Clock, actor: Actor, month: str) -> None:
    actor.require()
    lottery = get_month(store, month)
    if lottery.phase(clock.now().date()) != "applying":
        raise InvalidInput("lottery.window_closed", start=lottery.apply_from, end=lottery.apply_until)
    store.write(lambda cur: cur.execute(
        "DELETE FROM facilities_lottery_applications WHERE month = ? AND user_id = ?", [month, actor.user_id]))


@dataclass(frozen=True)
class MyApplication:
    choice: int
    slot: Slot
    result: str | None


def my_applications(store: Store, actor: Actor, month: str) -> list[MyApplication]:
    actor.require()
    return [MyApplication(c, (r, d, b), res) for c, r, d, b, res in store.query(
        """SELECT choice, room_id, day, block_code, result FROM facilities_lottery_applications
           WHERE month = ? AND user_id = ? ORDER BY choice""", [month, actor.user_id])]


# --- the draw ------------------------------------------------------------------------------

def _applications(cur, month: str) -> list[Application]:
    return [Application(u, c, (r, d, b)) for u, c, r, d, b in cur.execute(
        """SELECT user_id, choice, room_id, day, block_code FROM facilities_lottery_applications
           WHERE month = ? ORDER BY user_id, choice""", [month]).fetchall()]


def draw(store: Store, clock: Clock, actor: Actor, month: str, *, seed: str | None = None) -> list[Step]:
    """Run the month's draw once (on or after the draw day): record the seed and every step,
    mark applications won or lost, and give each winner a 'won' booking to confirm."""
    actor.require(*STAFF)
    lottery = get_month(store, month)
    now = clock.now()
    if lottery.drawn:
        raise InvalidInput("lottery.already_drawn", month=month)
    if now.date() < lottery.draw_on:
        raise InvalidInput("lottery.too_early", day=lottery.draw_on)
    seed = seed or secrets.token_hex(16)
    confirm_by = datetime.combine(lottery.confirm_by + timedelta(days=1), datetime.min.time(), TOKYO)
    facilities = {f.id: f for f in catalogue.list_facilities(store)}
    rooms = {r.id: (f, r) for f in facilities.values() for r in f.rooms}

    first_day = date.fromisoformat(f"{month}-01")
    month_words = {"ja": f"{first_day.year}年{first_day.month}月", "en": first_day.strftime("%B %Y")}

    def work(cur) -> list[Step]:
        if cur.execute("SELECT seed FROM facilities_lottery_months WHERE month = ?", [month]).fetchone()[0]:
            raise Conflict("lottery.already_drawn", month=month)
        apps = _applications(cur, month)
        details = {(u, r, d, b): (party, purpose, attendees) for u, r, d, b, party, purpose, attendees in cur.execute(
            """SELECT user_id, room_id, day, block_code, party, purpose, attendees
               FROM facilities_lottery_applications WHERE month = ?""", [month]).fetchall()}
        steps = run_draw(seed, apps)
        for step in steps:
            room_id, day, block = step.slot
            facility, room = rooms[room_id]
            party, purpose, attendees = details[(step.winner_id, room_id, day, block)]
            profile = catalogue.read_profile(cur, step.winner_id)
            fee = booking.quote_for_profile(cur, room, block, profile, party, ())
            booking_id = booking.insert_booking(
                cur, clock, facility, room, day, block, step.winner_id, actor.user_id, fee, purpose=purpose,
                attendees=attendees, source="lottery", status="won", confirm_by=confirm_by)
            cur.execute("INSERT INTO facilities_lottery_draws VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                        [month, step.step, room_id, day, block, step.choice, list(step.applicants),
                         step.winner_id, booking_id])
            cur.execute("""UPDATE facilities_lottery_applications SET result = 'won' WHERE month = ? AND user_id = ?
                           AND room_id = ? AND day = ? AND block_code = ?""",
                        [month, step.winner_id, room_id, day, block])
            won = booking.select_bookings(cur, "b.id = ?", [booking_id])[0]
            notify(cur, clock, step.winner_id, "facilities.lottery_won",
                   {**booking.mail_params(won), "month": month_words, "confirm_by": lottery.confirm_by,
                    "total_yen": won.total_yen})
        cur.execute("UPDATE facilities_lottery_applications SET result = 'lost' WHERE month = ? AND result IS NULL",
                    [month])
        for (loser,) in cur.execute(
                """SELECT user_id FROM facilities_lottery_applications WHERE month = ? GROUP BY user_id
                   HAVING bool_and(result = 'lost') ORDER BY user_id""", [month]).fetchall():
            notify(cur, clock, loser, "facilities.lottery_lost", {"month": month_words, "open_on": lottery.open_on})
        cur.execute("UPDATE facilities_lottery_months SET seed = ?, drawn_at = ?, drawn_by = ? WHERE month = ?",
                    [seed, now, actor.user_id, month])
        return steps

    return store.write(work)


@dataclass(frozen=True)
class Audit:
    month: str
    seed: str
    applications: int
    steps: list[Step]
    replay_matches: bool


def audit(store: Store, actor: Actor, month: str) -> Audit:
    """The recorded draw, and whether replaying it from the seed gives the same steps."""
    actor.require(*STAFF)
    lottery = get_month(store, month)
    if not lottery.drawn:
        raise InvalidInput("lottery.not_drawn", month=month)
    cur = store.cursor()
    recorded = [Step(s, (r, d, b), c, tuple(a), w) for s, r, d, b, c, a, w in cur.execute(
        """SELECT step, room_id, day, block_code, choice, applicants, winner_id FROM facilities_lottery_draws
           WHERE month = ? ORDER BY step""", [month]).fetchall()]
    apps = _applications(cur, month)
    return Audit(month, lottery.seed, len(apps), recorded, run_draw(lottery.seed, apps) == recorded)


def confirm(store: Store, clock: Clock, actor: Actor, booking_id: int) -> booking.Booking:
    """A winner confirms their slot before the deadline; the fee is then due."""
    actor.require()

    def work(cur) -> None:
        found = booking.select_bookings(cur, "b.id = ?", [booking_id])
        if not found or found[0].user_id != actor.user_id:
            raise NotFound("facilities.unknown_booking", booking=booking_id)
        won = found[0]
        now = clock.now()
        if won.status != "won":
            raise InvalidInput("lottery.nothing_to_confirm")
        if now >= won.confirm_by:
            raise InvalidInput("lottery.confirm_too_late", deadline=won.confirm_by)
        facility = catalogue.get_facility(store, won.facility_id)
        pay_by = None if won.total_yen == 0 else min(now + timedelta(days=facility.pay_within_days), won.starts)
        cur.execute("""UPDATE facilities_bookings SET status = 'confirmed', pay_by = ?,
                       paid_at = CASE WHEN total_yen = 0 THEN ? END,
                       payment_method = CASE WHEN total_yen = 0 THEN 'none' END WHERE id = ?""",
                    [pay_by, now, booking_id])

    store.write(work)
    return booking.get_booking(store, actor, booking_id)

"""Public vacancy: a month grid per facility, and a search for a free room across all of them.

Anonymous visitors see only whether a slot is free, never who holds it.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from facilities.services import booking, catalogue
from facilities.services.booking import OVERDUE, block_start
from facilities.services.catalogue import Facility, Room
from kernel.actor import Actor
from kernel.clock import Clock
from kernel.errors import InvalidInput, Message
from kernel.store import Store

FREE, TAKEN, CLOSED, LOTTERY, PAST = "free", "taken", "closed", "lottery", "past"
STATES = (FREE, TAKEN, CLOSED, LOTTERY, PAST)
# Beyond the public states, what keeps one person from a free slot: its booking window has
# not opened for them yet, or they have used their blocks of that month at the facility.
NOT_YET, LIMIT = "not_yet", "limit"
SEARCH_LIMIT = 200
MONTHS_SHOWN = 4  # the vacancy page offers this month and the next three


def months_shown(today: date) -> list[str]:
    """The months ('YYYY-MM') the vacancy page and the booking form offer, from today's."""
    first, out = today.replace(day=1), []
    for _ in range(MONTHS_SHOWN):
        out.append(f"{first:%Y-%m}")
        first = (first + timedelta(days=32)).replace(day=1)
    return out


def last_day_shown(today: date) -> date:
    """The last day of the last month shown: the booking form's date goes no further."""
    return month_days(parse_month(months_shown(today)[-1]))[-1]


def parse_month(month: str) -> date:
    """'2026-12' -> date(2026, 12, 1); anything else is refused with a plain message."""
    try:
        first = datetime.strptime(month.strip(), "%Y-%m").date()
    except ValueError:
        raise InvalidInput("facilities.bad_month", month=month) from None
    return first


def month_days(first: date) -> list[date]:
    count = calendar.monthrange(first.year, first.month)[1]
    return [first + timedelta(days=n) for n in range(count)]


@dataclass(frozen=True)
class Grid:
    """states[(room_id, block_code)][day] -> one of STATES."""

    facility: Facility
    days: list[date]
    states: dict[tuple[int, str], dict[date, str]]

    def free_count(self) -> int:
        return sum(1 for row in self.states.values() for s in row.values() if s == FREE)


def _month_facts(store: Store, first: date, last: date, facility_ids: list[int], now: datetime):
    cur = store.cursor()
    taken = set(cur.execute(
        f"""SELECT s.room_id, s.day, s.block_code FROM facilities_slots s
           JOIN facilities_rooms r ON r.id = s.room_id
           JOIN facilities_bookings b ON b.id = s.booking_id
           WHERE s.day BETWEEN ? AND ? AND r.facility_id IN (SELECT unnest(?)) AND NOT {OVERDUE}""",
        [first, last, facility_ids, now, now]).fetchall())
    closures = cur.execute(
        """SELECT facility_id, room_id, greatest(first_day, ?), least(last_day, ?), reason FROM facilities_closures
           WHERE last_day >= ? AND first_day <= ? AND facility_id IN (SELECT unnest(?))""",
        [first, last, first, last, facility_ids]).fetchall()
    lottery = {(r, d, b): open_on for r, d, b, open_on in cur.execute(
        """SELECT s.room_id, s.day, s.block_code, m.open_on FROM facilities_lottery_slots s
           JOIN facilities_lottery_months m USING (month) WHERE s.day BETWEEN ? AND ?""", [first, last]).fetchall()}
    return taken, closures, lottery


def _grid(facility: Facility, days: list[date], now: datetime, taken, closures, lottery) -> Grid:
    today = now.date()
    closed_days: dict[int | None, set[date]] = {}
    for fid, room_id, a, b, _reason in closures:
        if fid != facility.id:
            continue
        d = a
        while d <= b:
            closed_days.setdefault(room_id, set()).add(d)
            d += timedelta(days=1)
    whole = closed_days.get(None, set())
    states: dict[tuple[int, str], dict[date, str]] = {}
    for room in facility.rooms:
        room_closed = closed_days.get(room.id, set())
        for block in facility.blocks:
            row = {}
            for day in days:
                if day.isoweekday() in facility.closed_weekdays or day in whole or day in room_closed:
                    state = CLOSED
                elif (room.id, day, block.code) in taken:
                    state = TAKEN
                elif block_start(facility, day, block.code) <= now:
                    state = PAST
                elif (room.id, day, block.code) in lottery and today < lottery[(room.id, day, block.code)]:
                    state = LOTTERY
                else:
                    state = FREE
                row[day] = state
            states[(room.id, block.code)] = row
    return Grid(facility, days, states)


def month_grid(store: Store, clock: Clock, facility_id: int, month: str) -> Grid:
    """Every room and block of one facility, day by day, for a month ('YYYY-MM')."""
    first = parse_month(month)
    days = month_days(first)
    facility = catalogue.get_facility(store, facility_id)
    now = clock.now()
    facts = _month_facts(store, days[0], days[-1], [facility.id], now)
    return _grid(facility, days, now, *facts)


def all_month_grids(store: Store, clock: Clock, month: str) -> list[Grid]:
    """The month grid of every facility at once (one query per kind of fact)."""
    first = parse_month(month)
    days = month_days(first)
    facilities = catalogue.list_facilities(store)
    now = clock.now()
    facts = _month_facts(store, days[0], days[-1], [f.id for f in facilities], now)
    return [_grid(f, days, now, *facts) for f in facilities]


@dataclass(frozen=True)
class Availability:
    """One slot as one person may use it: FREE when they can book it now; otherwise the
    state that stops them and why, as a catalogue message (shown before they try)."""

    state: str
    reason: Message | None = None

    @property
    def bookable(self) -> bool:
        return self.state == FREE


def room_availability(store: Store, clock: Clock, actor: Actor, room_id: int, first: date,
                      last: date) -> dict[tuple[date, str], Availability]:
    """Every (day, block) of one room from `first` to `last`: whether the actor may book it
    now, and if not, why — the same rules `booking.book` applies (closed days, taken and past
    blocks, lottery slots, the booking window of their residency, the monthly limit), so the
    form can mark and disable what would be refused. An anonymous visitor is asked as a
    resident with no bookings."""
    facility, room = catalogue.get_room(store, room_id)
    now = clock.now()
    today = now.date()
    days = [first + timedelta(days=n) for n in range((last - first).days + 1)]
    if not days:
        return {}
    taken, closures, lottery = _month_facts(store, first, last, [facility.id], now)
    grid = _grid(Facility(**{**facility.__dict__, "rooms": (room,)}), days, now, taken, closures, lottery)
    profile = catalogue.profile(store, actor.user_id) if actor.signed_in else catalogue.Profile(0)
    used = booking.blocks_used(store.cursor(), actor.user_id, facility.id, first, last) if actor.signed_in else {}
    blackout = {}  # day -> the reason staff gave (a room's own closure named over the facility's)
    for fid, closed_room, a, b, reason in sorted(closures, key=lambda c: c[1] is not None):
        if fid == facility.id and closed_room in (None, room.id):
            for n in range((b - a).days + 1):
                blackout[a + timedelta(days=n)] = reason
    answer: dict[tuple[date, str], Availability] = {}
    for block in facility.blocks:
        for day, state in grid.states[(room.id, block.code)].items():
            if state == CLOSED:
                weekly = day.isoweekday() in facility.closed_weekdays
                why = booking.closure_refusal(day, "weekly" if weekly else blackout.get(day, ""))
                answer[(day, block.code)] = Availability(CLOSED, why)
            elif state == TAKEN:
                answer[(day, block.code)] = Availability(TAKEN, Message("facilities.slot_booked"))
            elif state == PAST:
                answer[(day, block.code)] = Availability(PAST, Message("facilities.in_past"))
            elif state == LOTTERY:
                answer[(day, block.code)] = Availability(LOTTERY, Message("facilities.lottery_slot"))
            elif today < (opens := booking.opens_on(facility, day, profile.is_resident)):
                answer[(day, block.code)] = Availability(NOT_YET, Message("facilities.too_early", {"opens": opens}))
            elif used.get(day.replace(day=1), 0) >= facility.max_blocks_per_month:
                answer[(day, block.code)] = Availability(
                    LIMIT, Message("facilities.month_limit", {"limit": facility.max_blocks_per_month}))
            else:
                answer[(day, block.code)] = Availability(FREE)
    return answer


@dataclass(frozen=True)
class Match:
    facility: Facility
    room: Room
    day: date
    block_code: str


def search(store: Store, clock: Clock, *, people: int, days: list[date], blocks: list[str],
           equipment: list[str] = (), accessible: bool = False, kind: str | None = None,
           limit: int = SEARCH_LIMIT) -> list[Match]:
    """Free slots for `people` on any of `days` in any of `blocks`, in rooms with all of
    `equipment` (and step-free access when asked), across all facilities."""
    if people < 1:
        raise InvalidInput("facilities.bad_attendees")
    if not days or not blocks:
        raise InvalidInput("facilities.search_needs_days")
    days = sorted(set(days))
    facilities = catalogue.list_facilities(store, kind=kind)
    now = clock.now()
    facts = _month_facts(store, days[0], days[-1], [f.id for f in facilities], now)
    found: list[Match] = []
    for facility in facilities:
        rooms = [r for r in facility.rooms if r.capacity >= people and set(equipment) <= set(r.equipment)
                 and (r.accessible or not accessible)]
        if not rooms:
            continue
        sub = Facility(**{**facility.__dict__, "rooms": tuple(rooms)})
        grid = _grid(sub, days, now, *facts)
        for room in rooms:
            for block in blocks:
                row = grid.states.get((room.id, block), {})
                for day in days:
                    if row.get(day) == FREE:
                        found.append(Match(facility, room, day, block))
    found.sort(key=lambda m: (m.day, m.block_code != "am", m.block_code == "ev", m.room.capacity, m.facility.code))
    return found[:limit]

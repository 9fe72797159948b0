"""Booking a room for a date and a time block: rules, fees, cancellation, release.

API for other parts of facilities (courses book rooms through here):

    from facilities.services import booking, catalogue
    catalogue.list_facilities(store, kind=None) -> list[Facility]   # .rooms, .blocks (am/pm/ev)
    catalogue.get_room(store, room_id) -> (Facility, Room)
    booking.book(store, clock, actor, room_id, day, block_code, *, purpose="", attendees=1,
                 party=None, addons=(), for_course=False) -> Booking
        raises booking.SlotTaken (a kernel.errors.Conflict) when the slot is already held,
        BookingRefused (InvalidInput: closed day, lottery slot, too early, past, limit...).
        for_course=True: staff/teachers booking for a course; no fee, no advance or monthly
        limit, but closures, lottery slots and the one-booking-per-slot rule still apply.
    booking.cancel(store, clock, actor, booking_id) -> Booking   # frees the slot
    booking.is_free(store, room_id, day, block_code) -> bool
    vacancy.room_availability(store, clock, actor, room_id, first, last)   # what the actor may book,
        # slot by slot, and why not in words, before they try (the booking form marks it)

Tables: facilities_bookings (every booking, with its fee and status), facilities_slots
(PRIMARY KEY room_id, day, block_code: the live booking of each slot; a cancelled
booking's row is deleted, so the slot can be booked again), facilities_payments.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import date, datetime, timedelta

import duckdb

from facilities.services import catalogue
from facilities.services.catalogue import STAFF, Facility, Room
from kernel.actor import Actor
from kernel.clock import TOKYO, Clock
from kernel.errors import Conflict, InvalidInput, Message, NotFound, PermissionDenied
from kernel.outbox import notify
from kernel.store import Store

TAX_PERCENT = 10  # consumption tax, included in every fee
COURSE_ROLES = ("facility_staff", "city_admin", "teacher")
LIVE = ("won", "confirmed")


class SlotTaken(Conflict):
    key = "facilities.slot_taken"


class BookingRefused(InvalidInput):
    key = "facilities.refused"


@dataclass(frozen=True)
class Quote:
    """The fee of one block, tax included, before booking."""

    residency: str
    party: str
    room_yen: int
    reduction_code: str | None
    reduction_reason: str | None
    reduction_percent: int
    reduction_yen: int
    addons: tuple[str, ...]
    addon_yen: int
    total_yen: int
    tax_yen: int


@dataclass(frozen=True)
class Booking:
    id: int
    room_id: int
    facility_id: int
    facility_ja: str
    facility_en: str
    room_ja: str
    room_en: str
    day: date
    block_code: str
    starts: datetime
    ends: datetime
    user_id: int
    purpose: str
    attendees: int
    party: str
    residency: str
    source: str
    status: str
    room_yen: int
    reduction_code: str | None
    reduction_reason: str | None
    reduction_yen: int
    addons: tuple[str, ...]
    addon_yen: int
    total_yen: int
    tax_yen: int
    payment_ref: str
    confirm_by: datetime | None
    pay_by: datetime | None
    paid_at: datetime | None
    paid_yen: int
    payment_method: str | None
    refund_yen: int
    created_at: datetime
    ended_at: datetime | None

    def place(self, lang: str) -> str:
        return f"{self.facility_ja} {self.room_ja}" if lang == "ja" else f"{self.facility_en}, {self.room_en}"

    @property
    def owed_yen(self) -> int:
        """What is due now: a lottery win is due only once confirmed."""
        return 0 if self.status != "confirmed" else max(self.total_yen - self.paid_yen, 0)


# --- fees --------------------------------------------------------------------------------

def fee_arithmetic(room_yen: int, reduction_percent: int, addon_yens: list[int]) -> tuple[int, int, int]:
    """(reduction_yen, total_yen, tax_yen). The reduction applies to the room fee only and is
    rounded down in the payer's favour (the reduced fee rounds down); add-ons are charged in
    full; the tax is the part of the tax-included total, rounded down."""
    reduced = room_yen * (100 - reduction_percent) // 100
    reduction_yen = room_yen - reduced
    total = reduced + sum(addon_yens)
    tax = total * TAX_PERCENT // (100 + TAX_PERCENT)
    return reduction_yen, total, tax


def quote_for_profile(cur, room: Room, block_code: str, profile: catalogue.Profile, party: str | None,
           addons: tuple[str, ...]) -> Quote:
    residency = "resident" if profile.is_resident else "nonresident"
    party = party or ("group" if profile.group_name else "individual")
    if party not in ("group", "individual"):
        raise InvalidInput("facilities.bad_party")
    row = cur.execute(
        "SELECT yen FROM facilities_fees WHERE room_id = ? AND block_code = ? AND residency = ? AND party = ?",
        [room.id, block_code, residency, party]).fetchone()
    if row is None:
        raise BookingRefused("facilities.no_fee", block=Message(f"block.{block_code}"))
    addon_yens = []
    for code in addons:
        if code not in room.equipment:
            # Named as people know it (a code not in the list is shown as it was given).
            names = cur.execute("SELECT name_ja, name_en FROM facilities_equipment WHERE code = ?", [code]).fetchone()
            name_ja, name_en = names or (code, code)
            raise InvalidInput("facilities.addon_not_here", equipment_ja=name_ja, equipment_en=name_en)
        price = cur.execute("SELECT addon_yen FROM facilities_equipment WHERE code = ?", [code]).fetchone()
        addon_yens.append(price[0] if price else 0)
    percent, reason = 0, None
    if profile.reduction_code:
        found = cur.execute("SELECT percent FROM facilities_reductions WHERE code = ?",
                            [profile.reduction_code]).fetchone()
        if found:
            percent, reason = found[0], profile.reduction_note
    reduction_yen, total, tax = fee_arithmetic(row[0], percent, addon_yens)
    return Quote(residency, party, row[0], profile.reduction_code if percent else None, reason, percent,
                 reduction_yen, tuple(addons), sum(addon_yens), total, tax)


def quote(store: Store, actor: Actor, room_id: int, block_code: str, *, party: str | None = None,
          addons: tuple[str, ...] | list[str] = ()) -> Quote:
    """What booking this block would cost the actor (an anonymous visitor sees the resident rate)."""
    _, room = catalogue.get_room(store, room_id)
    profile = catalogue.profile(store, actor.user_id) if actor.signed_in else catalogue.Profile(0)
    return quote_for_profile(store.cursor(), room, block_code, profile, party, tuple(addons))


# --- rules -------------------------------------------------------------------------------

def block_start(facility: Facility, day: date, block_code: str) -> datetime:
    return datetime.combine(day, facility.block(block_code).starts, TOKYO)


def block_end(facility: Facility, day: date, block_code: str) -> datetime:
    return datetime.combine(day, facility.block(block_code).ends, TOKYO)


def closure_reason(cur, facility: Facility, room_id: int, day: date) -> str | None:
    """Why the room cannot be used that day (weekly closed day, blackout), or None."""
    if day.isoweekday() in facility.closed_weekdays:
        return "weekly"
    row = cur.execute(
        """SELECT reason FROM facilities_closures WHERE facility_id = ? AND (room_id IS NULL OR room_id = ?)
           AND ? BETWEEN first_day AND last_day LIMIT 1""", [facility.id, room_id, day]).fetchone()
    return row[0] if row else None


def closure_refusal(day: date, reason: str) -> Message:
    """Why a closed day cannot be booked, in words: the weekly closed day is named by its
    weekday; a blackout carries the reason staff wrote when they entered it."""
    if reason == "weekly":
        return Message("facilities.closed_weekly", {"weekday": Message(f"facilities.weekday.{day.isoweekday()}")})
    return Message("facilities.closed_day", {"reason": reason})


def lottery_holds(cur, room_id: int, day: date, block_code: str, today: date) -> bool:
    """True while the slot belongs to a lottery that has not opened first-come yet."""
    row = cur.execute(
        """SELECT m.open_on FROM facilities_lottery_slots s JOIN facilities_lottery_months m USING (month)
           WHERE s.room_id = ? AND s.day = ? AND s.block_code = ?""", [room_id, day, block_code]).fetchone()
    return bool(row) and today < row[0]


def opens_on(facility: Facility, day: date, resident: bool) -> date:
    """The first day the slot may be booked (residents earlier than non-residents)."""
    ahead = facility.resident_days_ahead if resident else facility.nonresident_days_ahead
    return day - timedelta(days=ahead)


def blocks_used(cur, user_id: int, facility_id: int, first: date, last: date) -> dict[date, int]:
    """The user's live blocks at the facility per month (keyed by the month's first day), for
    the months from `first` to `last`; courses do not count against the monthly limit."""
    start = first.replace(day=1)
    end = (last.replace(day=1) + timedelta(days=32)).replace(day=1)
    rows = cur.execute(
        """SELECT date_trunc('month', b.day)::DATE, count(*) FROM facilities_bookings b
           JOIN facilities_rooms r ON r.id = b.room_id
           WHERE b.user_id = ? AND r.facility_id = ? AND b.status IN ('won', 'confirmed')
             AND b.source <> 'course' AND b.day >= ? AND b.day < ? GROUP BY 1""",
        [user_id, facility_id, start, end]).fetchall()
    return dict(rows)


def block_fees(store: Store, actor: Actor, room_ids: list[int]) -> dict[tuple[int, str], int]:
    """What one block of each room costs the actor, tax included, without add-ons: their rate
    (an anonymous visitor sees the resident rate), their usual party and their reduction.
    One query for every room at once (the free-room search shows a fee on every line)."""
    profile = catalogue.profile(store, actor.user_id) if actor.signed_in else catalogue.Profile(0)
    cur = store.cursor()
    residency = "resident" if profile.is_resident else "nonresident"
    party = "group" if profile.group_name else "individual"
    percent = 0
    if profile.reduction_code:
        found = cur.execute("SELECT percent FROM facilities_reductions WHERE code = ?",
                            [profile.reduction_code]).fetchone()
        percent = found[0] if found else 0
    rows = cur.execute(
        """SELECT room_id, block_code, yen FROM facilities_fees
           WHERE room_id IN (SELECT unnest(?)) AND residency = ? AND party = ?""",
        [list(room_ids), residency, party]).fetchall()
    return {(room_id, block): fee_arithmetic(yen, percent, [])[1] for room_id, block, yen in rows}


def _check_rules(cur, clock: Clock, facility: Facility, room: Room, day: date, block_code: str, user_id: int,
                 profile: catalogue.Profile, attendees: int, for_course: bool) -> None:
    now = clock.now()
    today = now.date()
    facility.block(block_code)
    if block_start(facility, day, block_code) <= now:
        raise BookingRefused("facilities.in_past")
    if attendees > room.capacity:
        raise BookingRefused("facilities.over_capacity", capacity=room.capacity)
    reason = closure_reason(cur, facility, room.id, day)
    if reason:
        why = closure_refusal(day, reason)
        raise BookingRefused(why.key, **why.params)
    if lottery_holds(cur, room.id, day, block_code, today):
        raise BookingRefused("facilities.lottery_slot")
    if for_course:
        return
    first = opens_on(facility, day, profile.is_resident)
    if today < first:
        raise BookingRefused("facilities.too_early", opens=first)
    used = blocks_used(cur, user_id, facility.id, day, day).get(day.replace(day=1), 0)
    if used >= facility.max_blocks_per_month:
        raise BookingRefused("facilities.month_limit", limit=facility.max_blocks_per_month)


def new_payment_ref() -> str:
    return "MNB-" + secrets.token_hex(6).upper()


def insert_booking(cur, clock: Clock, facility: Facility, room: Room, day: date, block_code: str, user_id: int,
                   created_by: int, quote: Quote, *, purpose: str, attendees: int, source: str, status: str,
                   confirm_by: datetime | None = None) -> int:
    """Write a booking and take its slot, in the caller's transaction. Raises SlotTaken."""
    now = clock.now()
    # Two point lookups (both by key) rather than a join: this runs once per booking.
    slot = cur.execute("SELECT booking_id FROM facilities_slots WHERE room_id = ? AND day = ? AND block_code = ?",
                       [room.id, day, block_code]).fetchone()
    holder = slot and cur.execute(f"SELECT b.id, {OVERDUE} FROM facilities_bookings b WHERE b.id = ?",
                                  [now, now, slot[0]]).fetchone()
    if holder and holder[1]:
        # Held by a booking past its payment or confirmation deadline: release it now,
        # rather than wait for the next `manabi facilities release`.
        _release(cur, clock, [holder[0]])
    elif holder:
        raise SlotTaken()
    start = block_start(facility, day, block_code)
    free = quote.total_yen == 0
    pay_by = None if free else min(now + timedelta(days=facility.pay_within_days), start)
    if status == "won":
        pay_by = None  # payment is due once the win is confirmed
    booking_id = cur.execute(
        """INSERT INTO facilities_bookings (room_id, day, block_code, user_id, purpose, attendees, party, residency,
               source, status, room_yen, reduction_code, reduction_reason, reduction_yen, addons, addon_yen,
               total_yen, tax_yen, payment_ref, confirm_by, pay_by, paid_at, payment_method, created_at, created_by)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id""",
        [room.id, day, block_code, user_id, purpose.strip(), attendees, quote.party, quote.residency, source, status,
         quote.room_yen, quote.reduction_code, quote.reduction_reason, quote.reduction_yen, list(quote.addons),
         quote.addon_yen, quote.total_yen, quote.tax_yen, new_payment_ref(), confirm_by, pay_by,
         now if free else None, "none" if free else None, now, created_by]).fetchone()[0]
    try:
        cur.execute("INSERT INTO facilities_slots VALUES (?, ?, ?, ?)", [room.id, day, block_code, booking_id])
    except duckdb.ConstraintException as exc:
        raise SlotTaken() from exc
    return booking_id


def book(store: Store, clock: Clock, actor: Actor, room_id: int, day: date, block_code: str, *,
         purpose: str = "", attendees: int = 1, party: str | None = None,
         addons: tuple[str, ...] | list[str] = (), for_course: bool = False) -> Booking:
    """Book one block of a room for the signed-in actor. Exactly one of any number of
    racing callers for the same slot wins; the others get SlotTaken."""
    actor.require()
    if for_course and not actor.has(*COURSE_ROLES):
        raise PermissionDenied()
    if attendees < 1:
        raise InvalidInput("facilities.bad_attendees")
    facility, room = catalogue.get_room(store, room_id)

    def work(cur) -> int:
        profile = catalogue.read_profile(cur, actor.user_id)
        _check_rules(cur, clock, facility, room, day, block_code, actor.user_id, profile, attendees, for_course)
        if for_course:
            fee = Quote("resident", "group", 0, None, None, 0, 0, (), 0, 0, 0)
        else:
            fee = quote_for_profile(cur, room, block_code, profile, party, tuple(addons))
        booking_id = insert_booking(cur, clock, facility, room, day, block_code, actor.user_id, actor.user_id,
                                    fee, purpose=purpose, attendees=attendees,
                                    source="course" if for_course else "web", status="confirmed")
        if not for_course:  # a course's room is the course's business, not a person's booking
            made = select_bookings(cur, "b.id = ?", [booking_id])[0]
            pay = (Message("mail.facilities.pay_note", {"pay_by": made.pay_by, "payment_ref": made.payment_ref})
                   if made.pay_by else None)
            notify(cur, clock, actor.user_id, "facilities.booking_made",
                   {**mail_params(made), "total_yen": made.total_yen, "pay_note": pay})
        return booking_id

    try:
        booking_id = store.write(work)
    except duckdb.ConstraintException as exc:  # the other writer's slot row won at commit
        raise SlotTaken() from exc
    except Conflict as exc:
        if isinstance(exc, SlotTaken):
            raise
        raise SlotTaken() from exc
    return get_booking(store, actor, booking_id)


# A live booking past its payment or confirmation deadline no longer holds its slot.
OVERDUE = """((b.status = 'confirmed' AND b.paid_at IS NULL AND b.pay_by < ?)
             OR (b.status = 'won' AND b.confirm_by < ?))"""


def is_free(store: Store, room_id: int, day: date, block_code: str, now: datetime | None = None) -> bool:
    """No live booking holds the slot (with `now`, overdue ones do not count)."""
    if now is None:
        return not store.query("SELECT 1 FROM facilities_slots WHERE room_id = ? AND day = ? AND block_code = ?",
                               [room_id, day, block_code])
    return not store.query(
        f"""SELECT 1 FROM facilities_slots s JOIN facilities_bookings b ON b.id = s.booking_id
            WHERE s.room_id = ? AND s.day = ? AND s.block_code = ? AND NOT {OVERDUE}""",
        [room_id, day, block_code, now, now])


def mail_params(booking: Booking) -> dict:
    """What every mail about a booking names: the place, the day and time, its number."""
    return {"place": {"ja": booking.place("ja"), "en": booking.place("en")}, "starts": booking.starts,
            "ends_time": booking.ends, "booking": booking.id}


# --- reading -----------------------------------------------------------------------------

_SELECT = """
SELECT b.id, b.room_id, r.facility_id, f.name_ja AS facility_ja, f.name_en AS facility_en,
       r.name_ja AS room_ja, r.name_en AS room_en, b.day, b.block_code,
       (b.day + k.starts)::TIMESTAMP AS starts, (b.day + k.ends)::TIMESTAMP AS ends,
       b.user_id, b.purpose, b.attendees, b.party, b.residency, b.source, b.status, b.room_yen,
       b.reduction_code, b.reduction_reason, b.reduction_yen, b.addons, b.addon_yen, b.total_yen, b.tax_yen,
       b.payment_ref, b.confirm_by, b.pay_by, b.paid_at, b.paid_yen, b.payment_method, b.refund_yen,
       b.created_at, b.ended_at
FROM facilities_bookings b
JOIN facilities_rooms r ON r.id = b.room_id
JOIN facilities_facilities f ON f.id = r.facility_id
JOIN facilities_blocks k ON k.facility_id = r.facility_id AND k.code = b.block_code
"""


def _booking(row: dict) -> Booking:
    row = dict(row)
    row["starts"] = row["starts"].replace(tzinfo=TOKYO)
    row["ends"] = row["ends"].replace(tzinfo=TOKYO)
    row["addons"] = tuple(row["addons"])
    return Booking(**row)


def select_bookings(cur, where: str, params: list) -> list[Booking]:
    result = cur.execute(_SELECT + " WHERE " + where, params)
    names = [d[0] for d in result.description]
    return [_booking(dict(zip(names, row, strict=True))) for row in result.fetchall()]


def get_booking(store: Store, actor: Actor, booking_id: int) -> Booking:
    """One booking: its owner's, or any for staff."""
    actor.require()
    found = select_bookings(store.cursor(), "b.id = ?", [booking_id])
    if not found or (found[0].user_id != actor.user_id and not actor.has(*STAFF)):
        raise NotFound("facilities.unknown_booking", booking=booking_id)
    return found[0]


def my_bookings(store: Store, actor: Actor, *, include_past: bool = True) -> list[Booking]:
    """The actor's own bookings, newest date first."""
    actor.require()
    return select_bookings(store.cursor(), "b.user_id = ? ORDER BY b.day DESC, k.starts", [actor.user_id])


def staff_bookings(store: Store, actor: Actor, *, facility_id: int | None = None, first_day: date | None = None,
                   last_day: date | None = None, status: str | None = None, limit: int = 500) -> list[Booking]:
    actor.require(*STAFF)
    return select_bookings(
        store.cursor(),
        """(? IS NULL OR r.facility_id = ?) AND (? IS NULL OR b.day >= ?) AND (? IS NULL OR b.day <= ?)
           AND (? IS NULL OR b.status = ?) ORDER BY b.day, k.starts, r.code LIMIT ?""",
        [facility_id, facility_id, first_day, first_day, last_day, last_day, status, status, limit])


# --- cancelling and releasing -------------------------------------------------------------

def cancel_deadline(facility: Facility, day: date) -> datetime:
    """The owner may cancel online until the start of this moment."""
    return datetime.combine(day - timedelta(days=facility.cancel_days_before), datetime.min.time(), TOKYO)


def refund_for(facility: Facility, booking: Booking, now: datetime, *, by_staff: bool) -> int:
    """What a cancellation gives back of what was paid: everything when cancelled early
    enough (or by the city), else the facility's late percentage."""
    if booking.paid_yen == 0:
        return 0
    days_before = (booking.day - now.date()).days
    if by_staff or days_before >= facility.refund_full_days:
        return booking.paid_yen
    return booking.paid_yen * facility.refund_late_percent // 100


def cancel(store: Store, clock: Clock, actor: Actor, booking_id: int) -> Booking:
    """Cancel a live booking (its owner before the deadline, or staff at any time); frees the slot
    and records the refund due under the cancellation policy."""
    actor.require()
    staff = actor.has(*STAFF)

    def work(cur) -> None:
        found = select_bookings(cur, "b.id = ?", [booking_id])
        if not found or (found[0].user_id != actor.user_id and not staff):
            raise NotFound("facilities.unknown_booking", booking=booking_id)
        booking = found[0]
        if booking.status not in LIVE:
            raise InvalidInput("facilities.not_live")
        facility = catalogue.get_facility(store, booking.facility_id)
        now = clock.now()
        if not staff and now >= cancel_deadline(facility, booking.day):
            raise BookingRefused("facilities.cancel_too_late", deadline=cancel_deadline(facility, booking.day))
        refund = refund_for(facility, booking, now, by_staff=staff)
        cur.execute("UPDATE facilities_bookings SET status = 'cancelled', ended_at = ?, ended_by = ?, refund_yen = ? "
                    "WHERE id = ?", [now, actor.user_id, refund, booking_id])
        cur.execute("DELETE FROM facilities_slots WHERE booking_id = ?", [booking_id])
        if refund:
            cur.execute(
                """INSERT INTO facilities_payments (booking_id, kind, method, yen, recorded_at, recorded_by)
                   VALUES (?, 'refund', ?, ?, ?, ?)""",
                [booking_id, booking.payment_method if booking.payment_method in ("qr", "counter") else "counter",
                 refund, now, actor.user_id])
        if booking.source != "course":
            refund_note = Message("mail.facilities.refund_note", {"refund_yen": refund}) if refund else None
            notify(cur, clock, booking.user_id, "facilities.booking_cancelled",
                   {**mail_params(booking), "refund_note": refund_note})

    store.write(work)
    return get_booking(store, actor, booking_id)


def _release(cur, clock: Clock, ids: list[int]) -> None:
    now = clock.now()
    released = select_bookings(cur, "b.id IN (SELECT unnest(?))", [ids])
    cur.execute("UPDATE facilities_bookings SET status = 'released', ended_at = ? WHERE id IN (SELECT unnest(?))",
                [now, ids])
    cur.execute("DELETE FROM facilities_slots WHERE booking_id IN (SELECT unnest(?))", [ids])
    for gone in released:
        reason = "mail.facilities.released_unconfirmed" if gone.status == "won" else "mail.facilities.released_unpaid"
        notify(cur, clock, gone.user_id, "facilities.booking_released",
               {**mail_params(gone), "reason": Message(reason, {"deadline": gone.confirm_by or gone.pay_by})})


def release_overdue(store: Store, clock: Clock) -> list[int]:
    """Release bookings unpaid after their payment deadline and lottery wins unconfirmed
    after theirs; their slots become free. Returns the released booking ids."""

    def work(cur) -> list[int]:
        now = clock.now()
        ids = [r[0] for r in cur.execute(
            """SELECT id FROM facilities_bookings
               WHERE (status = 'confirmed' AND paid_at IS NULL AND pay_by IS NOT NULL AND pay_by < ?)
                  OR (status = 'won' AND confirm_by < ?) ORDER BY id""", [now, now]).fetchall()]
        if ids:
            _release(cur, clock, ids)
        return ids

    return store.write(work)

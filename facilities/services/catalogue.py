"""Facilities, rooms, time blocks, equipment, fees, closures and user profiles.

Read by everyone (vacancy is public); changed by facility staff. Tables:
facilities_facilities, facilities_rooms, facilities_blocks, facilities_equipment,
facilities_fees, facilities_reductions, facilities_closures, facilities_profiles.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from datetime import date, time

from kernel.actor import Actor
from kernel.clock import Clock
from kernel.errors import InvalidInput, NotFound
from kernel.provided import offered_view
from kernel.store import Store

STAFF = ("facility_staff", "city_admin")
BLOCK_CODES = ("am", "pm", "ev")
ROOM_KINDS = ("room", "hall", "japanese", "kitchen", "gym", "court", "studio")


@dataclass(frozen=True)
class Block:
    code: str
    starts: time
    ends: time

    def label(self) -> str:
        return f"{self.starts:%H:%M}–{self.ends:%H:%M}"


@dataclass(frozen=True)
class Room:
    id: int
    facility_id: int
    code: str
    name_ja: str
    name_en: str
    kind: str
    capacity: int
    equipment: tuple[str, ...]
    accessible: bool

    def name(self, lang: str) -> str:
        return self.name_ja if lang == "ja" else self.name_en


@dataclass(frozen=True)
class Facility:
    id: int
    code: str
    kind: str
    name_ja: str
    name_en: str
    address_ja: str
    lat: float
    lon: float
    closed_weekdays: tuple[int, ...]
    resident_days_ahead: int
    nonresident_days_ahead: int
    max_blocks_per_month: int
    cancel_days_before: int
    refund_full_days: int
    refund_late_percent: int
    pay_within_days: int
    rooms: tuple[Room, ...] = field(default_factory=tuple)
    blocks: tuple[Block, ...] = field(default_factory=tuple)

    def name(self, lang: str) -> str:
        return self.name_ja if lang == "ja" else self.name_en

    def block(self, code: str) -> Block:
        for block in self.blocks:
            if block.code == code:
                return block
        raise NotFound("facilities.unknown_block", block=code)


@dataclass(frozen=True)
class Equipment:
    code: str
    name_ja: str
    name_en: str
    addon_yen: int

    def name(self, lang: str) -> str:
        return self.name_ja if lang == "ja" else self.name_en


@dataclass(frozen=True)
class Reduction:
    code: str
    name_ja: str
    name_en: str
    percent: int

    def name(self, lang: str) -> str:
        return self.name_ja if lang == "ja" else self.name_en


@dataclass(frozen=True)
class Closure:
    id: int
    facility_id: int
    room_id: int | None
    first_day: date
    last_day: date
    reason: str


@dataclass(frozen=True)
class Profile:
    user_id: int
    is_resident: bool = True
    group_name: str | None = None
    reduction_code: str | None = None
    reduction_note: str | None = None


_FACILITY_COLUMNS = """id, code, kind, name_ja, name_en, address_ja, lat, lon, closed_weekdays,
    resident_days_ahead, nonresident_days_ahead, max_blocks_per_month, cancel_days_before,
    refund_full_days, refund_late_percent, pay_within_days"""


def _room(row: dict) -> Room:
    return Room(row["id"], row["facility_id"], row["code"], row["name_ja"], row["name_en"], row["kind"],
                row["capacity"], tuple(row["equipment"]), row["accessible"])


def list_facilities(store: Store, *, kind: str | None = None) -> list[Facility]:
    """Every active facility with its active rooms and its blocks, in code order."""
    cur = store.cursor()
    facilities = store.query_dicts(
        f"""SELECT {_FACILITY_COLUMNS} FROM facilities_facilities WHERE active AND (? IS NULL OR kind = ?)
            ORDER BY CASE kind WHEN 'hall' THEN 0 WHEN 'centre' THEN 1 ELSE 2 END, code""",
        [kind, kind])
    rooms: dict[int, list[Room]] = {}
    for row in store.query_dicts("SELECT * FROM facilities_rooms WHERE active ORDER BY facility_id, code"):
        rooms.setdefault(row["facility_id"], []).append(_room(row))
    blocks: dict[int, list[Block]] = {}
    for fid, code, starts, ends in cur.execute(
            "SELECT facility_id, code, starts, ends FROM facilities_blocks ORDER BY facility_id, starts").fetchall():
        blocks.setdefault(fid, []).append(Block(code, starts, ends))
    return [
        Facility(**{**f, "closed_weekdays": tuple(f["closed_weekdays"])},
                 rooms=tuple(rooms.get(f["id"], ())), blocks=tuple(blocks.get(f["id"], ())))
        for f in facilities
    ]


def get_facility(store: Store, facility_id: int) -> Facility:
    for facility in list_facilities(store):
        if facility.id == facility_id:
            return facility
    raise NotFound("facilities.unknown_facility", facility=facility_id)


def find_facility(store: Store, key: str | int) -> Facility:
    """A facility by id or by code (the CLI accepts either)."""
    for facility in list_facilities(store):
        if str(facility.id) == str(key) or facility.code == str(key):
            return facility
    raise NotFound("facilities.unknown_facility", facility=key)


def get_room(store: Store, room_id: int) -> tuple[Facility, Room]:
    row = store.query("SELECT facility_id FROM facilities_rooms WHERE id = ? AND active", [room_id])
    if not row:
        raise NotFound("facilities.unknown_room", room=room_id)
    facility = get_facility(store, row[0][0])
    room = next(r for r in facility.rooms if r.id == room_id)
    return facility, room


def list_equipment(store: Store) -> list[Equipment]:
    return [Equipment(*row) for row in store.query(
        "SELECT code, name_ja, name_en, addon_yen FROM facilities_equipment ORDER BY code")]


def list_reductions(store: Store) -> list[Reduction]:
    return [Reduction(*row) for row in store.query(
        "SELECT code, name_ja, name_en, percent FROM facilities_reductions ORDER BY percent DESC, code")]


def fee_table(store: Store, room_id: int) -> dict[tuple[str, str, str], int]:
    """{(block, residency, party): yen} of one room."""
    return {(b, r, p): y for b, r, p, y in store.query(
        "SELECT block_code, residency, party, yen FROM facilities_fees WHERE room_id = ?", [room_id])}


def list_closures(store: Store, facility_id: int | None = None) -> list[Closure]:
    return [Closure(*row) for row in store.query(
        """SELECT id, facility_id, room_id, first_day, last_day, reason FROM facilities_closures
           WHERE ? IS NULL OR facility_id = ? ORDER BY first_day""", [facility_id, facility_id])]


# --- staff setup -------------------------------------------------------------------------

DEFAULT_BLOCKS = (("am", time(9), time(12)), ("pm", time(13), time(17)), ("ev", time(18), time(22)))


def create_facility(store: Store, clock: Clock, actor: Actor, *, code: str, kind: str, name_ja: str, name_en: str,
                    lat: float, lon: float, address_ja: str = "", closed_weekdays: list[int] = (),
                    blocks=DEFAULT_BLOCKS, resident_days_ahead: int = 90, nonresident_days_ahead: int = 30,
                    max_blocks_per_month: int = 8, cancel_days_before: int = 1) -> int:
    """A new facility with its time blocks (default 9–12, 13–17, 18–22)."""
    actor.require(*STAFF)
    if kind not in ("hall", "centre", "sports"):
        raise InvalidInput("facilities.bad_kind")
    if not code.strip() or not name_ja.strip() or not name_en.strip():
        raise InvalidInput("facilities.name_needed")

    def work(cur) -> int:
        if cur.execute("SELECT 1 FROM facilities_facilities WHERE code = ?", [code]).fetchone():
            raise InvalidInput("facilities.code_taken", code=code)
        facility_id = cur.execute(
            """INSERT INTO facilities_facilities (code, kind, name_ja, name_en, address_ja, lat, lon, closed_weekdays,
                   resident_days_ahead, nonresident_days_ahead, max_blocks_per_month, cancel_days_before)
               VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id""",
            [code.strip(), kind, name_ja.strip(), name_en.strip(), address_ja, lat, lon, sorted(set(closed_weekdays)),
             resident_days_ahead, nonresident_days_ahead, max_blocks_per_month, cancel_days_before]).fetchone()[0]
        cur.executemany("INSERT INTO facilities_blocks VALUES (?, ?, ?, ?)",
                        [(facility_id, b, s, e) for b, s, e in blocks])
        return facility_id

    return store.write(work)


def add_room(store: Store, clock: Clock, actor: Actor, facility_id: int, *, code: str, name_ja: str, name_en: str,
             kind: str, capacity: int, equipment: list[str] = (), accessible: bool = True,
             fees: dict[tuple[str, str, str], int] | None = None) -> int:
    """A room or court; `fees` maps (block, residency, party) to yen, tax included."""
    actor.require(*STAFF)
    if kind not in ROOM_KINDS:
        raise InvalidInput("facilities.bad_kind")
    if capacity < 1:
        raise InvalidInput("facilities.bad_capacity")
    get_facility(store, facility_id)
    known = {e.code for e in list_equipment(store)}
    unknown = [e for e in equipment if e not in known]
    if unknown:
        raise InvalidInput("facilities.unknown_equipment", equipment=", ".join(unknown))

    def work(cur) -> int:
        if cur.execute("SELECT 1 FROM facilities_rooms WHERE facility_id = ? AND code = ?",
                       [facility_id, code]).fetchone():
            raise InvalidInput("facilities.code_taken", code=code)
        room_id = cur.execute(
            """INSERT INTO facilities_rooms (facility_id, code, name_ja, name_en, kind, capacity, equipment, accessible)
               VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING id""",
            [facility_id, code, name_ja, name_en, kind, capacity, list(equipment), accessible]).fetchone()[0]
        cur.executemany("INSERT INTO facilities_fees VALUES (?, ?, ?, ?, ?)",
                        [(room_id, b, r, p, int(y)) for (b, r, p), y in (fees or {}).items()])
        return room_id

    return store.write(work)


def add_equipment(store: Store, clock: Clock, actor: Actor, code: str, name_ja: str, name_en: str,
                  addon_yen: int = 0) -> None:
    actor.require(*STAFF)
    store.write(lambda cur: cur.execute("INSERT OR REPLACE INTO facilities_equipment VALUES (?, ?, ?, ?)",
                                        [code, name_ja, name_en, addon_yen]))


def add_reduction(store: Store, clock: Clock, actor: Actor, code: str, name_ja: str, name_en: str,
                  percent: int) -> None:
    actor.require(*STAFF)
    if not 1 <= percent <= 100:
        raise InvalidInput("facilities.bad_percent")
    store.write(lambda cur: cur.execute("INSERT OR REPLACE INTO facilities_reductions VALUES (?, ?, ?, ?)",
                                        [code, name_ja, name_en, percent]))


def update_rules(store: Store, clock: Clock, actor: Actor, facility_id: int, *, resident_days_ahead: int,
                 nonresident_days_ahead: int, max_blocks_per_month: int, cancel_days_before: int,
                 closed_weekdays: list[int]) -> None:
    actor.require(*STAFF)
    if nonresident_days_ahead > resident_days_ahead:
        raise InvalidInput("facilities.nonresident_earlier")
    if any(d not in range(1, 8) for d in closed_weekdays):
        raise InvalidInput("facilities.bad_weekday")

    def work(cur):
        if not cur.execute("SELECT 1 FROM facilities_facilities WHERE id = ?", [facility_id]).fetchone():
            raise NotFound("facilities.unknown_facility", facility=facility_id)
        cur.execute(
            """UPDATE facilities_facilities SET resident_days_ahead = ?, nonresident_days_ahead = ?,
               max_blocks_per_month = ?, cancel_days_before = ?, closed_weekdays = ? WHERE id = ?""",
            [resident_days_ahead, nonresident_days_ahead, max_blocks_per_month, cancel_days_before,
             sorted(set(closed_weekdays)), facility_id])

    store.write(work)


def set_fee(store: Store, clock: Clock, actor: Actor, room_id: int, block_code: str, residency: str,
            party: str, yen: int) -> None:
    actor.require(*STAFF)
    if yen < 0:
        raise InvalidInput("facilities.bad_fee")
    get_room(store, room_id)
    store.write(lambda cur: cur.execute(
        "INSERT OR REPLACE INTO facilities_fees VALUES (?, ?, ?, ?, ?)",
        [room_id, block_code, residency, party, int(yen)]))


def add_closure(store: Store, clock: Clock, actor: Actor, facility_id: int, first_day: date, last_day: date,
                reason: str, room_id: int | None = None) -> int:
    """A maintenance blackout or holiday. Existing bookings in it are left for staff to move."""
    actor.require(*STAFF)
    if last_day < first_day:
        raise InvalidInput("facilities.bad_period")
    if not reason.strip():
        raise InvalidInput("facilities.reason_needed")
    get_facility(store, facility_id)
    return store.write(lambda cur: cur.execute(
        """INSERT INTO facilities_closures (facility_id, room_id, first_day, last_day, reason)
           VALUES (?, ?, ?, ?, ?) RETURNING id""",
        [facility_id, room_id, first_day, last_day, reason.strip()]).fetchone()[0])


def remove_closure(store: Store, clock: Clock, actor: Actor, closure_id: int) -> None:
    actor.require(*STAFF)
    store.write(lambda cur: cur.execute("DELETE FROM facilities_closures WHERE id = ?", [closure_id]))


# --- profiles ------------------------------------------------------------------------------

def profile(store: Store, user_id: int) -> Profile:
    """The user's booking profile; a user without one counts as a resident, no group."""
    row = store.query(
        """SELECT user_id, is_resident, group_name, reduction_code, reduction_note
           FROM facilities_profiles WHERE user_id = ?""", [user_id])
    return Profile(*row[0]) if row else Profile(user_id)


def read_profile(cur, user_id: int) -> Profile:
    row = cur.execute(
        """SELECT user_id, is_resident, group_name, reduction_code, reduction_note
           FROM facilities_profiles WHERE user_id = ?""", [user_id]).fetchone()
    return Profile(*row) if row else Profile(user_id)


def save_profile(store: Store, clock: Clock, actor: Actor, user_id: int, *, is_resident: bool,
                 group_name: str | None, reduction_code: str | None = None,
                 reduction_note: str | None = None) -> Profile:
    """Staff set everything; a user may set only their own group name. Residency and a
    reduction change the fee, so staff set them after checking a document."""
    actor.require()
    staff = actor.has(*STAFF)
    if not staff and actor.user_id != user_id:
        raise InvalidInput("facilities.own_profile_only")
    if reduction_code and not store.query("SELECT 1 FROM facilities_reductions WHERE code = ?", [reduction_code]):
        raise InvalidInput("facilities.unknown_reduction", code=reduction_code)
    if reduction_code and not (reduction_note or "").strip():
        raise InvalidInput("facilities.reason_needed")

    def work(cur):
        current = read_profile(cur, user_id)
        code, note = (reduction_code, reduction_note) if staff else (current.reduction_code, current.reduction_note)
        resident = is_resident if staff else current.is_resident
        cur.execute(
            """INSERT INTO facilities_profiles (user_id, is_resident, group_name, reduction_code, reduction_note, updated_at)
               VALUES (?, ?, ?, ?, ?, ?)
               ON CONFLICT (user_id) DO UPDATE SET is_resident = excluded.is_resident,
                 group_name = excluded.group_name, reduction_code = excluded.reduction_code,
                 reduction_note = excluded.reduction_note, updated_at = excluded.updated_at""",
            [user_id, resident, (group_name or "").strip() or None, code, note, clock.now()])
        return read_profile(cur, user_id)

    return store.write(work)


def calendar_token(store: Store, clock: Clock, actor: Actor) -> str:
    """The secret of the actor's ICS feed, made on first use."""
    actor.require()

    def work(cur):
        row = cur.execute("SELECT calendar_token FROM facilities_profiles WHERE user_id = ?",
                          [actor.user_id]).fetchone()
        if row and row[0]:
            return row[0]
        token = secrets.token_urlsafe(24)
        cur.execute(
            """INSERT INTO facilities_profiles (user_id, calendar_token, updated_at) VALUES (?, ?, ?)
               ON CONFLICT (user_id) DO UPDATE SET calendar_token = excluded.calendar_token""",
            [actor.user_id, token, clock.now()])
        return token

    return store.write(work)


def user_names(store: Store, user_ids: list[int]) -> dict[int, str]:
    """Display names for staff views (never shown to the public)."""
    if not user_ids:
        return {}
    offered_view(store.cursor(), "portal.users")
    return dict(store.query("SELECT id, display_name FROM offered_users WHERE id IN (SELECT unnest(?))",
                            [list(user_ids)]))


def user_id_for_login(store: Store, login: str) -> int:
    offered_view(store.cursor(), "portal.users")
    row = store.query("SELECT id FROM offered_users WHERE login = ?", [login])
    if not row:
        raise NotFound("facilities.unknown_user", login=login)
    return row[0][0]

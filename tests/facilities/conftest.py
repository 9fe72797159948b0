"""Fixtures for facility booking: a small facility set up through the staff services,
and actors for a resident, a non-resident, a group and staff."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import pytest

from facilities.services import catalogue
from kernel.actor import Actor, Role
from portal.services import accounts


def make_user(store, clock, login: str, *roles: str) -> Actor:
    user_id = accounts.create_user(store, clock, login=login, display_name=login.title(), roles=roles or ("resident",),
                                   password_hash="not-used")
    return Actor(user_id=user_id, login=login, display_name=login.title(), roles=frozenset(Role(r) for r in roles or ("resident",)))


@dataclass
class Town:
    staff: Actor
    alice: Actor      # resident, individual
    bob: Actor        # resident, group
    carol: Actor      # non-resident
    facility_id: int
    room_id: int      # meeting room, 20 people, whiteboard + projector (add-on)
    hall_id: int      # hall, 100 people, sound (add-on)

    def next_open_day(self, today: date, weekday: int = 2) -> date:
        """The next given ISO weekday (default Tuesday; Mondays are closed) after today."""
        day = today + timedelta(days=1)
        while day.isoweekday() != weekday:
            day += timedelta(days=1)
        return day


def month_ahead(today: date, months: int) -> date:
    """The first day of the month `months` after today's (tests make their dates relative to the
    pinned clock, so that they pass at any pin)."""
    index = today.year * 12 + today.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)


def weekdays_of(first: date, isoweekday: int) -> list[date]:
    """Every given ISO weekday (1 Monday … 7 Sunday) of the month that starts on `first`."""
    days = [first + timedelta(days=n) for n in range(31)]
    return [d for d in days if d.month == first.month and d.isoweekday() == isoweekday]


FEES = {  # (block, residency, party): yen
    ("am", "resident", "group"): 800, ("pm", "resident", "group"): 1000, ("ev", "resident", "group"): 1100,
    ("am", "resident", "individual"): 500, ("pm", "resident", "individual"): 600, ("ev", "resident", "individual"): 700,
    ("am", "nonresident", "group"): 1200, ("pm", "nonresident", "group"): 1500, ("ev", "nonresident", "group"): 1650,
    ("am", "nonresident", "individual"): 750, ("pm", "nonresident", "individual"): 900,
    ("ev", "nonresident", "individual"): 1050,
}


@pytest.fixture
def town(store, clock) -> Town:
    staff = make_user(store, clock, "staff01", "facility_staff")
    alice = make_user(store, clock, "alice", "resident")
    bob = make_user(store, clock, "bob", "resident")
    carol = make_user(store, clock, "carol", "resident")
    catalogue.add_equipment(store, clock, staff, "whiteboard", "ホワイトボード", "Whiteboard", 0)
    catalogue.add_equipment(store, clock, staff, "projector", "プロジェクター", "Projector", 500)
    catalogue.add_equipment(store, clock, staff, "sound", "音響設備", "Sound system", 1000)
    catalogue.add_reduction(store, clock, staff, "disability", "障がい者手帳", "Disability handbook", 100)
    catalogue.add_reduction(store, clock, staff, "community", "登録団体", "Registered group", 50)
    facility_id = catalogue.create_facility(
        store, clock, staff, code="TEST", kind="centre", name_ja="テスト交流センター", name_en="Test Centre",
        lat=33.64, lon=130.69, closed_weekdays=[1], resident_days_ahead=90, nonresident_days_ahead=30,
        max_blocks_per_month=3, cancel_days_before=2)
    room_id = catalogue.add_room(store, clock, staff, facility_id, code="M1", name_ja="会議室", name_en="Meeting room",
                               kind="room", capacity=20, equipment=["whiteboard", "projector"], fees=FEES)
    hall_id = catalogue.add_room(store, clock, staff, facility_id, code="H1", name_ja="ホール", name_en="Hall",
                               kind="hall", capacity=100, equipment=["sound"],
                               fees={k: v * 3 for k, v in FEES.items()})
    catalogue.save_profile(store, clock, bob, bob.user_id, is_resident=True, group_name="囲碁クラブ")
    catalogue.save_profile(store, clock, staff, carol.user_id, is_resident=False, group_name=None)
    return Town(staff, alice, bob, carol, facility_id, room_id, hall_id)

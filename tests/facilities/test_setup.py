"""Staff setup: rules, closures, fees, lottery slots; and what the public vacancy reveals."""

from __future__ import annotations

from dataclasses import fields
from datetime import date, timedelta

import pytest

from facilities.services import booking, catalogue, lottery, vacancy
from kernel.actor import ANONYMOUS
from kernel.errors import InvalidInput, PermissionDenied
from tests.facilities.conftest import month_ahead, weekdays_of


def test_rules_are_checked_and_saved(store, clock, town):
    with pytest.raises(PermissionDenied):
        catalogue.update_rules(store, clock, town.alice, town.facility_id, resident_days_ahead=90,
                             nonresident_days_ahead=30, max_blocks_per_month=3, cancel_days_before=2,
                             closed_weekdays=[1])
    with pytest.raises(InvalidInput) as err:
        catalogue.update_rules(store, clock, town.staff, town.facility_id, resident_days_ahead=30,
                             nonresident_days_ahead=60, max_blocks_per_month=3, cancel_days_before=2,
                             closed_weekdays=[1])
    assert err.value.key == "facilities.nonresident_earlier"
    catalogue.update_rules(store, clock, town.staff, town.facility_id, resident_days_ahead=120,
                         nonresident_days_ahead=60, max_blocks_per_month=5, cancel_days_before=3,
                         closed_weekdays=[2, 2, 1])
    facility = catalogue.get_facility(store, town.facility_id)
    assert (facility.resident_days_ahead, facility.max_blocks_per_month, facility.closed_weekdays) == (120, 5, (1, 2))


def test_closures_need_a_reason_and_an_order(store, clock, town):
    today = clock.now().date()
    with pytest.raises(InvalidInput):
        catalogue.add_closure(store, clock, town.staff, town.facility_id, today, today - timedelta(days=1), "点検")
    with pytest.raises(InvalidInput):
        catalogue.add_closure(store, clock, town.staff, town.facility_id, today, today, "  ")
    first = weekdays_of(month_ahead(today, 1), 2)[0]  # next month's first Tuesday, and two days on
    days = [first + timedelta(days=n) for n in range(3)]
    closure = catalogue.add_closure(store, clock, town.staff, town.facility_id, days[0], days[-1], "点検")
    month = f"{first:%Y-%m}"
    grid = vacancy.month_grid(store, clock, town.facility_id, month)
    assert {grid.states[(town.hall_id, "am")][d] for d in days} == {vacancy.CLOSED}
    catalogue.remove_closure(store, clock, town.staff, closure)
    assert vacancy.month_grid(store, clock, town.facility_id, month).states[(town.hall_id, "am")][
        days[1]] == vacancy.FREE


def test_a_changed_fee_is_what_the_next_booking_pays(store, clock, town):
    catalogue.set_fee(store, clock, town.staff, town.room_id, "pm", "resident", "individual", 650)
    assert booking.quote(store, town.alice, town.room_id, "pm").total_yen == 650
    with pytest.raises(InvalidInput):
        catalogue.set_fee(store, clock, town.staff, town.room_id, "pm", "resident", "individual", -1)


def test_rooms_need_known_equipment_and_a_free_code(store, clock, town):
    with pytest.raises(InvalidInput) as err:
        catalogue.add_room(store, clock, town.staff, town.facility_id, code="X1", name_ja="x", name_en="x",
                         kind="room", capacity=5, equipment=["teleporter"])
    assert err.value.key == "facilities.unknown_equipment"
    with pytest.raises(InvalidInput) as err:
        catalogue.add_room(store, clock, town.staff, town.facility_id, code="M1", name_ja="x", name_en="x",
                         kind="room", capacity=5)
    assert err.value.key == "facilities.code_taken"


def test_marking_lottery_slots_leaves_out_booked_and_closed_ones(store, clock, town):
    today = clock.now().date()
    first = month_ahead(today, 2)
    month, saturdays = f"{first:%Y-%m}", weekdays_of(first, 6)
    lottery.create_month(store, clock, town.staff, month, apply_from=today,
                         apply_until=today + timedelta(days=8), draw_on=today + timedelta(days=11),
                         confirm_by=today + timedelta(days=15), open_on=today + timedelta(days=18))
    booking.book(store, clock, town.alice, town.room_id, saturdays[1], "ev")
    catalogue.add_closure(store, clock, town.staff, town.facility_id, saturdays[2], saturdays[2], "行事")
    added = lottery.mark_slots(store, clock, town.staff, month, [town.room_id], [6], ["ev"])
    days = {s.day for s in lottery.slots_of(store, month)}
    assert days == set(saturdays) - {saturdays[1], saturdays[2]} and added == len(saturdays) - 2
    assert lottery.mark_slots(store, clock, town.staff, month, [town.room_id], [6], ["ev"]) == 0
    lottery.apply(store, clock, town.bob, month, [(town.room_id, saturdays[0], "ev")])
    with pytest.raises(InvalidInput):
        lottery.unmark_slot(store, clock, town.staff, month, (town.room_id, saturdays[0], "ev"))
    lottery.unmark_slot(store, clock, town.staff, month, (town.room_id, saturdays[-1], "ev"))
    assert len(lottery.slots_of(store, month)) == len(saturdays) - 3


def test_lottery_dates_must_be_in_order(store, clock, town):
    with pytest.raises(InvalidInput) as err:
        lottery.create_month(store, clock, town.staff, "2027-03", apply_from=date(2026, 12, 10),
                             apply_until=date(2026, 12, 5), draw_on=date(2026, 12, 20),
                             confirm_by=date(2026, 12, 25), open_on=date(2026, 12, 28))
    assert err.value.key == "lottery.bad_dates"


def test_public_vacancy_carries_states_only_never_people(store, clock, town):
    day = weekdays_of(month_ahead(clock.now().date(), 1), 2)[0]
    booking.book(store, clock, town.alice, town.room_id, day, "am")
    grid = vacancy.month_grid(store, clock, town.facility_id, f"{day:%Y-%m}")
    assert [f.name for f in fields(grid)] == ["facility", "days", "states"]
    assert set(s for row in grid.states.values() for s in row.values()) <= set(vacancy.STATES)
    assert grid.states[(town.room_id, "am")][day] == vacancy.TAKEN
    # An anonymous visitor may see the fee (resident rate) but not book.
    assert booking.quote(store, ANONYMOUS, town.room_id, "am", party="group").total_yen == 800
    with pytest.raises(PermissionDenied):
        booking.book(store, clock, ANONYMOUS, town.room_id, day, "pm")


def test_search_filters_people_equipment_and_blocks(store, clock, town):
    tuesday = weekdays_of(month_ahead(clock.now().date(), 1), 2)[0]
    days = [tuesday, tuesday + timedelta(days=1)]
    found = vacancy.search(store, clock, people=30, days=days, blocks=["pm"])
    assert {m.room.id for m in found} == {town.hall_id}
    found = vacancy.search(store, clock, people=5, days=days, blocks=["am", "ev"], equipment=["projector"])
    assert {m.room.id for m in found} == {town.room_id} and {m.block_code for m in found} == {"am", "ev"}
    booking.book(store, clock, town.alice, town.room_id, days[0], "am")
    found = vacancy.search(store, clock, people=5, days=days, blocks=["am"], equipment=["projector"])
    assert [(m.day, m.block_code) for m in found] == [(days[1], "am")]
    with pytest.raises(InvalidInput):
        vacancy.search(store, clock, people=5, days=[], blocks=["am"])

"""Booking rules, fees and the one-booking-per-slot guarantee."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest

from facilities.services import booking, catalogue, vacancy
from facilities.services.booking import BookingRefused, SlotTaken, fee_arithmetic
from kernel.errors import InvalidInput, NotFound, PermissionDenied
from kernel.i18n import Translator
from kernel.migrations import migrate
from kernel.store import Store
from portal.modules import known_migrations
from portal.runtime import catalogue as messages
from tests.facilities.conftest import FEES, make_user, month_ahead, weekdays_of

# --- fees ---------------------------------------------------------------------------------

def test_fee_arithmetic_without_reduction_has_the_tax_inside():
    assert fee_arithmetic(1100, 0, []) == (0, 1100, 100)


def test_fee_arithmetic_half_reduction_rounds_in_the_payers_favour():
    # 50% of 1,105 is 552.5: the payer pays 552, the city forgoes 553.
    assert fee_arithmetic(1105, 50, []) == (553, 552, 50)


def test_fee_arithmetic_exemption_still_charges_addons():
    assert fee_arithmetic(3000, 100, [500, 1000]) == (3000, 1500, 136)


def test_quote_differs_for_resident_group_and_non_resident(store, clock, town):
    alice = booking.quote(store, town.alice, town.room_id, "pm")
    bob = booking.quote(store, town.bob, town.room_id, "pm")
    carol = booking.quote(store, town.carol, town.room_id, "pm")
    assert (alice.residency, alice.party, alice.total_yen) == ("resident", "individual", 600)
    assert (bob.residency, bob.party, bob.total_yen) == ("resident", "group", 1000)
    assert (carol.residency, carol.party, carol.total_yen) == ("nonresident", "individual", 900)


def test_quote_with_reduction_and_addon(store, clock, town):
    catalogue.save_profile(store, clock, town.staff, town.bob.user_id, is_resident=True, group_name="囲碁クラブ",
                         reduction_code="community", reduction_note="登録第12号")
    q = booking.quote(store, town.bob, town.room_id, "ev", addons=["projector"])
    assert (q.room_yen, q.reduction_percent, q.reduction_yen, q.addon_yen, q.total_yen) == (1100, 50, 550, 500, 1050)
    assert q.tax_yen == 1050 * 10 // 110
    assert q.reduction_reason == "登録第12号"


def test_an_addon_the_room_lacks_is_refused_by_its_name(store, clock, town):
    with pytest.raises(InvalidInput) as refused:
        booking.quote(store, town.bob, town.room_id, "pm", addons=["sound"])
    assert Translator("ja", messages(), strict=True).error(refused.value) == "この部屋では音響設備を利用できません。"
    assert Translator("en", messages(), strict=True).error(refused.value) == "Sound system is not available in this room."


def test_a_resident_sets_their_group_but_not_their_rate(store, clock, town):
    catalogue.save_profile(store, clock, town.carol, town.carol.user_id, is_resident=True, group_name="写真部",
                         reduction_code="disability", reduction_note="me")
    carol = catalogue.profile(store, town.carol.user_id)
    assert (carol.group_name, carol.is_resident, carol.reduction_code) == ("写真部", False, None)
    with pytest.raises(InvalidInput):
        catalogue.save_profile(store, clock, town.carol, town.alice.user_id, is_resident=True, group_name="x")


def test_a_reduction_needs_a_reason(store, clock, town):
    with pytest.raises(Exception) as err:
        catalogue.save_profile(store, clock, town.staff, town.alice.user_id, is_resident=True, group_name=None,
                             reduction_code="disability", reduction_note=" ")
    assert err.value.key == "facilities.reason_needed"


def test_booking_records_the_fee_shown(store, clock, town):
    day = town.next_open_day(clock.now().date())
    shown = booking.quote(store, town.bob, town.room_id, "am", addons=["projector"])
    made = booking.book(store, clock, town.bob, town.room_id, day, "am", purpose="練習", attendees=10,
                        addons=["projector"])
    assert made.total_yen == shown.total_yen == 800 + 500
    assert made.owed_yen == 1300 and made.status == "confirmed"
    assert made.pay_by is not None and made.pay_by <= made.starts


# --- rules --------------------------------------------------------------------------------

def test_one_booking_per_slot(store, clock, town):
    day = town.next_open_day(clock.now().date())
    booking.book(store, clock, town.alice, town.room_id, day, "pm")
    with pytest.raises(SlotTaken):
        booking.book(store, clock, town.bob, town.room_id, day, "pm")


def test_the_schema_itself_refuses_a_second_live_slot(store, clock, town):
    day = town.next_open_day(clock.now().date())
    made = booking.book(store, clock, town.alice, town.room_id, day, "pm")
    with pytest.raises(Exception, match="(?i)constraint|duplicate"):
        store.cursor().execute("INSERT INTO facilities_slots VALUES (?, ?, 'pm', ?)", [town.room_id, day, made.id + 1])


def test_cancelling_frees_the_slot_for_someone_else(store, clock, town):
    day = town.next_open_day(clock.now().date()) + timedelta(days=14)
    first = booking.book(store, clock, town.alice, town.room_id, day, "pm")
    booking.cancel(store, clock, town.alice, first.id)
    second = booking.book(store, clock, town.bob, town.room_id, day, "pm")
    assert second.id != first.id
    assert booking.get_booking(store, town.staff, first.id).status == "cancelled"


def test_closed_weekday_and_blackout_are_refused(store, clock, town):
    monday = town.next_open_day(clock.now().date(), weekday=1)
    with pytest.raises(BookingRefused) as err:
        booking.book(store, clock, town.alice, town.room_id, monday, "am")
    assert err.value.key == "facilities.closed_weekly"
    tuesday = town.next_open_day(clock.now().date())
    catalogue.add_closure(store, clock, town.staff, town.facility_id, tuesday, tuesday, "空調工事", room_id=town.room_id)
    with pytest.raises(BookingRefused) as err:
        booking.book(store, clock, town.alice, town.room_id, tuesday, "am")
    assert (err.value.key, err.value.params["reason"]) == ("facilities.closed_day", "空調工事")
    booking.book(store, clock, town.alice, town.hall_id, tuesday, "am")  # the hall is not closed


def test_residents_book_earlier_than_non_residents(store, clock, town):
    day = clock.now().date() + timedelta(days=60)
    while day.isoweekday() == 1:
        day += timedelta(days=1)
    with pytest.raises(BookingRefused) as err:
        booking.book(store, clock, town.carol, town.room_id, day, "am")
    assert err.value.key == "facilities.too_early"
    assert err.value.params["opens"] == day - timedelta(days=30)
    booking.book(store, clock, town.alice, town.room_id, day, "am")


def test_no_booking_beyond_the_residents_window(store, clock, town):
    day = clock.now().date() + timedelta(days=91)
    while day.isoweekday() == 1:
        day += timedelta(days=1)
    with pytest.raises(BookingRefused):
        booking.book(store, clock, town.alice, town.room_id, day, "am")


def test_past_blocks_cannot_be_booked(store, clock, town):
    today = clock.now().date()  # 10:00 on a Friday: the morning block has started
    with pytest.raises(BookingRefused) as err:
        booking.book(store, clock, town.alice, town.room_id, today, "am")
    assert err.value.key == "facilities.in_past"
    booking.book(store, clock, town.alice, town.room_id, today, "pm")


def test_capacity_is_enforced(store, clock, town):
    day = town.next_open_day(clock.now().date())
    with pytest.raises(BookingRefused) as err:
        booking.book(store, clock, town.alice, town.room_id, day, "am", attendees=21)
    assert err.value.params == {"capacity": 20}


def test_monthly_limit_per_person_per_facility(store, clock, town):
    today = clock.now().date()
    day = weekdays_of(month_ahead(today, 1), 2)[0]  # next month's first Tuesday
    for block in ("am", "pm", "ev"):
        booking.book(store, clock, town.alice, town.room_id, day, block)
    with pytest.raises(BookingRefused) as err:
        booking.book(store, clock, town.alice, town.hall_id, day, "am")
    assert err.value.key == "facilities.month_limit"
    following = weekdays_of(month_ahead(today, 2), 2)[0]
    booking.book(store, clock, town.alice, town.hall_id, following, "am")  # the month after is fine


def test_cancelled_bookings_do_not_count_towards_the_limit(store, clock, town):
    day = weekdays_of(month_ahead(clock.now().date(), 1), 2)[0]
    made = [booking.book(store, clock, town.alice, town.room_id, day, b) for b in ("am", "pm", "ev")]
    booking.cancel(store, clock, town.alice, made[0].id)
    booking.book(store, clock, town.alice, town.hall_id, day, "am")


def test_owner_cannot_cancel_after_the_deadline_but_staff_can(store, clock, town):
    day = town.next_open_day(clock.now().date())  # within 2 days? make sure it is close
    day = clock.now().date() + timedelta(days=1)  # Saturday: cancel deadline (2 days before) has passed
    made = booking.book(store, clock, town.alice, town.room_id, day, "am")
    with pytest.raises(BookingRefused) as err:
        booking.cancel(store, clock, town.alice, made.id)
    assert err.value.key == "facilities.cancel_too_late"
    assert booking.cancel(store, clock, town.staff, made.id).status == "cancelled"


def test_residents_see_only_their_own_bookings(store, clock, town):
    day = town.next_open_day(clock.now().date())
    mine = booking.book(store, clock, town.alice, town.room_id, day, "am")
    booking.book(store, clock, town.bob, town.room_id, day, "pm")
    assert [b.id for b in booking.my_bookings(store, town.alice)] == [mine.id]
    with pytest.raises(NotFound):
        booking.get_booking(store, town.bob, mine.id)
    with pytest.raises(NotFound):
        booking.cancel(store, clock, town.bob, mine.id)
    with pytest.raises(PermissionDenied):
        booking.staff_bookings(store, town.alice)
    assert len(booking.staff_bookings(store, town.staff)) == 2


def test_course_booking_is_free_and_needs_a_course_role(store, clock, town):
    day = clock.now().date() + timedelta(days=120)  # beyond the residents' window
    while day.isoweekday() == 1:
        day += timedelta(days=1)
    with pytest.raises(PermissionDenied):
        booking.book(store, clock, town.alice, town.room_id, day, "am", for_course=True)
    made = booking.book(store, clock, town.staff, town.room_id, day, "am", purpose="講座", for_course=True)
    assert (made.source, made.total_yen, made.owed_yen) == ("course", 0, 0)
    with pytest.raises(SlotTaken):
        booking.book(store, clock, town.staff, town.room_id, day, "am", for_course=True)


# --- release of unpaid bookings -------------------------------------------------------------

def test_unpaid_bookings_are_released_after_the_deadline(store, clock, town):
    day = clock.now().date() + timedelta(days=30)
    while day.isoweekday() == 1:
        day += timedelta(days=1)
    made = booking.book(store, clock, town.alice, town.room_id, day, "am")
    assert booking.release_overdue(store, clock) == []
    clock.advance(timedelta(days=7, minutes=1))
    assert booking.release_overdue(store, clock) == [made.id]
    assert booking.get_booking(store, town.alice, made.id).status == "released"
    assert booking.is_free(store, town.room_id, day, "am")


# --- the race ------------------------------------------------------------------------------

def test_many_threads_racing_for_one_slot_on_a_real_file(tmp_path, clock):
    """32 residents press "book" for the same slot at once: exactly one booking, 31 plain refusals."""
    real = Store(tmp_path / "race.duckdb")
    migrate(real, clock, known_migrations())
    staff = make_user(real, clock, "staff01", "facility_staff")
    catalogue.add_equipment(real, clock, staff, "whiteboard", "ホワイトボード", "Whiteboard", 0)
    facility_id = catalogue.create_facility(real, clock, staff, code="RACE", kind="centre", name_ja="競争",
                                          name_en="Race", lat=33.6, lon=130.7)
    room_id = catalogue.add_room(real, clock, staff, facility_id, code="M1", name_ja="会議室", name_en="Room",
                               kind="room", capacity=10, fees=FEES)
    racers = [make_user(real, clock, f"racer{n:02d}", "resident") for n in range(32)]
    day = weekdays_of(month_ahead(clock.now().date(), 1), 2)[1]
    barrier = threading.Barrier(len(racers))
    outcomes: list[str] = []
    lock = threading.Lock()

    def race(actor):
        barrier.wait()
        try:
            booking.book(real, clock, actor, room_id, day, "ev")
            result = "won"
        except SlotTaken as exc:
            result = exc.key
        with lock:
            outcomes.append(result)

    threads = [threading.Thread(target=race, args=(a,)) for a in racers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert outcomes.count("won") == 1
    assert outcomes.count("facilities.slot_taken") == 31
    assert real.scalar("SELECT count(*) FROM facilities_bookings WHERE room_id = ?", [room_id]) == 1
    assert real.scalar("SELECT count(*) FROM facilities_slots WHERE room_id = ?", [room_id]) == 1
    real.close()


def test_an_overdue_unpaid_booking_gives_way_to_a_new_booking_at_once(store, clock, town):
    day = clock.now().date() + timedelta(days=30)
    while day.isoweekday() == 1:
        day += timedelta(days=1)
    unpaid = booking.book(store, clock, town.alice, town.room_id, day, "am")
    clock.advance(timedelta(days=8))  # past the 7-day payment deadline; no release has run
    assert booking.is_free(store, town.room_id, day, "am", now=clock.now())
    assert not booking.is_free(store, town.room_id, day, "am")
    grid = vacancy.month_grid(store, clock, town.facility_id, f"{day:%Y-%m}")
    assert grid.states[(town.room_id, "am")][day] == vacancy.FREE
    taken_over = booking.book(store, clock, town.bob, town.room_id, day, "am")
    assert booking.get_booking(store, town.alice, unpaid.id).status == "released"
    assert taken_over.status == "confirmed"

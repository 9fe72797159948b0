"""The monthly lottery: window, ranked choices, a fair and reproducible draw, confirmation."""

from __future__ import annotations

from collections import Counter
from datetime import date, timedelta

import pytest

from facilities.services import booking, lottery, vacancy
from facilities.services.booking import BookingRefused
from facilities.services.lottery import Application, run_draw
from kernel.errors import InvalidInput, NotFound, PermissionDenied
from tests.facilities.conftest import make_user, month_ahead, weekdays_of

# Dates relative to the pinned "now" (tests/conftest.py): the month three months ahead goes by
# lottery; applications from today for 8 days, the draw on day 11, confirm by day 15, open day 18.
APPLY_DAYS, DRAW_DAY, CONFIRM_DAY, OPEN_DAY = 8, 11, 15, 18


@pytest.fixture
def lottery_month(clock) -> date:
    return month_ahead(clock.now().date(), 3)


@pytest.fixture
def month_name(lottery_month) -> str:
    return f"{lottery_month:%Y-%m}"


@pytest.fixture
def on_day(clock):
    """`on_day(n)`: move the clock to n days after the lottery month was set up."""
    start = clock.now()
    return lambda n: clock.set(start + timedelta(days=n))


@pytest.fixture
def month(store, clock, town, month_name, lottery_month):
    """The Saturday evenings of the lottery month in the meeting room go by lottery."""
    today = clock.now().date()
    lottery.create_month(store, clock, town.staff, month_name, apply_from=today,
                         apply_until=today + timedelta(days=APPLY_DAYS), draw_on=today + timedelta(days=DRAW_DAY),
                         confirm_by=today + timedelta(days=CONFIRM_DAY), open_on=today + timedelta(days=OPEN_DAY),
                         max_choices=2)
    added = lottery.mark_slots(store, clock, town.staff, month_name, [town.room_id], [6], ["ev"])
    assert added == len(weekdays_of(lottery_month, 6))
    return [(s.room_id, s.day, s.block_code) for s in lottery.slots_of(store, month_name)]


def test_lottery_slots_cannot_be_booked_first_come_before_they_open(store, clock, town, month, month_name):
    with pytest.raises(BookingRefused) as err:
        booking.book(store, clock, town.alice, *month[0])
    assert err.value.key == "facilities.lottery_slot"
    grid = vacancy.month_grid(store, clock, town.facility_id, month_name)
    assert grid.states[(town.room_id, "ev")][month[0][1]] == vacancy.LOTTERY


def test_only_staff_mark_slots_and_draw(store, clock, town, month, month_name, on_day):
    with pytest.raises(PermissionDenied):
        lottery.mark_slots(store, clock, town.alice, month_name, [town.room_id], [7], ["am"])
    on_day(DRAW_DAY)
    with pytest.raises(PermissionDenied):
        lottery.draw(store, clock, town.alice, month_name)


def test_applications_respect_window_choices_and_slots(store, clock, town, month, month_name, on_day):
    with pytest.raises(InvalidInput) as err:
        lottery.apply(store, clock, town.alice, month_name, month[:3])
    assert err.value.key == "lottery.too_many"
    with pytest.raises(InvalidInput):
        lottery.apply(store, clock, town.alice, month_name, [month[0], month[0]])
    with pytest.raises(InvalidInput):
        lottery.apply(store, clock, town.alice, month_name, [(town.hall_id, month[0][1], "ev")])
    mine = lottery.apply(store, clock, town.alice, month_name, [month[1], month[0]])
    assert [(a.choice, a.slot) for a in mine] == [(1, month[1]), (2, month[0])]
    # Applying again replaces the choices.
    mine = lottery.apply(store, clock, town.alice, month_name, [month[2]])
    assert [a.slot for a in mine] == [month[2]]
    on_day(APPLY_DAYS + 1)  # the window has closed
    with pytest.raises(InvalidInput) as err:
        lottery.apply(store, clock, town.alice, month_name, [month[0]])
    assert err.value.key == "lottery.window_closed"


def test_draw_is_recorded_reproducible_and_gives_winners_a_booking_to_confirm(store, clock, town, month, month_name, on_day):
    lottery.apply(store, clock, town.alice, month_name, [month[0], month[1]])
    lottery.apply(store, clock, town.bob, month_name, [month[0]])
    lottery.apply(store, clock, town.carol, month_name, [month[1]])
    with pytest.raises(InvalidInput):
        lottery.draw(store, clock, town.staff, month_name)  # before the draw day
    on_day(DRAW_DAY)
    steps = lottery.draw(store, clock, town.staff, month_name, seed="fixed-seed")
    with pytest.raises(InvalidInput):
        lottery.draw(store, clock, town.staff, month_name)  # once only
    record = lottery.audit(store, town.staff, month_name)
    assert record.seed == "fixed-seed" and record.replay_matches and record.applications == 4
    assert [s.slot for s in steps][:1] == [month[0]]
    winners = {s.slot: s.winner_id for s in steps}
    assert set(winners) == {month[0], month[1]}
    # Round 1 decides month[0] (alice or bob) and month[1] (carol alone in round 1) before alice's 2nd choice.
    assert winners[month[1]] == town.carol.user_id
    won = [b for b in booking.staff_bookings(store, town.staff) if b.status == "won"]
    assert len(won) == 2
    assert not booking.is_free(store, *month[0])


def test_winner_confirms_or_loses_the_slot(store, clock, town, month, month_name, on_day):
    lottery.apply(store, clock, town.alice, month_name, [month[0]])
    lottery.apply(store, clock, town.bob, month_name, [month[1]])
    on_day(DRAW_DAY)
    lottery.draw(store, clock, town.staff, month_name, seed="s")
    alice_win = booking.my_bookings(store, town.alice)[0]
    bob_win = booking.my_bookings(store, town.bob)[0]
    confirmed = lottery.confirm(store, clock, town.alice, alice_win.id)
    assert confirmed.status == "confirmed" and confirmed.owed_yen == confirmed.total_yen > 0
    with pytest.raises(NotFound):
        lottery.confirm(store, clock, town.alice, bob_win.id)  # not hers
    on_day(CONFIRM_DAY + 1)  # after the confirmation deadline (end of its day)
    with pytest.raises(InvalidInput):
        lottery.confirm(store, clock, town.bob, bob_win.id)
    released = booking.release_overdue(store, clock)
    assert bob_win.id in released
    # Before the open day the freed lottery slot is still closed to first-come; from it anyone may book it.
    with pytest.raises(BookingRefused):
        booking.book(store, clock, town.carol, *month[1])
    on_day(OPEN_DAY)
    assert booking.book(store, clock, town.bob, *month[1]).status == "confirmed"
    assert booking.book(store, clock, town.bob, *month[2]).status == "confirmed"  # never applied for


def test_each_applicant_of_a_slot_has_the_same_chance():
    slot = (1, date(2027, 2, 6), "ev")
    apps = [Application(user, 1, slot) for user in (11, 22, 33)]
    wins = Counter(run_draw(f"seed-{n}", apps)[0].winner_id for n in range(3000))
    for user in (11, 22, 33):
        assert abs(wins[user] / 3000 - 1 / 3) < 0.04, wins


def test_a_first_choice_beats_a_second_choice_whatever_the_seed():
    slot = (1, date(2027, 2, 6), "ev")
    apps = [Application(1, 2, slot), Application(2, 1, slot)]
    assert {run_draw(f"s{n}", apps)[0].winner_id for n in range(200)} == {2}


def test_the_same_seed_gives_the_same_draw_and_another_seed_may_not():
    slots = [(1, date(2027, 2, d), "ev") for d in (6, 13, 20)]
    apps = [Application(u, c + 1, s) for u in range(1, 30) for c, s in enumerate(slots)]
    assert run_draw("a", apps) == run_draw("a", list(reversed(apps)))
    assert any(run_draw("a", apps) != run_draw(f"b{n}", apps) for n in range(5))


def test_one_application_per_person_per_slot_is_in_the_schema(store, clock, town, month, month_name):
    lottery.apply(store, clock, town.alice, month_name, [month[0]])
    with pytest.raises(Exception, match="(?i)constraint|duplicate"):
        store.cursor().execute(
            """INSERT INTO facilities_lottery_applications (month, user_id, choice, room_id, day, block_code,
                   created_at) VALUES (?, ?, 2, ?, ?, ?, now())""", [month_name, town.alice.user_id, *month[0]])


def test_many_applicants_draw_fills_every_applied_slot_once(store, clock, town, month, month_name, on_day):
    users = [make_user(store, clock, f"fan{n:02d}", "resident") for n in range(12)]
    for n, user in enumerate(users):
        lottery.apply(store, clock, user, month_name, [month[n % 4], month[(n + 1) % 4]])
    on_day(DRAW_DAY)
    steps = lottery.draw(store, clock, town.staff, month_name)
    assert len(steps) == 4 and len({s.slot for s in steps}) == 4
    assert lottery.audit(store, town.staff, month_name).replay_matches

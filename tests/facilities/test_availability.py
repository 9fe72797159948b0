"""What a person may book, slot by slot, before they try — and why not, in words."""

from __future__ import annotations

from datetime import timedelta

import pytest

from facilities.services import booking, catalogue, vacancy
from facilities.services.booking import BookingRefused, SlotTaken
from kernel.actor import ANONYMOUS
from kernel.errors import Message
from kernel.i18n import Translator
from portal.runtime import catalogue as messages


def _words(lang: str, message: Message) -> str:
    t = Translator(lang, messages(), strict=True)
    return t(message.key, **{k: t.value(v) for k, v in message.params.items()})


def test_each_reason_is_named_before_booking(store, clock, town):
    today = clock.now().date()
    monday = town.next_open_day(today, weekday=1)
    tuesday = town.next_open_day(today)
    wednesday = tuesday + timedelta(days=1)
    catalogue.add_closure(store, clock, town.staff, town.facility_id, wednesday, wednesday, "空調工事",
                        room_id=town.room_id)
    booking.book(store, clock, town.bob, town.room_id, tuesday, "pm")
    far = today + timedelta(days=60)  # residents book 90 days ahead, non-residents 30
    while far.isoweekday() == 1:
        far += timedelta(days=1)

    near = vacancy.room_availability(store, clock, town.alice, town.room_id, today, far)
    assert near[(monday, "am")].state == vacancy.CLOSED
    assert near[(monday, "am")].reason.key == "facilities.closed_weekly"
    assert near[(wednesday, "ev")].reason == Message("facilities.closed_day", {"reason": "空調工事"})
    assert near[(tuesday, "pm")].state == vacancy.TAKEN
    assert near[(tuesday, "am")].bookable and near[(far, "am")].bookable
    assert near[(today, "am")].state == vacancy.PAST  # 10:00 on the pinned day: the morning has begun

    # The same day is open to a resident but not yet to a non-resident, who is told from when.
    later = vacancy.room_availability(store, clock, town.carol, town.room_id, far, far)
    assert later[(far, "am")].state == vacancy.NOT_YET
    assert later[(far, "am")].reason.params["opens"] == far - timedelta(days=30)
    # The hall's own day is not closed by the meeting room's blackout.
    hall = vacancy.room_availability(store, clock, town.alice, town.hall_id, wednesday, wednesday)
    assert all(a.bookable for a in hall.values())


def test_the_monthly_limit_is_known_before_the_fourth_booking(store, clock, town):
    first = (clock.now().date().replace(day=1) + timedelta(days=32)).replace(day=1)
    days = [first + timedelta(days=n) for n in range(28) if (first + timedelta(days=n)).isoweekday() != 1]
    for day in days[:3]:  # the town's limit is three blocks a month
        booking.book(store, clock, town.alice, town.room_id, day, "am")
    answer = vacancy.room_availability(store, clock, town.alice, town.hall_id, days[5], days[5])
    assert answer[(days[5], "pm")].state == vacancy.LIMIT
    assert answer[(days[5], "pm")].reason == Message("facilities.month_limit", {"limit": 3})
    others = vacancy.room_availability(store, clock, town.bob, town.hall_id, days[5], days[5])
    assert others[(days[5], "pm")].bookable


@pytest.mark.parametrize("who", ["alice", "carol"])
def test_the_answer_agrees_with_what_booking_does(store, clock, town, who):
    """Every slot of the next 40 days: bookable exactly when `book` takes it, and when it
    refuses, for the reason the answer gave."""
    actor = getattr(town, who)
    today = clock.now().date()
    catalogue.add_closure(store, clock, town.staff, town.facility_id, today + timedelta(days=9),
                        today + timedelta(days=10), "館内点検")
    booked = next(d for d in (today + timedelta(days=n) for n in range(3, 10)) if d.isoweekday() != 1)
    booking.book(store, clock, town.bob, town.room_id, booked, "ev")
    last = today + timedelta(days=40)
    answer = vacancy.room_availability(store, clock, actor, town.room_id, today, last)
    assert len(answer) == 41 * 3
    for (day, block), availability in sorted(answer.items()):
        try:
            made = booking.book(store, clock, actor, town.room_id, day, block)
        except SlotTaken:
            assert availability.state == vacancy.TAKEN, (day, block)
        except BookingRefused as refused:
            assert not availability.bookable, (day, block)
            assert refused.key == availability.reason.key, (day, block)
        else:
            assert availability.bookable, (day, block)
            booking.cancel(store, clock, town.staff, made.id)  # keep the monthly count where it was


def test_an_anonymous_visitor_is_answered_as_a_resident(store, clock, town):
    day = clock.now().date() + timedelta(days=60)
    while day.isoweekday() == 1:
        day += timedelta(days=1)
    answer = vacancy.room_availability(store, clock, ANONYMOUS, town.room_id, day, day)
    assert answer[(day, "am")].bookable


def test_refusals_read_as_words_not_codes(store, clock, town):
    monday = town.next_open_day(clock.now().date(), weekday=1)
    with pytest.raises(BookingRefused) as err:
        booking.book(store, clock, town.alice, town.room_id, monday, "am")
    message = Message(err.value.key, err.value.params)
    assert _words("ja", message) == "月曜日は休館日です。別の日を選んでください。"
    assert _words("en", message) == "The facility is closed on Mondays. Please choose another day."
    far = clock.now().date() + timedelta(days=60)
    while far.isoweekday() == 1:
        far += timedelta(days=1)
    with pytest.raises(BookingRefused) as err:
        booking.book(store, clock, town.carol, town.room_id, far, "am")
    opens = Translator("ja", messages()).date(far - timedelta(days=30))
    assert _words("ja", Message(err.value.key, err.value.params)).startswith(f"この枠の予約受付は {opens} から")


def test_block_fees_match_the_quote(store, clock, town):
    for actor in (town.alice, town.bob, town.carol, ANONYMOUS):
        fees = booking.block_fees(store, actor, [town.room_id, town.hall_id])
        assert len(fees) == 6
        for (room_id, block), yen in fees.items():
            assert yen == booking.quote(store, actor, room_id, block).total_yen

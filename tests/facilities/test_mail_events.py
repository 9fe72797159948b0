"""Every facilities event a person would want to know of queues their mail in the event's
own transaction: booking made, cancelled, released unpaid, payment received, lottery won or
not, a waiting-list seat given, an online session about to start. No mail for a booking that
failed, none for a kind the person turned off, and it comes in their language."""

from __future__ import annotations

import json
from datetime import date, timedelta

import pytest

from facilities.services import booking, courses, lottery, payments
from kernel.clock import TOKYO
from kernel.outbox import Mail, enqueue
from portal.services import notify

from .conftest import make_user
from .test_courses import jitsi, new_course, online_session  # noqa: F401 - jitsi is a fixture


def give_address(store, actor, address: str | None = None) -> None:
    store.cursor().execute("UPDATE portal_users SET email = ? WHERE id = ?",
                           [address or f"{actor.login}@example.jp", actor.user_id])


@pytest.fixture
def mailed(store, town):
    for actor in (town.alice, town.bob, town.carol, town.staff):
        give_address(store, actor)
    return town


def outbox(store, kind: str | None = None) -> list[dict]:
    return store.query_dicts("SELECT * FROM manabi_outbox WHERE ? IS NULL OR kind = ? ORDER BY id", [kind, kind])


def bookable_day(clock, town) -> date:
    return town.next_open_day(clock.now().date() + timedelta(days=7))


def test_a_booking_made_is_mailed_with_its_fee_and_payment_deadline(store, clock, mailed):
    day = bookable_day(clock, mailed)
    made = booking.book(store, clock, mailed.alice, mailed.room_id, day, "pm")
    [mail] = outbox(store)
    assert (mail["kind"], mail["to_address"], mail["user_id"], mail["lang"], mail["status"]) == (
        "facilities.booking_made", "alice@example.jp", mailed.alice.user_id, "ja", "queued")
    assert mail["subject"] == "【学び 飯塚市】施設予約を受け付けました（テスト交流センター 会議室）"
    body = mail["body_text"]
    assert body.startswith("Alice 様")
    assert f"予約番号: {made.id}" in body
    assert f"{day.year}年{day.month}月{day.day}日" in body and "13:00〜17:00" in body
    assert "料金: ￥600（税込）" in body
    assert f"お支払い番号: {made.payment_ref}" in body
    assert "http://localhost:8501/facilities-mine" in body
    assert mail["next_attempt_at"] == clock.now()


def test_a_booking_that_fails_on_a_conflict_sends_nothing(store, clock, mailed):
    day = bookable_day(clock, mailed)
    booking.book(store, clock, mailed.alice, mailed.room_id, day, "am")
    with pytest.raises(booking.SlotTaken):
        booking.book(store, clock, mailed.bob, mailed.room_id, day, "am")
    assert [m["user_id"] for m in outbox(store)] == [mailed.alice.user_id]


def test_an_event_rolled_back_after_its_mail_was_written_leaves_no_mail(store, clock, mailed):
    class Crash(Exception):
        pass

    def work(cur):
        enqueue(cur, clock, Mail("facilities.booking_made", "alice@example.jp", "ja", "件名", "本文"))
        raise Crash()

    with pytest.raises(Crash):
        store.write(work)
    assert outbox(store) == []


def test_cancelling_mails_the_owner_with_the_refund(store, clock, mailed):
    day = bookable_day(clock, mailed) + timedelta(days=28)
    made = booking.book(store, clock, mailed.alice, mailed.room_id, day, "am")
    payments.record_counter_payment(store, clock, mailed.staff, made.id, made.owed_yen)
    booking.cancel(store, clock, mailed.staff, made.id)
    [cancelled] = outbox(store, "facilities.booking_cancelled")
    assert cancelled["user_id"] == mailed.alice.user_id
    assert "返金額: ￥500" in cancelled["body_text"]


def test_a_booking_released_unpaid_is_mailed(store, clock, mailed):
    day = bookable_day(clock, mailed) + timedelta(days=28)
    made = booking.book(store, clock, mailed.bob, mailed.room_id, day, "ev")
    clock.set(made.pay_by + timedelta(minutes=1))
    assert booking.release_overdue(store, clock) == [made.id]
    [released] = outbox(store, "facilities.booking_released")
    assert released["user_id"] == mailed.bob.user_id
    assert "お支払い期限" in released["body_text"] and "までにお支払いがありませんでした" in released["body_text"]


def test_payments_by_qr_and_at_the_counter_are_mailed(store, clock, mailed):
    day = bookable_day(clock, mailed)
    first = booking.book(store, clock, mailed.alice, mailed.room_id, day, "am")
    second = booking.book(store, clock, mailed.alice, mailed.room_id, day, "pm")
    secret = "mail-test-payment-secret"
    body = json.dumps({"reference": first.payment_ref, "amount": first.owed_yen, "transaction_id": "TX-1"}).encode()
    payments.accept_provider_callback(store, clock, body, payments.sign(body, secret), secret=secret)
    payments.record_counter_payment(store, clock, mailed.staff, second.id, second.owed_yen)
    paid = outbox(store, "facilities.payment_received")
    assert [m["user_id"] for m in paid] == [mailed.alice.user_id] * 2
    assert paid[0]["subject"] == "【学び 飯塚市】お支払いを受け付けました（￥500）"
    assert f"お支払い番号: {first.payment_ref}" in paid[0]["body_text"]
    assert f"お支払い番号: {second.payment_ref}" in paid[1]["body_text"]


def test_the_draw_mails_winners_their_confirm_by_date_and_the_others_the_result(store, clock, mailed):
    today = clock.now().date()
    first_of_month = (today.replace(day=1) + timedelta(days=95)).replace(day=1)
    month = first_of_month.strftime("%Y-%m")
    confirm_by = today + timedelta(days=12)
    lottery.create_month(store, clock, mailed.staff, month, apply_from=today, apply_until=today + timedelta(days=7),
                         draw_on=today + timedelta(days=9), confirm_by=confirm_by,
                         open_on=today + timedelta(days=15), max_choices=1)
    lottery.mark_slots(store, clock, mailed.staff, month, [mailed.room_id], [6], ["ev"])
    slot = lottery.slots_of(store, month)[0]
    for actor in (mailed.alice, mailed.bob):
        lottery.apply(store, clock, actor, month, [(slot.room_id, slot.day, slot.block_code)])
    clock.advance(timedelta(days=9))
    [step] = lottery.draw(store, clock, mailed.staff, month, seed="mail")
    loser = mailed.bob.user_id if step.winner_id == mailed.alice.user_id else mailed.alice.user_id
    [won] = outbox(store, "facilities.lottery_won")
    [lost] = outbox(store, "facilities.lottery_lost")
    assert won["user_id"] == step.winner_id and lost["user_id"] == loser
    assert f"{confirm_by.year}年{confirm_by.month}月{confirm_by.day}日" in won["body_text"]
    assert "までに「マイ予約」で確定してください" in won["body_text"]
    assert f"{first_of_month.year}年{first_of_month.month}月の施設抽選" in lost["body_text"]


def test_a_seat_given_from_the_waiting_list_is_mailed(store, clock, mailed):
    lecturer = make_user(store, clock, "lecturer01", "resident")
    course = new_course(store, clock, mailed, lecturer, capacity=1, fee_yen=1500)
    online_session(store, clock, mailed, course)
    courses.register(store, clock, mailed.alice, course.id)
    courses.register(store, clock, mailed.bob, course.id)  # waits
    assert outbox(store, "facilities.waitlist_offered") == []
    courses.cancel_registration(store, clock, mailed.alice, course.id)
    [offered] = outbox(store, "facilities.waitlist_offered")
    assert offered["user_id"] == mailed.bob.user_id
    assert "シニアのためのスマホ教室（SMART-1）" in offered["body_text"] and "￥1,500" in offered["body_text"]


def test_participants_get_the_join_link_once_when_it_opens(store, clock, mailed, jitsi):  # noqa: F811
    lecturer = make_user(store, clock, "lecturer01", "resident")
    give_address(store, lecturer)
    course = new_course(store, clock, mailed, lecturer)
    session = online_session(store, clock, mailed, course, days=3)
    courses.register(store, clock, mailed.alice, course.id)
    clock.set(session.starts_at - timedelta(minutes=16))
    assert courses.remind_online_sessions(store, clock) == 0  # the link is not open yet
    clock.set(session.starts_at - timedelta(minutes=14))
    assert courses.remind_online_sessions(store, clock) == 2
    assert courses.remind_online_sessions(store, clock) == 0  # once per person and session
    reminders = outbox(store, "facilities.session_starting")
    assert sorted(m["user_id"] for m in reminders) == sorted([lecturer.user_id, mailed.alice.user_id])
    alice = next(m for m in reminders if m["user_id"] == mailed.alice.user_id)
    assert "https://meet.iizuka.example/" in alice["body_text"] and "?jwt=" in alice["body_text"]
    assert session.starts_at.astimezone(TOKYO).strftime("%-H:%M") in alice["body_text"]


def test_nothing_for_a_kind_turned_off_and_english_for_who_chose_it(store, clock, mailed):
    notify.save_choices(store, clock, mailed.alice, "ja",
                        {k.name for k in notify.kinds_for({"resident"})} - {"facilities.booking_made"})
    notify.save_choices(store, clock, mailed.bob, "en", {k.name for k in notify.kinds_for({"resident"})})
    day = bookable_day(clock, mailed)
    booking.book(store, clock, mailed.alice, mailed.room_id, day, "am")
    made = booking.book(store, clock, mailed.bob, mailed.room_id, day, "pm")
    [mail] = outbox(store)
    assert mail["user_id"] == mailed.bob.user_id and mail["lang"] == "en"
    assert mail["subject"] == "[Manabi Iizuka] Booking received: Test Centre, Meeting room"
    assert mail["body_text"].startswith("Dear Bob,")
    assert f"Booking no.: {made.id}" in mail["body_text"] and "Fee: ¥1,000 (tax included)" in mail["body_text"]
    # Turned off applies to that kind only: the cancellation still reaches Alice.
    booking.cancel(store, clock, mailed.alice, booking.my_bookings(store, mailed.alice)[0].id)
    assert [m["kind"] for m in outbox(store, "facilities.booking_cancelled")] == ["facilities.booking_cancelled"]


def test_no_address_no_mail(store, clock, town):
    booking.book(store, clock, town.alice, town.room_id, bookable_day(clock, town), "am")
    assert outbox(store) == []


def test_a_session_called_off_is_mailed_to_everyone_holding_a_seat(store, clock, mailed):
    lecturer = make_user(store, clock, "lecturer01", "resident")
    course = new_course(store, clock, mailed, lecturer, capacity=1)
    session = online_session(store, clock, mailed, course)
    courses.register(store, clock, mailed.alice, course.id)
    courses.register(store, clock, mailed.bob, course.id)  # waiting: no seat, no mail
    courses.cancel_session(store, clock, mailed.staff, session.id)
    [called_off] = outbox(store, "facilities.session_cancelled")
    assert called_off["user_id"] == mailed.alice.user_id
    assert called_off["subject"] == "【学び 飯塚市】講座「シニアのためのスマホ教室」の回は中止になりました"

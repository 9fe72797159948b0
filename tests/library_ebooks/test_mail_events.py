"""The e-library's mail: a copy offered to the next in line (with its 48-hour deadline), in
the transaction that offers it — also when a loan ended by itself and nobody touched the
title since (the mail job settles it) — and a reminder 2 days before a loan is due, once."""

from __future__ import annotations

from datetime import timedelta

from kernel.actor import Actor, Role
from library_ebooks.services import lending
from portal.services import accounts

from .helpers import add_book


def reader(store, clock, login: str, email: str | None = None) -> Actor:
    user_id = accounts.create_user(store, clock, login=login, display_name=f"読者 {login}", roles=["resident"],
                                   password_hash="not-used", email=email or f"{login}@example.jp")
    return Actor(user_id=user_id, login=login, display_name=f"読者 {login}", roles=frozenset({Role.RESIDENT}))


def outbox(store, kind: str) -> list[dict]:
    return store.query_dicts("SELECT * FROM manabi_outbox WHERE kind = ? ORDER BY id", [kind])


def test_a_returned_copy_offered_to_the_next_in_line_is_mailed_with_its_deadline(store, clock):
    title = add_book(store, clock, copies=1)
    first, second = reader(store, clock, "hanako"), reader(store, clock, "taro")
    loan = lending.borrow(store, clock, first, title).id
    lending.place_hold(store, clock, second, title)
    assert outbox(store, "library_ebooks.hold_offered") == []
    clock.advance(timedelta(days=3))
    lending.return_loan(store, clock, first, loan)
    [offer] = outbox(store, "library_ebooks.hold_offered")
    assert (offer["user_id"], offer["to_address"]) == (second.user_id, "taro@example.jp")
    deadline = clock.now() + timedelta(hours=48)
    assert "坊っちゃん" in offer["subject"]
    assert f"取り置き期限: {deadline.year}年{deadline.month}月{deadline.day}日" in offer["body_text"]
    assert "（48 時間）" in offer["body_text"]


def test_a_loan_that_ended_by_itself_is_offered_by_the_mail_job(store, clock):
    title = add_book(store, clock, copies=1)
    first, second = reader(store, clock, "hanako"), reader(store, clock, "taro")
    lending.borrow(store, clock, first, title)
    lending.place_hold(store, clock, second, title)
    clock.advance(timedelta(days=14, minutes=1))  # due: the loan ended, nobody came by
    lending.settle_all_holds(store, clock)
    assert [m["user_id"] for m in outbox(store, "library_ebooks.hold_offered")] == [second.user_id]
    lending.settle_all_holds(store, clock)  # offered once, not again
    assert len(outbox(store, "library_ebooks.hold_offered")) == 1


def test_a_loan_due_in_two_days_is_reminded_once_and_again_after_renewal(store, clock):
    title = add_book(store, clock, copies=3)
    hanako = reader(store, clock, "hanako")
    loan = lending.borrow(store, clock, hanako, title).id
    assert lending.remind_due_loans(store, clock) == 0
    clock.advance(timedelta(days=11, hours=23))  # due in 2 days and 1 hour
    assert lending.remind_due_loans(store, clock) == 0
    clock.advance(timedelta(hours=1, minutes=1))
    assert lending.remind_due_loans(store, clock) == 1
    clock.advance(timedelta(hours=1))
    assert lending.remind_due_loans(store, clock) == 0  # the job runs every minute, the mail goes once
    [due] = outbox(store, "library_ebooks.loan_due")
    assert due["user_id"] == hanako.user_id and "返却期限" in due["subject"]
    lending.renew(store, clock, hanako, loan)  # a new due time: a new reminder when it nears
    assert lending.remind_due_loans(store, clock) == 0
    clock.advance(timedelta(days=13))  # the renewed loan is due in 2 days and 23 hours
    assert lending.remind_due_loans(store, clock) == 0
    clock.advance(timedelta(days=1))
    assert lending.remind_due_loans(store, clock) == 1
    assert len(outbox(store, "library_ebooks.loan_due")) == 2

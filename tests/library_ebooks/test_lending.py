"""Licenses, loans and holds: arithmetic, expiry by the clock, renewals, the hold queue,
role isolation, and never more loans than copies when residents race."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest

from kernel.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from kernel.migrations import migrate
from kernel.store import Store
from library_ebooks.services import catalogue, lending
from portal.modules import known_migrations

from .helpers import LIBRARIAN, add_book, resident


def card(store, clock, title_id):
    return catalogue.get_title(store, clock, title_id)


def test_one_copy_license_lends_n_copies_then_refuses(store, clock):
    title = add_book(store, clock, copies=2)
    lending.borrow(store, clock, resident(1), title)
    lending.borrow(store, clock, resident(2), title)
    with pytest.raises(lending.NoCopyAvailable):
        lending.borrow(store, clock, resident(3), title)
    view = card(store, clock, title)
    assert (view.copies, view.on_loan, view.available) == (2, 2, False)


def test_a_loan_ends_by_itself_at_the_due_time(store, clock):
    title = add_book(store, clock, copies=1)
    borrowed = lending.borrow(store, clock, resident(1), title)
    [loan] = lending.my_loans(store, clock, resident(1))
    assert borrowed == loan  # the new loan, as the resident's list shows it
    assert loan.due_at == clock.now() + timedelta(days=14)
    clock.advance(timedelta(days=14) - timedelta(seconds=1))
    assert not card(store, clock, title).available
    clock.advance(timedelta(seconds=1))
    assert card(store, clock, title).available
    assert lending.my_loans(store, clock, resident(1)) == []
    lending.borrow(store, clock, resident(2), title)


def test_metered_license_ends_after_n_loans(store, clock):
    title = add_book(store, clock, model="metered", copies=1, max_loans=2)
    for n in (1, 2):
        loan = lending.borrow(store, clock, resident(n), title).id
        lending.return_loan(store, clock, resident(n), loan)
    with pytest.raises(lending.NoCopyAvailable):
        lending.borrow(store, clock, resident(3), title)
    assert not card(store, clock, title).licensed or not card(store, clock, title).available


def test_metered_license_ends_at_its_date_whichever_comes_first(store, clock):
    title = add_book(store, clock, model="metered", copies=1, max_loans=26,
                     expires_at=clock.now() + timedelta(days=30))
    loan = lending.borrow(store, clock, resident(1), title).id
    lending.return_loan(store, clock, resident(1), loan)
    clock.advance(timedelta(days=30))
    with pytest.raises(lending.NoCopyAvailable):
        lending.borrow(store, clock, resident(2), title)


def test_simultaneous_use_lends_to_everyone(store, clock):
    title = add_book(store, clock, model="simultaneous")
    for n in range(1, 12):
        lending.borrow(store, clock, resident(n), title)
    view = card(store, clock, title)
    assert view.unlimited and view.available and view.on_loan == 11


def test_mixed_licenses_add_up(store, clock):
    title = add_book(store, clock, copies=1)
    catalogue.add_license(store, clock, LIBRARIAN, title, "metered", copies=1, max_loans=1)
    lending.borrow(store, clock, resident(1), title)
    lending.borrow(store, clock, resident(2), title)
    with pytest.raises(lending.NoCopyAvailable):
        lending.borrow(store, clock, resident(3), title)


@pytest.mark.parametrize("model,kw,key", [
    ("one_copy", {}, "ebooks.error.copies_needed"),
    ("metered", {"copies": 1}, "ebooks.error.metered_needs_limit"),
    ("lease", {"copies": 1}, "ebooks.error.bad_model"),
    ("one_copy", {"copies": 1, "loan_days": 0}, "ebooks.error.loan_days"),
])
def test_bad_licenses_are_refused(store, clock, model, kw, key):
    title = add_book(store, clock)
    with pytest.raises(InvalidInput) as caught:
        catalogue.add_license(store, clock, LIBRARIAN, title, model, **kw)
    assert caught.value.key == key


def test_only_staff_add_licenses(store, clock):
    title = add_book(store, clock)
    with pytest.raises(PermissionDenied):
        catalogue.add_license(store, clock, resident(1), title, "one_copy", copies=1)


def test_loan_and_hold_limits(store, clock):
    titles = [add_book(store, clock, key, copies=1) for key in ("neko", "botchan", "rashomon", "kumo", "ginga", "chumon")]
    for title in titles[:5]:
        lending.borrow(store, clock, resident(1), title)
    with pytest.raises(lending.LimitReached):
        lending.borrow(store, clock, resident(1), titles[5])
    # Holds: resident 2 queues for the five titles resident 1 has, then hits the limit.
    for title in titles[:5]:
        lending.place_hold(store, clock, resident(2), title)
    lending.borrow(store, clock, resident(3), titles[5])
    with pytest.raises(lending.LimitReached) as caught:
        lending.place_hold(store, clock, resident(2), titles[5])
    assert caught.value.key == "ebooks.error.hold_limit"


def test_no_second_loan_of_the_same_title_and_no_hold_when_free(store, clock):
    title = add_book(store, clock, copies=2)
    lending.borrow(store, clock, resident(1), title)
    with pytest.raises(lending.AlreadyHave):
        lending.borrow(store, clock, resident(1), title)
    with pytest.raises(lending.AlreadyHave) as caught:
        lending.place_hold(store, clock, resident(2), title)
    assert caught.value.key == "ebooks.error.borrow_instead"


def test_early_return_frees_the_copy(store, clock):
    title = add_book(store, clock, copies=1)
    loan = lending.borrow(store, clock, resident(1), title).id
    lending.return_loan(store, clock, resident(1), loan)
    with pytest.raises(NotFound):
        lending.return_loan(store, clock, resident(1), loan)
    lending.borrow(store, clock, resident(2), title)


def test_one_renewal_only_when_nobody_waits(store, clock):
    title = add_book(store, clock, copies=1)
    loan = lending.borrow(store, clock, resident(1), title).id
    new_due = lending.renew(store, clock, resident(1), loan)
    assert new_due == clock.now() + timedelta(days=28)
    with pytest.raises(lending.NotRenewable) as caught:
        lending.renew(store, clock, resident(1), loan)
    assert caught.value.key == "ebooks.error.renewed_once"

    other = add_book(store, clock, "neko", copies=1)
    loan2 = lending.borrow(store, clock, resident(1), other).id
    lending.place_hold(store, clock, resident(2), other)
    with pytest.raises(lending.NotRenewable) as caught:
        lending.renew(store, clock, resident(1), loan2)
    assert caught.value.key == "ebooks.error.others_waiting"


def test_hold_queue_offer_for_48_hours_then_passes_on(store, clock):
    title = add_book(store, clock, copies=1)
    loan = lending.borrow(store, clock, resident(1), title).id
    lending.place_hold(store, clock, resident(2), title)
    lending.place_hold(store, clock, resident(3), title)
    assert [h.queue_position for h in lending.my_holds(store, clock, resident(3))] == [2]

    lending.return_loan(store, clock, resident(1), loan)
    [offer] = lending.my_holds(store, clock, resident(2))
    assert offer.status == "offered" and offer.offer_expires_at == clock.now() + timedelta(hours=48)
    # The offered copy is kept for resident 2: a walk-in and resident 3 cannot take it.
    with pytest.raises(lending.NoCopyAvailable):
        lending.borrow(store, clock, resident(4), title)
    with pytest.raises(lending.NoCopyAvailable):
        lending.borrow(store, clock, resident(3), title)

    clock.advance(timedelta(hours=48))  # not taken: the offer passes to resident 3
    assert lending.my_holds(store, clock, resident(2)) == []
    [offer3] = lending.my_holds(store, clock, resident(3))
    assert offer3.status == "offered"
    lending.borrow(store, clock, resident(3), title)
    assert lending.my_holds(store, clock, resident(3)) == []
    assert store.scalar("SELECT status FROM library_ebooks_holds WHERE user_id = ?", [resident(3).user_id]) == "fulfilled"


def test_a_loan_ending_by_time_offers_the_copy_to_the_queue(store, clock):
    title = add_book(store, clock, copies=1)
    lending.borrow(store, clock, resident(1), title)
    lending.place_hold(store, clock, resident(2), title)
    clock.advance(timedelta(days=15))
    [offer] = lending.my_holds(store, clock, resident(2))
    assert offer.status == "offered"


def test_cancelled_hold_leaves_the_queue(store, clock):
    title = add_book(store, clock, copies=1)
    lending.borrow(store, clock, resident(1), title)
    hold = lending.place_hold(store, clock, resident(2), title)
    with pytest.raises(NotFound):
        lending.cancel_hold(store, clock, resident(3), hold)  # not theirs
    lending.cancel_hold(store, clock, resident(2), hold)
    assert lending.my_holds(store, clock, resident(2)) == []


def test_residents_see_only_their_own_loans_and_cannot_touch_others(store, clock):
    title = add_book(store, clock, copies=2)
    loan = lending.borrow(store, clock, resident(1), title).id
    lending.borrow(store, clock, resident(2), title)
    assert [x.id for x in lending.my_loans(store, clock, resident(1))] == [loan]
    assert len(lending.my_loans(store, clock, resident(2))) == 1
    for act in (lending.return_loan, lending.renew):
        with pytest.raises(NotFound):
            act(store, clock, resident(2), loan)


def test_only_residents_borrow(store, clock):
    title = add_book(store, clock, copies=1)
    with pytest.raises(PermissionDenied):
        lending.borrow(store, clock, LIBRARIAN, title)


def test_never_more_loans_than_copies_when_32_residents_race(tmp_path, clock):
    """32 threads on a real DuckDB file take the last 3 copies at the same moment."""
    store = Store(tmp_path / "race.duckdb")
    migrate(store, clock, known_migrations())
    title = add_book(store, clock, copies=3)
    barrier = threading.Barrier(32)
    outcomes: list[str] = []
    lock = threading.Lock()

    def take(number: int) -> None:
        barrier.wait()
        try:
            lending.borrow(store, clock, resident(number), title)
            outcome = "loan"
        except lending.NoCopyAvailable:
            outcome = "no_copy"
        except Conflict:
            outcome = "conflict"
        with lock:
            outcomes.append(outcome)

    threads = [threading.Thread(target=take, args=(n,)) for n in range(1, 33)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(outcomes) == 32
    assert outcomes.count("loan") == 3
    assert store.scalar("SELECT count(*) FROM library_ebooks_loans WHERE returned_at IS NULL") == 3
    assert store.scalar("SELECT loans_used FROM library_ebooks_licenses") == 3
    store.close()


def test_one_resident_racing_in_many_tabs_still_gets_at_most_5_loans(tmp_path, clock):
    from library_ebooks.demo_books import SHELF

    store = Store(tmp_path / "limits.duckdb")
    migrate(store, clock, known_migrations())
    titles = [add_book(store, clock, book.key, copies=1) for book in SHELF[:8]]
    barrier = threading.Barrier(len(titles))
    taken: list[int] = []
    lock = threading.Lock()

    def take(title_id: int) -> None:
        barrier.wait()
        try:
            loan = lending.borrow(store, clock, resident(1), title_id).id
        except (lending.LimitReached, Conflict):
            return
        with lock:
            taken.append(loan)

    threads = [threading.Thread(target=take, args=(t,)) for t in titles]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(taken) <= lending.LOAN_LIMIT
    assert store.scalar("SELECT count(*) FROM library_ebooks_loans WHERE user_id = ?",
                        [resident(1).user_id]) == len(taken)
    store.close()

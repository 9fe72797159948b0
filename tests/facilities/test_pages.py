"""AppTest: the booking pages for each kind of visitor, on the small demo city."""

from __future__ import annotations

VACANCY = "../facilities/pages/vacancy.py"
BOOK = "../facilities/pages/book.py"
MINE = "../facilities/pages/my_bookings.py"


def test_vacancy_is_public_and_shows_a_month_grid(app_for):
    at = app_for(page=VACANCY)
    assert not at.exception
    assert [t.value for t in at.title] == ["施設の空き状況"]
    assert at.dataframe, "the month grid is shown"
    assert any("サインイン" in i.value for i in at.info)


def test_vacancy_in_english(app_for):
    at = app_for(page=VACANCY, lang="en")
    assert not at.exception
    assert [t.value for t in at.title] == ["Facility vacancy"]


def _free_slot(people: int = 1):
    """A free slot in the demo city, found through the public search."""
    from datetime import timedelta

    from facilities.services import vacancy
    from portal.runtime import open_runtime

    runtime = open_runtime()
    today = runtime.clock.now().date()
    days = [today + timedelta(days=n) for n in range(10, 20)]
    return vacancy.search(runtime.store, runtime.clock, people=people, days=days, blocks=["pm"])[0]


def test_resident_books_a_room_and_sees_it_with_its_qr_code(app_for):
    at = app_for(login="resident02", page=BOOK)
    assert not at.exception
    match = _free_slot()
    at.session_state["book_room"] = match.room.id
    at.session_state["book_day"] = match.day
    at.session_state["book_block"] = "pm"
    at.run()
    assert not at.exception
    assert at.metric[0].value.startswith("￥")
    at.button(key="book_submit").click()
    at.run()
    assert not at.exception, at.exception
    assert [t.value for t in at.title] == ["わたしの施設予約"]
    assert any("予約しました" in s.value for s in at.success)
    assert at.image, "the payment QR code is shown"


def test_my_bookings_shows_only_the_residents_own(app_for):
    at = app_for(login="resident03", page=MINE)
    assert not at.exception
    table = at.dataframe[0].value
    from facilities.services import booking
    from portal.runtime import open_runtime
    from portal.services import accounts

    runtime = open_runtime()
    user_id = runtime.store.scalar("SELECT id FROM portal_users WHERE login = 'resident03'")
    own = {b.id for b in booking.my_bookings(runtime.store, accounts.actor_for(runtime.store, user_id))}
    assert set(table.iloc[:, 0]) <= own and len(table) > 0

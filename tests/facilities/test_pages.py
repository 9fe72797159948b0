"""AppTest: the booking pages for each kind of visitor, on the small demo city."""

from __future__ import annotations

import re

VACANCY = "../facilities/pages/vacancy.py"
BOOK = "../facilities/pages/book.py"
MINE = "../facilities/pages/my_bookings.py"


def test_vacancy_is_public_and_shows_a_month_grid(app_for):
    at = app_for(page=VACANCY)
    assert not at.exception
    assert [t.value for t in at.title] == ["施設の空き状況"]
    grid = next(h.proto.body for h in at.html if "mnb-grid" in h.proto.body)
    assert "○" in grid and "<a " not in grid, "free slots shown, but no booking links before sign-in"
    assert any("サインイン" in i.value for i in at.info)


def test_vacancy_links_each_free_slot_to_the_filled_in_form_when_signed_in(app_for):
    at = app_for(login="resident02", page=VACANCY)
    grid = next(h.proto.body for h in at.html if "mnb-grid" in h.proto.body)
    links = re.findall(r'href="facilities-book\?room=(\d+)&amp;day=([\d-]+)&amp;block=(am|pm|ev)"', grid)
    assert links and len(links) == grid.count(">○</a>")


def test_vacancy_in_english(app_for):
    at = app_for(page=VACANCY, lang="en")
    assert not at.exception
    assert [t.value for t in at.title] == ["Facility vacancy"]
    # Months and weekdays written out (never "2026 December" nor "1T 2W 3T").
    month = next(s for s in at.selectbox if s.label == "Month")
    assert re.fullmatch(r"(January|February|March|April|May|June|July|August|September|October|"
                        r"November|December) \d{4}", month.format_func(month.value))
    grid = next(h.proto.body for h in at.html if "mnb-grid" in h.proto.body)
    days = re.findall(r'<th scope="col" class="mnb-day[^"]*"[^>]*>(\d{1,2})<br>([^<]*)</th>', grid)
    assert days and all(re.fullmatch(r"Mon|Tue|Wed|Thu|Fri|Sat|Sun", weekday) for _, weekday in days), days


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


LOTTERY = "../facilities/pages/lottery.py"
STAFF_LOTTERY = "../facilities/pages/staff_lottery.py"


def test_resident_applies_to_the_lottery_with_ranked_choices(app_for):
    at = app_for(login="resident01", page=LOTTERY)
    assert not at.exception
    assert any("申込み受付中" in i.value for i in at.info)
    picks = at.multiselect[0]
    first, second = picks.options[:2]
    picks.select(first).select(second)
    at.button(key="lottery_submit").click()
    at.run()
    assert not at.exception
    assert any("2 つの希望で申し込みました" in s.value for s in at.success)
    mine = at.dataframe[0].value
    assert list(mine.iloc[:, 0]) == [1, 2]
    assert set(mine.iloc[:, 2]) == {"抽選前"}


def test_staff_run_the_draw_from_the_page_and_see_the_audit(app_for, fresh_demo_db, monkeypatch):
    import duckdb

    with duckdb.connect(str(fresh_demo_db), read_only=True) as con:
        draw_on = con.execute("SELECT min(draw_on) FROM facilities_lottery_months").fetchone()[0]
    monkeypatch.setenv("MANABI_NOW", f"{draw_on.isoformat()}T10:00:00+09:00")
    at = app_for(login="facility01", page=STAFF_LOTTERY)
    assert not at.exception
    at.text_input(key="staff_lottery_seed").input("page-seed")
    at.button(key="staff_lottery_draw").click()
    at.run()
    assert not at.exception
    assert any("page-seed" in s.value and "一致しました" in s.value for s in at.success)
    steps = at.dataframe[0].value
    assert len(steps) > 0


def test_residents_are_not_offered_the_staff_lottery_page(app_for):
    import pytest

    at = app_for(login="resident01")
    with pytest.raises(ValueError, match="Could not find a navigation page"):
        at.switch_page(STAFF_LOTTERY)
    at.switch_page(LOTTERY)  # while their own page is there


SEARCH = "../facilities/pages/search.py"


def test_anonymous_search_finds_free_rooms_without_names(app_for):
    at = app_for(page=SEARCH)
    assert not at.exception
    at.number_input[0].set_value(50)
    at.button(key="search_submit").click()
    at.run()
    assert not at.exception
    assert any(re.search(r"\d+ 件", s.value) for s in [*at.success, *at.warning])
    table = at.dataframe[0].value
    assert (table["定員"] >= 50).all()
    assert "resident" not in table.to_csv()
    # Each line says its weekday and what one block costs (the resident rate before sign-in).
    assert table["利用日"].str.fullmatch(r"\d{4}/\d{2}/\d{2}（[月火水木金土日]）").all()
    assert table["料金（1枠・税込）"].str.fullmatch(r"￥[\d,]+").all()


def test_too_many_results_is_a_warning_to_narrow_not_a_success(app_for):
    at = app_for(page=SEARCH)
    at.number_input[0].set_value(1)
    at.button(key="search_submit").click()
    at.run()
    assert not at.exception
    assert not at.success
    assert any("条件を絞る" in w.value for w in at.warning)


def test_signed_in_search_leads_to_the_booking_form(app_for):
    at = app_for(login="resident04", page=SEARCH, lang="en")
    at.button(key="search_submit").click()
    at.run()
    assert not at.exception
    assert any("Select a row" in c.value for c in at.caption)


STAFF_BOOKINGS = "../facilities/pages/staff_bookings.py"
STAFF_SETUP = "../facilities/pages/staff_setup.py"
OCCUPANCY = "../facilities/pages/occupancy.py"


def test_staff_take_a_counter_payment(app_for):
    at = app_for(login="facility01", page=STAFF_BOOKINGS)
    assert not at.exception
    # Pick bookings until one owes money, then take the payment at the counter.
    for option in at.selectbox(key="staff_booking").options:
        at.selectbox(key="staff_booking").select(option)
        at.run()
        if any(b.key == "staff_counter" for b in at.button):
            break
    else:
        raise AssertionError("no owing booking in the demo month")
    at.button(key="staff_counter").click()
    at.run()
    assert not at.exception
    assert any("窓口での支払" in s.value for s in at.success)


def test_staff_set_a_reduction_with_its_reason(app_for):
    at = app_for(login="facility01", page=STAFF_BOOKINGS, lang="en")
    at.text_input[0].input("resident05")
    at.selectbox[-1].select("disability")
    at.text_input[-1].input("handbook No. 123 seen")
    at.button(key="staff_profile_save").click()
    at.run()
    assert not at.exception
    assert any("Saved the registration of resident05" in s.value for s in at.success)


def test_staff_setup_saves_rules_and_adds_a_closure(app_for):
    at = app_for(login="facility01", page=STAFF_SETUP)
    assert not at.exception
    at.button(key="setup_rules_save").click()
    at.run()
    assert not at.exception
    assert any("保存しました" in s.value for s in at.success)
    at.text_input[0].input("電気設備点検")
    at.button(key="setup_closure_add").click()
    at.run()
    assert not at.exception
    assert "電気設備点検" in at.dataframe[0].value.to_csv()


def test_occupancy_chart_and_csv_for_staff(app_for):
    at = app_for(login="facility01", page=OCCUPANCY, lang="en")
    assert not at.exception
    assert [t.value for t in at.title] == ["Occupancy"]
    assert at.metric[0].value.endswith("%")
    assert len(at.dataframe[0].value) > 30  # every room of the demo city


def test_my_calendar_address_is_shown_on_request(app_for):
    at = app_for(login="resident03", page=MINE, lang="en")
    assert not at.code
    at.button(key="my_calendar").click()
    at.run()
    assert not at.exception
    assert re.search(r"/facilities/calendar/[A-Za-z0-9_-]{20,}\.ics$", at.code[0].value)


def test_staff_add_a_room_that_then_appears_in_vacancy(app_for):
    at = app_for(login="facility01", page=STAFF_SETUP)
    code, name_ja, name_en = at.text_input[1], at.text_input[2], at.text_input[3]  # after the closure reason
    code.input("M9")
    name_ja.input("第9会議室")
    name_en.input("Meeting room 9")
    at.button(key="setup_room_add").click()
    at.run()
    assert not at.exception
    assert any("第9会議室 を追加しました" in s.value for s in at.success)
    at.switch_page(VACANCY)
    at.run()
    assert "第9会議室" in at.dataframe[0].value.to_csv()
    assert any("第9会議室" in h.proto.body for h in at.html)


def test_a_lottery_winner_sees_the_win_and_confirms_it(app_for, fresh_demo_db, monkeypatch):
    from datetime import datetime

    from facilities.services import lottery
    from kernel.actor import SYSTEM
    from kernel.clock import TOKYO, FixedClock
    from kernel.store import Store

    store = Store(fresh_demo_db)
    month, draw_on = store.query("SELECT month, draw_on FROM facilities_lottery_months")[0]
    clock = FixedClock(datetime.combine(draw_on, datetime.min.time(), TOKYO).replace(hour=10))
    steps = lottery.draw(store, clock, SYSTEM, month, seed="page-test")
    winner = store.scalar("SELECT login FROM portal_users WHERE id = ?", [steps[0].winner_id])
    store.close()
    monkeypatch.setenv("MANABI_NOW", clock.now().isoformat())

    at = app_for(login=winner, page=LOTTERY)
    assert not at.exception
    assert any("当選:" in m.value for m in at.markdown)
    confirm = next(b for b in at.button if (b.key or "").startswith("confirm_"))
    confirm.click()
    at.run()
    assert not at.exception
    assert [t.value for t in at.title] == ["わたしの施設予約"]
    assert any("確定しました" in s.value for s in at.success)
    from portal.runtime import open_runtime

    # Unpaid is said when the winner owes a fee (one whose reduction waives it owes nothing).
    owed = open_runtime().store.scalar(
        "SELECT sum(total_yen - paid_yen) FROM facilities_bookings WHERE user_id = ? AND source = 'lottery' "
        "AND status = 'confirmed'", [steps[0].winner_id])
    assert any("未払いです" in w.value for w in at.warning) == (owed > 0)


def test_resident_sees_their_rate_and_changes_their_group(app_for):
    at = app_for(login="resident05", page=MINE)
    assert any("料金区分" in m.value for m in at.markdown)
    group = next(w for w in at.text_input if w.label == "登録団体名")
    group.input("飯塚ジャズ研究会")
    at.button(key="my_group_save").click()
    at.run()
    assert not at.exception
    assert any("団体名を保存しました" in s.value for s in at.success)
    assert any("飯塚ジャズ研究会" in m.value for m in at.markdown)


def test_staff_cancel_a_live_booking(app_for):
    at = app_for(login="facility01", page=STAFF_BOOKINGS, lang="en")
    for option in at.selectbox(key="staff_booking").options:
        at.selectbox(key="staff_booking").select(option).run()
        if any(b.key == "staff_cancel" for b in at.button):
            break
    else:
        raise AssertionError("no live booking in the demo month")
    at.button(key="staff_cancel").click().run()
    assert not at.exception, at.exception
    assert any("Booking cancelled" in s.value for s in at.success)


def test_booking_form_in_english_marks_each_block_and_says_why_not(app_for):
    from datetime import timedelta

    from portal.runtime import open_runtime

    at = app_for(login="resident02", page=BOOK, lang="en")
    assert not at.exception
    today = open_runtime().clock.now().date()
    monday = next(today + timedelta(days=n) for n in range(7, 14) if (today + timedelta(days=n)).isoweekday() == 1)
    at.date_input(key="book_day").set_value(monday).run()
    assert not at.exception
    block = at.selectbox(key="book_block")
    assert all(label.endswith("C closed") for label in block.options)
    assert any("The facility is closed on Mondays." in w.value for w in at.warning)
    assert at.button(key="book_submit").disabled
    links = next(h.proto.body for h in at.html if "mnb-grid" in h.proto.body)
    assert "&amp;lang=en" in links

"""From the vacancy grid to a booking, as Japanese municipal reservation sites do it: a ○ opens the
form filled in; what cannot be booked is said in words before 予約する is pressed — in Chromium
against the real server, on a desktop and on a phone."""

from __future__ import annotations

import re
import shutil

import pytest
from playwright.sync_api import Page, expect

from facilities.services import catalogue, vacancy
from kernel.clock import clock_from_env
from kernel.store import Store
from tests.conftest import sign_in
from tests.facilities.live_server import serve


@pytest.fixture(scope="module")
def live(demo_db, tmp_path_factory):
    """The server over a copy of the demo city; the facility the vacancy page opens on, the
    month after next (the page offers it), a free slot and a closed Monday in that month."""
    folder = tmp_path_factory.mktemp("vacancy-e2e")
    db = folder / "e2e.duckdb"
    shutil.copy(demo_db, db)
    store, clock = Store(db), clock_from_env()  # the pinned clock the server reads too
    facility = catalogue.list_facilities(store)[0]
    month = vacancy.months_shown(clock.now().date())[2]
    grid = vacancy.month_grid(store, clock, facility.id, month)
    frees = [(room, block, day) for (room, block), row in grid.states.items()
             for day, state in row.items() if state == vacancy.FREE and day.day > 7]
    # One slot for the booking test, another (another day) for the closed-day test.
    free = (frees[0], next(f for f in frees if f[2] != frees[0][2]))
    monday = next(d for d in grid.days if d.isoweekday() in facility.closed_weekdays)
    store.close()
    with serve(db, folder) as base:
        yield base, facility, month, free, monday


def _choose(page: Page, label: str, text: str) -> None:
    page.locator('[data-testid="stSelectbox"]').filter(has_text=label).click()
    page.keyboard.type(text)
    page.keyboard.press("Enter")


def _month_ja(month: str) -> str:
    year, number = month.split("-")
    return f"{year}年{int(number)}月"


@pytest.mark.e2e
def test_a_free_mark_opens_the_form_filled_in_and_books(live, page: Page, artifacts):
    base, facility, month, ((room_id, block, day), _), _ = live
    page.set_viewport_size({"width": 1400, "height": 1000})

    # Before sign-in the marks are only marks.
    page.goto(f"{base}/facilities")
    expect(page.locator(".mnb-grid")).to_be_visible(timeout=30_000)  # a cold server's first page
    assert page.locator(".mnb-grid a").count() == 0

    sign_in(page, base, "resident08")
    page.goto(f"{base}/facilities")
    _choose(page, "月", _month_ja(month))
    grid = page.locator(".mnb-grid")
    link = grid.locator(f'a[href="facilities-book?room={room_id}&day={day.isoformat()}&block={block}"]')
    expect(link).to_have_text("○", timeout=30_000)
    # The whole month fits at 1400 px: the last day's column is inside the box, no scrolling.
    box = grid.bounding_box()
    last = grid.locator("thead th").last.bounding_box()
    assert last["x"] + last["width"] <= box["x"] + box["width"] + 1
    page.screenshot(path=str(artifacts / "facilities-vacancy-links-1400.png"), full_page=True)
    link.click()

    expect(page.locator("h1")).to_have_text("施設を予約する")
    room = next(r for r in facility.rooms if r.id == room_id)
    expect(page.get_by_role("combobox", name="施設と部屋")).to_have_value(f"{facility.name_ja} — {room.name_ja}")
    expect(page.locator('[data-testid="stDateInput"] input')).to_have_value(day.isoformat())
    label = {"am": "午前", "pm": "午後", "ev": "夜間"}[block]
    expect(page.get_by_role("combobox", name="時間帯")).to_have_value(re.compile(f"^{label} .* ○ 空き$"))
    submit = page.get_by_role("button", name="予約する")
    expect(submit).to_be_enabled()
    submit.click()
    expect(page.locator("h1")).to_have_text("わたしの施設予約")
    expect(page.get_by_text(re.compile(f"予約しました: {facility.name_ja} {room.name_ja} .* {label}"))).to_be_visible()


@pytest.mark.e2e
def test_a_closed_day_is_said_in_words_before_booking(live, page: Page, artifacts):
    base, facility, month, (_, (room_id, block, day)), monday = live
    page.set_viewport_size({"width": 1400, "height": 1000})
    sign_in(page, base, "resident09")
    page.goto(f"{base}/facilities-book?room={room_id}&day={monday.isoformat()}&block=am")
    expect(page.locator("h1")).to_have_text("施設を予約する", timeout=30_000)
    expect(page.locator('[data-testid="stDateInput"] input')).to_have_value(monday.isoformat())
    warning = page.locator('[data-testid="stAlertContentWarning"]')
    expect(warning).to_contain_text("は予約できません。月曜日は休館日です。別の日を選んでください。")
    expect(page.get_by_role("button", name="予約する")).to_be_disabled()
    expect(page.get_by_role("combobox", name="時間帯")).to_have_value(re.compile("休 休館$"))
    assert "weekly" not in page.locator('[data-testid="stMainBlockContainer"]').inner_text()

    # Another day of the same month, chosen by hand: the warning goes and 予約する is offered.
    field = page.locator('[data-testid="stDateInput"] input')
    field.fill(day.isoformat())
    field.press("Enter")
    page.locator("h1").click()  # the date input takes a typed date once the visitor moves on
    expect(warning.filter(has_text="月曜日")).to_have_count(0)  # the page has run for the new day
    label = {"am": "午前", "pm": "午後", "ev": "夜間"}[block]
    _choose(page, "時間帯", label)
    expect(page.get_by_role("combobox", name="時間帯")).to_have_value(re.compile(f"^{label} .* ○ 空き$"))
    expect(page.get_by_role("button", name="予約する")).to_be_enabled()
    expect(warning).to_have_count(0)

    # The room's own month, under the choices, marks the closed Monday and links the free days.
    room_grid = page.locator(".mnb-grid")
    expect(room_grid.locator('td[title*="月曜日は休館日です"]').first).to_be_visible()
    assert room_grid.locator("a").count() > 0
    page.screenshot(path=str(artifacts / "facilities-book-closed-day-1400.png"), full_page=True)


@pytest.mark.e2e
def test_on_a_phone_the_month_scrolls_with_the_room_column_in_view(live, page: Page, artifacts):
    base = live[0]
    sign_in(page, base, "resident10")  # at desktop size, where the sidebar shows who is signed in
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(f"{base}/facilities")
    grid = page.locator(".mnb-grid")
    expect(grid).to_be_visible(timeout=30_000)
    # The page itself does not scroll sideways; the grid does, inside its box.
    assert page.evaluate("() => document.documentElement.scrollWidth") <= 390
    assert grid.evaluate("e => e.scrollWidth > e.clientWidth")
    room_cell = grid.locator("tbody th").first
    before = room_cell.bounding_box()["x"]
    grid.evaluate("e => { e.scrollLeft = e.scrollWidth }")
    page.wait_for_timeout(200)
    assert abs(room_cell.bounding_box()["x"] - before) < 1, "the room column stays in view"
    expect(grid.locator("thead th").last).to_be_in_viewport()
    page.screenshot(path=str(artifacts / "facilities-vacancy-390.png"), full_page=True)

    # The ○ is big enough to tap and leads to the form, filled in.
    link = grid.locator("a").first
    size = link.bounding_box()
    assert size["height"] >= 24 and size["width"] >= 24  # WCAG 2.2 target size
    link.click()
    expect(page.locator("h1")).to_have_text("施設を予約する")
    expect(page.get_by_role("button", name="予約する")).to_be_visible()
    page.screenshot(path=str(artifacts / "facilities-book-390.png"), full_page=True)

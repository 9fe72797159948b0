"""A resident books a room with the keyboard alone (issue 21, item 4: WCAG 2.1 AA focus order and
keyboard use), in Chromium against the real server: no click anywhere. Tab / Shift+Tab move
between controls, Enter and Space press them, arrow keys choose in lists and radio groups, and
every control the focus stops on shows that it has it (tests/e2e/keyboard.py)."""

from __future__ import annotations

import re
import shutil

import pytest
from playwright.sync_api import Page, expect

from facilities.services import catalogue, vacancy
from kernel.clock import clock_from_env
from kernel.store import Store
from tests.e2e.keyboard import Keyboard
from tests.facilities.live_server import serve
from tests.quality.test_browser_walk import _wait_for_run

pytestmark = pytest.mark.e2e
BLOCKS = {"am": "午前", "pm": "午後", "ev": "夜間"}


@pytest.fixture(scope="module")
def live(demo_db, tmp_path_factory):
    """The server over a copy of the demo city; the first facility (the vacancy page opens on it),
    the month after next, and two free slots of it on different days."""
    folder = tmp_path_factory.mktemp("keyboard-e2e")
    db = folder / "e2e.duckdb"
    shutil.copy(demo_db, db)
    store, clock = Store(db), clock_from_env()
    facility = catalogue.list_facilities(store)[0]
    month = vacancy.months_shown(clock.now().date())[2]
    grid = vacancy.month_grid(store, clock, facility.id, month)
    frees = [(room, block, day) for (room, block), row in grid.states.items()
             for day, state in row.items() if state == vacancy.FREE and day.day > 7]
    free = (frees[0], next(f for f in frees if f[2] != frees[0][2] and f[0] != frees[0][0]))
    store.close()
    with serve(db, folder) as base:
        yield base, facility, month, free


def _sign_in_by_keyboard(page: Page, keys: Keyboard, base: str, login: str) -> None:
    page.goto(f"{base}/sign-in")
    _wait_for_run(page)
    keys.tab_to(lambda s: s.tag == "INPUT" and s.name.startswith("ログインID"))
    keys.type(login)
    keys.tab_to(lambda s: s.tag == "INPUT" and s.name == "パスワード")
    keys.type("manabi-demo")
    keys.press("Enter")  # the sign-in form's submit
    expect(page.get_by_test_id("stSidebar").get_by_text("さんでサインイン中")).to_be_visible(timeout=30_000)
    _wait_for_run(page)


def _month_ja(month: str) -> str:
    year, number = month.split("-")
    return f"{year}年{int(number)}月"


def test_a_resident_books_from_the_month_grid_with_the_keyboard_alone(live, page: Page, artifacts):
    base, facility, month, ((room_id, block, day), _) = live
    page.set_viewport_size({"width": 1400, "height": 1000})
    keys = Keyboard(page)
    _sign_in_by_keyboard(page, keys, base, "resident11")

    # The portal opened anew: the skip link is the first stop, then the navigation.
    page.goto(base)
    _wait_for_run(page)
    first = keys.tab_to(lambda s: True)
    assert first.name == "本文へ移動", f"the first stop is {first}, not the skip link"
    keys.tab_to(lambda s: s.part == "stSidebarNavLink" and s.href.endswith("/facilities"))
    keys.press("Enter")
    expect(page.locator("h1")).to_have_text("施設の空き状況", timeout=30_000)
    _wait_for_run(page)

    # The month: the list opens with the down arrow and the choice moves with it.
    keys.tab_to(lambda s: s.role == "combobox" and s.name == "月")
    shown = page.get_by_role("combobox", name="月")
    for _ in range(4):
        if shown.input_value() == _month_ja(month):
            break
        keys.press("ArrowDown", wait=150)
        keys.press("Enter", wait=150)
        _wait_for_run(page)
        keys.tab_to(lambda s: s.role == "combobox" and s.name == "月", back=True, limit=3) \
            if keys.focused() is None or keys.focused().name != "月" else None
    expect(shown).to_have_value(_month_ja(month))

    # Into the month grid: its box (it scrolls sideways), then the ○ of the wanted slot.
    href = f"facilities-book?room={room_id}&day={day.isoformat()}&block={block}"
    keys.tab_to(lambda s: s.role == "region" and "空き状況" in s.name)
    link = keys.tab_to(lambda s: s.href == href, limit=200)
    assert link.name.endswith("予約する"), link  # the ○ says what it does to a screen reader
    page.screenshot(path=str(artifacts / "keyboard-vacancy-link-focused.png"))
    keys.press("Enter")

    # The form arrives filled in; the focus walks down it to 予約する, which Space presses.
    expect(page.locator("h1")).to_have_text("施設を予約する", timeout=30_000)
    _wait_for_run(page)
    room = next(r for r in facility.rooms if r.id == room_id)
    expect(page.get_by_role("combobox", name="施設と部屋")).to_have_value(f"{facility.name_ja} — {room.name_ja}")
    expect(page.locator('[data-testid="stDateInput"] input')).to_have_value(day.isoformat())
    expect(page.get_by_role("combobox", name="時間帯")).to_have_value(re.compile(f"^{BLOCKS[block]} .* ○ 空き$"))
    book_from_the_keyboard(page, keys, artifacts / "keyboard-book-submit-focused.png", "Space", 200,
                           f"{facility.name_ja} {room.name_ja} .* {BLOCKS[block]}")


def book_from_the_keyboard(page: Page, keys, screenshot, key: str, limit: int, booked: str) -> None:
    """Tab to 予約する, press `key` on it, and see the booking made; no stop without visible focus."""
    keys.tab_to(lambda s: s.tag == "BUTTON" and s.name.endswith("予約する") and s.part.startswith("stBaseButton"),
                limit=limit)
    page.screenshot(path=str(screenshot))
    keys.press(key)
    expect(page.locator("h1")).to_have_text("わたしの施設予約", timeout=30_000)
    expect(page.get_by_text(re.compile(f"予約しました: {booked}"))).to_be_visible()
    assert keys.unseen == [], "focus not visible on:\n" + "\n".join(keys.unseen)


def test_a_resident_fills_the_booking_form_with_the_keyboard_alone(live, page: Page, artifacts):
    base, facility, month, (_, (room_id, block, day)) = live
    page.set_viewport_size({"width": 1400, "height": 1000})
    keys = Keyboard(page)
    _sign_in_by_keyboard(page, keys, base, "resident12")
    page.goto(f"{base}/facilities-book")
    expect(page.locator("h1")).to_have_text("施設を予約する", timeout=30_000)
    _wait_for_run(page)

    # The room: typed into the list's filter, taken with Enter.
    room = next(r for r in facility.rooms if r.id == room_id)
    keys.tab_to(lambda s: s.role == "combobox" and s.name == "施設と部屋")
    keys.type(room.name_ja)
    keys.press("Enter", wait=200)
    _wait_for_run(page)
    expect(page.get_by_role("combobox", name="施設と部屋")).to_have_value(f"{facility.name_ja} — {room.name_ja}")

    # The day: a field of three parts (year, month, day), each a spin button the arrows move.
    for part, wanted in (("年", day.year), ("月", day.month), ("日", day.day)):
        keys.tab_to(lambda s, part=part: s.role == "spinbutton" and s.name == f"{part}、利用日", limit=20)
        for _ in range(40):
            now = int(page.evaluate("() => document.activeElement.getAttribute('aria-valuenow')"))
            if now == wanted:
                break
            keys.press("ArrowUp" if now < wanted else "ArrowDown", wait=40)
        assert now == wanted, (part, now, wanted)
        spoken = page.evaluate("() => document.activeElement.getAttribute('aria-valuetext')")
        assert not re.search("[A-Za-z]", spoken or ""), f"the {part} is read out in English: {spoken}"
    keys.tab_to(lambda s: s.role == "combobox" and s.name == "時間帯", limit=5)  # moving on takes the day
    _wait_for_run(page)
    expect(page.locator('[data-testid="stDateInput"] input')).to_have_value(day.isoformat())

    # The block: typed into the list's filter, taken with Enter.
    field = page.get_by_role("combobox", name="時間帯")
    keys.type(BLOCKS[block])
    keys.press("Enter", wait=200)
    _wait_for_run(page)
    expect(field).to_have_value(re.compile(f"^{BLOCKS[block]} .* ○ 空き$"))

    # Who books: a radio group, moved with the arrow keys.
    keys.tab_to(lambda s: s.role == "radio" or (s.tag == "INPUT" and s.name in ("団体", "個人")), limit=150)
    before = page.locator('[data-testid="stRadio"] input:checked').evaluate("e => e.value")
    keys.press("ArrowRight", wait=200)
    _wait_for_run(page)
    after = page.locator('[data-testid="stRadio"] input:checked').evaluate("e => e.value")
    assert after != before, "the arrow key moves the choice of who books"

    # Shift+Tab goes back the way it came: to the number of people, and on to 予約する again.
    back = keys.tab_to(lambda s: s.tag == "INPUT" and s.name.startswith("利用人数"), back=True, limit=10)
    assert back.name.startswith("利用人数")
    keys.press("ArrowUp", wait=200)  # a number field counts up with the arrow
    book_from_the_keyboard(page, keys, artifacts / "keyboard-book-form-submit-focused.png", "Enter", 60,
                           f"{facility.name_ja} {room.name_ja} .* {BLOCKS[block]}")

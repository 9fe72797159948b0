"""A resident finds a book, borrows it, reads it in vertical writing, and returns it."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from library_ebooks.demo_books import CHAPTERS
from tests.conftest import sign_in

pytestmark = pytest.mark.e2e


def test_borrow_read_return(server, page: Page, artifacts):
    page.set_default_timeout(30_000)
    sign_in(page, server, "resident08")

    # Move through the sidebar, as a person would, staying in the same session.
    sidebar = page.get_by_test_id("stSidebarNavItems")
    sidebar.get_by_role("link", name="電子書籍をさがす").click()
    page.get_by_label("キーワード").fill("くものいと")
    page.get_by_label("キーワード").press("Enter")
    expect(page.get_by_text("1 件", exact=True)).to_be_visible()  # the search has run
    borrow = page.get_by_role("button", name="借りる")
    expect(borrow).to_have_count(1)  # the previous run's cards are gone
    borrow.click()
    expect(page.get_by_text("「蜘蛛の糸」を借りました")).to_be_visible()

    sidebar.get_by_role("link", name="借りている本").click()
    expect(page.get_by_role("heading", name="借りている本と予約")).to_be_visible()
    read = page.get_by_role("button", name="読む")
    expect(read).to_have_count(1)  # resident08's one loan: 蜘蛛の糸
    read.click()
    reader_text = page.locator(".manabi-reader")
    expect(reader_text).to_contain_text("御釈迦様は極楽の蓮池のふちを")
    assert reader_text.evaluate("el => getComputedStyle(el).writingMode") == "vertical-rl"
    page.get_by_role("button", name="次へ").first.click()
    expect(page.get_by_text(f"2 / {CHAPTERS}").first).to_be_visible()
    page.screenshot(path=str(artifacts / "library_ebooks_reader_vertical.png"), full_page=True)

    sidebar.get_by_role("link", name="借りている本").click()
    give_back = page.get_by_role("button", name="返却する")
    expect(give_back).to_have_count(1)
    give_back.click()
    expect(page.get_by_text("返却しました。")).to_be_visible()
    expect(page.get_by_text("借りている本はありません")).to_be_visible()
    page.screenshot(path=str(artifacts / "library_ebooks_returned.png"), full_page=True)

"""Charts in Chromium: a Japanese page's time axis reads Japanese months, an English page's
English ones; the yearly review says in words when an indicator has no data; a row of a
device list leads to that device's page."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from tests.conftest import sign_in

pytestmark = pytest.mark.e2e

ENGLISH_MONTHS = re.compile(r"\b(Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)[a-z]*\b")


def chart_texts(page: Page) -> list[str]:
    """The text of every chart on the page (charts are drawn as SVG, so their labels are text)."""
    chart = page.get_by_test_id("stVegaLiteChart").first
    expect(chart.locator("svg text").first).to_be_attached(timeout=30_000)
    return chart.locator("svg text").all_text_contents()


def test_a_time_axis_reads_japanese_months_on_a_japanese_page_and_english_on_an_english_one(
        server, page: Page, artifacts):
    page.set_viewport_size({"width": 1400, "height": 1100})
    sidebar = sign_in(page, server, "teacher01")
    sidebar.get_by_role("link", name="学校の端末").click()
    page.get_by_role("tab", name="利用状況").click()
    texts = chart_texts(page)
    # Weekly usage since September: ticks like "10月4日" and a month start "11月".
    month_labels = [x for x in texts if re.fullmatch(r"\d{1,2}月(\d{1,2}日)?", x)]
    assert len(month_labels) >= 4, texts
    assert not [x for x in texts if ENGLISH_MONTHS.search(x)], texts
    assert "週" in texts  # the axis title from the catalogue
    page.screenshot(path=artifacts / "charts-usage-ja.png", full_page=True)

    sidebar.get_by_text("English", exact=True).click()
    expect(page.get_by_role("heading", name="School devices")).to_be_visible(timeout=30_000)
    page.get_by_role("tab", name="Usage").click()
    page.wait_for_function("""() => [...document.querySelectorAll('[data-testid=stVegaLiteChart] svg text')]
                                     .some(t => /^(Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)/.test(t.textContent))""",
                           timeout=30_000)
    texts = chart_texts(page)
    assert not [x for x in texts if "月" in x], texts
    page.screenshot(path=artifacts / "charts-usage-en.png", full_page=True)


def test_the_review_says_when_an_indicator_has_no_data(server, page: Page, artifacts):
    page.set_viewport_size({"width": 1400, "height": 2400})
    sidebar = sign_in(page, server, "admin")
    sidebar.get_by_role("link", name="年次評価").click()
    expect(page.get_by_role("heading", name="年次評価（施策の点検）")).to_be_visible(timeout=30_000)
    # The English-lessons indicator (4-1-2) has no data in the demo city: a sentence, not an empty chart.
    expect(page.get_by_text("オンライン英会話").first).to_be_visible(timeout=30_000)
    expect(page.get_by_text("この指標のデータはまだありません").first).to_be_visible(timeout=30_000)
    # No chart on the page has an axis of an empty domain ("0.000000").
    expect(page.get_by_test_id("stVegaLiteChart").first).to_be_visible(timeout=30_000)
    assert not [x for x in page.locator("[data-testid=stVegaLiteChart] svg text").all_text_contents()
                if re.fullmatch(r"-?\d+\.\d{4,}", x)]
    page.screenshot(path=artifacts / "charts-review-ja.png", full_page=True)


def test_choosing_a_row_of_the_device_list_opens_the_device(server, page: Page, artifacts):
    page.set_viewport_size({"width": 1400, "height": 1100})
    sidebar = sign_in(page, server, "teacher01")
    sidebar.get_by_role("link", name="学校の端末").click()
    page.get_by_role("tab", name="要対応").click()
    panel = page.get_by_role("tabpanel", name="要対応")
    # Devices whose OS updates have ended are flagged here, in words a teacher reads.
    expect(panel.get_by_role("heading", name="OSの更新が終わった端末")).to_be_visible(timeout=30_000)
    grid = panel.get_by_test_id("stDataFrame").first
    expect(grid).to_be_visible(timeout=30_000)
    first_tag = grid.locator("td[role=gridcell]").filter(has_text=re.compile(r"^[A-Z]{2}-")).first.text_content()
    box = grid.bounding_box()
    # The grid is drawn on a canvas: choose the first row by its selection box (left column).
    page.mouse.click(box["x"] + 14, box["y"] + 35 + 17)
    expect(page).to_have_url(re.compile(r"/device\?tag=" + re.escape(first_tag)), timeout=30_000)
    expect(page.get_by_role("heading", name="端末の詳細と履歴")).to_be_visible(timeout=30_000)
    expect(page.get_by_role("textbox", name="管理番号")).to_have_value(first_tag)
    page.screenshot(path=artifacts / "charts-device-from-list.png", full_page=True)

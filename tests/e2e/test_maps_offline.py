"""Maps in the browser, drawn by the portal itself: every point is named on the map, and a
click on one opens what it stands for (an archive item, a facility's month). Nothing is
asked of another host on the way."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

pytestmark = pytest.mark.e2e


def _settled(page: Page) -> None:
    expect(page.get_by_test_id("stApp")).to_have_attribute("data-test-script-state", "notRunning", timeout=60_000)


def _outside(server: str, urls: list[str]) -> list[str]:
    return [u for u in urls if not u.startswith((server + "/", "blob:" + server, "data:"))]


def test_archive_map_names_its_points_and_opens_the_item(server, page: Page, artifacts):
    asked: list[str] = []
    page.on("request", lambda request: asked.append(request.url))
    page.set_viewport_size({"width": 1280, "height": 1000})
    page.goto(f"{server}/archive-map")
    chart = page.get_by_test_id("stVegaLiteChart")
    # Names are SVG text on the map itself, and each point says what it is to a screen reader.
    expect(chart.locator("svg text", has_text="忠隈のボタ山")).to_have_count(2, timeout=60_000)  # the name and its halo
    expect(chart.locator("svg text", has_text="内野宿の街並み")).to_have_count(2)
    expect(chart.locator("svg text", has_text=re.compile(r"立岩遺跡（\d+ 件）")).first).to_be_visible()
    expect(page.get_by_text("GeoNames (CC BY 4.0)")).to_be_visible()
    page.screenshot(path=artifacts / "archive-map.png", full_page=True)

    point = chart.locator('path[aria-label*="名前: 忠隈のボタ山;"]')
    expect(point).to_have_count(1)
    point.click()
    expect(page.get_by_role("heading", name="忠隈のボタ山")).to_be_visible(timeout=30_000)
    assert "item=" in page.url
    _settled(page)
    page.screenshot(path=artifacts / "archive-map-opened-item.png", full_page=True)

    # A point standing for several items lists them under the map, each one a way in.
    page.goto(f"{server}/archive-map")
    several = page.get_by_test_id("stVegaLiteChart").locator('path[aria-label*="名前: 立岩遺跡（"]')
    expect(several).to_have_count(1, timeout=60_000)
    several.click()
    expect(page.get_by_text(re.compile(r"この場所の資料 \d+ 件"))).to_be_visible(timeout=30_000)
    page.get_by_role("button", name="立岩遺跡出土 石包丁").click()
    expect(page.get_by_role("heading", name="立岩遺跡出土 石包丁")).to_be_visible(timeout=30_000)
    assert _outside(server, asked) == []


def test_facility_map_click_shows_that_facilitys_month(server, page: Page, artifacts):
    asked: list[str] = []
    page.on("request", lambda request: asked.append(request.url))
    page.set_viewport_size({"width": 1280, "height": 1000})
    page.goto(f"{server}/facilities")
    page.get_by_text("施設の地図").click()
    chart = page.get_by_test_id("stVegaLiteChart")
    expect(chart.locator("svg text", has_text="庄内交流センター")).to_have_count(2, timeout=60_000)
    page.screenshot(path=artifacts / "facilities-map.png", full_page=False)
    chart.locator('path[aria-label*="名前: 庄内交流センター;"]').click()
    expect(page.get_by_role("heading", name="庄内交流センター")).to_be_visible(timeout=30_000)
    assert "facility=" in page.url
    assert _outside(server, asked) == []

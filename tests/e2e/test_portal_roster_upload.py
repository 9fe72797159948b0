"""The real thing: the board of education uploads a OneRoster zip with a bad row (every bad
row named, nothing stored), then a good one: the preview, the import, the school's classes."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from portal.roster_bundle import make_city, small_plan, write_bundle
from tests.conftest import running_server

pytestmark = pytest.mark.e2e


def test_roster_upload_preview_and_import(fresh_demo_db, page: Page, artifacts, tmp_path, clock):
    # A server of its own: the import changes the city that the other browser tests share.
    with running_server(fresh_demo_db, tmp_path / "server.log") as server:
        _upload_preview_and_import(server, page, artifacts, tmp_path, clock)


def _upload_preview_and_import(server: str, page: Page, artifacts, tmp_path, clock) -> None:
    today = clock.now().date()
    year = today.year if today.month >= 4 else today.year - 1
    rows = make_city(year, small_plan())
    good = write_bundle(rows, tmp_path / "good.zip", as_zip=True)
    rows["roles.csv"][2]["role"] = "wizard"
    bad = write_bundle(rows, tmp_path / "bad.zip", as_zip=True)

    page.goto(f"{server}/sign-in")
    page.get_by_label("ログインID").fill("admin")
    page.get_by_label("パスワード").fill("manabi-demo")
    page.get_by_role("button", name="サインイン").click()
    sidebar = page.get_by_test_id("stSidebar")
    sidebar.get_by_role("link", name="学校名簿").click()
    expect(page.get_by_role("heading", name="学校名簿（OneRoster）")).to_be_visible(timeout=30_000)

    page.locator("input[type='file']").first.set_input_files(str(bad))
    expect(page.get_by_text("名簿に誤りが 1 件あるため、何も取り込んでいません。")).to_be_visible(timeout=30_000)
    page.screenshot(path=artifacts / "roster-rejected.png", full_page=True)

    page.locator("input[type='file']").first.set_input_files(str(good))
    expect(page.get_by_text("確認のみ（保存していません）")).to_be_visible(timeout=30_000)
    page.screenshot(path=artifacts / "roster-preview.png", full_page=True)
    page.get_by_role("button", name="この名簿を取り込む").click()
    expect(page.get_by_text("名簿を取り込みました")).to_be_visible(timeout=30_000)
    page.screenshot(path=artifacts / "roster-imported.png", full_page=True)

    # The school's administrator of E01 opens the roster of their school to correct it by hand.
    page.get_by_test_id("stSidebar").get_by_role("button", name="サインアウト").click()
    expect(page.get_by_text("サインアウトしました")).to_be_visible(timeout=30_000)
    page.goto(f"{server}/sign-in")
    page.get_by_label("ログインID").fill("schooladmin01")
    page.get_by_label("パスワード").fill("manabi-demo")
    page.get_by_role("button", name="サインイン").click()
    sidebar.get_by_role("link", name="名簿の修正").click()
    expect(page.get_by_role("heading", name="名簿の修正")).to_be_visible(timeout=30_000)
    expect(page.get_by_role("tab", name="教員")).to_be_visible(timeout=30_000)
    expect(page.get_by_role("button", name="保存").first).to_be_visible(timeout=30_000)
    page.screenshot(path=artifacts / "roster-edit.png", full_page=True)

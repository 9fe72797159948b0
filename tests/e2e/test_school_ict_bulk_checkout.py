"""The real thing: a school's ICT admin lends a charging cart's tablets to a class as a
class set, sees where a tablet went, and takes the set back."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

pytestmark = pytest.mark.e2e


def test_bulk_check_out_of_a_cart_and_back(server, page: Page, artifacts):
    page.goto(f"{server}/sign-in")
    page.get_by_label("ログインID").fill("schooladmin01")
    page.get_by_label("パスワード").fill("manabi-demo")
    page.get_by_role("button", name="サインイン").click()
    sidebar = page.get_by_test_id("stSidebar")
    expect(sidebar.get_by_role("link", name="貸出・返却")).to_be_visible(timeout=30_000)

    sidebar.get_by_role("link", name="貸出・返却").click()
    expect(page.get_by_role("heading", name="貸出・返却")).to_be_visible(timeout=30_000)
    page.get_by_role("tab", name="クラスセット・充電保管庫").click()
    class_set = page.get_by_test_id("stForm").filter(has_text="まとめて貸し出す")
    class_set.get_by_label("充電保管庫").click()
    page.get_by_role("option", name="B", exact=True).click()
    class_set.get_by_label("貸出先の教室").click()
    page.get_by_role("option", name="3年1組", exact=True).click()
    class_set.get_by_role("button", name="まとめて貸し出す").click()
    # Cart B of 飯塚小 holds five tablets in stock in the small demo city.
    expect(page.get_by_text("5 台を処理しました。")).to_be_visible(timeout=30_000)
    page.screenshot(path=artifacts / "school-ict-class-set-out.png", full_page=True)

    sidebar.get_by_role("link", name="端末の詳細と履歴").click()
    # The page drawn to its end before typing: a box filled while the page was still being
    # drawn came back empty (seen once in a full test run).
    expect(page.get_by_text("管理番号を入力すると、端末の情報と履歴が表示されます。")).to_be_visible(timeout=30_000)
    tag_box = page.get_by_role("textbox", name="管理番号")
    tag_box.fill("PT-E01-0006")
    expect(tag_box).to_have_value("PT-E01-0006")
    tag_box.press("Enter")
    expect(page.get_by_role("button", name="返却する")).to_be_visible(timeout=30_000)
    expect(page.get_by_text("貸出中 — 3年1組")).to_be_visible()
    page.screenshot(path=artifacts / "school-ict-device-history.png", full_page=True)

    sidebar.get_by_role("link", name="貸出・返却").click()
    page.get_by_role("tab", name="返却").click()
    back = page.get_by_test_id("stForm").filter(has_text="この教室のクラスセットを返却")
    back.get_by_label("貸出先の教室").click()
    page.get_by_role("option", name="3年1組", exact=True).click()
    back.get_by_role("button", name="この教室のクラスセットを返却").click()
    expect(page.get_by_text("5 台を処理しました。")).to_be_visible(timeout=30_000)
    page.screenshot(path=artifacts / "school-ict-class-set-back.png", full_page=True)


def test_upload_of_a_google_admin_export_with_bad_rows_stores_nothing(server, page: Page, artifacts, tmp_path):
    export = tmp_path / "chromeos-devices.csv"
    export.write_text("Serial Number,Annotated Asset ID,Annotated Location,Model,Auto Update Expiration\n"
                      "E2E-1,PT-E01-7001,E01,Chromebook X,2029-06\n"
                      "E2E-2,PT-E01-7002,Atlantis,Chromebook X,2029-06\n"
                      "E2E-3,PT-E01-7003,E01,Chromebook X,someday\n", encoding="utf-8")
    page.goto(f"{server}/sign-in")
    page.get_by_label("ログインID").fill("schooladmin01")
    page.get_by_label("パスワード").fill("manabi-demo")
    page.get_by_role("button", name="サインイン").click()
    sidebar = page.get_by_test_id("stSidebar")
    sidebar.get_by_role("link", name="端末の取り込み").click()
    expect(page.get_by_role("heading", name="端末の取り込み（MDM）")).to_be_visible(timeout=30_000)
    page.locator("input[type='file']").first.set_input_files(str(export))
    page.get_by_text("確認だけ（保存しない）").click()  # a real import, not a check
    page.get_by_role("button", name="取り込む").first.click()
    expect(page.get_by_text("取り込みを中止しました。2 行に問題があり")).to_be_visible(timeout=30_000)
    page.screenshot(path=artifacts / "school-ict-import-rejected.png", full_page=True)

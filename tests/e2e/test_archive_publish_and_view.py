"""The archive in the browser: an item in review is not offered to its own submitter, published
by the city administrator, and then seen by the public, with its IIIF manifest."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Page, expect

from tests.conftest import sign_in

pytestmark = pytest.mark.e2e
ROOT = Path(__file__).resolve().parents[2]
TITLE = "嘉穂劇場 公演ポスター"  # IZK-DEMO-005: in review, submitted by curator01


def _item_id(db: Path, identifier: str) -> int:
    out = subprocess.run([sys.executable, "-m", "portal.cli_main", "--db", str(db), "archive", "list", "--json"],
                         check=True, capture_output=True, text=True, cwd=ROOT).stdout
    return next(row["id"] for row in json.loads(out) if row["identifier"] == identifier)


def _sign_out(page: Page) -> None:
    page.get_by_test_id("stSidebar").get_by_role("button", name="サインアウト").click()
    expect(page.get_by_text("サインアウトしました")).to_be_visible(timeout=30_000)


def _open_curate(page: Page) -> None:
    page.get_by_test_id("stSidebar").get_by_role("link", name="資料の登録・公開").click()
    expect(page.get_by_role("heading", name="資料の登録・公開")).to_be_visible(timeout=30_000)


def test_review_publish_and_public_view(server, demo_db, page: Page, artifacts):
    item_id = _item_id(demo_db, "IZK-DEMO-005")
    manifest_url = f"{server}/iiif/{item_id}/manifest"
    assert httpx.get(manifest_url).status_code == 404

    # The public cannot open it yet, even by its address.
    page.goto(f"{server}/archive?item={item_id}")
    expect(page.get_by_text(re.compile("見つかりません"))).to_be_visible(timeout=30_000)

    # curator01 submitted it, so curator01 may not publish it.
    sign_in(page, server, "curator01")
    _open_curate(page)
    chooser = page.get_by_test_id("stSelectbox").filter(has_text="資料を選ぶ").locator("input")
    chooser.click()
    chooser.fill("IZK-DEMO-005")
    chooser.press("Enter")
    expect(page.get_by_role("heading", name=f"IZK-DEMO-005 — {TITLE}")).to_be_visible(timeout=30_000)
    expect(page.get_by_text("ご自身が提出した資料です。公開は別の学芸員か管理者が行います。")).to_be_visible()
    expect(page.get_by_role("button", name="公開する")).to_have_count(0)
    page.screenshot(path=artifacts / "archive-curator-refused.png", full_page=True)
    _sign_out(page)

    # The city administrator reviews (the list opens on items in review) and publishes.
    sign_in(page, server, "admin")
    _open_curate(page)
    expect(page.get_by_role("heading", name=f"IZK-DEMO-005 — {TITLE}")).to_be_visible(timeout=30_000)
    page.get_by_role("button", name="公開する").click()
    expect(page.get_by_text("公開しました。")).to_be_visible(timeout=30_000)
    _sign_out(page)

    # Now anyone finds it by a Japanese search and opens it.
    page.goto(f"{server}/archive")
    search = page.get_by_label("キーワード")
    search.fill("公演ポスター")
    search.press("Enter")
    expect(page.get_by_text("1 件", exact=True)).to_be_visible(timeout=30_000)
    expect(page.get_by_text(TITLE, exact=True)).to_be_visible()
    page.get_by_role("button", name="詳しく見る").first.click()
    expect(page.get_by_role("heading", name=TITLE)).to_be_visible(timeout=30_000)
    expect(page.get_by_role("link", name="IIIF マニフェスト")).to_be_visible()
    page.screenshot(path=artifacts / "archive-public-item.png", full_page=True)

    manifest = httpx.get(manifest_url).json()
    assert manifest["label"]["ja"] == [TITLE]


def test_script_payloads_typed_by_a_curator_stay_inert_in_the_browser(server, page: Page, artifacts):
    dialogs: list[str] = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    sign_in(page, server, "curator01")
    _open_curate(page)
    page.get_by_role("tab", name="新規登録").click()
    # The new-item form is the visible one (an editable item's form may sit in a hidden tab).
    form = page.get_by_test_id("stForm").filter(visible=True)
    form.get_by_role("textbox", name="識別子").fill("IZK-E2E-XSS")
    form.get_by_role("textbox", name="タイトル（日本語）").fill("<img src=x onerror=alert('title')>石包丁 [押す](javascript:alert('md'))")
    form.get_by_role("textbox", name="説明（日本語）").fill(
        "<script>alert('script')</script><p onclick=\"alert('click')\">本文</p>"
        "<a href=\"javascript:alert('href')\">リンク</a><svg onload=alert('svg')></svg>")
    form.get_by_role("button", name="保存").click()
    expect(page.get_by_text("IZK-E2E-XSS を下書きとして登録しました。")).to_be_visible(timeout=30_000)
    main = page.get_by_test_id("stMain")
    expect(main.get_by_text("本文", exact=True)).to_be_visible(timeout=30_000)
    for link in main.locator("a").all():
        href = link.get_attribute("href") or ""
        assert not href.lower().startswith("javascript:")
    html = main.inner_html()
    assert "onerror" not in html and "onclick" not in html and "onload" not in html and "<script" not in html
    page.wait_for_timeout(500)
    assert dialogs == []
    page.screenshot(path=artifacts / "archive-inert-payloads.png", full_page=True)

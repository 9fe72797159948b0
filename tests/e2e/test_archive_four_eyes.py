"""Curation in the browser: after 審査へ提出 the submitter is not offered 公開する (four eyes) and is
told why; a step refused because the item changed meanwhile says why and stays on the item."""

from __future__ import annotations

import re
import shutil

import pytest
from playwright.sync_api import Page, expect

from tests.conftest import running_server, sign_in

pytestmark = pytest.mark.e2e
DRAFT = "IZK-DEMO-012 — 炭鉱住宅の暮らし"  # a draft of the demo city, prepared by curator01


@pytest.fixture(scope="module")
def live(demo_db, tmp_path_factory):
    folder = tmp_path_factory.mktemp("archive-four-eyes")
    shutil.copy(demo_db, folder / "e2e.duckdb")
    with running_server(folder / "e2e.duckdb", folder / "server.log") as base:
        yield base


def _open_item(page: Page, base: str, identifier: str) -> None:
    page.goto(f"{base}/archive-curate")
    expect(page.get_by_role("heading", name="資料の登録・公開")).to_be_visible(timeout=30_000)
    chooser = page.get_by_role("combobox", name="資料を選ぶ")
    chooser.click()
    chooser.fill(identifier)
    chooser.press("Enter")
    expect(page.get_by_role("heading", name=re.compile(identifier))).to_be_visible(timeout=30_000)


def test_the_submitter_is_not_offered_publish_and_a_refusal_keeps_the_item(live, page: Page, browser, artifacts):
    page.set_viewport_size({"width": 1400, "height": 1000})
    sign_in(page, live, "curator01")
    _open_item(page, live, "IZK-DEMO-012")
    page.get_by_role("button", name="審査へ提出").click()
    expect(page.get_by_text("審査へ提出しました。")).to_be_visible(timeout=30_000)

    # Still on the same item, its label in the list saying its new state; 公開する not offered.
    chooser = page.get_by_role("combobox", name="資料を選ぶ")
    expect(chooser).to_have_value(f"{DRAFT} (審査中)")
    expect(page.get_by_role("heading", name=DRAFT)).to_be_visible()
    expect(page.get_by_role("button", name="公開する")).to_have_count(0)
    expect(page.get_by_text("ご自身が提出した資料です。公開は別の学芸員か管理者が行います。")).to_be_visible()
    expect(page.get_by_role("button", name="差し戻す")).to_be_visible()
    page.screenshot(path=str(artifacts / "archive-four-eyes-submitter.png"), full_page=True)

    # The administrator opens the item in review; meanwhile its curator takes it back to draft.
    admin_context = browser.new_context(viewport={"width": 1400, "height": 1000})
    admin = admin_context.new_page()
    sign_in(admin, live, "admin")
    _open_item(admin, live, "IZK-DEMO-012")
    expect(admin.get_by_role("button", name="公開する")).to_be_visible()
    page.get_by_role("button", name="差し戻す").click()
    expect(page.get_by_text("下書きに差し戻しました。")).to_be_visible(timeout=30_000)

    # The administrator's 公開する is refused in words, and the page stays on the item.
    admin.get_by_role("button", name="公開する").click()
    refusal = admin.locator('[data-testid="stAlertContentError"]')
    expect(refusal).to_contain_text("この資料は「下書き」のため、「公開」はできません。", timeout=30_000)
    expect(admin.get_by_role("heading", name=DRAFT)).to_be_visible()
    expect(admin.get_by_role("combobox", name="資料を選ぶ")).to_have_value(re.compile(f"^{DRAFT}"))
    admin.screenshot(path=str(artifacts / "archive-refused-keeps-item.png"), full_page=True)
    admin_context.close()

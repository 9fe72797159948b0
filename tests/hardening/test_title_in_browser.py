"""In Chromium: an archive item whose title holds a Markdown image is shown literally,
and no visitor's browser asks the image's host for anything."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from tests.conftest import running_server

pytestmark = pytest.mark.e2e
ROOT = Path(__file__).resolve().parents[2]
EVIL = "![x](http://evil.example/x.png) **b**"


def test_an_image_in_a_title_is_text_and_never_fetched(fresh_demo_db, tmp_path, page: Page, artifacts):
    sheet = tmp_path / "evil.csv"
    sheet.write_text("identifier,title_ja,type,rights,status\n"
                     f'IZK-EVIL-1,"{EVIL}",object,http://creativecommons.org/licenses/by/4.0/,published\n',
                     encoding="utf-8")
    out = subprocess.run([sys.executable, "-m", "portal.cli_main", "--db", str(fresh_demo_db), "archive", "import",
                          str(sheet), "--json"], check=True, capture_output=True, text=True, cwd=ROOT).stdout
    item_id = json.loads(out)["ids"][0]
    asked: list[str] = []
    page.on("request", lambda request: asked.append(request.url))
    with running_server(fresh_demo_db, tmp_path / "server.log") as base:
        page.goto(f"{base}/archive?item={item_id}")
        heading = page.get_by_role("heading").filter(has_text="evil.example")
        expect(heading).to_be_visible(timeout=30_000)
        page.screenshot(path=artifacts / "hardening-archive-evil-title.png", full_page=True)
        # Shown as typed (an invisible word joiner keeps the address from being linked).
        assert heading.inner_text().replace("\u2060", "").strip() == EVIL
        assert page.locator("img[src*='evil.example']").count() == 0
        assert page.locator("a[href*='evil.example']").count() == 0
        assert page.locator("strong", has_text="b").count() == 0
    assert not [url for url in asked if "evil.example" in url]

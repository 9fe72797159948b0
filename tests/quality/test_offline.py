"""The portal on a closed intranet (issue 21, item 5): Chromium opens every page for every kind
of visitor against one real server, and every request of every page is recorded. None may go
to a host other than Manabi's own; the Japanese web font comes from Manabi too."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.quality.test_browser_walk import PAGES, VISITORS, _wait_for_run

pytestmark = pytest.mark.e2e


def _own(server: str, url: str) -> bool:
    # blob: and data: addresses are made inside the page (chart images, downloads), not fetched.
    return url.startswith((server + "/", "blob:" + server + "/", "data:"))


def test_no_page_asks_another_host(server, browser):
    elsewhere: dict[str, set[str]] = {}
    fonts_served: list[int] = []
    visited = 0
    opened: list[str] = []
    for visitor, (login, roles) in VISITORS.items():
        # One context per visitor: its own cookies, and its own cache, so each fetches the fonts anew.
        context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="ja-JP")
        where = {"page": "/"}

        def record(request, visitor=visitor, where=where):
            if not _own(server, request.url):
                elsewhere.setdefault(request.url, set()).add(f"{visitor} {where['page']}")

        def font_answer(response):
            if "/fonts/" in response.url and response.url.endswith(".woff2"):
                fonts_served.append(response.status)

        context.on("request", record)
        context.on("response", font_answer)
        page = context.new_page()
        page.goto(server)
        _wait_for_run(page)
        if login:
            where["page"] = "sign-in"
            page.get_by_test_id("stSidebarNav").locator('a[href$="/sign-in"]').click()
            page.get_by_label("ログインID").fill(login)
            page.get_by_label("パスワード").fill("manabi-demo")
            page.get_by_role("button", name="サインイン").click()
            expect(page.get_by_test_id("stSidebar").get_by_text("さんでサインイン中")).to_be_visible(timeout=30_000)
        for spec in PAGES:
            if not spec.allows(roles, login is not None) or not spec.visible:
                continue
            where["page"] = spec.url_path
            href = "" if spec.default else spec.url_path
            page.locator(f'[data-testid="stSidebarNav"] a[href$="/{href}"]').first.click()
            _wait_for_run(page)
            # What a page holds folded away (a map in an expander) is drawn when opened.
            folded = page.locator('[data-testid="stExpander"] details:not([open]) > summary')
            clicked = 0
            while folded.count() and clicked < 20:  # each click takes one off the list
                folded.first.click()
                clicked += 1
            if clicked:
                page.wait_for_timeout(500)  # a chart draws a moment after its box opens
                opened.append(spec.url_path)
            visited += 1
        context.close()
    assert visited > 50 and "facilities" in opened  # the facilities' map, folded at first, was drawn
    assert elsewhere == {}, "\n".join(f"{url}  ← {sorted(pages)}" for url, pages in sorted(elsewhere.items()))
    assert fonts_served and set(fonts_served) == {200}

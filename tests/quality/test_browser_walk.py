"""Browser walk (issue 9): every page, for each role and an anonymous visitor, in
Debian's Chromium against the real server. No exception shown, no console error,
and a screenshot of each page kept in var/test-artifacts/walk/<visitor>/."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from portal.modules import all_modules

pytestmark = pytest.mark.e2e

VISITORS = {
    "anonymous": (None, frozenset()),
    "resident": ("resident01", frozenset({"resident"})),
    "teacher": ("teacher01", frozenset({"teacher"})),
    "school_admin": ("schooladmin01", frozenset({"school_admin", "teacher"})),
    "librarian": ("librarian01", frozenset({"librarian"})),
    "facility_staff": ("facility01", frozenset({"facility_staff"})),
    "curator": ("curator01", frozenset({"curator"})),
    "city_admin": ("admin", frozenset({"city_admin"})),
}
PAGES = [p for spec in all_modules() for p in spec.pages]


def _wait_for_run(page) -> None:
    """Until the page's script has run and the browser has drawn what it sent: no
    placeholder skeletons, no elements left greyed out from the page before."""
    app = page.get_by_test_id("stApp")
    expect(app).to_have_attribute("data-test-script-state", "notRunning", timeout=60_000)
    expect(page.locator('[data-testid="stSkeleton"], [data-testid="stSkeletonElement"]')).to_have_count(
        0, timeout=30_000)
    expect(page.locator('[data-stale="true"]')).to_have_count(0, timeout=30_000)
    # Images load after the run; leaving before they have would make Streamlit drop their media
    # files while the browser still asks for them (a 404 a person who looks at the page never sees).
    page.wait_for_function("() => Array.from(document.images).every(img => img.complete)", timeout=30_000)
    page.wait_for_timeout(300)  # charts and maps draw a moment after their element appears


@pytest.mark.parametrize("visitor", list(VISITORS))
def test_every_page_in_chromium(server, browser, artifacts, visitor):
    login, roles = VISITORS[visitor]
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="ja-JP")
    page = context.new_page()
    problems: list[str] = []

    def on_console(message):
        # Only our own origin counts (no page asks another host: test_offline.py).
        if message.type == "error" and (message.location or {}).get("url", server).startswith(server):
            problems.append(f"console: {message.text} ({(message.location or {}).get('url', '')})")

    page.on("console", on_console)
    page.on("pageerror", lambda error: problems.append(f"page error: {error}"))
    page.goto(server)
    _wait_for_run(page)
    if login:
        page.get_by_test_id("stSidebarNav").locator('a[href$="/sign-in"]').click()
        page.get_by_label("ログインID").fill(login)
        page.get_by_label("パスワード").fill("manabi-demo")
        page.get_by_role("button", name="サインイン").click()
        expect(page.get_by_test_id("stSidebar").get_by_text("さんでサインイン中")).to_be_visible(timeout=30_000)
    folder = artifacts / "walk" / visitor
    folder.mkdir(parents=True, exist_ok=True)
    visited = 0
    for spec in PAGES:
        # Pages left out of the sidebar open from mailed links: tests/e2e/test_portal_register_and_reset.py.
        if not spec.allows(roles, login is not None) or not spec.visible:
            continue
        before = len(problems)
        # Through the sidebar, as a person moves around (a typed deep link makes the
        # frontend probe /<page>/_stcore/health for a base path, which logs a 404).
        href = "" if spec.default else spec.url_path
        page.locator(f'[data-testid="stSidebarNav"] a[href$="/{href}"]').first.click()
        _wait_for_run(page)
        exceptions = page.get_by_test_id("stException")
        if exceptions.count():
            problems.append(f"{spec.url_path}: exception shown: {exceptions.first.inner_text()[:300]}")
        if page.get_by_text("Page not found").count():
            problems.append(f"{spec.url_path}: page not found")
        if page.get_by_text("⟦").count():
            problems.append(f"{spec.url_path}: a message key is missing from the catalogue")
        page.screenshot(path=folder / f"{spec.url_path}.png", full_page=True)
        problems[before:] = [p if p.startswith(spec.url_path) else f"{spec.url_path}: {p}" for p in problems[before:]]
        visited += 1
    context.close()
    assert visited > 0
    assert problems == []

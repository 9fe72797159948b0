"""Every page a resident or a visitor not signed in can open, on a phone (390×844) in Chromium:
it opens with its title, shows no error, and nothing pushes the page wider than the screen
(wide tables and the vacancy month scroll inside their own box). A screenshot of each is kept."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from kernel.actor import Role
from portal.modules import all_modules
from tests.conftest import sign_in

pytestmark = pytest.mark.e2e
PHONE = {"width": 390, "height": 844}

# What sticks out past the screen's right edge, outside any box that scrolls sideways.
_STICKING_OUT = """() => {
  const width = document.documentElement.clientWidth;
  const inScroller = (e) => {
    for (let p = e.parentElement; p; p = p.parentElement) {
      const s = getComputedStyle(p);
      if (['auto', 'scroll', 'hidden'].includes(s.overflowX) && p.getBoundingClientRect().right <= width + 1) return true;
    }
    return false;
  };
  return [...document.querySelectorAll('[data-testid=stMain] *')]
    .filter(e => { const r = e.getBoundingClientRect(); return r.width > 0 && r.right > width + 1 && !inScroller(e); })
    .slice(0, 5).map(e => (e.dataset.testid || e.tagName) + ': ' + (e.innerText || '').slice(0, 40));
}"""


def _pages(signed_in: bool) -> list[str]:
    roles = frozenset({Role.RESIDENT}) if signed_in else frozenset()
    return [page.url_path for spec in all_modules() for page in spec.pages
            if page.visible and page.allows(roles, signed_in)]


def _walk(page: Page, server: str, who: str, paths: list[str], artifacts) -> list[str]:
    problems = []
    for path in paths:
        page.goto(f"{server}/{path}")
        expect(page.locator("h1").first).to_be_visible(timeout=30_000)
        page.wait_for_timeout(500)  # let late elements (tables, maps) settle
        if page.get_by_test_id("stException").count():
            problems.append(f"{path}: an exception is shown")
        if page.evaluate("() => document.documentElement.scrollWidth") > PHONE["width"]:
            problems.append(f"{path}: wider than the phone: {page.evaluate(_STICKING_OUT)}")
        page.screenshot(path=str(artifacts / f"phone-{who}-{path or 'home'}.png"), full_page=True)
    return problems


def test_every_public_page_fits_a_phone(server, page: Page, artifacts):
    page.set_viewport_size(PHONE)
    paths = [*_pages(signed_in=False), "sign-in"]  # the shell adds the sign-in page
    assert "facilities" in paths and "archive" in paths
    assert _walk(page, server, "visitor", paths, artifacts) == []


def test_every_resident_page_fits_a_phone(server, page: Page, artifacts):
    sign_in(page, server, "resident03")  # at desktop size, where the sidebar shows who is signed in
    page.set_viewport_size(PHONE)
    paths = _pages(signed_in=True)
    assert "facilities-book" in paths and "library-mine" in paths
    assert _walk(page, server, "resident", paths, artifacts) == []

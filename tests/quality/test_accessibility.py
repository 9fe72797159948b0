"""Accessibility and language in the browser (issue 21, item 4): every page, for each role and
an anonymous visitor, in Debian's Chromium against the real server.

On each page axe-core (npm, pinned in package.json; `make test` installs it with `npm ci`)
checks WCAG 2.1 A and AA, and no serious or critical violation may be left, but for the few
in Streamlit's own markup that a page cannot change (ALLOWED, each with its reason). The page
says its language (`<html lang>`), and on Japanese pages none of Streamlit's own texts is left
in English (the words portal/ui/browser.js puts in their place)."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from portal.modules import all_modules
from portal.ui.document import streamlit_texts
from tests.conftest import ROOT, sign_in
from tests.quality.test_browser_walk import VISITORS, _wait_for_run

pytestmark = pytest.mark.e2e

AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"
PAGES = [p for spec in all_modules() for p in spec.pages]
WCAG_21_AA = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]

# (rule, the Streamlit part (data-testid) the element sits in, why it is allowed). Narrow on
# purpose: only markup Streamlit writes and no page of ours can reach.
ALLOWED: list[tuple[str, str, str]] = [
    # st.navigation's sidebar: each section's <li> items sit in a <div> inside the <ul>
    # (Streamlit 1.67's markup; screen readers still announce the links and the section names).
    ("list", "stSidebarNavItems", "Streamlit's navigation markup"),
    ("listitem", "stSidebarNavItems", "Streamlit's navigation markup"),
]


def _allowed(rule: str, node: dict) -> bool:
    return any(rule == r and part in node.get("parts", []) for r, part, _ in ALLOWED)


def _axe_problems(page) -> list[str]:
    if not page.evaluate("() => typeof window.axe === 'object'"):
        page.add_script_tag(path=str(AXE))
    result = page.evaluate(
        """async (tags) => {
             const r = await axe.run(document, {runOnly: {type: 'tag', values: tags},
                                                resultTypes: ['violations']});
             return r.violations.map(v => ({id: v.id, impact: v.impact, help: v.help,
                nodes: v.nodes.map(n => {
                  // Where the element sits: the data-testids of the Streamlit parts around it.
                  const parts = [];
                  let el = document.querySelector(n.target[0]);
                  for (; el; el = el.parentElement) if (el.dataset && el.dataset.testid) parts.push(el.dataset.testid);
                  return {target: n.target, html: n.html.slice(0, 300), impact: n.impact, parts};
                })}));
           }""", WCAG_21_AA)
    problems = []
    for violation in result:
        for node in violation["nodes"]:
            impact = node.get("impact") or violation["impact"]
            if impact in ("serious", "critical") and not _allowed(violation["id"], node):
                problems.append(f"{violation['id']} ({impact}): {violation['help']} — "
                                f"in {'/'.join(node['parts'][:3])}: {node['html'][:160]}")
    return problems


_STREAMLIT_ENGLISH = """(texts) => {
  const english = new Set(texts);
  const found = [];
  const skip = '[data-testid="stMarkdownContainer"]:not(button [data-testid="stMarkdownContainer"]), '
    + '[data-testid="stIconMaterial"], [translate="no"], noscript';
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  for (let n = walker.nextNode(); n; n = walker.nextNode()) {
    const v = n.nodeValue.trim();
    if (english.has(v) && n.parentElement && !n.parentElement.closest(skip)) found.push(v);
  }
  for (const el of document.querySelectorAll('[aria-label], [title], [placeholder]')) {
    for (const a of ['aria-label', 'title', 'placeholder']) {
      const v = (el.getAttribute(a) || '').trim();
      const headingLink = el.closest('[data-testid="stHeaderActionElements"]');  // Streamlit's, in Markdown
      if (english.has(v) && (!el.closest(skip) || headingLink)) found.push(a + '=' + v);
    }
  }
  return found;
}"""


def _exact_english() -> list[str]:
    return [rule["en"] for rule in streamlit_texts() if "{" not in rule["en"]]


@pytest.mark.parametrize("visitor", list(VISITORS))
def test_every_page_meets_wcag_aa_and_speaks_its_language(server, browser, artifacts, visitor):
    assert AXE.exists(), "axe-core is missing: run `make test` (or `npm ci`) once"
    login, roles = VISITORS[visitor]
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="en-US")
    page = context.new_page()
    page.goto(server)
    _wait_for_run(page)
    if login:
        sign_in(page, server, login)
        _wait_for_run(page)
    english = _exact_english()
    problems: list[str] = []
    visited = 0
    for spec in PAGES:
        if not spec.allows(roles, login is not None) or not spec.visible:
            continue
        href = "" if spec.default else spec.url_path
        page.locator(f'[data-testid="stSidebarNav"] a[href$="/{href}"]').first.click()
        _wait_for_run(page)
        name = spec.url_path
        # The browser asks for English (locale en-US); the page is Japanese and says so.
        if page.evaluate("document.documentElement.lang") != "ja":
            problems.append(f"{name}: <html lang> is {page.evaluate('document.documentElement.lang')!r}")
        problems += [f"{name}: Streamlit's English left: {text}" for text in page.evaluate(_STREAMLIT_ENGLISH, english)]
        problems += [f"{name}: {p}" for p in _axe_problems(page)]
        visited += 1
    context.close()
    assert visited > 0
    assert problems == [], "\n".join(problems)


def test_language_switch_changes_lang_and_streamlits_words(server, browser):
    """One page with an uploader and a form: Japanese words in Japanese, Streamlit's own in
    English after the switch, and back; `lang` follows each time, without a reload."""
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="ja-JP")
    page = context.new_page()
    sign_in(page, server, "curator01")
    page.goto(f"{server}/archive-import")
    _wait_for_run(page)
    uploader = page.get_by_test_id("stFileUploaderDropzone").first
    expect(uploader).to_contain_text("ファイルを選ぶ")
    expect(uploader).to_contain_text("1ファイル")
    assert page.evaluate("document.documentElement.lang") == "ja"
    page.get_by_test_id("stSidebar").get_by_text("English", exact=True).click()
    _wait_for_run(page)
    expect(uploader).to_contain_text("Upload")
    expect(uploader).to_contain_text("per file")
    assert page.evaluate("document.documentElement.lang") == "en"
    page.get_by_test_id("stSidebar").get_by_text("日本語", exact=True).click()
    _wait_for_run(page)
    expect(uploader).to_contain_text("ファイルを選ぶ")
    assert page.evaluate("document.documentElement.lang") == "ja"
    # A first load of an English address says "en" before any script has run.
    html = page.request.get(f"{server}/archive?lang=en", headers={"Accept": "text/html"}).text()
    assert '<html lang="en">' in html
    context.close()


def test_an_address_not_for_the_visitor_says_why(server, browser):
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="ja-JP")
    page = context.new_page()
    page.goto(f"{server}/school-devices")
    _wait_for_run(page)
    main = page.get_by_test_id("stMain")
    expect(main.get_by_text("「学校の端末」を開くには、サインインしてください。")).to_be_visible()
    expect(main.get_by_role("link", name="サインイン")).to_be_visible()
    page.goto(f"{server}/no-such-page")
    _wait_for_run(page)
    expect(main.get_by_text("このアドレス（/no-such-page）のページはありません。", exact=False)).to_be_visible()
    expect(page.get_by_text("Page not found")).to_have_count(0)
    sign_in(page, server, "resident01")
    page.goto(f"{server}/school-devices?lang=en")
    _wait_for_run(page)
    expect(main.get_by_text("“School devices” is a page for", exact=False)).to_be_visible()
    expect(main.get_by_text("(Resident)", exact=False)).to_be_visible()
    # The page itself did not run: no device list.
    expect(page.get_by_test_id("stDataFrame")).to_have_count(0)
    context.close()

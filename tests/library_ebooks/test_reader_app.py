"""The reading app in Chromium against the real server: every corpus book imports and
its first page or spread renders; spreads follow page-progression-direction; the
read-aloud control shows only with a voice for the book's language; settings are kept."""

from __future__ import annotations

import shutil  # noqa: E402
from datetime import datetime  # noqa: E402
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Page, expect

from kernel.actor import Actor, Role
from kernel.clock import (
    TOKYO,  # noqa: E402
    FixedClock,
)
from kernel.migrations import migrate
from kernel.store import Store
from library_ebooks.services import catalogue, lending, reader
from portal.modules import known_migrations  # noqa: E402
from tests.conftest import (
    TEST_NOW,  # noqa: E402
    running_server,
)

from .helpers import LIBRARIAN

ROOT = Path(__file__).resolve().parents[2]
# The shared corpus beside the main checkout (../shared) or at its fixed place; a
# missing corpus fails the tests rather than skipping them.
CORPUS = next((p / "corpus" / "epub" for p in (ROOT.parent / "shared", Path("/work/shared"))
               if (p / "corpus" / "epub").is_dir()), None)
assert CORPUS is not None, "the EPUB corpus (shared/corpus/epub) is missing"
CORPUS_FILES = sorted(CORPUS.glob("*.epub"))


@pytest.fixture(scope="session")
def browser_context_args(browser_context_args):
    return {**browser_context_args, "locale": "ja-JP"}  # the app speaks the browser's language


@pytest.fixture(scope="module")
def library(demo_db, tmp_path_factory):
    """A server over the demo city with every corpus book imported, licensed and on loan
    (five each to resident16 and resident17); yields (base URL, {file name: (token, loan)})."""
    db = tmp_path_factory.mktemp("reader-app") / "db.duckdb"
    shutil.copy(demo_db, db)
    clock = FixedClock(datetime.fromisoformat(TEST_NOW).astimezone(TOKYO))
    store = Store(str(db))
    migrate(store, clock, known_migrations())
    readers = [Actor(user_id=store.scalar("SELECT id FROM portal_users WHERE login = ?", [login]), login=login,
                     roles=frozenset({Role.RESIDENT})) for login in ("resident16", "resident17")]
    tokens = {}
    results = catalogue.import_files(store, clock, LIBRARIAN, CORPUS_FILES)
    for number, (path, result) in enumerate(zip(CORPUS_FILES, results, strict=True)):
        assert result.status == "imported", (path.name, result)
        # One book the publisher lets residents read in the browser only.
        catalogue.add_license(store, clock, LIBRARIAN, result.title_id, "simultaneous",
                              download_allowed=path.name != "wasteland-otf-obf.epub")
        resident = readers[number // 5]  # five loans at a time each
        loan_id = lending.borrow(store, clock, resident, result.title_id).id
        tokens[path.name] = (reader.reader_token(store, clock, resident, loan_id), loan_id, result.title_id)
    store.close()
    with running_server(db, tmp_path_factory.mktemp("reader-app-log") / "server.log") as base:
        yield base, tokens


def open_app(page: Page, base: str, token: str, width: int = 1280, height: int = 800) -> None:
    page.set_viewport_size({"width": width, "height": height})
    page.goto(f"{base}/ebooks/read/{token}")
    expect(page.locator("body[data-ready='1']")).to_have_count(1, timeout=30_000)


def from_the_start(page: Page) -> None:
    """Back to the first page (the server keeps each loan's place between tests)."""
    page.keyboard.press("Home")
    expect(page.locator("#spread")).to_have_attribute("data-pages", "0")
    page.wait_for_timeout(300)  # the position is posted as the page turns


@pytest.mark.parametrize("name", [p.name for p in CORPUS_FILES])
def test_every_corpus_book_opens_and_its_first_page_renders(library, page: Page, name, artifacts):
    base, tokens = library
    errors = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    open_app(page, base, tokens[name][0])
    spread = page.locator("#spread")
    assert spread.get_attribute("data-pages")
    box = spread.bounding_box()
    assert box["width"] > 100 and box["height"] > 100
    # Every picture on the first page or spread has loaded and has a size.
    images = page.locator("#spread img")
    for i in range(images.count()):
        assert images.nth(i).evaluate("img => img.complete && img.naturalWidth > 0"), f"image {i} of {name}"
    if not images.count():
        assert page.locator("#spread").inner_text().strip()
    assert not errors
    page.screenshot(path=str(artifacts / f"library_ebooks_reader_app_{Path(name).stem}.png"))


def test_a_manga_opens_right_to_left_two_pages_at_a_time(library, page: Page, artifacts):
    base, tokens = library
    open_app(page, base, tokens["haruko-html-jpeg.epub"][0])  # rtl; p01 is a left page, alone
    from_the_start(page)
    spread = page.locator("#spread")
    page.keyboard.press("ArrowLeft")  # in a right-to-left book the left arrow turns forward
    expect(spread).to_have_attribute("data-pages", "1,2")
    boxes = {int(el.get_attribute("data-index")): el.bounding_box() for el in page.locator("#spread .page").all()}
    # The earlier page of the spread sits on the right.
    assert boxes[1]["x"] > boxes[2]["x"]
    expect(page.locator("#status")).to_have_text("2–3 / 13")
    page.screenshot(path=str(artifacts / "library_ebooks_reader_app_manga_spread.png"))
    page.get_by_role("button", name="次へ").click()  # the on-screen button on the left
    expect(spread).to_have_attribute("data-pages", "3,4")
    assert page.get_by_role("button", name="次へ").bounding_box()["x"] < 100
    page.keyboard.press("ArrowRight")  # and the right arrow turns back
    expect(spread).to_have_attribute("data-pages", "1,2")


def test_a_left_to_right_picture_book_and_a_portrait_window(library, page: Page):
    base, tokens = library
    open_app(page, base, tokens["page-blanche-bitmaps-in-spine.epub"][0])
    from_the_start(page)
    spread = page.locator("#spread")
    # The cover and page 1 want the right side in an ltr book: each stands alone.
    page.keyboard.press("ArrowRight")
    page.keyboard.press("ArrowRight")
    expect(spread).to_have_attribute("data-pages", "2,3")
    boxes = {int(el.get_attribute("data-index")): el.bounding_box() for el in page.locator("#spread .page").all()}
    assert boxes[2]["x"] < boxes[3]["x"]
    # Scaled to the window: the spread fits inside the stage.
    stage = page.locator("#stage").bounding_box()
    assert boxes[3]["x"] + boxes[3]["width"] <= stage["x"] + stage["width"] + 1
    page.get_by_role("button", name="拡大").click()
    assert page.locator("#spread .page").first.bounding_box()["height"] > boxes[2]["height"] * 1.2
    # A portrait window (a phone) shows one page at a time.
    page.set_viewport_size({"width": 500, "height": 900})
    expect(spread).to_have_attribute("data-pages", "2")


def test_position_is_kept_on_the_server(library, page: Page):
    base, tokens = library
    token, *_ = tokens["svg-in-spine.epub"]
    open_app(page, base, token, width=600, height=900)  # portrait: one page at a time
    from_the_start(page)
    page.keyboard.press("ArrowRight")
    page.keyboard.press("ArrowRight")
    expect(page.locator("#spread")).to_have_attribute("data-pages", "2")
    page.wait_for_timeout(300)  # the position is posted as the page turns
    open_app(page, base, token, width=600, height=900)  # another device, same loan
    expect(page.locator("#spread")).to_have_attribute("data-pages", "2")


READ_ALOUD = "読み上げ"


def test_read_aloud_is_hidden_without_a_japanese_voice_and_shown_with_one(library, page: Page, browser):
    base, tokens = library
    token = tokens["kusamakura-japanese-vertical-writing.epub"][0]
    # Headless Chromium here has only the voices the test gives it.
    page.add_init_script("""Object.defineProperty(speechSynthesis, 'getVoices',
        { value: () => [{ lang: 'en-US', name: 'English' }] });""")
    open_app(page, base, token)
    expect(page.get_by_role("button", name=READ_ALOUD)).to_be_hidden()
    with_voice = browser.new_page(locale="ja-JP")
    with_voice.add_init_script("""Object.defineProperty(speechSynthesis, 'getVoices',
        { value: () => [{ lang: 'en-US', name: 'English' }, { lang: 'ja-JP', name: 'Kyoko' }] });""")
    open_app(with_voice, base, token)
    button = with_voice.get_by_role("button", name=READ_ALOUD)
    expect(button).to_be_visible()
    assert button.get_attribute("aria-pressed") == "false"
    with_voice.close()


def test_reading_settings_are_kept_across_devices_and_reachable_by_keyboard(library, page: Page, browser, artifacts):
    base, tokens = library
    token = tokens["kusamakura-japanese-vertical-writing.epub"][0]
    open_app(page, base, token)
    flow = page.locator(".flow")
    assert flow.evaluate("el => getComputedStyle(el).writingMode") == "vertical-rl"
    page.get_by_label("文字の大きさ").select_option("150")
    page.get_by_label("背景").select_option("dark")
    page.get_by_label("ふりがな").uncheck()
    page.wait_for_timeout(300)
    other = browser.new_page(locale="ja-JP")  # another device
    open_app(other, base, token)
    assert other.locator(".flow").evaluate("el => el.style.fontSize") == "150%"
    assert other.locator("body").get_attribute("class") == "theme-dark no-ruby"
    assert other.get_by_label("ふりがな").is_checked() is False
    other.screenshot(path=str(artifacts / "library_ebooks_reader_app_dark.png"))
    # Each control has a label and the keyboard reaches it.
    for label in ("文字の大きさ", "行間", "背景", "ふりがな"):
        other.get_by_label(label).focus()
        assert other.evaluate("document.activeElement.tagName") in ("SELECT", "INPUT")
    other.close()


def test_a_token_opens_only_its_own_loan_and_not_after_it_ends(library):
    base, tokens = library
    token = tokens["wasteland.epub"][0]
    assert httpx.get(f"{base}/ebooks/read/{token}/pages/0").status_code == 200
    assert httpx.get(f"{base}/ebooks/read/{token}/pages/999").status_code == 404
    assert httpx.get(f"{base}/ebooks/read/not-a-token").status_code == 404
    assert httpx.get(f"{base}/ebooks/read/not-a-token/pages/0").status_code == 404
    response = httpx.get(f"{base}/ebooks/read/{token}")
    assert "script-src 'self'" in response.headers["content-security-policy"]
    assert response.headers["referrer-policy"] == "no-referrer"
    assert "拡大" in response.text  # Japanese by default; the portal passes its language on
    assert "Zoom in" in httpx.get(f"{base}/ebooks/read/{token}", params={"lang": "en"}).text


def test_opds_marks_fixed_layout_and_offers_no_download_for_browser_only_books(library):
    from xml.etree import ElementTree

    from portal.demo import DEMO_PASSWORD

    base, tokens = library
    atom = "{http://www.w3.org/2005/Atom}"
    manga = ElementTree.fromstring(httpx.get(f"{base}/opds/books/{tokens['haruko-html-jpeg.epub'][2]}").content)
    layouts = [c.get("term") for c in manga.iter(f"{atom}category")
               if c.get("scheme") == "http://www.idpf.org/vocab/rendition/#layout"]
    assert layouts == ["pre-paginated"]
    assert manga.find("{http://schema.org/}accessMode").text == "visual"
    novel = ElementTree.fromstring(httpx.get(f"{base}/opds/books/{tokens['moby-dick.epub'][2]}").content)
    assert novel.find("{http://schema.org/}accessMode").text == "textual"

    _, loan_id, title_id = tokens["wasteland-otf-obf.epub"]
    browser_only = ElementTree.fromstring(httpx.get(f"{base}/opds/books/{title_id}").content)
    assert not [link for link in browser_only.iter(f"{atom}link") if "acquisition" in link.get("rel")]
    auth = ("resident17", DEMO_PASSWORD)
    shelf = ElementTree.fromstring(httpx.get(f"{base}/opds/shelf", auth=auth).content)
    hrefs = [link.get("href") for link in shelf.iter(f"{atom}link")]
    assert f"/opds/loans/{loan_id}/book.epub" not in hrefs
    assert f"/opds/loans/{tokens['wasteland.epub'][1]}/book.epub" in hrefs
    refused = httpx.get(f"{base}/opds/loans/{loan_id}/book.epub", auth=auth)
    assert refused.status_code == 403 and "ブラウザでのみ" in refused.text
    fixed = httpx.get(f"{base}/opds/v2/search", params={"query": "ハルコ"}).json()["publications"]
    assert fixed[0]["metadata"]["presentation"] == {"layout": "fixed"}


SWIPE = """dx => {
    const stage = document.getElementById('stage'), box = stage.getBoundingClientRect();
    const y = box.top + box.height / 2, x = box.left + box.width / 2;
    const touch = (at) => new Touch({ identifier: 1, target: stage, clientX: at, clientY: y });
    stage.dispatchEvent(new TouchEvent('touchstart', { touches: [touch(x)], changedTouches: [touch(x)], bubbles: true }));
    stage.dispatchEvent(new TouchEvent('touchend', { touches: [], changedTouches: [touch(x + dx)], bubbles: true }));
}"""


def test_swipes_turn_pages_the_books_way(library, browser):
    base, tokens = library
    phone = browser.new_context(locale="ja-JP", has_touch=True, viewport={"width": 800, "height": 500})
    page = phone.new_page()
    open_app(page, base, tokens["haruko-html-jpeg.epub"][0], width=800, height=500)
    from_the_start(page)
    spread = page.locator("#spread")
    page.evaluate(SWIPE, 200)  # rtl: the finger drags the page to the right to go on
    expect(spread).to_have_attribute("data-pages", "1,2")
    page.evaluate(SWIPE, -200)
    expect(spread).to_have_attribute("data-pages", "0")
    open_app(page, base, tokens["page-blanche-bitmaps-in-spine.epub"][0], width=800, height=500)
    from_the_start(page)
    page.evaluate(SWIPE, -200)  # ltr: to the left to go on
    expect(spread).to_have_attribute("data-pages", "1")
    page.evaluate(SWIPE, 20)  # a tap-sized move turns nothing
    expect(spread).to_have_attribute("data-pages", "1")
    phone.close()


def test_pages_turn_with_the_keyboard_alone_and_every_control_shows_its_focus(library, page: Page, artifacts):
    """The keyboard walk of the reading app (issue 21, item 4): the arrow keys turn the pages in
    the book's direction wherever the focus is (but in a list), Tab reaches every control with a
    focus that can be seen, and Enter / Space on the turn buttons turn too. A turn button that
    goes disabled under the focus (the last page) hands the focus to the page, not to nowhere."""
    from tests.e2e.keyboard import Keyboard

    base, tokens = library
    open_app(page, base, tokens["page-blanche-bitmaps-in-spine.epub"][0])  # left to right
    from_the_start(page)
    spread, status = page.locator("#spread"), page.locator("#status")
    keys = Keyboard(page)
    assert keys.focused().role == "region"  # the page itself has the focus when the app opens
    keys.press("ArrowRight")
    expect(spread).to_have_attribute("data-pages", "1")
    keys.press("ArrowLeft")
    expect(spread).to_have_attribute("data-pages", "0")

    # Every control in turn, forwards, each with a focus that can be seen.
    names = []
    for _ in range(12):
        stop = keys.tab_to(lambda s: True)
        if stop.role == "region" and names:
            break
        names.append(stop.name)
    for control in ("拡大", "縮小", "背景", "次へ"):
        assert any(control in n for n in names), (control, names)
    assert keys.unseen == [], "focus not visible on:\n" + "\n".join(keys.unseen)

    # On the next-page button: Enter and Space press it; the arrows still turn from there.
    keys.tab_to(lambda s: s.name == "次へ")
    keys.press("Enter")
    expect(spread).to_have_attribute("data-pages", "1")
    keys.press("Space")
    expect(status).to_contain_text("3")
    keys.press("ArrowLeft")
    expect(spread).to_have_attribute("data-pages", "1")
    # To the end: the button goes disabled, the focus goes to the page, and the keys go on.
    keys.press("End", wait=300)
    expect(page.get_by_role("button", name="次へ")).to_be_disabled()
    assert keys.focused() is not None and keys.focused().role == "region", keys.focused()
    keys.check_visible(keys.focused())
    assert keys.unseen == []
    page.screenshot(path=str(artifacts / "library_ebooks_reader_app_keyboard_end.png"))
    keys.press("ArrowLeft")
    expect(page.get_by_role("button", name="次へ")).to_be_enabled()
    # Shift+Tab goes back to the previous-page button, and Space turns back once more.
    keys.tab_to(lambda s: s.name == "前へ", back=True, limit=12)
    before = spread.get_attribute("data-pages")
    keys.press("Space")
    expect(spread).not_to_have_attribute("data-pages", before)

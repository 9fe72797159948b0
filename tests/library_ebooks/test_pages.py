"""AppTest: each e-book page for the roles that may open it, on the demo city."""

from __future__ import annotations

from pathlib import Path

import pytest

from kernel.store import Store, shared_store
from library_ebooks.demo_books import CHAPTERS
from library_ebooks.services import catalogue

from .helpers import LIBRARIAN

PAGES = Path(__file__).resolve().parents[2] / "library_ebooks" / "pages"


def page(name: str) -> str:
    return str(PAGES / f"{name}.py")


def texts(at) -> str:
    return " ".join(str(e.value) for kind in ("markdown", "caption", "info", "success", "error", "warning")
                    for e in getattr(at, kind))


def test_catalogue_is_public_and_searches_japanese(app_for):
    at = app_for(page=page("catalogue"))
    assert not at.exception
    assert [x.value for x in at.title] == ["電子書籍をさがす"]
    at.text_input(key="ebooks_query").input("なつめそうせき").run()
    assert not at.exception
    shown = texts(at)
    assert "坊っちゃん" in shown and "吾輩は猫である" in shown and "羅生門" not in shown
    assert "借りるにはサインインしてください。" in shown
    assert not [b for b in at.button if b.key and b.key.startswith("borrow_")]


def test_catalogue_in_english(app_for):
    at = app_for(page=page("catalogue"), lang="en")
    assert not at.exception
    assert [x.value for x in at.title] == ["Find e-books"]
    assert "Pride and Prejudice" in texts(at)


def test_resident_borrows_from_the_catalogue_and_sees_it_in_my_loans(app_for):
    at = app_for(login="resident07", page=page("catalogue"))
    at.text_input(key="ebooks_query").input("銀河鉄道").run()
    borrow = next(b for b in at.button if b.key and b.key.startswith("borrow_"))
    borrow.click().run()
    assert not at.exception
    assert any("銀河鉄道の夜" in s.value for s in at.success)
    at.switch_page(page("mine")).run()
    assert not at.exception
    assert "銀河鉄道の夜" in texts(at)


def test_resident_places_a_hold_when_all_copies_are_out(app_for):
    at = app_for(login="resident07", page=page("catalogue"))
    at.text_input(key="ebooks_query").input("坊っちゃん").run()
    hold = next(b for b in at.button if b.key and b.key.startswith("hold_"))
    hold.click().run()
    assert not at.exception
    assert any("予約しました" in s.value for s in at.success)
    at.switch_page(page("mine")).run()
    assert "順番待ち 3 番目" in texts(at)  # behind resident03 and resident04 (resident01's copy is kept)


def test_my_loans_shows_only_my_own(app_for):
    at = app_for(login="resident01", page=page("mine"))
    assert not at.exception
    shown = texts(at)
    assert "走れメロス" in shown and "Alice's Adventures in Wonderland" in shown
    assert "吾輩は猫である" not in shown  # resident05's loan
    assert "お取り置き中" in shown         # resident01's hold on 坊っちゃん: a copy kept for them


def test_return_from_my_loans(app_for):
    at = app_for(login="resident01", page=page("mine"))
    return_button = next(b for b in at.button if b.key and b.key.startswith("return_"))
    return_button.click().run()
    assert not at.exception
    assert any("返却しました" in s.value for s in at.success)


def test_reader_opens_a_vertical_book_and_moves_on(app_for):
    at = app_for(login="resident01", page=page("reader"))
    assert not at.exception
    assert at.selectbox[0].value is not None
    at.selectbox[0].select(next(o for o in at.selectbox[0].options if "走れメロス" in o)).run()
    html = at.get("html")[0].proto.body
    assert "writing-mode: vertical-rl" in html and "メロスは激怒した" in html
    at.button(key="next_top").click().run()
    assert not at.exception
    assert f"2 / {CHAPTERS}" in texts(at)


@pytest.mark.parametrize("login", [None, "librarian01", "teacher01"])
def test_reader_is_not_offered_to_non_residents(app_for, login):
    with pytest.raises(ValueError, match="Could not find a navigation page"):
        app_for(login=login, page=page("reader"))


def test_librarian_titles_page_lists_and_adds_a_license(app_for):
    at = app_for(login="librarian01", page=page("titles"))
    assert not at.exception
    assert [x.value for x in at.title] == ["電子書籍の登録とライセンス"]
    licenses_before = len(at.dataframe[0].value)  # the chosen title's licenses
    submit = next(b for b in at.button if "ライセンスを追加" in str(b.label))
    submit.click().run()
    assert not at.exception and not at.error
    assert len(at.dataframe[0].value) == licenses_before + 1


def test_circulation_page_for_librarians(app_for):
    at = app_for(login="librarian01", page=page("circulation"), lang="en")
    assert not at.exception
    assert [x.value for x in at.title] == ["Circulation"]
    assert [m.value for m in at.metric][1] == "2"  # holds waiting on 坊っちゃん
    assert "坊っちゃん" in at.dataframe[0].value.iloc[:, 0].tolist()


def test_resident_cannot_open_librarian_pages(app_for):
    with pytest.raises(ValueError, match="Could not find a navigation page"):
        app_for(login="resident01", page=page("circulation"))


def test_a_returned_copy_is_offered_to_the_next_in_line_who_takes_it(app_for):
    at = app_for(login="resident02", page=page("mine"))
    next(b for b in at.button if b.key and b.key.startswith("return_")).click().run()
    assert any("返却しました" in s.value for s in at.success)

    at = app_for(login="resident03", page=page("mine"))
    assert any("お取り置き中" in s.value for s in at.success)
    at.switch_page(page("catalogue")).run()
    at.text_input(key="ebooks_query").input("坊っちゃん").run()
    assert [b for b in at.button if b.key and b.key.startswith("borrow_")]  # the offer is theirs to take
    at.switch_page(page("mine")).run()
    next(b for b in at.button if b.key and b.key.startswith("take_")).click().run()
    assert not at.exception
    assert "坊っちゃん" in " ".join(m.value for m in at.markdown)
    assert not [b for b in at.button if b.key and b.key.startswith("take_")]


def test_book_metadata_is_shown_as_text_not_markdown():
    from library_ebooks.pages._shared import md

    shown = md("![pixel](https://evil.example/t.png) [click](javascript:alert(1)) **bold** 吾輩は猫である")
    assert "](" not in shown and "![" not in shown and "**" not in shown and "https:" not in shown
    assert shown.replace("\\", "") == "![pixel](https://evil.example/t.png) [click](javascript:alert(1)) **bold** 吾輩は猫である"


def test_catalogue_shows_a_cover_that_import_left_to_make(app_for, fresh_demo_db, clock):
    """Moby-Dick's cover is a large JPEG: import only finds it, the catalogue page makes it."""
    store = Store(fresh_demo_db)
    try:
        data = (Path("/work/shared/corpus/epub") / "moby-dick.epub").read_bytes()
        title_id = catalogue.import_epub(store, clock, LIBRARIAN, data, "moby-dick.epub").title_id
        assert store.scalar("SELECT cover_jpeg IS NULL FROM library_ebooks_files WHERE title_id = ?", [title_id])
    finally:
        store.close()
    at = app_for(page=page("catalogue"), lang="en")
    at.text_input(key="ebooks_query").input("Moby-Dick").run()
    assert not at.exception
    assert "Herman Melville" in texts(at)
    images = at.get("image")
    assert len(images) == 1
    # …and keeps it (the page's own store: the file is open in this process).
    kept = shared_store(fresh_demo_db).scalar("SELECT cover_jpeg FROM library_ebooks_files WHERE title_id = ?",
                                              [title_id])
    assert kept[:2] == b"\xff\xd8"


def book_id(title: str, db) -> int:
    store = Store(db, read_only=True)
    try:
        return store.scalar("SELECT id FROM library_ebooks_titles WHERE title = ?", [title])
    finally:
        store.close()


def test_book_page_for_an_anonymous_visitor(app_for, fresh_demo_db):
    neko = book_id("吾輩は猫である", fresh_demo_db)
    at = app_for()
    at.query_params["id"] = str(neko)
    at.switch_page(page("book")).run()
    assert not at.exception
    assert [x.value for x in at.title] == ["吾輩は猫である"]
    shown = texts(at)
    assert "夏目 漱石（なつめ そうせき） — 著" in shown
    assert "中学校の英語教師の家に飼われる猫" in shown and "日本文学" in shown
    assert "1 / 2 冊 貸出可" in shown and "借りるにはサインインしてください。" in shown
    assert "夏目 漱石 のほかの本" in [h.value for h in at.subheader]
    assert len(at.get("image")) == 1 + 2  # the cover, and 草枕 and 坊っちゃん
    assert not [b for b in at.button if b.key in ("book_borrow", "book_hold")]


def test_book_page_for_a_signed_in_resident_borrows_and_holds(app_for, fresh_demo_db):
    kusamakura, botchan = book_id("草枕", fresh_demo_db), book_id("坊っちゃん", fresh_demo_db)
    at = app_for(login="resident07")
    at.query_params["id"] = str(kusamakura)
    at.switch_page(page("book")).run()
    at.button(key="book_borrow").click().run()
    assert not at.exception
    assert any("「草枕」を借りました" in s.value for s in at.success)
    assert [b for b in at.button if b.key == "book_read"]
    at.query_params["id"] = str(botchan)
    at.switch_page(page("book")).run()
    assert "予約待ち 3 人" in texts(at)  # resident01's kept copy and two waiting
    at.button(key="book_hold").click().run()
    assert any("予約しました" in s.value for s in at.success)


def test_book_page_for_an_unknown_book(app_for):
    at = app_for()
    at.query_params["id"] = "999999"
    at.switch_page(page("book")).run()
    assert not at.exception
    assert "その本は目録にありません" in texts(at)


def test_catalogue_first_page_has_shelves_and_pages_by_number(app_for):
    at = app_for(page=page("catalogue"))
    headings = [h.value for h in at.subheader]
    assert headings[:2] == ["新着", "こどもの本・絵本"]
    assert "件名: 日本文学" in headings
    assert {"ebooks_page_1", "ebooks_page_2", "ebooks_page_next"} <= {b.key for b in at.button}
    at.button(key="ebooks_page_2").click().run()
    assert not at.exception
    assert "2 / 2 ページ" in texts(at)
    assert not at.subheader  # the shelves belong to the first page


def test_reader_settings_are_kept_for_the_resident_across_sessions(app_for):
    at = app_for(login="resident01", page=page("reader"))
    size = next(s for s in at.selectbox if s.label == "文字の大きさ")
    size.select(150).run()
    next(s for s in at.selectbox if s.label == "背景").select("dark").run()
    assert not at.exception
    html = at.get("html")[0].proto.body
    assert "font-size: 150%" in html and "background: #121212" in html
    again = app_for(login="resident01", page=page("reader"))  # another device
    assert next(s for s in again.selectbox if s.label == "文字の大きさ").value == 150
    assert next(s for s in again.selectbox if s.label == "背景").value == "dark"


def test_a_fixed_layout_book_opens_in_the_reading_app(app_for, fresh_demo_db):
    kuma = book_id("くまのこ いいづかを あるく", fresh_demo_db)
    at = app_for(login="resident07")
    at.query_params["id"] = str(kuma)
    at.switch_page(page("book")).run()
    assert "ブラウザでのみ読めます" in texts(at)
    at.button(key="book_borrow").click().run()
    at.button(key="book_read").click().run()
    assert not at.exception
    links = [e.proto.url for e in at.get("link_button")]
    assert len(links) == 1 and links[0].startswith("/ebooks/read/") and links[0].endswith("?lang=ja")

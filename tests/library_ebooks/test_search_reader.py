"""Japanese-aware search, and the reader: borrower only, sanitised chapters, position."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from kernel.errors import NotFound
from library_ebooks.demo_books import CHAPTERS, SHELF
from library_ebooks.services import catalogue, lending, reader

from .helpers import LIBRARIAN, add_book, resident

KUSAMAKURA = Path("/work/shared/corpus/epub/kusamakura-japanese-vertical-writing.epub")


@pytest.fixture
def shelf(store, clock):
    ids = {book.key: add_book(store, clock, book.key, copies=1) for book in SHELF}
    catalogue.import_epub(store, clock, LIBRARIAN, KUSAMAKURA.read_bytes(), KUSAMAKURA.name)
    return ids


def titles(result) -> list[str]:
    return [c.title for c in result.cards]


@pytest.mark.parametrize("query,expected", [
    ("草枕", "草枕"),
    ("くさまくら", "草枕"),            # the title's kana reading
    ("なつめそうせき", "坊っちゃん"),  # the author's reading, without the space
    ("漱石", "吾輩は猫である"),
    ("夏目漱石", "坊っちゃん"),
    ("銀河", "銀河鉄道の夜"),
    ("ぎんがてつどう", "銀河鉄道の夜"),
    ("あくたがわ", "羅生門"),
    ("郷土資料", "飯塚の歩み — 炭鉱のまちから学びのまちへ"),
    ("炭鉱", "飯塚の歩み — 炭鉱のまちから学びのまちへ"),
    ("Sherlock", "The Adventures of Sherlock Holmes"),
    ("rabbit", "Alice's Adventures in Wonderland"),
])
def test_search_finds_by_title_reading_creator_subject_and_description(store, clock, shelf, query, expected):
    assert expected in titles(catalogue.search(store, clock, query))


def test_search_ranks_title_matches_above_description_matches(store, clock, shelf):
    result = catalogue.search(store, clock, "夏目 漱石")
    assert set(titles(result)[:3]) == {"草枕", "坊っちゃん", "吾輩は猫である"}
    assert result.cards[0].score >= result.cards[-1].score


def test_search_filters_language_subject_and_availability(store, clock, shelf):
    english = catalogue.search(store, clock, "", language="en")
    assert set(titles(english)) == {"Alice's Adventures in Wonderland", "Pride and Prejudice",
                                    "The Adventures of Sherlock Holmes"}
    children = catalogue.search(store, clock, "", subject="児童文学")
    assert set(titles(children)) == {"蜘蛛の糸", "銀河鉄道の夜", "注文の多い料理店"}
    lending.borrow(store, clock, resident(1), shelf["ginga"])
    available = catalogue.search(store, clock, "", subject="児童文学", available_only=True)
    assert set(titles(available)) == {"蜘蛛の糸", "注文の多い料理店"}
    # The corpus's Kusamakura has no license: never "available" (the demo shelf's own 草枕 is).
    available_all = catalogue.search(store, clock, "", available_only=True).cards
    assert not [c for c in available_all if c.identifier and "aozora" in c.identifier]
    assert "ja" in catalogue.languages(store) and "児童文学" in catalogue.subjects(store)


def test_nothing_found_is_empty(store, clock, shelf):
    result = catalogue.search(store, clock, "存在しないことば xyzzy")
    assert result.total == 0 and result.cards == []


def test_reader_serves_the_borrower_only_and_remembers_the_position(store, clock, shelf):
    loan = lending.borrow(store, clock, resident(1), shelf["neko"]).id
    book = reader.open_book(store, clock, resident(1), loan)
    assert book.writing == "vertical" and book.chapters == CHAPTERS and book.position == 0
    assert [label for label, _, _ in book.toc] == list("一二三四五六七八")[:CHAPTERS]
    html = reader.chapter(store, clock, resident(1), loan, 0)
    assert "<ruby>吾輩<rt>わがはい</rt></ruby>" in html
    reader.save_position(store, clock, resident(1), loan, 2)
    assert reader.open_book(store, clock, resident(1), loan).position == 2
    with pytest.raises(NotFound):
        reader.chapter(store, clock, resident(2), loan, 0)
    with pytest.raises(NotFound):
        reader.download(store, clock, resident(2), loan)
    clock.advance(timedelta(days=14))  # the loan ended by itself
    with pytest.raises(NotFound):
        reader.chapter(store, clock, resident(1), loan, 0)


PAYLOADS = (
    '<p>ok</p><script>alert("x")</script>'
    '<img src="pic.png" onerror="alert(1)">'
    '<a href="javascript:alert(2)">js</a><a href="#note">note</a>'
    '<a href="https://evil.example/">out</a>'
    '<img src="https://evil.example/track.gif">'
    '<p onclick="steal()" style="background:url(https://evil.example/x)">click</p>'
    '<iframe src="https://evil.example"></iframe><object data="x"></object>'
    '<svg><script>alert(3)</script></svg><form action="/x"><input name="q"></form>'
    '<ruby>漢字<rp>(</rp><rt>かんじ</rt><rp>)</rp></ruby>'
)


def test_sanitiser_removes_script_handlers_javascript_and_external_loads():
    png = b"\x89PNG\r\n\x1a\n fake"
    html = reader.sanitise(f"<html><body>{PAYLOADS}</body></html>".encode(), "OPS/ch.xhtml",
                           lambda path: png if path == "OPS/pic.png" else None)
    lowered = html.lower()
    for bad in ("<script", "onerror", "onclick", "javascript:", "evil.example", "<iframe", "<object", "<form",
                "<input", "style="):
        assert bad not in lowered, bad
    assert 'src="data:image/png;base64,' in html  # the book's own image, inlined
    assert '<a href="#note">' in html
    assert "<ruby>漢字<rp>(</rp><rt>かんじ</rt><rp>)</rp></ruby>" in html


def test_kusamakura_chapter_renders_from_the_real_file(store, clock, shelf):
    title_id = store.scalar("SELECT id FROM library_ebooks_titles WHERE title = '草枕'")
    catalogue.add_license(store, clock, LIBRARIAN, title_id, "one_copy", copies=1)
    loan = lending.borrow(store, clock, resident(1), title_id).id
    book = reader.open_book(store, clock, resident(1), loan)
    assert book.writing == "vertical"
    first = next(index for label, index, _ in book.toc if label == "一")
    html = reader.chapter(store, clock, resident(1), loan, first)
    assert "を登りながら、こう考えた。" in html and "<script" not in html

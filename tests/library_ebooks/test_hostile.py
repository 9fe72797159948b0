"""Hostile archives: paths that escape, names twice, zip bombs. Each is crafted here
with zipfile, refused with its reason, and leaves nothing stored; the reader and the
download for reading apps apply the same checks to what is already stored."""

from __future__ import annotations

import io
import struct
import warnings
import zipfile

import pytest

from kernel.errors import ManabiError
from library_ebooks.services import catalogue, lending, reader
from library_ebooks.services.epub import MAX_BOOK_BYTES, MAX_ENTRY_BYTES, MAX_RATIO, parse_epub

from .helpers import CHAPTER, CONTAINER, LIBRARIAN, handmade_epub, package, resident


def row_counts(store) -> tuple[int, ...]:
    return tuple(store.scalar(f"SELECT count(*) FROM library_ebooks_{t}") for t in ("titles", "files", "terms"))


def with_entries(extra: list[tuple[str, bytes]], *, compress: int = zipfile.ZIP_DEFLATED) -> bytes:
    """A valid minimal EPUB plus `extra` entries written as they are (names unchecked)."""
    out = io.BytesIO()
    with warnings.catch_warnings(), zipfile.ZipFile(out, "w", compress) as z:
        warnings.simplefilter("ignore")  # zipfile warns about a duplicate name: that is the point
        z.writestr("mimetype", "application/epub+zip", zipfile.ZIP_STORED)
        z.writestr("META-INF/container.xml", CONTAINER)
        z.writestr("OPS/book.opf", package())
        z.writestr("OPS/ch1.xhtml", CHAPTER)
        for name, data in extra:
            z.writestr(zipfile.ZipInfo(name), data, compress)
    return out.getvalue()


def declare_sizes(data: bytes, name: str, size: int) -> bytes:
    """The archive with `name`'s sizes in the central directory rewritten to `size`
    (compressed and uncompressed alike: a plausible ratio, an implausible size)."""
    data = bytearray(data)
    start = 0
    while (start := data.find(b"PK\x01\x02", start)) >= 0:
        name_length = struct.unpack_from("<H", data, start + 28)[0]
        if data[start + 46:start + 46 + name_length].decode() == name:
            struct.pack_into("<II", data, start + 20, size, size)
        start += 46
    return bytes(data)


def big_book() -> bytes:
    """Nine entries each declaring 60 MB: none past the entry limit, the book past its own."""
    per_entry = 60 * 2**20
    data = with_entries([(f"OPS/p{i}.jpg", b"x") for i in range(9)], compress=zipfile.ZIP_STORED)
    for i in range(9):
        data = declare_sizes(data, f"OPS/p{i}.jpg", per_entry)
    assert 9 * per_entry > MAX_BOOK_BYTES and per_entry < MAX_ENTRY_BYTES
    return data


HOSTILE = {
    "absolute_path": lambda: with_entries([("/tmp/x", b"evil")]),
    "absolute_path_drive": lambda: with_entries([("C:/Windows/evil.dll", b"evil")]),
    "parent_path": lambda: with_entries([("../../../../tmp/x", b"evil")]),
    "parent_path_inside": lambda: with_entries([("OEBPS/../../evil.xhtml", b"evil")]),
    "backslash": lambda: with_entries([("OPS\\..\\evil.xhtml", b"evil")]),
    "duplicate_entry": lambda: with_entries([("OPS/ch1.xhtml", CHAPTER.replace("Hello", "Evil").encode())]),
    # 3 MB of zeros deflate to ~3 kB: a ratio of ~1000 (a 2 GiB bomb has the same shape)
    "compression_ratio": lambda: with_entries([("OPS/bomb.xhtml", bytes(3 * 2**20))]),
    "entry_too_large": lambda: declare_sizes(with_entries([("OPS/huge.jpg", b"x")], compress=zipfile.ZIP_STORED),
                                             "OPS/huge.jpg", MAX_ENTRY_BYTES + 1),
    "book_too_large": big_book,
}


@pytest.mark.parametrize("kind", list(HOSTILE))
def test_hostile_archives_are_refused_with_their_reason_and_nothing_is_stored(store, clock, tmp_path, kind):
    data = HOSTILE[kind]()
    reason = kind.removesuffix("_drive").removesuffix("_inside")
    before = row_counts(store)
    result = catalogue.import_epub(store, clock, LIBRARIAN, data, "hostile.epub")
    assert (result.status, result.reason_key) == ("rejected", f"ingest.reason.{reason}")
    path = tmp_path / "hostile.epub"
    path.write_bytes(data)
    [batch_result] = catalogue.import_files(store, clock, LIBRARIAN, [path])
    assert batch_result.reason_key == f"ingest.reason.{reason}"
    assert row_counts(store) == before


def test_the_reasons_name_the_entry_in_words_a_librarian_reads(store, clock):
    from kernel.i18n import Translator, load_catalogue
    from library_ebooks.routes import _CATALOGUE_FILES

    t = Translator("ja", load_catalogue(_CATALOGUE_FILES), strict=True)
    result = catalogue.import_epub(store, clock, LIBRARIAN, HOSTILE["parent_path_inside"](), "h.epub")
    message = t(result.reason_key, **result.reason_params)
    assert "OEBPS/../../evil.xhtml" in message and "安全のため登録できません" in message
    result = catalogue.import_epub(store, clock, LIBRARIAN, HOSTILE["compression_ratio"](), "h.epub")
    assert result.reason_params["ratio"] > MAX_RATIO
    assert "ZIP 爆弾" in t(result.reason_key, **result.reason_params)


def test_a_well_compressed_small_page_is_no_bomb(store, clock):
    # A blank page of a few hundred kB of spaces compresses ~1000x yet is harmless.
    spaces = CHAPTER.replace("Hello", " " * 300_000)
    assert parse_epub(handmade_epub({"OPS/ch1.xhtml": spaces})).title == "A Test Book"


def _store_raw(store, clock, data: bytes) -> int:
    """Put a file in the catalogue the way an older version did, without the archive checks."""
    book = parse_epub(handmade_epub())
    book.identifier = "urn:test:stored-before-checks"

    def insert(cur):
        return catalogue.insert_book(cur, book, data, clock.now(), LIBRARIAN.user_id).title_id

    title_id = store.write(insert)
    catalogue.add_license(store, clock, LIBRARIAN, title_id, "simultaneous")
    return title_id


def test_reader_and_download_refuse_an_archive_stored_before_the_checks(store, clock):
    title_id = _store_raw(store, clock, HOSTILE["parent_path"]())
    reader_actor = resident(1)
    loan_id = lending.borrow(store, clock, reader_actor, title_id).id
    with pytest.raises(ManabiError) as refused:
        reader.download(store, clock, reader_actor, loan_id)
    assert refused.value.key == "ingest.reason.parent_path"
    with pytest.raises(ManabiError) as refused:
        reader.chapter(store, clock, reader_actor, loan_id, 0)
    assert refused.value.key == "ingest.reason.parent_path"


def test_reader_gives_up_on_a_chapter_past_its_limit_without_inflating_it(store, clock):
    # A chapter (stored uncompressed) past the reader's limit: the reader stops reading there.
    from library_ebooks.services.reader import MAX_CHAPTER_BYTES

    text = ("<p>" + "あいうえお" * 20 + "</p>\n").encode()
    big_chapter = CHAPTER.encode().replace(b"<p>Hello</p>", text * (MAX_CHAPTER_BYTES // len(text) + 10))
    title_id = _store_raw(store, clock, handmade_epub({"OPS/ch1.xhtml": big_chapter}))
    loan_id = lending.borrow(store, clock, resident(2), title_id).id
    with pytest.raises(ManabiError) as refused:
        reader.chapter(store, clock, resident(2), loan_id, 0)
    assert refused.value.key == "reader.too_large"

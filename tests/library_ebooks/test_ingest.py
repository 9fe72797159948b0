"""Importing EPUBs: metadata of every corpus file, every kind of refusal, duplicates,
all-or-nothing, and the `manabi ebooks import` command."""

from __future__ import annotations

import io
import json
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from PIL import Image

from kernel.errors import PermissionDenied
from kernel.migrations import discover, migrate
from kernel.store import Store
from library_ebooks.demo_books import make_epub
from library_ebooks.services import catalogue
from library_ebooks.services.epub import COVER_BOX, normalise_isbn, parse_epub

from .helpers import BOOKS, LIBRARIAN, add_book, handmade_epub, package, resident

CORPUS = Path("/work/shared/corpus/epub")
CORPUS_FILES = sorted(CORPUS.glob("*.epub"))
ROOT = Path(__file__).resolve().parents[2]


def row_counts(store) -> tuple[int, int, int]:
    return tuple(store.scalar(f"SELECT count(*) FROM library_ebooks_{t}") for t in ("titles", "files", "terms"))


def test_the_corpus_is_there():
    assert len(CORPUS_FILES) >= 8


@pytest.mark.parametrize("path", CORPUS_FILES, ids=lambda p: p.name)
def test_every_corpus_file_imports_or_is_rejected_with_a_reason(store, clock, path):
    result = catalogue.import_epub(store, clock, LIBRARIAN, path.read_bytes(), path.name)
    assert result.status in ("imported", "rejected")
    if result.status == "rejected":
        assert result.reason_key.startswith("ingest.reason.")
    else:
        card = catalogue.get_title(store, clock, result.title_id)
        assert card.title and card.language


def test_kusamakura_is_vertical_japanese_with_kana_readings(store, clock):
    book = parse_epub((CORPUS / "kusamakura-japanese-vertical-writing.epub").read_bytes())
    assert book.title == "草枕"
    assert book.title_reading == "くさまくら"
    assert [(c.name, c.file_as, c.role) for c in book.creators] == [("夏目 漱石", "なつめ そうせき", "aut")]
    assert book.language == "ja-jp"
    assert book.page_direction == "rtl" and book.writing == "vertical"
    assert book.identifier == "http://www.aozora.gr.jp/cards/000148/card776.html"
    # Its package lists two audio files the ZIP lacks: they are skipped, the text is kept.
    assert len(book.spine) >= 10 and all(p.endswith(".xhtml") for p in book.spine)
    assert [e.label for e in book.toc[:3]] == ["一", "二", "三"]


def test_arabic_book_is_right_to_left(store, clock):
    book = parse_epub((CORPUS / "regime-anticancer-arabic.epub").read_bytes())
    assert book.language == "ar" and book.page_direction == "rtl" and book.writing == "rtl"
    assert [c.role for c in book.creators] == ["aut", "aut", "trl"]
    assert book.publisher == "Hachette Antoine" and book.published == "2012"
    assert book.cover_image  # a JPEG thumbnail
    assert book.cover_image[:2] == b"\xff\xd8"


def test_epub2_smoke_test_reads_its_ncx(store, clock):
    book = parse_epub((CORPUS / "SmokeTest-EPUB2.epub").read_bytes())
    assert book.epub_version == "2.0"
    assert book.subjects == ["testfile"]
    assert book.toc[0].label == "1. King Solomon's Mines"


def test_moby_dick_has_creator_file_as_publisher_and_a_long_toc(store, clock):
    book = parse_epub((CORPUS / "moby-dick.epub").read_bytes())
    assert book.title == "Moby-Dick"
    assert book.creators[0].file_as == "MELVILLE, HERMAN"
    assert book.publisher == "Harper & Brothers, Publishers"
    assert len(book.toc) > 100 and book.cover_image


def test_font_obfuscation_is_not_drm(store, clock):
    result = catalogue.import_epub(store, clock, LIBRARIAN, (CORPUS / "wasteland-otf-obf.epub").read_bytes(), "w.epub")
    assert result.status == "imported" and result.title == "The Waste Land"


def test_two_titles_two_creators(store, clock):
    book = parse_epub((CORPUS / "childrens-literature.epub").read_bytes())
    assert book.title == "Children's Literature"
    assert [c.file_as for c in book.creators] == ["Curry, Charles Madison", "Clippinger, Erle Elsworth"]


ENCRYPTION_AES = """<encryption xmlns="urn:oasis:names:tc:opendocument:xmlns:container">
 <EncryptedData xmlns="http://www.w3.org/2001/04/xmlenc#">
  <EncryptionMethod Algorithm="http://www.w3.org/2001/04/xmlenc#aes128-cbc"/>
  <CipherData><CipherReference URI="OPS/ch1.xhtml"/></CipherData></EncryptedData></encryption>"""


@pytest.mark.parametrize("data,reason", [
    (b"", "not_zip"),
    (b"This is a text file, not a book.", "not_zip"),
    (handmade_epub({"META-INF/container.xml": None}), "no_container"),
    (handmade_epub({"META-INF/container.xml": "<container><broken"}), "bad_container"),
    (handmade_epub({"OPS/book.opf": None}), "no_package"),
    (handmade_epub({"OPS/book.opf": "<package><metadata>"}), "bad_package"),
    (handmade_epub({"META-INF/encryption.xml": ENCRYPTION_AES}), "encrypted"),
    (handmade_epub({"META-INF/rights.xml": "<rights/>"}), "encrypted"),
    (handmade_epub({"OPS/book.opf": package(title=None)}), "no_title"),
    (handmade_epub({"OPS/book.opf": package(title="  ")}), "no_title"),
    (handmade_epub({"OPS/book.opf": package(spine_href="missing.xhtml")}), "no_content"),
], ids=["empty", "text", "no-container", "bad-container", "no-package", "bad-package", "encrypted",
        "adobe-rights", "no-title", "blank-title", "no-content"])
def test_broken_files_are_rejected_with_their_reason_and_leave_nothing(store, clock, tmp_path, data, reason):
    path = tmp_path / "broken.epub"
    path.write_bytes(data)
    before = row_counts(store)
    [result] = catalogue.import_files(store, clock, LIBRARIAN, [path])
    assert (result.status, result.reason_key) == ("rejected", f"ingest.reason.{reason}")
    assert row_counts(store) == before


def test_a_minimal_handmade_epub_imports(store, clock):
    result = catalogue.import_epub(store, clock, LIBRARIAN, handmade_epub(), "min.epub")
    assert result.status == "imported" and result.title == "A Test Book"


def test_duplicates_by_content_and_by_identifier(store, clock):
    data = make_epub(BOOKS["neko"])
    first = catalogue.import_epub(store, clock, LIBRARIAN, data, "a.epub")
    again = catalogue.import_epub(store, clock, LIBRARIAN, data, "b.epub")
    assert again.status == "duplicate" and again.reason_key == "ingest.reason.same_content"
    retitled = make_epub(BOOKS["neko"], title="吾輩は猫である（新版）")
    same_id = catalogue.import_epub(store, clock, LIBRARIAN, retitled, "c.epub")
    assert same_id.status == "duplicate" and same_id.reason_key == "ingest.reason.same_identifier"
    assert same_id.title_id == first.title_id
    assert store.scalar("SELECT count(*) FROM library_ebooks_titles") == 1


def test_isbn_is_recognised_and_normalised(store, clock):
    opf = package(identifier="urn:isbn:978-4-10-101001-4")
    book = parse_epub(handmade_epub({"OPS/book.opf": opf}))
    assert book.isbn == "9784101010014"
    assert normalise_isbn("4-10-101001-3") == "9784101010014"  # ISBN-10 → 13
    assert normalise_isbn("978-4-10-101001-1") is None  # wrong check digit


def test_only_staff_may_import(store, clock):
    with pytest.raises(PermissionDenied):
        catalogue.import_epub(store, clock, resident(1), handmade_epub(), "x.epub")


def test_missing_file_is_rejected(store, clock, tmp_path):
    [result] = catalogue.import_files(store, clock, LIBRARIAN, [tmp_path / "nope.epub"])
    assert result.reason_key == "ingest.reason.unreadable_file"


def test_cli_import_json_and_exit_code(tmp_path):
    good, bad = tmp_path / "good.epub", tmp_path / "bad.epub"
    good.write_bytes(make_epub(BOOKS["alice"]))
    bad.write_bytes(b"not a zip")
    manabi = [sys.executable, "-m", "portal.cli_main", "--db", str(tmp_path / "cli.duckdb")]
    done = subprocess.run([*manabi, "ebooks", "import", str(good), str(bad), "--json"],
                          capture_output=True, text=True, cwd=ROOT, env={"MANABI_LANG": "en", "PATH": "/usr/bin"})
    assert done.returncode == 1, done.stderr
    results = json.loads(done.stdout)
    assert [(r["status"], r["title"]) for r in results] == [("imported", "Alice's Adventures in Wonderland"),
                                                            ("rejected", None)]
    assert "not a ZIP" in results[1]["reason"]
    listed = subprocess.run([*manabi, "ebooks", "list", "--json"], capture_output=True, text=True, cwd=ROOT)
    assert listed.returncode == 0
    assert [t["title"] for t in json.loads(listed.stdout)] == ["Alice's Adventures in Wonderland"]
    again = subprocess.run([*manabi, "ebooks", "import", str(good)], capture_output=True, text=True, cwd=ROOT,
                           env={"MANABI_LANG": "en", "PATH": "/usr/bin"})
    assert again.returncode == 0 and "duplicate" in again.stdout
    title_id = json.loads(listed.stdout)[0]["id"]
    licensed = subprocess.run([*manabi, "ebooks", "license", str(title_id), "--model", "metered", "--copies", "2",
                               "--loans", "10", "--json"], capture_output=True, text=True, cwd=ROOT)
    assert licensed.returncode == 0, licensed.stderr
    refused = subprocess.run([*manabi, "ebooks", "license", str(title_id), "--model", "metered", "--copies", "1"],
                             capture_output=True, text=True, cwd=ROOT, env={"MANABI_LANG": "en", "PATH": "/usr/bin"})
    assert refused.returncode == 1 and "metered license needs" in refused.stderr
    listed = subprocess.run([*manabi, "ebooks", "list", "--json"], capture_output=True, text=True, cwd=ROOT)
    assert json.loads(listed.stdout)[0]["copies"] == 2
    for command in ("import", "list", "license"):
        helped = subprocess.run([*manabi, "ebooks", command, "--help"], capture_output=True, text=True, cwd=ROOT)
        assert helped.returncode == 0 and "Usage" in helped.stdout


def test_import_files_keeps_order_and_spots_duplicates_inside_one_batch(store, clock, tmp_path):
    files = []
    for name, data in (("a.epub", make_epub(BOOKS["neko"])), ("broken.epub", b"nope"),
                       ("b.epub", make_epub(BOOKS["neko"], title="別の版")), ("c.epub", make_epub(BOOKS["alice"])),
                       ("a-again.epub", make_epub(BOOKS["neko"]))):
        path = tmp_path / name
        path.write_bytes(data)
        files.append(path)
    seen = []
    results = catalogue.import_files(store, clock, LIBRARIAN, files, on_progress=lambda done, r: seen.append(done))
    assert [(Path(r.file).name, r.status) for r in results] == [
        ("a.epub", "imported"), ("broken.epub", "rejected"), ("b.epub", "duplicate"), ("c.epub", "imported"),
        ("a-again.epub", "duplicate")]
    assert seen == [1, 2, 3, 4, 5]
    assert row_counts(store)[:2] == (2, 2)


def test_books_survive_backup_and_restore(tmp_path):
    """EPUBs and covers live in the database (BLOBs), so `manabi backup` carries them."""
    book = tmp_path / "neko.epub"
    book.write_bytes(make_epub(BOOKS["neko"]))
    db, restored = tmp_path / "a.duckdb", tmp_path / "b.duckdb"
    run = [sys.executable, "-m", "portal.cli_main"]
    for args in (["--db", str(db), "ebooks", "import", str(book)], ["--db", str(db), "backup", str(tmp_path / "bk")],
                 ["--db", str(restored), "restore", str(tmp_path / "bk")]):
        done = subprocess.run([*run, *args], capture_output=True, text=True, cwd=ROOT)
        assert done.returncode == 0, done.stderr
    import duckdb

    with duckdb.connect(str(restored), read_only=True) as con:
        epub, cover = con.execute("SELECT epub, cover_jpeg FROM library_ebooks_files").fetchone()
    assert epub == book.read_bytes() and cover[:2] == b"\xff\xd8"


# --------------------------------------------------------------------------- covers

def cover_row(store, title_id: int) -> tuple:
    return store.query("""SELECT f.cover_jpeg, f.cover_path, t.has_cover FROM library_ebooks_files f
                          JOIN library_ebooks_titles t ON t.id = f.title_id WHERE t.id = ?""", [title_id])[0]


def is_thumbnail(data: bytes | None) -> bool:
    with Image.open(io.BytesIO(data)) as image:
        return image.format == "JPEG" and image.width <= COVER_BOX[0] * 1.3 and image.height <= COVER_BOX[1] * 1.3


def test_a_cover_thumbnail_is_made_when_first_shown_and_kept(store, clock):
    """Import only finds the cover and reads its header; the first view makes the thumbnail."""
    data = (CORPUS / "childrens-literature.epub").read_bytes()  # a 500×714 PNG cover
    title_id = catalogue.import_epub(store, clock, LIBRARIAN, data, "c.epub").title_id
    assert cover_row(store, title_id) == (None, "EPUB/images/cover.png", True)
    assert catalogue.get_title(store, clock, title_id).has_cover
    jpeg = catalogue.cover(store, title_id)
    assert jpeg[:2] == b"\xff\xd8" and is_thumbnail(jpeg)
    assert cover_row(store, title_id) == (jpeg, "EPUB/images/cover.png", True)
    assert catalogue.cover(store, title_id) == jpeg


def test_a_small_jpeg_cover_is_stored_as_it_is_at_import(store, clock):
    title_id = add_book(store, clock, "neko")
    stored, path, has_cover = cover_row(store, title_id)
    with zipfile.ZipFile(io.BytesIO(make_epub(BOOKS["neko"]))) as book:
        assert stored == book.read(path) and has_cover


def test_every_corpus_cover_is_found_at_import_and_shown(store, clock):
    """The covers import finds are those the eager parser makes a thumbnail of, and each shows."""
    results = catalogue.import_files(store, clock, LIBRARIAN, CORPUS_FILES)
    imported = [(path, r.title_id) for path, r in zip(CORPUS_FILES, results, strict=True) if r.status == "imported"]
    assert len(imported) >= 6
    for path, title_id in imported:
        eager = parse_epub(path.read_bytes()).cover_image
        assert catalogue.get_title(store, clock, title_id).has_cover == (eager is not None), path.name
        shown = catalogue.cover(store, title_id)
        assert (shown is not None) == (eager is not None), path.name
        if shown:
            assert is_thumbnail(shown)


def with_cover(image: bytes, media_type: str = "image/png") -> bytes:
    item = f'<item id="cv" href="cover.png" media-type="{media_type}" properties="cover-image"/>'
    return handmade_epub({"OPS/book.opf": package().replace("<manifest>", "<manifest>" + item),
                          "OPS/cover.png": image})


def png(size: tuple[int, int]) -> bytes:
    out = io.BytesIO()
    Image.effect_noise(size, 60).convert("RGB").save(out, "PNG")
    return out.getvalue()


def test_a_cover_that_is_no_image_is_no_cover(store, clock):
    title_id = catalogue.import_epub(store, clock, LIBRARIAN, with_cover(b"not a picture"), "x.epub").title_id
    assert cover_row(store, title_id) == (None, None, False)
    assert catalogue.cover(store, title_id) is None


def test_a_cover_that_fails_to_decode_is_dropped_at_first_view(store, clock):
    broken = png((600, 900))
    broken = broken[: len(broken) // 2]  # the header reads, the pixels do not
    result = catalogue.import_epub(store, clock, LIBRARIAN, with_cover(broken), "x.epub")
    assert result.status == "imported"
    assert cover_row(store, result.title_id) == (None, "OPS/cover.png", True)
    assert catalogue.cover(store, result.title_id) is None
    assert cover_row(store, result.title_id) == (None, None, False)
    assert not catalogue.get_title(store, clock, result.title_id).has_cover


def test_a_read_only_store_still_shows_a_cover_it_cannot_keep(clock, tmp_path):
    path = tmp_path / "covers.duckdb"
    writable = Store(path)
    migrate(writable, clock, {"library_ebooks": discover("library_ebooks", ROOT / "library_ebooks" / "migrations")})
    title_id = catalogue.import_epub(writable, clock, LIBRARIAN, with_cover(png((600, 900))), "x.epub").title_id
    writable.close()
    read_only = Store(path, read_only=True)
    try:
        assert is_thumbnail(catalogue.cover(read_only, title_id))
        assert cover_row(read_only, title_id)[0] is None
    finally:
        read_only.close()

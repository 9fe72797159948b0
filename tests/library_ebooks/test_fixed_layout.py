"""Fixed-layout books at import and in the reader service, and covers made for books
without one; the real corpus files, and picture books made here."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from PIL import Image

from kernel.errors import NotFound
from library_ebooks.demo_books import PICTURE_BOOKS, make_picture_book
from library_ebooks.services import catalogue, lending, reader
from library_ebooks.services.covers import COVER_SIZE, NoCjkFont, cjk_font_path, generated_cover
from library_ebooks.services.epub import parse_epub

from .helpers import LIBRARIAN, handmade_epub, package, resident

ROOT = Path(__file__).resolve().parents[2]
CORPUS = next((p / "corpus" / "epub" for p in (ROOT.parent / "shared", Path("/work/shared"))
               if (p / "corpus" / "epub").is_dir()), None)
assert CORPUS is not None, "the EPUB corpus (shared/corpus/epub) is missing"


def test_a_picture_book_whose_spine_holds_images():
    book = parse_epub((CORPUS / "page-blanche-bitmaps-in-spine.epub").read_bytes())
    assert book.layout == "pre-paginated" and book.page_direction == "default"
    assert len(book.spine) == 9 and all(p["kind"] == "image" and p["fixed"] for p in book.pages)
    assert [p["spread"] for p in book.pages[:3]] == ["right", "right", "left"]
    assert book.cover_path == "EPUB/Image/cover.jpg"


def test_svg_content_documents_are_pages():
    book = parse_epub((CORPUS / "svg-in-spine.epub").read_bytes())
    assert book.layout == "pre-paginated" and len(book.spine) == 6
    assert {p["kind"] for p in book.pages} == {"svg"}


def test_a_manga_of_xhtml_pages_takes_its_first_page_as_cover_and_one_page_reflows():
    book = parse_epub((CORPUS / "haruko-html-jpeg.epub").read_bytes())
    assert book.layout == "pre-paginated" and book.page_direction == "rtl"
    assert book.cover_path == "OPS/images/01.jpg" and book.cover_image  # none declared: the first page
    assert book.pages[0] == {"kind": "xhtml", "fixed": True, "spread": "left"}
    assert book.pages[-1]["fixed"] is False  # rendition:layout-reflowable on that spine item


def test_reader_pages_of_each_kind(store, clock):
    ids = {}
    for name in ("page-blanche-bitmaps-in-spine.epub", "svg-in-spine.epub", "haruko-html-jpeg.epub"):
        result = catalogue.import_epub(store, clock, LIBRARIAN, (CORPUS / name).read_bytes(), name)
        catalogue.add_license(store, clock, LIBRARIAN, result.title_id, "simultaneous")
        ids[name] = lending.borrow(store, clock, resident(1), result.title_id).id
    image = reader.page(store, clock, resident(1), ids["page-blanche-bitmaps-in-spine.epub"], 1)
    assert image["kind"] == "image" and image["src"].startswith("data:image/jpeg;base64,")
    assert image["width"] > 0 and image["height"] > image["width"]
    svg = reader.page(store, clock, resident(1), ids["svg-in-spine.epub"], 1)  # an SVG showing flyer.jpg
    assert svg["kind"] == "svg" and (svg["width"], svg["height"]) == (1100, 1700)
    import base64
    inner = base64.b64decode(svg["src"].split(",", 1)[1])
    assert b"data:image/jpeg;base64," in inner  # the picture it names is inlined
    page = reader.page(store, clock, resident(1), ids["haruko-html-jpeg.epub"], 0)
    assert (page["width"], page["height"]) == (600, 837) and page["fixed"]
    assert '<img src="data:image/jpeg;base64,' in page["html"] and "alt=" in page["html"]
    manifest = reader.manifest(store, clock, resident(1), ids["haruko-html-jpeg.epub"])
    assert manifest["layout"] == "pre-paginated" and manifest["direction"] == "rtl"
    with pytest.raises(NotFound):
        reader.page(store, clock, resident(2), ids["haruko-html-jpeg.epub"], 0)  # not their loan


HOSTILE_SVG = b"""<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" viewBox="0 0 10 20"
  onload="alert(1)"><script>alert(2)</script><image xlink:href="https://evil.example/x.png" width="10" height="20"/>
  <foreignObject><div xmlns="http://www.w3.org/1999/xhtml">x</div></foreignObject></svg>"""


def test_an_svg_page_loses_scripts_handlers_and_outside_links(store, clock):
    opf = package().replace('<item id="c1" href="ch1.xhtml" media-type="application/xhtml+xml"/>',
                            '<item id="c1" href="p.svg" media-type="image/svg+xml"/>')
    result = catalogue.import_epub(store, clock, LIBRARIAN, handmade_epub({"OPS/book.opf": opf, "OPS/p.svg": HOSTILE_SVG}),
                                   "svg.epub")
    assert result.status == "imported"
    catalogue.add_license(store, clock, LIBRARIAN, result.title_id, "simultaneous")
    loan = lending.borrow(store, clock, resident(3), result.title_id).id
    import base64
    page = reader.page(store, clock, resident(3), loan, 0)
    svg = base64.b64decode(page["src"].split(",", 1)[1])
    assert b"script" not in svg and b"onload" not in svg and b"evil.example" not in svg
    assert b"foreignObject" not in svg and (page["width"], page["height"]) == (10, 20)


def test_a_made_picture_book_reads_right_to_left_in_spreads():
    data = make_picture_book(PICTURE_BOOKS[0], pages=20)
    book = parse_epub(data)
    assert book.layout == "pre-paginated" and book.page_direction == "rtl" and len(book.spine) == 20
    # Page 1 (the cover) stands alone on the left; then right-left pairs, as rtl books go.
    assert [p["spread"] for p in book.pages[:5]] == ["left", "right", "left", "right", "left"]
    assert book.subjects == ["絵本", "児童書"] and book.cover_path


def test_generated_covers_are_vertical_for_vertical_books():
    for vertical in (True, False):
        jpeg = generated_cover("銀河鉄道の夜", "宮沢 賢治", vertical=vertical)
        image = Image.open(io.BytesIO(jpeg)).convert("L")
        assert image.size == COVER_SIZE
        # Where the white title letters are: a tall narrow column, or wide rows.
        box = image.point(lambda v: 255 if v > 230 else 0).getbbox()
        width, height = box[2] - box[0], box[3] - box[1]
        assert (height > width) if vertical else (width > height), (vertical, box)


def test_no_japanese_font_fails_clearly(tmp_path):
    with pytest.raises(NoCjkFont) as missing:
        cjk_font_path(candidates=(str(tmp_path / "none.ttc"),), fonts_root=str(tmp_path))
    assert missing.value.params == {"package": "fonts-noto-cjk"}
    assert cjk_font_path().is_file()  # this machine has fonts-noto-cjk (the Makefile installs it)


def test_a_book_without_a_cover_gets_a_made_one(store, clock):
    result = catalogue.import_epub(store, clock, LIBRARIAN, handmade_epub(), "plain.epub")
    assert catalogue.cover(store, result.title_id) is None
    made = catalogue.cover_or_generated(store, result.title_id)
    assert made[:2] == b"\xff\xd8" and Image.open(io.BytesIO(made)).size == COVER_SIZE


def test_an_svg_cover_is_drawn_safely_at_thumbnail_size(store, clock):
    result = catalogue.import_epub(store, clock, LIBRARIAN, (CORPUS / "svg-in-spine.epub").read_bytes(), "s.epub")
    assert catalogue.get_title(store, clock, result.title_id).has_cover
    jpeg = catalogue.cover(store, result.title_id)  # made at first view, from the SVG
    image = Image.open(io.BytesIO(jpeg))
    assert image.format == "JPEG" and image.width <= 240 and image.height <= 360
    assert image.convert("L").getextrema()[0] < 100  # something is drawn: not a blank page


def test_rendition_spread_is_kept_for_the_reader(store, clock):
    assert parse_epub((CORPUS / "haruko-html-jpeg.epub").read_bytes()).spread == "landscape"
    assert parse_epub((CORPUS / "svg-in-spine.epub").read_bytes()).spread == "auto"
    opf = package().replace("</metadata>", '<meta property="rendition:layout">pre-paginated</meta>'
                                           '<meta property="rendition:spread">none</meta></metadata>')
    result = catalogue.import_epub(store, clock, LIBRARIAN, handmade_epub({"OPS/book.opf": opf}), "n.epub")
    catalogue.add_license(store, clock, LIBRARIAN, result.title_id, "simultaneous")
    loan = lending.borrow(store, clock, resident(4), result.title_id).id
    book = reader.manifest(store, clock, resident(4), loan)
    assert (book["layout"], book["spread"]) == ("pre-paginated", "none")

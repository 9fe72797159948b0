"""Reading EPUB 2 and 3 files: metadata, cover, table of contents, chapters.

We read the ZIP's container and package documents directly (zipfile + ElementTree)
rather than through ebooklib's reader: ebooklib unpacks every item of the book and
stops with a bare KeyError when the package names a file the ZIP lacks (one corpus
book lists two audio files it does not contain). Reading only what we need is both
faster and lets every refusal carry a reason a librarian understands. ebooklib is
used to *write* the demo shelf (library_ebooks/demo_books.py).
"""

from __future__ import annotations

import base64
import functools
import io
import mimetypes
import posixpath
import re
import zipfile
from dataclasses import dataclass, field
from urllib.parse import unquote
from xml.etree import ElementTree
from xml.etree.ElementTree import Element

import nh3

from kernel.errors import ManabiError

NS = {
    "container": "urn:oasis:names:tc:opendocument:xmlns:container",
    "opf": "http://www.idpf.org/2007/opf",
    "dc": "http://purl.org/dc/elements/1.1/",
    "xhtml": "http://www.w3.org/1999/xhtml",
    "epub": "http://www.idpf.org/2007/ops",
    "ncx": "http://www.daisy.org/z3986/2005/ncx/",
    "enc": "http://www.w3.org/2001/04/xmlenc#",
}
TAG = {prefix: "{" + uri + "}" for prefix, uri in NS.items()}  # ElementTree's {uri}name
OPF = TAG["opf"]
DC = TAG["dc"]
# Font obfuscation (IDPF and Adobe) only scrambles embedded fonts; it is not DRM.
FONT_OBFUSCATION = {"http://www.idpf.org/2008/embedding", "http://ns.adobe.com/pdf/enc#RC"}
XHTML_TYPES = {"application/xhtml+xml", "text/html", "application/x-dtbook+xml"}
SVG_TYPE = "image/svg+xml"  # an SVG content document: EPUB 3 counts it as readable content
# Images a browser shows by itself: in a fixed-layout spine (with an XHTML fallback the
# package must name) they are pages of their own.
PAGE_IMAGE_TYPES = {"image/jpeg", "image/png", "image/gif", "image/webp"}
COVER_BOX = (240, 360)  # thumbnail size in pixels (width, height)
VERTICAL_LANGUAGES = ("ja", "zh")
# Limits on what an archive may declare (zip bombs): one entry, the whole book, and the
# ratio of an entry's inflated to compressed size. A 300-page picture book is ~200 MB;
# text compresses about 3-10x, images not at all, while a bomb reaches ~1000x.
MAX_ENTRY_BYTES = 64 * 1024 * 1024
MAX_BOOK_BYTES = 512 * 1024 * 1024
MAX_RATIO = 100
RATIO_FROM_BYTES = 1024 * 1024  # small entries may compress well (a page of spaces): not a bomb
MAX_XML_BYTES = 16 * 1024 * 1024  # container, package, nav: read at most this much
MAX_PICTURE_BYTES = 16 * 1024 * 1024  # a picture an SVG page or cover names, inlined
DEFAULT_PAGE_SIZE = (600, 800)  # a fixed page that names no size of its own
SVG_NS = "http://www.w3.org/2000/svg"
XLINK_HREF = "{http://www.w3.org/1999/xlink}href"
RASTER_TYPES = ("image/jpeg", "image/png", "image/gif", "image/webp")
RTL_LANGUAGES = ("ar", "he", "fa", "ur")


class EpubRejected(ManabiError):
    """A file that cannot become a catalogue record; the key says why."""

    key = "ingest.reason.unreadable"


@dataclass
class Creator:
    name: str
    file_as: str | None = None
    role: str | None = None


@dataclass
class TocEntry:
    label: str
    href: str  # path inside the ZIP, with #fragment when the entry points into a chapter
    level: int = 1


@dataclass
class ParsedBook:
    title: str
    title_reading: str | None
    creators: list[Creator]
    language: str
    identifier: str | None
    isbn: str | None
    publisher: str | None
    published: str | None
    subjects: list[str]
    description: str | None
    page_direction: str
    writing: str
    toc: list[TocEntry]
    spine: list[str]
    epub_version: str
    # "pre-paginated" (fixed layout: picture books, manga) or "reflowable", for the book;
    # per spine item its kind (xhtml, svg, image), page-spread side and fixed-ness.
    layout: str = "reflowable"
    pages: list[dict] = field(default_factory=list)
    spread: str = "auto"  # rendition:spread: when a reader shows two pages side by side
    # The cover image's member in the ZIP, when there is one that reads as an image, and
    # its JPEG thumbnail when it was made (or the cover already was one); see _cover.
    cover_path: str | None = None
    cover_image: bytes | None = field(default=None, repr=False)

    @property
    def has_cover(self) -> bool:
        return self.cover_path is not None


# --------------------------------------------------------------------------- helpers

def _text(element) -> str:
    return " ".join("".join(element.itertext()).split()) if element is not None else ""


def _parse_xml(data: bytes, reason: str, **params):
    try:
        return ElementTree.fromstring(data)
    except ElementTree.ParseError as exc:
        raise EpubRejected(reason, detail=str(exc), **params) from None


def _resolve(base_dir: str, href: str) -> str:
    path, _, fragment = href.partition("#")
    if path and _is_plain(path) and _is_plain_dir(base_dir):
        # The common case (a package lists hundreds of these): nothing to unquote or normalise.
        joined = f"{base_dir}/{path}" if base_dir else path
        return f"{joined}#{fragment}" if fragment else joined
    path, _, fragment = unquote(href).partition("#")
    joined = posixpath.normpath(posixpath.join(base_dir, path)) if path else ""
    return f"{joined}#{fragment}" if fragment else joined


def _is_plain(path: str) -> bool:
    """A relative path that posixpath.normpath and unquote would leave as it is."""
    return not (path[0] in "./" or "%" in path or "//" in path or "/." in path or path[-1] == "/")


@functools.lru_cache(maxsize=256)
def _is_plain_dir(base_dir: str) -> bool:
    return not base_dir or _is_plain(base_dir)


def normalise_isbn(value: str) -> str | None:
    """ISBN-13 digits for an ISBN-10 or ISBN-13 with a valid check digit, else None."""
    digits = re.sub(r"[^0-9Xx]", "", value.removeprefix("urn:isbn:").removeprefix("URN:ISBN:"))
    if len(digits) == 10 and digits[:9].isdigit():
        total = sum((10 - i) * (10 if c in "Xx" else int(c)) for i, c in enumerate(digits))
        if total % 11 != 0:
            return None
        digits = "978" + digits[:9]
        digits += str((10 - sum((1 if i % 2 == 0 else 3) * int(c) for i, c in enumerate(digits)) % 10) % 10)
        return digits
    if len(digits) == 13 and digits.isdigit() and digits[:3] in ("978", "979"):
        check = (10 - sum((1 if i % 2 == 0 else 3) * int(c) for i, c in enumerate(digits[:12])) % 10) % 10
        return digits if check == int(digits[12]) else None
    return None


def plain_text(html: str) -> str:
    """Text of a description that may carry markup."""
    return " ".join(nh3.clean(html, tags=set()).replace("&amp;", "&").replace("&lt;", "<")
                    .replace("&gt;", ">").replace("&quot;", '"').replace("&#39;", "'").split())


def writing_mode(page_direction: str, language: str) -> str:
    """How the reader lays the book out: vertical Japanese, right-to-left, or horizontal."""
    primary = language.split("-")[0]
    if page_direction == "rtl" and primary in VERTICAL_LANGUAGES:
        return "vertical"
    if page_direction == "rtl" or primary in RTL_LANGUAGES:
        return "rtl"
    return "horizontal"


# --------------------------------------------------------------------------- the book

def check_entries(infos: list[zipfile.ZipInfo]) -> None:
    """Refuse an archive whose entries could escape a folder or exhaust memory when
    unpacked: absolute paths, `..` segments, backslashes, names twice, and declared sizes
    or compression ratios past the limits above. Only the central directory is read;
    zipfile never inflates an entry past its declared size, so these bounds hold."""
    seen: set[str] = set()
    total = 0
    for info in infos:
        name = info.filename
        if name.startswith("/") or re.match(r"[A-Za-z]:", name):
            raise EpubRejected("ingest.reason.absolute_path", path=name)
        if "\\" in name:
            raise EpubRejected("ingest.reason.backslash", path=name)
        if ".." in name.split("/"):
            raise EpubRejected("ingest.reason.parent_path", path=name)
        if name in seen:
            raise EpubRejected("ingest.reason.duplicate_entry", path=name)
        seen.add(name)
        if info.file_size > MAX_ENTRY_BYTES:
            raise EpubRejected("ingest.reason.entry_too_large", path=name, mb=info.file_size // 2**20,
                               limit=MAX_ENTRY_BYTES // 2**20)
        if info.file_size > RATIO_FROM_BYTES and info.file_size > MAX_RATIO * max(info.compress_size, 1):
            raise EpubRejected("ingest.reason.compression_ratio", path=name,
                               ratio=info.file_size // max(info.compress_size, 1), limit=MAX_RATIO)
        total += info.file_size
        if total > MAX_BOOK_BYTES:
            raise EpubRejected("ingest.reason.book_too_large", limit=MAX_BOOK_BYTES // 2**20)


def open_checked(data: bytes) -> zipfile.ZipFile:
    """The EPUB's ZIP once its entries pass check_entries (import, reader, download)."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        infos = archive.infolist()
    except (zipfile.BadZipFile, ValueError, OSError):
        raise EpubRejected("ingest.reason.not_zip") from None
    check_entries(infos)
    return archive


def read_bounded(archive: zipfile.ZipFile, name: str, limit: int) -> bytes | None:
    """An entry's bytes, inflated in a stream and given up past `limit` (None then)."""
    with archive.open(name) as stream:
        data = stream.read(limit + 1)
    return None if len(data) > limit else data


class EpubArchive:
    """An opened EPUB: its ZIP and the path of its package document."""

    def __init__(self, data: bytes) -> None:
        self.zip = open_checked(data)
        self.names = set(self.zip.namelist())
        if any(info.flag_bits & 0x1 for info in self.zip.infolist()):
            raise EpubRejected("ingest.reason.encrypted")  # ZIP-level passwords
        if "META-INF/container.xml" not in self.names:
            raise EpubRejected("ingest.reason.no_container")
        container = _parse_xml(self.read("META-INF/container.xml"), "ingest.reason.bad_container")
        rootfile = container.find(".//container:rootfile", NS)
        self.opf_path = unquote(rootfile.get("full-path", "")) if rootfile is not None else ""
        if not self.opf_path:
            raise EpubRejected("ingest.reason.bad_container", detail="rootfile")
        if self.opf_path not in self.names:
            raise EpubRejected("ingest.reason.no_package", path=self.opf_path)
        self.opf_dir = posixpath.dirname(self.opf_path)

    def read(self, name: str) -> bytes:
        try:
            data = read_bounded(self.zip, name, MAX_XML_BYTES)
        except (KeyError, zipfile.BadZipFile, RuntimeError, OSError, EOFError) as exc:
            raise EpubRejected("ingest.reason.damaged", path=name, detail=str(exc)) from None
        if data is None:
            raise EpubRejected("ingest.reason.entry_too_large", path=name, mb=MAX_XML_BYTES // 2**20 + 1,
                               limit=MAX_XML_BYTES // 2**20)
        return data

    def has(self, name: str) -> bool:
        return name in self.names

    def check_not_encrypted(self) -> None:
        """DRM-encrypted content cannot be lent or read here; font obfuscation is fine."""
        if "META-INF/rights.xml" in self.names:
            raise EpubRejected("ingest.reason.encrypted")
        if "META-INF/encryption.xml" not in self.names:
            return
        encryption = _parse_xml(self.read("META-INF/encryption.xml"), "ingest.reason.encrypted")
        for method in encryption.iter(TAG["enc"] + "EncryptionMethod"):
            if method.get("Algorithm") not in FONT_OBFUSCATION:
                raise EpubRejected("ingest.reason.encrypted")


def _package(book: EpubArchive) -> tuple[Element, Element, Element, Element]:
    """The package document's root, metadata, manifest and spine."""
    package = _parse_xml(book.read(book.opf_path), "ingest.reason.bad_package", path=book.opf_path)
    if package.tag != f"{OPF}package":
        raise EpubRejected("ingest.reason.bad_package", path=book.opf_path, detail=package.tag)
    metadata = package.find(f"{OPF}metadata")
    manifest = package.find(f"{OPF}manifest")
    spine_element = package.find(f"{OPF}spine")
    if metadata is None or manifest is None or spine_element is None:
        raise EpubRejected("ingest.reason.bad_package", path=book.opf_path, detail="metadata/manifest/spine")
    return package, metadata, manifest, spine_element


def _refines(metadata: Element) -> dict[str, dict[str, str]]:
    """EPUB 3 refines: <meta refines="#id" property="file-as">…</meta>, by element id."""
    refines: dict[str, dict[str, str]] = {}
    for meta in metadata.iter(f"{OPF}meta"):
        target, prop = meta.get("refines", ""), meta.get("property")
        if target.startswith("#") and prop:
            refines.setdefault(target[1:], {}).setdefault(prop, _text(meta))
    return refines


def _title(metadata: Element, refines: dict) -> tuple[str, str | None]:
    """The main title and its reading (file-as)."""
    titles = [t for t in metadata.findall(f"{DC}title") if _text(t)]
    if not titles:
        raise EpubRejected("ingest.reason.no_title")
    main = next((t for t in titles if refines.get(t.get("id", ""), {}).get("title-type") == "main"), titles[0])
    return _text(main), refines.get(main.get("id", ""), {}).get("file-as") or main.get(f"{OPF}file-as")


def _creators(metadata: Element, refines: dict) -> list[Creator]:
    creators = []
    for element in metadata.findall(f"{DC}creator"):
        name = _text(element)
        if name:
            refined = refines.get(element.get("id", ""), {})
            creators.append(Creator(name, refined.get("file-as") or element.get(f"{OPF}file-as"),
                                    refined.get("role") or element.get(f"{OPF}role")))
    return creators


def _identifiers(package: Element, metadata: Element, refines: dict) -> tuple[str | None, str | None]:
    """The book's unique identifier (lower case) and its ISBN, if it names one."""
    identifiers = metadata.findall(f"{DC}identifier")
    unique_id = package.get("unique-identifier")
    main_identifier = next((i for i in identifiers if unique_id and i.get("id") == unique_id),
                           identifiers[0] if identifiers else None)
    identifier = _text(main_identifier).lower() or None
    for element in identifiers:
        value = _text(element)
        scheme = (element.get(f"{OPF}scheme") or refines.get(element.get("id", ""), {}).get("identifier-type")
                  or "").lower()
        if "isbn" in value.lower() or scheme == "isbn" or re.fullmatch(r"[0-9Xx -]{10,17}", value):
            isbn = normalise_isbn(value)
            if isbn:
                return identifier, isbn
    return identifier, None


def _manifest_items(book: EpubArchive, manifest: Element) -> dict[str, dict[str, str]]:
    """The manifest's items by id: their path in the archive, media type and properties."""
    items: dict[str, dict[str, str]] = {}
    for item in manifest.findall(f"{OPF}item"):
        href = item.get("href")
        if item.get("id") and href:
            items[item.get("id")] = {
                "path": _resolve(book.opf_dir, href),
                "type": item.get("media-type", ""),
                "properties": item.get("properties", ""),
            }
    return items


def _spine(book: EpubArchive, spine_element: Element, items: dict, metadata: Element
           ) -> tuple[list[str], list[dict], str, str]:
    """The reading order (paths), each page's kind, fixed layout and spread side, the book's
    layout (pre-paginated when any page is) and its rendition:spread."""
    layout, book_spread = "reflowable", "auto"
    for meta in metadata.iter(f"{OPF}meta"):
        if meta.get("property") == "rendition:layout" and not meta.get("refines"):
            layout = "pre-paginated" if _text(meta) == "pre-paginated" else "reflowable"
        if meta.get("property") == "rendition:spread" and not meta.get("refines"):
            book_spread = _text(meta) if _text(meta) in ("none", "landscape", "portrait", "both") else "auto"
    spine, pages = [], []
    for itemref in spine_element.findall(f"{OPF}itemref"):
        item = items.get(itemref.get("idref", ""))
        # Items the package names but the ZIP lacks are skipped, not fatal.
        if not item or not book.has(item["path"]):
            continue
        kind = _page_kind(item["type"])
        if kind is None:
            continue
        properties = itemref.get("properties", "").split()
        fixed = layout == "pre-paginated"
        if "rendition:layout-pre-paginated" in properties:
            fixed = True
        elif "rendition:layout-reflowable" in properties:
            fixed = False
        if kind != "xhtml":
            fixed = True  # an image or SVG page has its own size, whatever the book says
        spread = next((p.removeprefix("page-spread-").removeprefix("rendition:page-spread-")
                       for p in properties if p.startswith(("page-spread-", "rendition:page-spread-"))), None)
        spine.append(item["path"])
        pages.append({"kind": kind, "fixed": fixed, "spread": spread})
    if not spine:
        raise EpubRejected("ingest.reason.no_content")
    if any(page["fixed"] for page in pages):
        layout = "pre-paginated"
    return spine, pages, layout, book_spread


def parse_epub(data: bytes, *, make_thumbnail: bool = True) -> ParsedBook:
    """Everything the catalogue needs from one EPUB, or EpubRejected saying why not.

    With `make_thumbnail=False` (the import) the cover is only found and its header
    checked; unless it already is a small JPEG, `cover_image` stays None and the
    thumbnail is made from `cover_path` when the cover is first shown
    (catalogue.cover). Decoding a cover costs more than reading the whole book."""
    book = EpubArchive(data)
    book.check_not_encrypted()
    package, metadata, manifest, spine_element = _package(book)
    refines = _refines(metadata)
    title, title_reading = _title(metadata, refines)
    identifier, isbn = _identifiers(package, metadata, refines)
    language = (_text(metadata.find(f"{DC}language")) or "und").lower()
    description = _text(metadata.find(f"{DC}description"))
    items = _manifest_items(book, manifest)
    spine, pages, layout, book_spread = _spine(book, spine_element, items, metadata)
    page_direction = spine_element.get("page-progression-direction", "default")
    if page_direction not in ("ltr", "rtl"):
        page_direction = "default"

    cover_path, cover_image = _cover(book, items, metadata, make_thumbnail)
    if cover_path is None and pages[0]["kind"] in ("image", "xhtml") and layout == "pre-paginated":
        # A picture book without a declared cover: its first page is the cover.
        cover_path, cover_image = _first_page_cover(book, spine[0], pages[0]["kind"], make_thumbnail)
    return ParsedBook(
        title=title,
        title_reading=title_reading or None,
        creators=_creators(metadata, refines),
        language=language,
        identifier=identifier,
        isbn=isbn,
        publisher=_text(metadata.find(f"{DC}publisher")) or None,
        published=_text(metadata.find(f"{DC}date")) or None,
        subjects=list(dict.fromkeys(s for s in (_text(e) for e in metadata.findall(f"{DC}subject")) if s)),
        description=plain_text(description) if description else None,
        page_direction=page_direction,
        writing=writing_mode(page_direction, language),
        toc=_table_of_contents(book, items, spine_element, spine),
        spine=spine,
        epub_version=package.get("version", "2.0"),
        layout=layout,
        pages=pages,
        spread=book_spread,
        cover_path=cover_path,
        cover_image=cover_image,
    )


def _page_kind(media_type: str) -> str | None:
    if media_type in XHTML_TYPES:
        return "xhtml"
    if media_type == SVG_TYPE:
        return "svg"
    if media_type in PAGE_IMAGE_TYPES:
        return "image"
    return None


_IMG_SRC = re.compile(rb"""<(?:img|image)\b[^>]*?(?:src|xlink:href|href)\s*=\s*["']([^"']+)["']""", re.I)



def _cover_image(book: EpubArchive, path: str, make_thumbnail: bool) -> tuple[str | None, bytes | None]:
    """A raster cover at `path`: its thumbnail now, or (at import) whether it is an image at all
    and its small JPEG if the file carries one."""
    if make_thumbnail:
        try:
            image = thumbnail(book.zip.read(path))
        except (zipfile.BadZipFile, RuntimeError, OSError, EOFError, ValueError):
            image = None
        return (path, image) if image else (None, None)
    is_image, small_jpeg = _read_header(book.zip, path)
    return (path, small_jpeg) if is_image else (None, None)


def _first_page_cover(book: EpubArchive, path: str, kind: str, make_thumbnail: bool):
    """The first page's picture as the cover: the page itself when it is an image, or
    the first image an XHTML page shows."""
    if kind == "xhtml":
        match = _IMG_SRC.search(book.read(path))
        if not match:
            return None, None
        href = match.group(1).decode("utf-8", "replace")
        if ":" in href:
            return None, None
        path = _resolve(posixpath.dirname(path), href).partition("#")[0]
        if not book.has(path):
            return None, None
    return _cover_image(book, path, make_thumbnail)


def _table_of_contents(book: EpubArchive, items, spine_element, spine: list[str]) -> list[TocEntry]:
    nav = next((i for i in items.values() if "nav" in i["properties"].split()), None)
    if nav and book.has(nav["path"]):
        entries = _toc_from_nav(book, nav["path"])
        if entries:
            return entries
    ncx = items.get(spine_element.get("toc", "")) or next(
        (i for i in items.values() if i["type"] == "application/x-dtbncx+xml"), None)
    if ncx and book.has(ncx["path"]):
        entries = _toc_from_ncx(book, ncx["path"])
        if entries:
            return entries
    # No usable table of contents: one entry per chapter, named by its position.
    return [TocEntry(str(n), path) for n, path in enumerate(spine, start=1)]


def _toc_from_nav(book: EpubArchive, path: str) -> list[TocEntry]:
    try:
        root = ElementTree.fromstring(book.read(path))
    except (ElementTree.ParseError, EpubRejected):
        return []
    base = posixpath.dirname(path)
    navs = list(root.iter(TAG["xhtml"] + "nav"))
    toc_nav = next((n for n in navs if n.get(TAG["epub"] + "type") == "toc"), navs[0] if navs else None)
    if toc_nav is None:
        return []
    entries: list[TocEntry] = []

    def walk(ol, level: int) -> None:
        for li in ol.findall(TAG["xhtml"] + "li"):
            link = li.find(TAG["xhtml"] + "a")
            label_element = link if link is not None else li.find(TAG["xhtml"] + "span")
            label = _text(label_element)
            href = link.get("href") if link is not None else None
            if label and href:
                entries.append(TocEntry(label, _resolve(base, href), level))
            for child in li.findall(TAG["xhtml"] + "ol"):
                walk(child, level + 1)

    for ol in toc_nav.findall(TAG["xhtml"] + "ol"):
        walk(ol, 1)
    return entries


def _toc_from_ncx(book: EpubArchive, path: str) -> list[TocEntry]:
    try:
        root = ElementTree.fromstring(book.read(path))
    except (ElementTree.ParseError, EpubRejected):
        return []
    base = posixpath.dirname(path)
    entries: list[TocEntry] = []
    ncx = TAG["ncx"]

    def walk(parent, level: int) -> None:
        for point in parent.findall(f"{ncx}navPoint"):
            label = _text(point.find(f"{ncx}navLabel/{ncx}text"))
            content = point.find(f"{ncx}content")
            if label and content is not None and content.get("src"):
                entries.append(TocEntry(label, _resolve(base, content.get("src")), level))
            walk(point, level + 1)

    nav_map = root.find(f"{ncx}navMap")
    if nav_map is not None:
        walk(nav_map, 1)
    return entries


def _cover(book: EpubArchive, items, metadata, make_thumbnail: bool) -> tuple[str | None, bytes | None]:
    """The cover's path in the ZIP and its JPEG thumbnail, (path, None) when the thumbnail
    is left for later, or (None, None): a missing or unreadable cover never rejects a book."""
    candidate = next((i for i in items.values() if "cover-image" in i["properties"].split()), None)
    if candidate is None:
        cover_meta = next((m for m in metadata.iter(f"{OPF}meta") if m.get("name") == "cover"), None)
        if cover_meta is not None:
            candidate = items.get(cover_meta.get("content", ""))
    if candidate is None:
        candidate = next((i for item_id, i in items.items() if i["type"].startswith("image/")
                          and ("cover" in item_id.lower() or "cover" in i["path"].lower())), None)
    if candidate is None or not candidate["type"].startswith("image/") or not book.has(candidate["path"]):
        return None, None
    path = candidate["path"]
    if candidate["type"] == SVG_TYPE:
        # Drawn when first shown (catalogue.cover), like any cover import does not shrink.
        return (path, svg_thumbnail(book.zip, path)) if make_thumbnail else (path, None)
    return _cover_image(book, path, make_thumbnail)


def _read_header(archive: zipfile.ZipFile, path: str) -> tuple[bool, bytes | None]:
    """Whether the member is an image Pillow can read, judged by its header alone, and its
    bytes when it already is a thumbnail-sized RGB JPEG (nothing left to make)."""
    from PIL import Image, UnidentifiedImageError

    try:
        with archive.open(path) as stream, Image.open(stream) as image:
            small = _is_small_jpeg(image)
        return True, archive.read(path) if small else None
    except (UnidentifiedImageError, zipfile.BadZipFile, RuntimeError, OSError, EOFError, ValueError,
            Image.DecompressionBombError):
        return False, None


def _is_small_jpeg(image) -> bool:
    return (image.format == "JPEG" and image.mode == "RGB" and image.width <= COVER_BOX[0] * 1.3
            and image.height <= COVER_BOX[1] * 1.3)


def cover_thumbnail(data: bytes, path: str) -> bytes | None:
    """The JPEG thumbnail of the image at `path` inside the EPUB `data`, or None."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            if path.lower().endswith(".svg"):
                return svg_thumbnail(archive, path)
            image_bytes = archive.read(path)
    except (KeyError, zipfile.BadZipFile, RuntimeError, OSError, EOFError, ValueError):
        return None
    return thumbnail(image_bytes)


def thumbnail(image_bytes: bytes) -> bytes | None:
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(io.BytesIO(image_bytes)) as image:
            if _is_small_jpeg(image):
                return image_bytes  # already a small JPEG: keep it as it is
            image.draft("RGB", COVER_BOX)  # JPEG: decode at a reduced size, much faster
            image = image.convert("RGB")
            image.thumbnail(COVER_BOX, Image.Resampling.BILINEAR, reducing_gap=2.0)
            out = io.BytesIO()
            image.save(out, "JPEG", quality=82)
            return out.getvalue()
    except (UnidentifiedImageError, OSError, ValueError, Image.DecompressionBombError):
        return None


def safe_svg(data: bytes, path: str, resource) -> tuple[bytes, int, int]:
    """The SVG page with scripts, handlers, foreign content and outside links removed and
    its pictures inlined from the book, and its size (from viewBox, else width/height)."""
    try:
        root = ElementTree.fromstring(data)
    except ElementTree.ParseError:
        return b'<svg xmlns="http://www.w3.org/2000/svg"/>', *DEFAULT_PAGE_SIZE
    base = posixpath.dirname(path)
    for parent in list(root.iter()):
        for child in list(parent):
            local = child.tag.rsplit("}", 1)[-1] if isinstance(child.tag, str) else ""
            if local in ("script", "foreignObject", "iframe"):
                parent.remove(child)
    for element in root.iter():
        for attribute in list(element.attrib):
            if attribute.rsplit("}", 1)[-1].lower().startswith("on"):
                del element.attrib[attribute]
        for attribute in (XLINK_HREF, "href"):
            value = element.get(attribute)
            if value is None or value.startswith("#"):
                continue
            target = posixpath.normpath(posixpath.join(base, unquote(value.split("#")[0])))
            media_type = mimetypes.guess_type(target)[0] or ""
            content = resource(target) if ":" not in value and media_type in RASTER_TYPES else None
            if content is None:
                del element.attrib[attribute]
            else:
                element.set(attribute, f"data:{media_type};base64,{base64.b64encode(content).decode()}")
    width, height = DEFAULT_PAGE_SIZE
    view_box = (root.get("viewBox") or "").replace(",", " ").split()
    try:
        if len(view_box) == 4:
            width, height = round(float(view_box[2])), round(float(view_box[3]))
        elif root.get("width") and root.get("height"):
            width, height = round(float(root.get("width"))), round(float(root.get("height")))
    except ValueError:
        pass
    ElementTree.register_namespace("", SVG_NS)
    ElementTree.register_namespace("xlink", "http://www.w3.org/1999/xlink")
    return ElementTree.tostring(root), max(width, 1), max(height, 1)


def svg_thumbnail(archive: zipfile.ZipFile, path: str) -> bytes | None:
    """A JPEG thumbnail of an SVG cover: made safe first (safe_svg), then drawn by resvg
    (vl-convert) at the thumbnail's size, never at the size the SVG claims."""
    import vl_convert

    names = set(archive.namelist())
    try:
        data = read_bounded(archive, path, MAX_XML_BYTES)
    except (KeyError, zipfile.BadZipFile, RuntimeError, OSError, EOFError):
        return None
    if data is None:
        return None

    def resource(name: str) -> bytes | None:
        return read_bounded(archive, name, MAX_PICTURE_BYTES) if name in names else None

    svg, width, height = safe_svg(data, path, resource)
    scale = min(COVER_BOX[0] / width, COVER_BOX[1] / height)
    try:
        png = vl_convert.svg_to_png(svg.decode("utf-8"), scale=scale)
    except (ValueError, RuntimeError, UnicodeDecodeError):
        return None
    return thumbnail(png)

"""The browser reader: a book's chapters, served only to its current borrower, sanitised.

A chapter's XHTML goes through nh3 (Rust's ammonia) with an allow-list: no script,
no event handlers, no `javascript:` or external URLs, no forms or frames. Ruby stays.
Images are taken from the EPUB itself and inlined as data: URIs, so the page loads
nothing from elsewhere. The book's own stylesheets are dropped; the reader's CSS
sets the writing mode (vertical-rl for vertical Japanese books) and the font size.
"""

from __future__ import annotations

import base64
import io
import json
import mimetypes
import posixpath
import re
import secrets
from dataclasses import asdict, dataclass
from datetime import timedelta
from html import escape
from urllib.parse import unquote

import nh3

from kernel.actor import Actor, Role
from kernel.clock import Clock
from kernel.errors import InvalidInput, NotFound, PermissionDenied
from kernel.store import Store
from library_ebooks.services.epub import (
    DEFAULT_PAGE_SIZE,
    EpubRejected,
    open_checked,
    read_bounded,
    safe_svg,
)

ALLOWED_TAGS = {
    "a", "abbr", "article", "aside", "b", "bdi", "bdo", "blockquote", "br", "caption", "cite", "code", "dd",
    "del", "dfn", "div", "dl", "dt", "em", "figcaption", "figure", "footer", "h1", "h2", "h3", "h4", "h5", "h6",
    "header", "hr", "i", "img", "ins", "kbd", "li", "mark", "ol", "p", "pre", "q", "rb", "rp", "rt", "rtc",
    "ruby", "s", "samp", "section", "small", "span", "strong", "sub", "sup", "table", "tbody", "td", "tfoot",
    "th", "thead", "tr", "u", "ul", "var", "wbr",
}
ALLOWED_ATTRIBUTES = {
    "*": {"id", "lang", "dir", "title"},
    "img": {"src", "alt", "width", "height"},
    "a": {"href"},
    "td": {"colspan", "rowspan"},
    "th": {"colspan", "rowspan"},
}
# The reader inflates entries in a stream and gives up past these (never a whole huge entry).
MAX_CHAPTER_BYTES = 8 * 1024 * 1024
MAX_IMAGE_BYTES = 16 * 1024 * 1024
# A cover page's usual shape: an inline <svg> wrapping one <image>. It becomes a plain
# <img> (the sanitiser drops SVG), so the picture still shows.
_SVG_IMAGE = re.compile(r"""<svg\b[^>]*>(?:(?!</svg).)*?<image\b[^>]*?(?:xlink:href|href)\s*=\s*["']([^"']+)["']"""
                        r"(?:(?!</svg).)*</svg\s*>", re.S | re.I)
_BODY = re.compile(rb"<body[^>]*>(.*)</body\s*>", re.S | re.I)


@dataclass
class ReaderBook:
    loan_id: int
    title: str
    writing: str           # horizontal | vertical | rtl
    language: str
    chapters: int
    position: int
    toc: list[tuple[str, int, int]]  # (label, chapter index, level)
    layout: str = "reflowable"      # or pre-paginated (fixed layout)


def sanitise(xhtml: bytes, chapter_path: str, resource: callable) -> str:
    """Safe HTML for one chapter: only allowed tags; images inlined from `resource(path)`."""
    match = _BODY.search(xhtml)
    body = (match.group(1) if match else xhtml).decode("utf-8", errors="replace")
    body = _SVG_IMAGE.sub(lambda m: f'<img src="{escape(m.group(1), quote=True)}" alt="">', body)
    base = posixpath.dirname(chapter_path)

    def keep(tag: str, attribute: str, value: str) -> str | None:
        if tag == "img" and attribute == "src":
            path = posixpath.normpath(posixpath.join(base, unquote(value.split("#")[0])))
            if ":" in value or value.startswith("/"):
                return None  # external or absolute: never load from elsewhere
            data = resource(path)
            media_type = mimetypes.guess_type(path)[0] or ""
            if data is None or not media_type.startswith("image/") or media_type == "image/svg+xml":
                return None
            return f"data:{media_type};base64,{base64.b64encode(data).decode()}"
        if tag == "a" and attribute == "href":
            # Only in-page anchors: links to other chapters go through the reader's controls.
            return value if value.startswith("#") else None
        return value

    return nh3.clean(body, tags=ALLOWED_TAGS, attributes=ALLOWED_ATTRIBUTES, attribute_filter=keep,
                     url_schemes={"data"}, link_rel=None, strip_comments=True)


def _active_loan(store: Store, clock: Clock, actor: Actor, loan_id: int) -> tuple:
    actor.require()
    row = store.cursor().execute(
        """SELECT o.id, o.user_id, o.position, t.title, t.writing, t.language, t.spine, t.toc, o.title_id
           FROM library_ebooks_loans o JOIN library_ebooks_titles t ON t.id = o.title_id
           WHERE o.id = $loan AND o.returned_at IS NULL AND o.due_at > $now""",
        {"loan": loan_id, "now": clock.now()},
    ).fetchone()
    # Only the current borrower may read; anyone else (or after the due time) gets "not found".
    if row is None or row[1] != actor.user_id:
        raise NotFound("ebooks.error.no_loan")
    return row


def open_book(store: Store, clock: Clock, actor: Actor, loan_id: int) -> ReaderBook:
    _, _, position, title, writing, language, spine_json, toc_json, row_title_id = _active_loan(store, clock, actor,
                                                                                              loan_id)
    spine = json.loads(spine_json)
    index_of = {path: i for i, path in enumerate(spine)}
    toc = []
    for entry in json.loads(toc_json):
        index = index_of.get(entry["href"].split("#")[0])
        if index is not None:
            toc.append((entry["label"], index, entry.get("level", 1)))
    layout = store.scalar("SELECT layout FROM library_ebooks_titles WHERE id = ?", [row_title_id]) or "reflowable"
    return ReaderBook(loan_id, title, writing, language, len(spine), min(position, len(spine) - 1), toc, layout)


def chapter(store: Store, clock: Clock, actor: Actor, loan_id: int, index: int) -> str:
    """The sanitised HTML of chapter `index` (0-based, in spine order) of a borrowed book."""
    row = _active_loan(store, clock, actor, loan_id)
    spine = json.loads(row[6])
    if not 0 <= index < len(spine):
        raise NotFound("ebooks.error.no_chapter")
    epub = store.scalar("SELECT epub FROM library_ebooks_files WHERE title_id = ?", [row[8]])
    with open_checked(epub) as book:
        names = set(book.namelist())

        def resource(path: str) -> bytes | None:
            return read_bounded(book, path, MAX_IMAGE_BYTES) if path in names else None

        xhtml = read_bounded(book, spine[index], MAX_CHAPTER_BYTES)
        if xhtml is None:
            raise EpubRejected("reader.too_large", mb=MAX_CHAPTER_BYTES // 2**20)
        return sanitise(xhtml, spine[index], resource)


def save_position(store: Store, clock: Clock, actor: Actor, loan_id: int, index: int) -> None:
    """Remember where the borrower is, so the book opens there next time."""
    _active_loan(store, clock, actor, loan_id)
    store.write(lambda cur: cur.execute(
        "UPDATE library_ebooks_loans SET position = ? WHERE id = ? AND user_id = ?",
        [max(index, 0), loan_id, actor.user_id]))


def may_download(store: Store, loan_id: int) -> bool:
    """Whether the license a loan was taken on lets the borrower download the file."""
    return bool(store.scalar(
        """SELECT coalesce(l.download_allowed, true) FROM library_ebooks_loans o
           JOIN library_ebooks_licenses l ON l.id = o.license_id WHERE o.id = ?""", [loan_id]))


def download(store: Store, clock: Clock, actor: Actor, loan_id: int) -> tuple[str, bytes]:
    """The EPUB file itself for a reading app (OPDS), to the current borrower only."""
    row = _active_loan(store, clock, actor, loan_id)
    if not may_download(store, loan_id):
        raise PermissionDenied("reader.browser_only")
    epub = store.scalar("SELECT epub FROM library_ebooks_files WHERE title_id = ?", [row[8]])
    # Books stored before the archive checks existed are checked again on the way out.
    open_checked(epub).close()
    return row[3], epub


# --------------------------------------------------------------------------- the reading app
# The page at /ebooks/read/{token} (routes.py) shows fixed-layout books a page or a spread
# at a time and reflowable ones a chapter at a time, with the reading aids; it asks for
# one page at a time here, so a 200-page picture book opens as fast as a 2-page one.

TOKEN_HOURS = 12
_VIEWPORT = re.compile(rb"""<meta[^>]+name=["']viewport["'][^>]*>""", re.I)
_VIEWPORT_SIZE = re.compile(r"(width|height)\s*=\s*(\d+)")


@dataclass
class ReadingSettings:
    font_size: int = 100     # percent
    line_height: int = 180   # percent
    theme: str = "light"     # light | sepia | dark
    ruby: bool = True


THEMES = ("light", "sepia", "dark")


def reader_token(store: Store, clock: Clock, actor: Actor, loan_id: int) -> str:
    """A token that opens the reading app on this loan, for this resident only, until the
    loan ends or TOKEN_HOURS pass, whichever is first."""
    row = _active_loan(store, clock, actor, loan_id)
    due_at = store.scalar("SELECT due_at FROM library_ebooks_loans WHERE id = ?", [row[0]])
    token = secrets.token_urlsafe(24)
    now = clock.now()

    def keep(cur) -> None:
        cur.execute("DELETE FROM library_ebooks_reader_tokens WHERE expires_at <= ?", [now])
        cur.execute("INSERT INTO library_ebooks_reader_tokens VALUES (?, ?, ?, ?)",
                    [token, loan_id, actor.user_id, min(due_at, now + timedelta(hours=TOKEN_HOURS))])

    store.write(keep)
    return token


def redeem_token(store: Store, clock: Clock, token: str) -> tuple[Actor, int]:
    """The resident and the loan a reading-app token stands for; NotFound when expired."""
    row = store.cursor().execute(
        "SELECT user_id, loan_id FROM library_ebooks_reader_tokens WHERE token = ? AND expires_at > ?",
        [token, clock.now()]).fetchone()
    if row is None:
        raise NotFound("ebooks.error.no_loan")
    return Actor(user_id=row[0], roles=frozenset({Role.RESIDENT})), row[1]


def reading_settings(store: Store, actor: Actor) -> ReadingSettings:
    actor.require()
    row = store.cursor().execute(
        "SELECT font_size, line_height, theme, ruby FROM library_ebooks_reader_settings WHERE user_id = ?",
        [actor.user_id]).fetchone()
    return ReadingSettings(*row) if row else ReadingSettings()


def save_settings(store: Store, actor: Actor, settings: ReadingSettings) -> None:
    """Keep the resident's reading settings (every device shows the same)."""
    actor.require()
    if not 50 <= settings.font_size <= 300 or not 100 <= settings.line_height <= 300:
        raise InvalidInput("reader.bad_setting")
    if settings.theme not in THEMES:
        raise InvalidInput("reader.bad_setting")
    store.write(lambda cur: cur.execute(
        """INSERT INTO library_ebooks_reader_settings VALUES (?, ?, ?, ?, ?)
           ON CONFLICT (user_id) DO UPDATE SET font_size = excluded.font_size,
               line_height = excluded.line_height, theme = excluded.theme, ruby = excluded.ruby""",
        [actor.user_id, settings.font_size, settings.line_height, settings.theme, bool(settings.ruby)]))


def manifest(store: Store, clock: Clock, actor: Actor, loan_id: int) -> dict:
    """What the reading app needs before the first page: the book's layout, pages, contents,
    the place the borrower left off and their settings."""
    book = open_book(store, clock, actor, loan_id)
    row = store.cursor().execute(
        """SELECT t.layout, t.pages, t.page_direction, t.spread FROM library_ebooks_titles t
           JOIN library_ebooks_loans o ON o.title_id = t.id WHERE o.id = ?""", [loan_id]).fetchone()
    layout, pages_json, direction, spread = row
    pages = json.loads(pages_json) if pages_json else [{"kind": "xhtml", "fixed": False, "spread": None}] * book.chapters
    return {"title": book.title, "language": book.language, "writing": book.writing,
            "layout": layout or "reflowable", "direction": "rtl" if direction == "rtl" else "ltr",
            "spread": spread or "auto",
            "pages": pages, "position": book.position,
            "toc": [{"label": label, "index": index, "level": level} for label, index, level in book.toc],
            "settings": asdict(reading_settings(store, actor))}


def page(store: Store, clock: Clock, actor: Actor, loan_id: int, index: int) -> dict:
    """One spine item ready for the reading app: {kind, width, height, src | html}.
    Images and SVG pages come as data: URIs shown through <img> (where an SVG can run no
    script and load nothing); XHTML comes through the sanitiser."""
    row = _active_loan(store, clock, actor, loan_id)
    spine = json.loads(row[6])
    if not 0 <= index < len(spine):
        raise NotFound("ebooks.error.no_chapter")
    pages_json = store.scalar("SELECT pages FROM library_ebooks_titles WHERE id = ?", [row[8]])
    info = json.loads(pages_json)[index] if pages_json else {"kind": "xhtml", "fixed": False}
    epub = store.scalar("SELECT epub FROM library_ebooks_files WHERE title_id = ?", [row[8]])
    path = spine[index]
    with open_checked(epub) as book:
        names = set(book.namelist())
        data = read_bounded(book, path, MAX_IMAGE_BYTES)
        if data is None:
            raise EpubRejected("reader.too_large", mb=MAX_IMAGE_BYTES // 2**20)

        def resource(resource_path: str) -> bytes | None:
            return read_bounded(book, resource_path, MAX_IMAGE_BYTES) if resource_path in names else None

        if info["kind"] == "image":
            width, height = _image_size(data)
            media_type = mimetypes.guess_type(path)[0] or "image/jpeg"
            return {"kind": "image", "width": width, "height": height, "fixed": True,
                    "src": f"data:{media_type};base64,{base64.b64encode(data).decode()}"}
        if info["kind"] == "svg":
            svg, width, height = safe_svg(data, path, resource)
            return {"kind": "svg", "width": width, "height": height, "fixed": True,
                    "src": f"data:image/svg+xml;base64,{base64.b64encode(svg).decode()}"}
        width, height = _viewport(data) if info.get("fixed") else (None, None)
        return {"kind": "xhtml", "width": width, "height": height, "fixed": bool(info.get("fixed")),
                "html": sanitise(data, path, resource)}


def _image_size(data: bytes) -> tuple[int, int]:
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(io.BytesIO(data)) as image:
            return image.width, image.height
    except (UnidentifiedImageError, OSError, ValueError, Image.DecompressionBombError):
        return DEFAULT_PAGE_SIZE


def _viewport(xhtml: bytes) -> tuple[int, int]:
    """A fixed XHTML page's size from its <meta name="viewport" content="width=…, height=…">."""
    match = _VIEWPORT.search(xhtml[:8192])
    sizes = dict(_VIEWPORT_SIZE.findall(match.group(0).decode("utf-8", "replace"))) if match else {}
    if "width" in sizes and "height" in sizes and int(sizes["width"]) > 0 and int(sizes["height"]) > 0:
        return int(sizes["width"]), int(sizes["height"])
    return DEFAULT_PAGE_SIZE

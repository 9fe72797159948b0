"""The browser reader: a book's chapters, served only to its current borrower, sanitised.

A chapter's XHTML goes through nh3 (Rust's ammonia) with an allow-list: no script,
no event handlers, no `javascript:` or external URLs, no forms or frames. Ruby stays.
Images are taken from the EPUB itself and inlined as data: URIs, so the page loads
nothing from elsewhere. The book's own stylesheets are dropped; the reader's CSS
sets the writing mode (vertical-rl for vertical Japanese books) and the font size.
"""

from __future__ import annotations

import base64
import json
import mimetypes
import posixpath
import re
from dataclasses import dataclass
from urllib.parse import unquote

import nh3

from kernel.actor import Actor
from kernel.clock import Clock
from kernel.errors import NotFound
from kernel.store import Store
from library_ebooks.services.epub import EpubRejected, open_checked, read_bounded

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


def sanitise(xhtml: bytes, chapter_path: str, resource: callable) -> str:
    """Safe HTML for one chapter: only allowed tags; images inlined from `resource(path)`."""
    match = _BODY.search(xhtml)
    body = (match.group(1) if match else xhtml).decode("utf-8", errors="replace")
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
    _, _, position, title, writing, language, spine_json, toc_json, _ = _active_loan(store, clock, actor, loan_id)
    spine = json.loads(spine_json)
    index_of = {path: i for i, path in enumerate(spine)}
    toc = []
    for entry in json.loads(toc_json):
        index = index_of.get(entry["href"].split("#")[0])
        if index is not None:
            toc.append((entry["label"], index, entry.get("level", 1)))
    return ReaderBook(loan_id, title, writing, language, len(spine), min(position, len(spine) - 1), toc)


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


def download(store: Store, clock: Clock, actor: Actor, loan_id: int) -> tuple[str, bytes]:
    """The EPUB file itself for a reading app (OPDS), to the current borrower only."""
    row = _active_loan(store, clock, actor, loan_id)
    epub = store.scalar("SELECT epub FROM library_ebooks_files WHERE title_id = ?", [row[8]])
    # Books stored before the archive checks existed are checked again on the way out.
    open_checked(epub).close()
    return row[3], epub

"""Small builders shared by the e-book tests: actors, EPUB bytes, a stocked catalogue."""

from __future__ import annotations

import io
import zipfile

from kernel.actor import Actor, Role
from library_ebooks.demo_books import SHELF, make_epub
from library_ebooks.services import catalogue

LIBRARIAN = Actor(user_id=900, login="librarian99", display_name="司書", roles=frozenset({Role.LIBRARIAN}))
BOOKS = {book.key: book for book in SHELF}


def resident(number: int) -> Actor:
    return Actor(user_id=1000 + number, login=f"r{number}", display_name=f"住民{number}",
                 roles=frozenset({Role.RESIDENT}))


def add_book(store, clock, key: str = "botchan", **license_kw) -> int:
    """Import a demo book; with license keywords, give it that license too."""
    result = catalogue.import_epub(store, clock, LIBRARIAN, make_epub(BOOKS[key]), f"{key}.epub")
    assert result.status == "imported", result
    if license_kw:
        model = license_kw.pop("model", "one_copy")
        catalogue.add_license(store, clock, LIBRARIAN, result.title_id, model, **license_kw)
    return result.title_id


def zip_bytes(files: dict[str, bytes | str]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as z:
        for name, content in files.items():
            z.writestr(name, content)
    return out.getvalue()


CONTAINER = """<?xml version="1.0"?>
<container version="1.0" xmlns="urn:oasis:names:tc:opendocument:xmlns:container">
  <rootfiles><rootfile full-path="OPS/book.opf" media-type="application/oebps-package+xml"/></rootfiles>
</container>"""


def package(title: str | None = "A Test Book", spine_href: str = "ch1.xhtml", identifier: str = "urn:test:1") -> str:
    title_xml = f"<dc:title>{title}</dc:title>" if title is not None else ""
    return f"""<?xml version="1.0" encoding="utf-8"?>
<package xmlns="http://www.idpf.org/2007/opf" version="3.0" unique-identifier="uid">
  <metadata xmlns:dc="http://purl.org/dc/elements/1.1/">
    <dc:identifier id="uid">{identifier}</dc:identifier>{title_xml}<dc:language>en</dc:language>
  </metadata>
  <manifest><item id="c1" href="{spine_href}" media-type="application/xhtml+xml"/></manifest>
  <spine><itemref idref="c1"/></spine>
</package>"""


CHAPTER = """<?xml version="1.0" encoding="utf-8"?>
<html xmlns="http://www.w3.org/1999/xhtml"><head><title>c</title></head><body><p>Hello</p></body></html>"""


def handmade_epub(changes: dict[str, bytes | str | None] | None = None) -> bytes:
    """A minimal valid EPUB 3; `changes` replaces, adds (content) or removes (None) files."""
    content = {"mimetype": "application/epub+zip", "META-INF/container.xml": CONTAINER,
               "OPS/book.opf": package(), "OPS/ch1.xhtml": CHAPTER}
    for path, value in (changes or {}).items():
        if value is None:
            content.pop(path, None)
        else:
            content[path] = value
    return zip_bytes(content)

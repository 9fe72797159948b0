"""OPDS for reading apps, as documents: the Atom (OPDS 1.2) and JSON (OPDS 2.0) forms of the
catalogue, a resident's shelf and one book, and the OpenSearch description. The routes
(library_ebooks/routes.py) speak HTTP and send what these return; nothing here reads the store."""

from __future__ import annotations

from datetime import datetime
from xml.etree import ElementTree as ET

from library_ebooks.services.catalogue import SearchResult, TitleCard
from library_ebooks.services.lending import Hold, Loan

ATOM = "http://www.w3.org/2005/Atom"
NAMESPACES = {"": ATOM, "dc": "http://purl.org/dc/terms/", "opds": "http://opds-spec.org/2010/catalog",
              "opensearch": "http://a9.com/-/spec/opensearch/1.1/", "schema": "http://schema.org/"}
RENDITION_LAYOUT = "http://www.idpf.org/vocab/rendition/#layout"
for _prefix, _uri in NAMESPACES.items():
    ET.register_namespace(_prefix, _uri)
ACQUISITION_FEED = "application/atom+xml;profile=opds-catalog;kind=acquisition"
ENTRY_TYPE = "application/atom+xml;type=entry;profile=opds-catalog"
BORROW_REL = "http://opds-spec.org/acquisition/borrow"
PER_PAGE = 50


def _q(prefix: str, name: str) -> str:
    return f"{{{NAMESPACES[prefix]}}}{name}"


def _sub(parent, tag: str, text: str | None = None, **attributes) -> ET.Element:
    prefix, _, name = tag.rpartition(":")
    element = ET.SubElement(parent, _q(prefix, name), {k.replace("_", ":") if k != "type_" else "type": v
                                                       for k, v in attributes.items() if v is not None})
    if text is not None:
        element.text = text
    return element


def _link(parent, rel: str, href: str, type_: str, **extra) -> ET.Element:
    return _sub(parent, "link", rel=rel, href=href, type_=type_, **extra)


def _feed(feed_id: str, title: str, now: datetime, self_href: str) -> ET.Element:
    feed = ET.Element(_q("", "feed"))
    _sub(feed, "id", feed_id)
    _sub(feed, "title", title)
    _sub(feed, "updated", now.isoformat())
    _link(feed, "self", self_href, ACQUISITION_FEED)
    _link(feed, "start", "/opds", ACQUISITION_FEED)
    _link(feed, "search", "/opds/opensearch.xml", "application/opensearchdescription+xml")
    _link(feed, "http://opds-spec.org/shelf", "/opds/shelf", ACQUISITION_FEED)
    return feed


def _entry(parent, card: TitleCard, now: datetime, *, loan: Loan | None = None,
           hold: Hold | None = None, loan_downloadable: bool = True) -> ET.Element:
    entry = _sub(parent, "entry")
    _sub(entry, "id", f"urn:manabi:ebook:{card.id}")
    _sub(entry, "title", card.title)
    _sub(entry, "updated", now.isoformat())
    for creator in card.creators:
        author = _sub(entry, "author")
        _sub(author, "name", creator["name"])
    _sub(entry, "dc:language", card.language)
    if card.isbn:
        _sub(entry, "dc:identifier", f"urn:isbn:{card.isbn}")
    elif card.identifier:
        _sub(entry, "dc:identifier", card.identifier)
    if card.publisher:
        _sub(entry, "dc:publisher", card.publisher)
    if card.published:
        _sub(entry, "dc:issued", card.published)
    for subject in card.subjects:
        _sub(entry, "category", term=subject, label=subject)
    if card.description:
        _sub(entry, "summary", card.description)
    if card.layout == "pre-paginated":
        # A fixed-layout book (picture book, manga): pages are pictures, read visually.
        _sub(entry, "category", scheme=RENDITION_LAYOUT, term="pre-paginated", label="rendition:layout pre-paginated")
        _sub(entry, "schema:accessMode", "visual")
    else:
        _sub(entry, "schema:accessMode", "textual")
    # Every book has a cover: its own, or one made from its title and creator.
    for rel in ("http://opds-spec.org/image", "http://opds-spec.org/image/thumbnail"):
        _link(entry, rel, f"/opds/covers/{card.id}.jpg", "image/jpeg")
    _link(entry, "alternate", f"/opds/books/{card.id}", ENTRY_TYPE)
    if loan is not None and not loan_downloadable:
        pass  # the license allows reading in the browser only: no acquisition link
    elif loan is not None:
        link = _link(entry, "http://opds-spec.org/acquisition", f"/opds/loans/{loan.id}/book.epub",
                     "application/epub+zip")
        _sub(link, "opds:availability", status="available", since=loan.borrowed_at.isoformat(),
             until=loan.due_at.isoformat())
    elif card.licensed and card.downloadable:
        link = _link(entry, BORROW_REL, f"/opds/books/{card.id}/borrow", ENTRY_TYPE)
        _sub(link, "opds:indirectAcquisition", type_="application/epub+zip")
        if hold is not None and hold.status == "offered":
            _sub(link, "opds:availability", status="ready", until=hold.offer_expires_at.isoformat())
        else:
            _sub(link, "opds:availability", status="available" if card.available else "unavailable")
        if not card.unlimited:
            _sub(link, "opds:copies", total=str(card.copies), available=str(max(card.copies - card.on_loan, 0)))
            _sub(link, "opds:holds", total=str(card.holds_waiting + card.offers),
                 position=str(hold.queue_position) if hold is not None else None)
    return entry


def _xml(element: ET.Element) -> bytes:
    return b'<?xml version="1.0" encoding="utf-8"?>\n' + ET.tostring(element, encoding="utf-8")


def _publication(card: TitleCard) -> dict:
    metadata = {"@type": "http://schema.org/Book", "title": card.title, "language": card.language,
                "identifier": f"urn:isbn:{card.isbn}" if card.isbn else card.identifier,
                "author": [{"name": c["name"], **({"sortAs": c["file_as"]} if c.get("file_as") else {})}
                           for c in card.creators],
                "subject": card.subjects}
    if card.title_reading:
        metadata["sortAs"] = card.title_reading
    metadata["accessMode"] = ["visual"] if card.layout == "pre-paginated" else ["textual"]
    if card.layout == "pre-paginated":
        metadata["presentation"] = {"layout": "fixed"}
    for key, value in (("publisher", card.publisher), ("published", card.published),
                       ("description", card.description)):
        if value:
            metadata[key] = value
    links = [{"rel": "self", "href": f"/opds/books/{card.id}", "type": ENTRY_TYPE}]
    if card.licensed and card.downloadable:
        links.append({"rel": BORROW_REL, "href": f"/opds/books/{card.id}/borrow", "type": ENTRY_TYPE,
                      "properties": {"indirectAcquisition": [{"type": "application/epub+zip"}],
                                     "availability": {"state": "available" if card.available else "unavailable"}}})
    images = [{"href": f"/opds/covers/{card.id}.jpg", "type": "image/jpeg"}]  # own or generated
    return {"metadata": metadata, "links": links, "images": images}


# --------------------------------------------------------------------------- whole documents


def catalogue_feed(result: SearchResult, *, title: str, query: str, page: int, self_href: str,
                   now: datetime) -> bytes:
    """One page of the catalogue or of a search, as an Atom acquisition feed."""
    feed = _feed("urn:manabi:opds:search" if query else "urn:manabi:opds:catalogue", title, now, self_href)
    _sub(feed, "opensearch:totalResults", str(result.total))
    _sub(feed, "opensearch:itemsPerPage", str(PER_PAGE))
    joiner = "&" if "?" in self_href else "?"
    if page * PER_PAGE < result.total:
        _link(feed, "next", f"{self_href}{joiner}page={page + 1}", ACQUISITION_FEED)
    if page > 1:
        _link(feed, "previous", f"{self_href}{joiner}page={page - 1}", ACQUISITION_FEED)
    for card in result.cards:
        _entry(feed, card, now)
    return _xml(feed)


def book_entry(card: TitleCard, now: datetime, *, loan: Loan | None = None) -> bytes:
    """One book as an Atom entry; with the resident's loan, its acquisition link."""
    return _xml(_entry(ET.Element("holder"), card, now, loan=loan))


def shelf_feed(user_id: int, title: str, now: datetime, loans: list[Loan], holds: list[Hold],
               cards: dict[int, TitleCard], downloadable: dict[int, bool]) -> bytes:
    """A resident's loans (with their EPUB where the license allows) and holds."""
    feed = _feed(f"urn:manabi:opds:shelf:{user_id}", title, now, "/opds/shelf")
    for loan in loans:
        _entry(feed, cards[loan.title_id], now, loan=loan, loan_downloadable=downloadable[loan.id])
    for hold in holds:
        _entry(feed, cards[hold.title_id], now, hold=hold)
    return _xml(feed)


def opensearch_description(short_name: str, description: str) -> bytes:
    root = ET.Element("OpenSearchDescription", xmlns="http://a9.com/-/spec/opensearch/1.1/")
    ET.SubElement(root, "ShortName").text = short_name
    ET.SubElement(root, "Description").text = description
    ET.SubElement(root, "InputEncoding").text = "UTF-8"
    ET.SubElement(root, "Url", type=ACQUISITION_FEED, template="/opds/search?q={searchTerms}")
    return _xml(root)


def json_feed(result: SearchResult, *, title: str, page: int, self_href: str) -> dict:
    """One page of the catalogue or of a search, as an OPDS 2.0 feed."""
    links = [{"rel": "self", "href": self_href, "type": "application/opds+json"},
             {"rel": "search", "href": "/opds/v2/search{?query}", "type": "application/opds+json", "templated": True}]
    if page * PER_PAGE < result.total:
        joiner = "&" if "?" in self_href else "?"
        links.append({"rel": "next", "href": f"{self_href}{joiner}page={page + 1}", "type": "application/opds+json"})
    return {"metadata": {"title": title, "numberOfItems": result.total, "itemsPerPage": PER_PAGE, "currentPage": page},
            "links": links,
            "publications": [_publication(card) for card in result.cards]}

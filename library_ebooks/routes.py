"""OPDS for reading apps: a 1.2 Atom catalogue and a 2.0 JSON one, with search; residents
signed in with HTTP Basic get their shelf, borrow links and the EPUB of their loans.

    GET  /opds                         Atom acquisition feed of the catalogue (?page=N)
    GET  /opds/search?q=…              Atom feed of search results
    GET  /opds/opensearch.xml          OpenSearch description for the search link
    GET  /opds/books/{id}              Atom entry of one book
    GET  /opds/covers/{id}.jpg         cover thumbnail
    GET  /opds/shelf                   (Basic) the resident's loans and offered holds
    GET|POST /opds/books/{id}/borrow   (Basic) borrow; 201 with the entry, 409 when no copy
    GET  /opds/loans/{loan}/book.epub  (Basic) the EPUB, to its current borrower only
    GET  /opds/v2/catalog.json, /opds/v2/search?query=…   OPDS 2.0 JSON

The browser reading app (the "Read" page embeds it), opened by a loan's reader token:
    GET  /ebooks/read/{token}                the app: spreads, zoom, keys, swipes, read-aloud
    GET  /ebooks/read/{token}/pages/{i}      one page (JSON: image or SVG as data: URI, or sanitised XHTML)
    POST /ebooks/read/{token}/position       {"index": i}: where the borrower is, on every device
    POST /ebooks/read/{token}/settings       font size, line spacing, theme, ruby
    GET  /ebooks/reader-app/reader.js|.css   the app's own script and style
"""

from __future__ import annotations

import base64
import binascii
import json
from datetime import datetime
from html import escape
from pathlib import Path
from urllib.parse import quote
from xml.etree import ElementTree as ET

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from kernel.errors import ManabiError, NotFound, PermissionDenied
from kernel.http import KIB, route, route_context
from kernel.i18n import Translator, load_catalogue
from library_ebooks.services import catalogue, lending, reader
from library_ebooks.services.catalogue import TitleCard
from library_ebooks.services.patrons import BadCredentials, authenticate_basic

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
REALM = 'Basic realm="Manabi e-library", charset="UTF-8"'
_CATALOGUE_FILES = [Path(__file__).resolve().parent.parent / "kernel" / "messages.toml",
                    Path(__file__).resolve().parent / "messages.toml"]


def _translator(request: Request) -> Translator:
    # ?lang= (the portal passes its own language to the reading app), else the browser's.
    wanted = request.query_params.get("lang") or request.headers.get("accept-language", "ja")
    lang = "en" if wanted.lower().startswith("en") else "ja"
    return Translator(lang, load_catalogue(_CATALOGUE_FILES), strict=False)


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


def _entry(parent, card: TitleCard, now: datetime, *, loan: lending.Loan | None = None,
           hold: lending.Hold | None = None, loan_downloadable: bool = True) -> ET.Element:
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


def _atom(element: ET.Element, media_type: str = ACQUISITION_FEED, status: int = 200) -> Response:
    body = b'<?xml version="1.0" encoding="utf-8"?>\n' + ET.tostring(element, encoding="utf-8")
    return Response(body, status_code=status, media_type=media_type)


MAX_PAGE = 100_000  # far past any catalogue's end; a larger number would overflow the SQL OFFSET


def _page_number(request: Request) -> int:
    try:
        return min(max(1, int(request.query_params.get("page", "1"))), MAX_PAGE)
    except ValueError:
        return 1


async def _catalogue_feed(request: Request, query: str, self_href: str) -> Response:
    rc = route_context()
    t = _translator(request)
    page = _page_number(request)
    result = await run_in_threadpool(catalogue.search, rc.store, rc.clock, query, limit=PER_PAGE,
                                     offset=(page - 1) * PER_PAGE)
    now = rc.clock.now()
    feed = _feed("urn:manabi:opds:search" if query else "urn:manabi:opds:catalogue",
                 t("opds.search") if query else t("opds.catalogue"), now, self_href)
    _sub(feed, "opensearch:totalResults", str(result.total))
    _sub(feed, "opensearch:itemsPerPage", str(PER_PAGE))
    joiner = "&" if "?" in self_href else "?"
    if page * PER_PAGE < result.total:
        _link(feed, "next", f"{self_href}{joiner}page={page + 1}", ACQUISITION_FEED)
    if page > 1:
        _link(feed, "previous", f"{self_href}{joiner}page={page - 1}", ACQUISITION_FEED)
    for card in result.cards:
        _entry(feed, card, now)
    return _atom(feed)


async def opds_root(request: Request) -> Response:
    return await _catalogue_feed(request, "", "/opds")


async def opds_search(request: Request) -> Response:
    query = request.query_params.get("q", "")
    return await _catalogue_feed(request, query, f"/opds/search?q={quote(query)}")


async def opensearch(request: Request) -> Response:
    t = _translator(request)
    root = ET.Element("OpenSearchDescription", xmlns="http://a9.com/-/spec/opensearch/1.1/")
    ET.SubElement(root, "ShortName").text = t("opds.catalogue")
    ET.SubElement(root, "Description").text = t("opds.search")
    ET.SubElement(root, "InputEncoding").text = "UTF-8"
    ET.SubElement(root, "Url", type=ACQUISITION_FEED, template="/opds/search?q={searchTerms}")
    body = b'<?xml version="1.0" encoding="utf-8"?>\n' + ET.tostring(root, encoding="utf-8")
    return Response(body, media_type="application/opensearchdescription+xml")


async def opds_book(request: Request) -> Response:
    rc = route_context()
    try:
        card = await run_in_threadpool(catalogue.get_title, rc.store, rc.clock, int(request.path_params["id"]))
    except NotFound:
        return Response("not found", status_code=404)
    holder = ET.Element("holder")
    entry = _entry(holder, card, rc.clock.now())
    return _atom(entry, ENTRY_TYPE)


async def opds_cover(request: Request) -> Response:
    rc = route_context()
    data = await run_in_threadpool(catalogue.cover_or_generated, rc.store, int(request.path_params["id"]))
    if not data:
        return Response("not found", status_code=404)
    return Response(data, media_type="image/jpeg", headers={"Cache-Control": "public, max-age=86400"})


def _unauthorised(message: str = "sign in") -> Response:
    return Response(message, status_code=401, headers={"WWW-Authenticate": REALM})


async def _actor(request: Request):
    """The resident behind HTTP Basic credentials, or None."""
    header = request.headers.get("authorization", "")
    if not header.lower().startswith("basic "):
        return None
    try:
        login, _, password = base64.b64decode(header[6:].strip()).decode("utf-8").partition(":")
    except (binascii.Error, UnicodeDecodeError):
        return None
    rc = route_context()
    try:
        return await run_in_threadpool(authenticate_basic, rc.store, rc.clock, login, password)
    except BadCredentials:
        return None


async def opds_shelf(request: Request) -> Response:
    actor = await _actor(request)
    if actor is None:
        return _unauthorised()
    rc = route_context()
    t = _translator(request)

    def gather():
        loans = lending.my_loans(rc.store, rc.clock, actor)
        holds = lending.my_holds(rc.store, rc.clock, actor)
        cards = {i: catalogue.get_title(rc.store, rc.clock, i) for i in {x.title_id for x in [*loans, *holds]}}
        downloadable = {loan.id: reader.may_download(rc.store, loan.id) for loan in loans}
        return loans, holds, cards, downloadable

    loans, holds, cards, downloadable = await run_in_threadpool(gather)
    now = rc.clock.now()
    feed = _feed(f"urn:manabi:opds:shelf:{actor.user_id}", t("opds.shelf"), now, "/opds/shelf")
    for loan in loans:
        _entry(feed, cards[loan.title_id], now, loan=loan, loan_downloadable=downloadable[loan.id])
    for hold in holds:
        _entry(feed, cards[hold.title_id], now, hold=hold)
    return _atom(feed)


async def opds_borrow(request: Request) -> Response:
    actor = await _actor(request)
    if actor is None:
        return _unauthorised()
    rc = route_context()
    t = _translator(request)
    title_id = int(request.path_params["id"])

    def borrow():
        loan_id = lending.borrow(rc.store, rc.clock, actor, title_id)
        loan = next(x for x in lending.my_loans(rc.store, rc.clock, actor) if x.id == loan_id)
        return loan, catalogue.get_title(rc.store, rc.clock, title_id)

    try:
        loan, card = await run_in_threadpool(borrow)
    except PermissionDenied as exc:
        return Response(t.error(exc), status_code=403)
    except NotFound as exc:
        return Response(t.error(exc), status_code=404)
    except ManabiError as exc:
        return Response(t.error(exc), status_code=409, media_type="text/plain; charset=utf-8")
    holder = ET.Element("holder")
    return _atom(_entry(holder, card, rc.clock.now(), loan=loan), ENTRY_TYPE, status=201)


async def opds_download(request: Request) -> Response:
    actor = await _actor(request)
    if actor is None:
        return _unauthorised()
    rc = route_context()
    try:
        title, data = await run_in_threadpool(reader.download, rc.store, rc.clock, actor,
                                              int(request.path_params["loan"]))
    except NotFound:
        return Response("not found", status_code=404)
    except PermissionDenied as exc:  # read in the browser only, by the license
        return Response(_translator(request).error(exc), status_code=403, media_type="text/plain; charset=utf-8")
    except ManabiError as exc:  # an archive that fails the checks is never handed out
        return Response(_translator(request).error(exc), status_code=409, media_type="text/plain; charset=utf-8")
    return Response(data, media_type="application/epub+zip",
                    headers={"Content-Disposition": f"attachment; filename=\"book-{request.path_params['loan']}.epub\""})


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


async def _json_feed(request: Request, query: str, self_href: str) -> JSONResponse:
    rc = route_context()
    t = _translator(request)
    page = _page_number(request)
    result = await run_in_threadpool(catalogue.search, rc.store, rc.clock, query, limit=PER_PAGE,
                                     offset=(page - 1) * PER_PAGE)
    links = [{"rel": "self", "href": self_href, "type": "application/opds+json"},
             {"rel": "search", "href": "/opds/v2/search{?query}", "type": "application/opds+json", "templated": True}]
    if page * PER_PAGE < result.total:
        joiner = "&" if "?" in self_href else "?"
        links.append({"rel": "next", "href": f"{self_href}{joiner}page={page + 1}", "type": "application/opds+json"})
    return JSONResponse({
        "metadata": {"title": t("opds.search") if query else t("opds.catalogue"), "numberOfItems": result.total,
                     "itemsPerPage": PER_PAGE, "currentPage": page},
        "links": links,
        "publications": [_publication(card) for card in result.cards],
    }, media_type="application/opds+json")


async def opds2_catalogue(request: Request) -> JSONResponse:
    return await _json_feed(request, "", "/opds/v2/catalog.json")


async def opds2_search(request: Request) -> JSONResponse:
    query = request.query_params.get("query", "")
    return await _json_feed(request, query, f"/opds/v2/search?query={quote(query)}")


# A borrow needs no body; a reading app's small form is taken, nothing larger.
FORM_MAX_BYTES = 64 * KIB


def routes() -> list[Route]:
    return [
        route("/opds", opds_root, methods=["GET"]),
        route("/opds/search", opds_search, methods=["GET"]),
        route("/opds/opensearch.xml", opensearch, methods=["GET"]),
        route("/opds/shelf", opds_shelf, methods=["GET"]),
        route("/opds/books/{id:int}", opds_book, methods=["GET"]),
        route("/opds/books/{id:int}/borrow", opds_borrow, methods=["GET", "POST"], max_body=FORM_MAX_BYTES),
        route("/opds/covers/{id:int}.jpg", opds_cover, methods=["GET"]),
        route("/opds/loans/{loan:int}/book.epub", opds_download, methods=["GET"]),
        route("/opds/v2/catalog.json", opds2_catalogue, methods=["GET"]),
        route("/opds/v2/search", opds2_search, methods=["GET"]),
        route("/ebooks/read/{token}", reading_app, methods=["GET"]),
        route("/ebooks/read/{token}/pages/{index:int}", reading_page, methods=["GET"]),
        route("/ebooks/read/{token}/position", reading_position, methods=["POST"], max_body=FORM_MAX_BYTES),
        route("/ebooks/read/{token}/settings", reading_settings, methods=["POST"], max_body=FORM_MAX_BYTES),
        route("/ebooks/reader-app/{name}", reading_asset, methods=["GET"]),
    ]


# --------------------------------------------------------------------------- the reading app

_APP_DIR = Path(__file__).resolve().parent / "reader_app"
# The app's own script only; book content reaches it sanitised and shows no script.
READER_HEADERS = {
    "Content-Security-Policy": "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
                               "img-src data:; connect-src 'self'; frame-ancestors 'self'; base-uri 'none'; "
                               "form-action 'none'",
    "Referrer-Policy": "no-referrer",  # the token is in the address
    "Cache-Control": "no-store",
    "X-Content-Type-Options": "nosniff",
}
_APP_STRINGS = ("previous", "next", "toc", "zoom_in", "zoom_out", "zoom_fit", "font_size", "line_height", "ruby",
                "theme", "theme_light", "theme_sepia", "theme_dark", "read_aloud", "stop_reading")


async def _reading(request: Request, work):
    """Run `work(actor, loan_id)` for the reading-app token in the path; NotFound when
    the token (or the loan behind it) has ended."""
    rc = route_context()

    def run():
        actor, loan_id = reader.redeem_token(rc.store, rc.clock, request.path_params["token"])
        return work(rc, actor, loan_id)

    return await run_in_threadpool(run)


async def reading_app(request: Request) -> Response:
    t = _translator(request)
    try:
        book = await _reading(request, lambda rc, actor, loan_id: reader.manifest(rc.store, rc.clock, actor, loan_id))
    except ManabiError as exc:
        return Response(t.error(exc), status_code=404, media_type="text/plain; charset=utf-8", headers=READER_HEADERS)
    config = {"token": request.path_params["token"], "book": book,
              "strings": {key: t(f"reader.{key}") for key in _APP_STRINGS}}
    html = (_APP_DIR / "reader.html").read_text(encoding="utf-8")
    replacements = {"{lang}": t.lang, "{title}": escape(book["title"]),
                    # JSON inside <script type="application/json">: no "</" may close it early
                    "{config}": json.dumps(config, ensure_ascii=False).replace("</", "<\\/")}
    replacements.update({"{t_" + key + "}": escape(t(f"reader.{key}")) for key in _APP_STRINGS})
    for placeholder, value in replacements.items():
        html = html.replace(placeholder, value)
    return Response(html, media_type="text/html; charset=utf-8", headers=READER_HEADERS)


async def reading_page(request: Request) -> Response:
    index = int(request.path_params["index"])
    try:
        page = await _reading(request, lambda rc, actor, loan_id: reader.page(rc.store, rc.clock, actor, loan_id, index))
    except NotFound as exc:
        return JSONResponse({"error": _translator(request).error(exc)}, status_code=404, headers=READER_HEADERS)
    except ManabiError as exc:
        return JSONResponse({"error": _translator(request).error(exc)}, status_code=409, headers=READER_HEADERS)
    return JSONResponse(page, headers=READER_HEADERS)


async def reading_position(request: Request) -> Response:
    try:
        index = int((await request.json())["index"])
        await _reading(request, lambda rc, actor, loan_id: reader.save_position(rc.store, rc.clock, actor, loan_id,
                                                                                 index))
    except (ValueError, KeyError, TypeError):
        return Response("bad request", status_code=400)
    except ManabiError as exc:
        return Response(_translator(request).error(exc), status_code=404, media_type="text/plain; charset=utf-8")
    return Response(status_code=204)


async def reading_settings(request: Request) -> Response:
    try:
        body = await request.json()
        settings = reader.ReadingSettings(font_size=int(body["font_size"]), line_height=int(body["line_height"]),
                                          theme=str(body["theme"]), ruby=bool(body["ruby"]))
        await _reading(request, lambda rc, actor, loan_id: reader.save_settings(rc.store, actor, settings))
    except (ValueError, KeyError, TypeError):
        return Response("bad request", status_code=400)
    except ManabiError as exc:
        return Response(_translator(request).error(exc), status_code=400, media_type="text/plain; charset=utf-8")
    return Response(status_code=204)


async def reading_asset(request: Request) -> Response:
    name = request.path_params["name"]
    media_type = {"reader.js": "text/javascript; charset=utf-8", "reader.css": "text/css; charset=utf-8"}.get(name)
    if media_type is None:
        return Response("not found", status_code=404)
    return Response((_APP_DIR / name).read_bytes(), media_type=media_type,
                    headers={"Cache-Control": "no-cache", "X-Content-Type-Options": "nosniff"})

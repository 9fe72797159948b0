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
from functools import cache
from html import escape
from pathlib import Path
from urllib.parse import quote

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from kernel.errors import ManabiError, NotFound, PermissionDenied
from kernel.http import KIB, route, route_context
from kernel.i18n import Translator, load_catalogue
from library_ebooks.services import catalogue, lending, opds, reader
from library_ebooks.services.patrons import BadCredentials, authenticate_basic

REALM = 'Basic realm="Manabi e-library", charset="UTF-8"'
_CATALOGUE_FILES = [Path(__file__).resolve().parent.parent / "kernel" / "messages.toml",
                    Path(__file__).resolve().parent / "messages.toml"]


@cache
def _catalogue():
    return load_catalogue(_CATALOGUE_FILES)


def _translator(request: Request) -> Translator:
    # ?lang= (the portal passes its own language to the reading app), else the browser's.
    wanted = request.query_params.get("lang") or request.headers.get("accept-language", "ja")
    lang = "en" if wanted.lower().startswith("en") else "ja"
    return Translator(lang, _catalogue(), strict=False)


def _atom(body: bytes, media_type: str = opds.ACQUISITION_FEED, status: int = 200) -> Response:
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
    result = await run_in_threadpool(catalogue.search, rc.store, rc.clock, query, limit=opds.PER_PAGE,
                                     offset=(page - 1) * opds.PER_PAGE)
    return _atom(opds.catalogue_feed(result, title=t("opds.search") if query else t("opds.catalogue"), query=query,
                                     page=page, self_href=self_href, now=rc.clock.now()))


async def opds_root(request: Request) -> Response:
    return await _catalogue_feed(request, "", "/opds")


async def opds_search(request: Request) -> Response:
    query = request.query_params.get("q", "")
    return await _catalogue_feed(request, query, f"/opds/search?q={quote(query)}")


async def opensearch(request: Request) -> Response:
    t = _translator(request)
    return Response(opds.opensearch_description(t("opds.catalogue"), t("opds.search")),
                    media_type="application/opensearchdescription+xml")


async def opds_book(request: Request) -> Response:
    rc = route_context()
    try:
        card = await run_in_threadpool(catalogue.get_title, rc.store, rc.clock, int(request.path_params["id"]))
    except NotFound:
        return Response("not found", status_code=404)
    return _atom(opds.book_entry(card, rc.clock.now()), opds.ENTRY_TYPE)


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
    return _atom(opds.shelf_feed(actor.user_id, t("opds.shelf"), rc.clock.now(), loans, holds, cards, downloadable))


async def opds_borrow(request: Request) -> Response:
    actor = await _actor(request)
    if actor is None:
        return _unauthorised()
    rc = route_context()
    t = _translator(request)
    title_id = int(request.path_params["id"])

    def borrow():
        loan = lending.borrow(rc.store, rc.clock, actor, title_id)
        return loan, catalogue.get_title(rc.store, rc.clock, title_id)

    try:
        loan, card = await run_in_threadpool(borrow)
    except PermissionDenied as exc:
        return Response(t.error(exc), status_code=403)
    except NotFound as exc:
        return Response(t.error(exc), status_code=404)
    except ManabiError as exc:
        return Response(t.error(exc), status_code=409, media_type="text/plain; charset=utf-8")
    return _atom(opds.book_entry(card, rc.clock.now(), loan=loan), opds.ENTRY_TYPE, status=201)


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


async def _json_feed(request: Request, query: str, self_href: str) -> JSONResponse:
    rc = route_context()
    t = _translator(request)
    page = _page_number(request)
    result = await run_in_threadpool(catalogue.search, rc.store, rc.clock, query, limit=opds.PER_PAGE,
                                     offset=(page - 1) * opds.PER_PAGE)
    return JSONResponse(opds.json_feed(result, title=t("opds.search") if query else t("opds.catalogue"), page=page,
                                       self_href=self_href), media_type="application/opds+json")


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

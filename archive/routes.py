"""The archive's HTTP routes, for IIIF viewers, aggregators and image requests.

  GET /iiif/{id}/manifest          IIIF Presentation 3 manifest of a published item
  GET /iiif/collection             the collection of all item sets
  GET /iiif/collection/{slug}      the collection of one item set
  GET /archive/media/{id}/{size}.jpg   an image: thumb, display or full (full only where rights allow)
  GET /archive/export.json|.csv    published metadata for Japan Search / Europeana style harvesting
  GET /iiif/image/{id}/info.json   IIIF Image API 3, level 0 (the stored sizes only)
  GET /iiif/image/{id}/full/{w},{h}/0/default.jpg   one of those sizes
  GET /oai?verb=…                  OAI-PMH 2.0 (oai_dc) over the published items

Every route reads as the anonymous visitor: drafts are never served here.
"""

from __future__ import annotations

import json

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from archive.services import exports, iiif, media, oai
from kernel.actor import ANONYMOUS
from kernel.errors import NotFound, PermissionDenied
from kernel.http import KIB, route, route_context

IIIF_TYPE = 'application/ld+json;profile="http://iiif.io/api/presentation/3/context.json"'
CORS = {"Access-Control-Allow-Origin": "*"}


def _base(request: Request) -> str:
    return str(request.base_url).rstrip("/")


def _json(document: dict) -> Response:
    return Response(json.dumps(document, ensure_ascii=False), media_type=IIIF_TYPE, headers=CORS)


def _not_found() -> JSONResponse:
    return JSONResponse({"error": "not found"}, status_code=404, headers=CORS)


async def manifest(request: Request) -> Response:
    rc = route_context()
    try:
        document = await run_in_threadpool(iiif.manifest, rc.store, _base(request), request.path_params["item_id"])
    except NotFound:
        return _not_found()
    return _json(document)


async def collection(request: Request) -> Response:
    rc = route_context()
    slug = request.path_params.get("slug")
    try:
        if slug is None:
            document = await run_in_threadpool(iiif.top_collection, rc.store, _base(request))
        else:
            document = await run_in_threadpool(iiif.collection, rc.store, _base(request), slug)
    except NotFound:
        return _not_found()
    return _json(document)


async def media_bytes(request: Request) -> Response:
    rc = route_context()
    try:
        found = await run_in_threadpool(media.media_file, rc.store, ANONYMOUS, request.path_params["media_id"],
                                        request.path_params["size"])
    except NotFound:
        return _not_found()
    except PermissionDenied:
        return JSONResponse({"error": "the rights statement of this image allows no download"},
                            status_code=403, headers=CORS)
    headers = {**CORS, "Cache-Control": "public, max-age=3600"}
    if request.path_params["size"] == "full" and found.file_name:
        headers["Content-Disposition"] = f'inline; filename="{request.path_params["media_id"]}.jpg"'
    return Response(found.data, media_type=found.mime, headers=headers)


async def image_info(request: Request) -> Response:
    rc = route_context()
    try:
        info = await run_in_threadpool(iiif.image_info, rc.store, _base(request), request.path_params["media_id"])
    except NotFound:
        return _not_found()
    return Response(json.dumps(info), media_type='application/ld+json;profile="http://iiif.io/api/image/3/context.json"',
                    headers=CORS)


async def image_request(request: Request) -> Response:
    rc = route_context()
    p = request.path_params
    try:
        size = await run_in_threadpool(iiif.image_size_for, rc.store, p["media_id"], p["region"], p["size"],
                                       p["rotation"], p["quality"])
        found = await run_in_threadpool(media.media_file, rc.store, ANONYMOUS, p["media_id"], size)
    except (NotFound, PermissionDenied):
        return _not_found()
    return Response(found.data, media_type=found.mime, headers={**CORS, "Cache-Control": "public, max-age=3600"})


async def export(request: Request) -> Response:
    rc = route_context()
    if request.path_params["fmt"] not in ("json", "csv"):
        return _not_found()
    if request.path_params["fmt"] == "json":
        body = await run_in_threadpool(exports.to_json, rc.store, _base(request))
        return Response(body, media_type="application/json", headers=CORS)
    body = await run_in_threadpool(exports.to_csv, rc.store, _base(request))
    return Response(body, media_type="text/csv; charset=utf-8", headers={
        **CORS, "Content-Disposition": 'attachment; filename="iizuka-archive.csv"'})


async def oai_pmh(request: Request) -> Response:
    rc = route_context()
    args = dict(request.query_params)
    if request.method == "POST":
        args = {k: str(v) for k, v in (await request.form()).items()}
    body = await run_in_threadpool(oai.respond, rc.store, _base(request), args, rc.clock.now())
    return Response(body, media_type="text/xml; charset=utf-8", headers=CORS)


# An OAI-PMH request posted as a form is a few parameters.
FORM_MAX_BYTES = 64 * KIB


def routes() -> list[Route]:
    return [
        route("/iiif/collection", collection, methods=["GET"]),
        route("/iiif/collection/{slug}", collection, methods=["GET"]),
        route("/iiif/{item_id:int}/manifest", manifest, methods=["GET"]),
        route("/archive/media/{media_id:int}/{size}.jpg", media_bytes, methods=["GET"]),
        route("/iiif/image/{media_id:int}/info.json", image_info, methods=["GET"]),
        route("/iiif/image/{media_id:int}/{region}/{size}/{rotation}/{quality}", image_request, methods=["GET"]),
        route("/archive/export.{fmt:str}", export, methods=["GET"]),
        route("/oai", oai_pmh, methods=["GET", "POST"], max_body=FORM_MAX_BYTES),
    ]

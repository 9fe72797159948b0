"""The portal's plain HTTP routes (beside the UI, in the same server process)."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, Response
from starlette.routing import Route

from kernel import municipality
from kernel.errors import StoreError
from kernel.http import route
from portal import session_cookie, webfonts
from portal.runtime import __version__, open_runtime

# A 1×1 transparent GIF: the answer to the sign-in page's cookie request.
_PIXEL = bytes.fromhex("47494638396101000100800000000000ffffff21f90401000000002c00000000010001000002024401003b")


async def healthz(request: Request) -> JSONResponse:
    """200 with the schema version when the database answers; 503 otherwise."""
    try:
        runtime = open_runtime()
        versions = runtime.schema_versions()  # a read: the database answers
        serves = municipality.code(runtime.store)
    except (StoreError, Exception) as exc:  # any failure here means "not healthy"
        return JSONResponse({"status": "error", "error": str(exc)}, status_code=503)
    return JSONResponse({
        "status": "ok",
        "version": __version__,
        "schema_version": sum(versions.values()),
        "schema": versions,
        # Which municipality answers (shared use: `manabi tenants list` checks it is the one expected).
        "municipality": serves,
        "city": municipality.city_name("ja"),
    })


async def remember(request: Request) -> Response:
    """Swap a one-time sign-in code for the HttpOnly session cookie."""
    token = session_cookie.redeem(request.query_params.get("code", ""))
    response = Response(_PIXEL, media_type="image/gif", headers={"Cache-Control": "no-store"})
    if token:
        response.set_cookie(session_cookie.COOKIE, token, httponly=True, samesite="strict",
                            secure=session_cookie.secure(request.url.scheme), path="/")
    return response


async def forget(request: Request) -> Response:
    response = Response(_PIXEL, media_type="image/gif", headers={"Cache-Control": "no-store"})
    response.delete_cookie(session_cookie.COOKIE, path="/")
    return response


async def fonts(request: Request) -> Response:
    """The web font's pieces and stylesheet (portal/webfonts.py). A piece never changes under
    its name (the package's version fixes it), so browsers keep it for a year."""
    path = webfonts.served_file(request.path_params["name"])
    if path is None:
        return Response("not found", status_code=404, media_type="text/plain")
    kind = {"woff2": "font/woff2", "css": "text/css; charset=utf-8", "txt": "text/plain; charset=utf-8"}
    ages = {"woff2": "public, max-age=31536000, immutable"}
    suffix = path.suffix.lstrip(".")
    return FileResponse(path, media_type=kind[suffix], headers={"Cache-Control": ages.get(suffix, "public, max-age=86400")})


def routes() -> list[Route]:
    return [
        route("/healthz", healthz, methods=["GET"]),
        route("/auth/remember", remember, methods=["GET"]),
        route("/auth/forget", forget, methods=["GET"]),
        route("/fonts/{name}", fonts, methods=["GET"]),
    ]

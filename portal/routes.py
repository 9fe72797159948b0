"""The portal's plain HTTP routes (beside the UI, in the same server process)."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from kernel import municipality
from kernel.errors import StoreError
from kernel.http import route
from portal import session_cookie
from portal.runtime import __version__, open_runtime

# A 1×1 transparent GIF: the answer to the sign-in page's cookie request.
_PIXEL = bytes.fromhex("47494638396101000100800000000000ffffff21f90401000000002c00000000010001000002024401003b")


async def healthz(request: Request) -> JSONResponse:
    """200 with the schema version when the database answers; 503 otherwise."""
    try:
        runtime = open_runtime()
        versions = runtime.schema_versions()
        runtime.store.scalar("SELECT 1")
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


def routes() -> list[Route]:
    return [
        route("/healthz", healthz, methods=["GET"]),
        route("/auth/remember", remember, methods=["GET"]),
        route("/auth/forget", forget, methods=["GET"]),
    ]

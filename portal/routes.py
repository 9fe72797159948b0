"""The portal's plain HTTP routes (beside the UI, in the same server process)."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from kernel.errors import StoreError
from portal.runtime import __version__, open_runtime


async def healthz(request: Request) -> JSONResponse:
    """200 with the schema version when the database answers; 503 otherwise."""
    try:
        runtime = open_runtime()
        versions = runtime.schema_versions()
        runtime.store.scalar("SELECT 1")
    except (StoreError, Exception) as exc:  # any failure here means "not healthy"
        return JSONResponse({"status": "error", "error": str(exc)}, status_code=503)
    return JSONResponse({
        "status": "ok",
        "version": __version__,
        "schema_version": sum(versions.values()),
        "schema": versions,
    })


def routes() -> list[Route]:
    return [Route("/healthz", healthz, methods=["GET"])]

"""The xAPI statement resource (xAPI 1.0.3) for learning apps, beside the portal's UI.

POST /xapi/statements (one or an array), PUT /xapi/statements?statementId=…,
GET /xapi/statements (one by id, or filtered with `more` paging), GET /xapi/about.
Every request but `about` needs X-Experience-API-Version and a client app's HTTP Basic
credentials (`manabi xapi clients add NAME`).
"""

from __future__ import annotations

import base64
import binascii
from urllib.parse import urlencode

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from analytics.services import lrs
from analytics.services.xapi_validate import InvalidStatement, parse_json, parse_statements
from kernel.errors import Conflict, InvalidInput, ManabiError, NotFound
from kernel.http import route_context

_HEADERS = {"X-Experience-API-Version": lrs.XAPI_VERSION}
_QUERY_PARAMETERS = {"statementId", "voidedStatementId", "agent", "verb", "activity", "registration",
                     "related_activities", "related_agents", "since", "until", "limit", "format",
                     "attachments", "ascending", "cursor"}
_SINGLE_PARAMETERS = {"statementId", "voidedStatementId", "attachments", "format"}


def _answer(status: int, body: object = None) -> Response:
    if body is None:
        return Response(status_code=status, headers=_HEADERS)
    return JSONResponse(body, status_code=status, headers=_HEADERS)


def _error(status: int, exc: ManabiError | str) -> Response:
    if isinstance(exc, str):
        return _answer(status, {"error": exc})
    detail = {"error": exc.key, **{k: str(v) for k, v in exc.params.items()}}
    if isinstance(exc, InvalidStatement):
        detail["message"] = f"statement {exc.params['index']}: {exc.params['path']}: {exc.reason}"
    return _answer(status, detail)


def _credentials(request: Request) -> tuple[str, str] | None:
    header = request.headers.get("authorization", "")
    scheme, _, encoded = header.partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        key, sep, secret = base64.b64decode(encoded.strip()).decode().partition(":")
    except (binascii.Error, UnicodeDecodeError):
        return None
    return (key, secret) if sep else None


async def _client(request: Request) -> lrs.Client | None:
    credentials = _credentials(request)
    if credentials is None:
        return None
    return await run_in_threadpool(lrs.authenticate, route_context().store, *credentials)


def _version_problem(request: Request) -> str | None:
    version = request.headers.get("x-experience-api-version")
    if not version:
        return "the X-Experience-API-Version header is required"
    if not version.startswith("1.0"):
        return f"version {version} is not supported (1.0.x)"
    return None


def _languages(request: Request) -> tuple[str, ...]:
    """Accept-Language tags, best first (q-values honoured, '*' dropped)."""
    weighted = []
    for part in request.headers.get("accept-language", "").split(","):
        tag, _, q = part.strip().partition(";q=")
        if tag and tag != "*":
            try:
                weighted.append((float(q or 1), tag))
            except ValueError:
                continue
    return tuple(tag for _, tag in sorted(weighted, key=lambda w: -w[0]))


async def statements(request: Request) -> Response:
    client = await _client(request)
    if client is None:
        return Response(status_code=401, headers={**_HEADERS, "WWW-Authenticate": 'Basic realm="xAPI"'})
    rc = route_context()
    reading = request.method in ("GET", "HEAD")
    response = await _statements(request, rc, client, reading)
    if reading and "X-Experience-API-Consistent-Through" not in response.headers:
        # Every answer to a GET says how far the store is consistent, errors included.
        response.headers["X-Experience-API-Consistent-Through"] = await run_in_threadpool(
            lrs.consistent_through, rc.store, rc.clock)
    return response


async def _statements(request: Request, rc, client: lrs.Client, reading: bool) -> Response:
    problem = _version_problem(request)
    if problem:
        return _error(400, problem)
    try:
        if reading:
            return await _get(request, rc)
        body = await request.body()
        if request.method == "PUT":
            statement_id = request.query_params.get("statementId")
            if not statement_id:
                return _error(400, "PUT needs the statementId parameter")
            statement = parse_json(body)
            if not isinstance(statement, dict):
                return _error(400, "PUT takes one statement")
            lrs.valid_uuid(statement_id, "statementId")
            await run_in_threadpool(lrs.store_statements, rc.store, rc.clock, client, [statement],
                                    statement_id=statement_id)
            return _answer(204)
        if request.query_params.get("statementId"):
            return _error(400, "POST does not take statementId; use PUT")
        ids = await run_in_threadpool(lrs.store_statements, rc.store, rc.clock, client, parse_statements(body))
        return _answer(200, ids)
    except lrs.StatementConflict as exc:
        return _error(409, exc)
    except NotFound as exc:
        return _error(404, exc)
    except InvalidInput as exc:
        return _error(400, exc)
    except Conflict as exc:
        return _error(503, exc)


def _flag(value: str | None, name: str) -> bool:
    if value in (None, "false"):
        return False
    if value == "true":
        return True
    raise InvalidInput("analytics.xapi.bad_parameter", name=name)


async def _get(request: Request, rc) -> Response:
    params = request.query_params
    unknown = sorted(set(params) - _QUERY_PARAMETERS)
    if unknown:
        return _error(400, f"unknown parameter {unknown[0]}")
    statement_format = params.get("format", "exact")
    if statement_format not in ("exact", "ids", "canonical"):
        raise InvalidInput("analytics.xapi.bad_parameter", name="format")
    languages = _languages(request)
    _flag(params.get("attachments"), "attachments")
    consistent = await run_in_threadpool(lrs.consistent_through, rc.store, rc.clock)
    headers = {**_HEADERS, "X-Experience-API-Consistent-Through": consistent}
    single = params.get("statementId") or params.get("voidedStatementId")
    if single:
        if "statementId" in params and "voidedStatementId" in params or set(params) - _SINGLE_PARAMETERS:
            return _error(400, "statementId and voidedStatementId take no other filters")
        found = await run_in_threadpool(lambda: lrs.get_statement(
            rc.store, single, voided="voidedStatementId" in params, statement_format=statement_format,
            languages=list(languages)))
        return JSONResponse(found, headers={**headers, "Last-Modified": found["stored"]})
    try:
        limit = int(params.get("limit", "0"))
        cursor = int(params["cursor"]) if "cursor" in params else None
    except ValueError:
        return _error(400, "limit and cursor must be whole numbers")
    if limit < 0:
        return _error(400, "limit must not be negative")
    query = lrs.StatementQuery(
        agent=params.get("agent"), verb=params.get("verb"), activity=params.get("activity"),
        registration=params.get("registration"), since=params.get("since"), until=params.get("until"),
        limit=limit, ascending=_flag(params.get("ascending"), "ascending"), after_seq=cursor,
        statement_format=statement_format, languages=languages,
    )
    found, more = await run_in_threadpool(lrs.query_statements, rc.store, query)
    more_url = ""
    if more is not None:
        kept = [(k, v) for k, v in params.multi_items() if k != "cursor"]
        more_url = "/xapi/statements?" + urlencode([*kept, ("cursor", str(more))])
    return JSONResponse({"statements": found, "more": more_url}, headers=headers)


async def about(request: Request) -> Response:
    return _answer(200, {"version": ["1.0.3", "1.0.2", "1.0.1", "1.0.0"]})


def routes() -> list[Route]:
    return [
        Route("/xapi/statements", statements, methods=["GET", "HEAD", "POST", "PUT"]),
        Route("/xapi/about", about, methods=["GET"]),
    ]

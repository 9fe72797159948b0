"""The xAPI statement resource (xAPI 1.0.3) for learning apps, beside the portal's UI.

POST /xapi/statements (one or an array), PUT /xapi/statements?statementId=…,
GET /xapi/statements (one by id, or filtered with `more` paging), GET /xapi/about.
POST and PUT take application/json, or multipart/mixed with attachment bytes (and signatures) as
parts; GET with attachments=true answers multipart/mixed (analytics/services/attachments.py).
Every request but `about` needs X-Experience-API-Version and a client app's HTTP Basic
credentials (`manabi xapi clients add NAME`). A key reads only the statements it wrote unless
the city administrator granted it read-all (lrs.Client.reads_only). A single statement (POST or
PUT) is stored by the group writer with the others that arrive meanwhile, and answered after
that transaction's COMMIT (analytics/services/live_writes.py).

The document resources and the activity and agent views (xAPI 1.0.3 part 3, §7.3–7.6):

/xapi/activities/state     activityId, agent, registration?, stateId: GET (one, or the ids with
                           `since`), PUT, POST (JSON merge), DELETE (one, or all without stateId)
/xapi/activities/profile   activityId, profileId: GET (one, or the ids with `since`), PUT, POST, DELETE
/xapi/agents/profile       agent, profileId: the same
/xapi/activities           activityId: GET the Activity with every definition statements gave it
/xapi/agents               agent: GET the Person object

The same credentials and version header as the statement resource. The rules (ETags,
preconditions, merging) are in analytics/services/documents.py.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
from collections.abc import Callable
from datetime import UTC
from email.utils import format_datetime
from urllib.parse import parse_qsl, urlencode

from starlette.concurrency import run_in_threadpool
from starlette.datastructures import QueryParams
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from analytics.services import attachments, live_writes, lrs
from analytics.services import documents as docs
from analytics.services.xapi_validate import InvalidStatement, parse_json, parse_statements
from kernel.errors import Conflict, InvalidInput, ManabiError, NotFound
from kernel.http import MIB, json_answer, read_small_body, replaying, route, route_context

_HEADERS = {"X-Experience-API-Version": lrs.XAPI_VERSION}
_QUERY_PARAMETERS = {"statementId", "voidedStatementId", "agent", "verb", "activity", "registration",
                     "related_activities", "related_agents", "since", "until", "limit", "format",
                     "attachments", "ascending", "cursor"}
_SINGLE_PARAMETERS = {"statementId", "voidedStatementId", "attachments", "format"}
STATEMENTS_MAX_BYTES = 16 * MIB  # as the documents (xAPI's 16 MB); a larger body is answered 413


# A body up to this size is parsed and validated on the event loop (a thread hand-off would
# cost more than the work); a larger one in a worker thread, so other requests go on.
SMALL_BODY = 64 * 1024


async def _off_loop_if_large(body: bytes, work, *args):
    return work(*args) if len(body) <= SMALL_BODY else await run_in_threadpool(work, *args)


def _store_statements(rc, client: lrs.Client, statements: list[dict], **options) -> list[str]:
    """A multi-statement request (or one with attachment parts): one transaction of its own, all or nothing."""
    with live_writes.under_way(rc.clock):
        return lrs.store_statements(rc.store, rc.clock, client, statements, **options)


async def _store_one(rc, client: lrs.Client, body: bytes, statement: dict, statement_id: str | None = None) -> str:
    """One statement through the group commit (analytics/services/live_writes.py): its id once
    the transaction it shares with other requests has committed."""
    writer = live_writes.writer_for(rc.store, rc.clock)
    committed = await _off_loop_if_large(body, writer.submit, client, statement, statement_id)
    return await asyncio.wrap_future(committed)


def _answer(status: int, body: object = None) -> Response:
    if body is None:
        return Response(status_code=status, headers=_HEADERS)
    return JSONResponse(body, status_code=status, headers=_HEADERS)


def _error(status: int, exc: ManabiError | str) -> Response:
    if isinstance(exc, str):
        return _answer(status, {"error": exc})
    detail = {"error": exc.key, **{k: str(v) for k, v in exc.params.items()}}
    if isinstance(exc, InvalidStatement):  # the rule in English: learning apps read it, not people
        detail.update(path=exc.where, reason=exc.reason,
                      message=f"statement {exc.params['index']}: {exc.where}: {exc.reason}")
    return _answer(status, detail)


def _credentials(request: Request) -> tuple[str, str] | None:
    return _credentials_of(request.headers.get("authorization", ""))


def _credentials_of(header: str) -> tuple[str, str] | None:
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
    store = route_context().store
    return lrs.authenticated(store, *credentials) or await run_in_threadpool(lrs.authenticate, store, *credentials)


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


_FORM_HEADERS = {"authorization", "x-experience-api-version", "content-type", "content-length", "if-match",
                 "if-none-match"}
_METHODS = {"GET", "HEAD", "PUT", "POST", "DELETE"}


async def alternate_syntax(request: Request) -> Request | Response:
    """xAPI's alternate request syntax (1.0.3 part 3 §1.3), for clients that can only POST:
    `POST …?method=PUT` with a form whose fields are the headers named in the spec, the
    resource's parameters, and `content` (the body). Answers the request as it would be sent
    plainly; a request without `method` is returned as it is."""
    method = request.query_params.get("method")
    if method is None:
        return request
    if request.method != "POST" or len(request.query_params) != 1 or method.upper() not in _METHODS:
        return _error(400, "the alternate request syntax is a POST with only the method parameter")
    if request.headers.get("content-type", "").split(";")[0].strip().lower() != "application/x-www-form-urlencoded":
        return _error(400, "the alternate request syntax sends an application/x-www-form-urlencoded form")
    try:
        form = parse_qsl((await request.body()).decode(), keep_blank_values=True, strict_parsing=True)
    except (ValueError, UnicodeDecodeError):
        return _error(400, "the alternate request syntax's form is not url-encoded")
    headers = {k: v for k, v in request.headers.items() if k not in ("content-type", "content-length")}
    params, content = [], ""
    for name, value in form:
        if name.lower() in _FORM_HEADERS:
            headers[name.lower()] = value
        elif name == "content":
            content = value
        else:
            params.append((name, value))
    body = content.encode()
    if content:
        headers.setdefault("content-type", "application/json")
    headers["content-length"] = str(len(body))
    scope = {**request.scope, "method": method.upper(), "query_string": urlencode(params).encode(),
             "headers": [(k.encode("latin-1"), v.encode("latin-1")) for k, v in headers.items()]}
    sent = False

    async def receive() -> dict:
        nonlocal sent
        if sent:
            return {"type": "http.disconnect"}
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    return Request(scope, receive)


async def authorised(request: Request) -> tuple[Request, lrs.Client] | Response:
    """The request (rewritten when it used the alternate syntax) and its client app, or the
    answer to give: the alternate syntax's error, or 401 without valid credentials."""
    request = await alternate_syntax(request)
    if isinstance(request, Response):
        return request
    client = await _client(request)
    if client is None:
        return Response(status_code=401, headers={**_HEADERS, "WWW-Authenticate": 'Basic realm="xAPI"'})
    return request, client


async def statements(request: Request) -> Response:
    checked = await authorised(request)
    if isinstance(checked, Response):
        return checked
    request, client = checked
    rc = route_context()
    reading = request.method in ("GET", "HEAD")
    response = await _statements(request, rc, client, reading)
    if reading and "X-Experience-API-Consistent-Through" not in response.headers:
        # Every answer to a GET says how far the store is consistent, errors included.
        response.headers["X-Experience-API-Consistent-Through"] = live_writes.consistent_through(rc.clock)
    return response


async def _statements(request: Request, rc, client: lrs.Client, reading: bool) -> Response:
    problem = _version_problem(request)
    if problem:
        return _error(400, problem)
    try:
        if reading:
            return await _get(request, rc, client)
        content_type = request.headers.get("content-type", "")
        media = attachments.media_type(content_type)
        body = await request.body()
        parts: list[attachments.Part] = []
        if media == "multipart/mixed":
            # Attachment bytes (and signatures) come as parts after the statements' JSON part.
            body, parts = await run_in_threadpool(attachments.parse_multipart, content_type, body)
        elif media.startswith("multipart/"):
            raise attachments.AttachmentProblem("analytics.xapi_attachment.not_mixed", media=media)
        if request.method == "PUT":
            statement_id = request.query_params.get("statementId")
            if not statement_id:
                return _error(400, "PUT needs the statementId parameter")
            statement = await _off_loop_if_large(body, parse_json, body)
            if not isinstance(statement, dict):
                return _error(400, "PUT takes one statement")
            lrs.valid_uuid(statement_id, "statementId")
            if parts:
                await run_in_threadpool(_store_statements, rc, client, [statement],
                                        statement_id=statement_id, parts=parts)
            else:
                await _store_one(rc, client, body, statement, statement_id)
            return _answer(204)
        if request.query_params.get("statementId"):
            return _error(400, "POST does not take statementId; use PUT")
        if not parts and len(body) <= SMALL_BODY and live_writes.one_line_object(body):
            # One statement as apps send it: checked and stored by the group writer.
            writer = live_writes.writer_for(rc.store, rc.clock)
            return _answer(200, [await writer.stored_body(client, body)])
        sent = await _off_loop_if_large(body, parse_statements, body)
        if len(sent) == 1 and not parts:
            return _answer(200, [await _store_one(rc, client, body, sent[0])])
        return _answer(200, await run_in_threadpool(_store_statements, rc, client, sent, parts=parts))
    except ManabiError as exc:
        refused = _refusal(exc)
        if refused is None:
            raise
        return refused


def _refusal(exc: ManabiError) -> Response | None:
    """The answer to a request that a rule refused (None: not one of the statements' refusals)."""
    if isinstance(exc, lrs.StatementConflict):
        return _error(409, exc)
    if isinstance(exc, NotFound):
        return _error(404, exc)
    if isinstance(exc, InvalidInput):
        return _error(400, exc)
    if isinstance(exc, Conflict):
        return _error(503, exc)
    return None


_LANE_HEADERS = (b"authorization", b"content-type", b"content-length", b"x-experience-api-version",
                 b"transfer-encoding")
_VERSION_HEADER = [(b"x-experience-api-version", lrs.XAPI_VERSION.encode())]


async def statement_lane(scope, receive, send):
    """The fast lane (kernel.http.FastLanes) of a learning app's usual request: a POST of one
    statement as a one-line JSON object, no larger than SMALL_BODY, with a version of 1.0 and a
    key the server checked lately. It takes the same way as in `_statements` (the group writer
    checks and stores it) and gets the same answers, without the layers of middleware and routing
    before it. Any other request (another method, parameters, multipart, a larger or chunked
    body, a missing or other version, a key not checked lately) goes on to `statements`."""
    if scope["method"] != "POST" or scope["query_string"]:
        return receive
    headers: dict[bytes, bytes] = {}
    for name, value in scope["headers"]:
        if name in _LANE_HEADERS:
            headers.setdefault(name, value)
    length = headers.get(b"content-length", b"")
    version = headers.get(b"x-experience-api-version", b"")
    if (b"transfer-encoding" in headers or not length.isdigit() or int(length) > SMALL_BODY
            or not version.startswith(b"1.0")
            or attachments.media_type(headers.get(b"content-type", b"").decode("latin-1")).startswith("multipart/")):
        return receive
    credentials = _credentials_of(headers.get(b"authorization", b"").decode("latin-1"))
    rc = route_context()
    client = credentials and lrs.authenticated(rc.store, *credentials)
    if client is None:
        return receive
    body, read = await read_small_body(receive, SMALL_BODY)
    if body is None or not live_writes.one_line_object(body):
        return replaying(read, receive)
    try:
        statement_id = await live_writes.writer_for(rc.store, rc.clock).stored_body(client, body)
    except ManabiError as exc:
        refused = _refusal(exc)
        if refused is None:
            raise
        await refused(scope, replaying([], receive), send)
        return None
    for message in json_answer(200, b'["' + statement_id.encode() + b'"]', _VERSION_HEADER):
        await send(message)
    return None


def _flag(value: str | None, name: str) -> bool:
    if value in (None, "false"):
        return False
    if value == "true":
        return True
    raise InvalidInput("analytics.xapi.bad_parameter", name=name)


async def _get(request: Request, rc, client: lrs.Client) -> Response:
    params = request.query_params
    unknown = sorted(set(params) - _QUERY_PARAMETERS)
    if unknown:
        return _error(400, f"unknown parameter {unknown[0]}")
    statement_format = params.get("format", "exact")
    if statement_format not in ("exact", "ids", "canonical"):
        raise InvalidInput("analytics.xapi.bad_parameter", name="format")
    languages = _languages(request)
    with_attachments = _flag(params.get("attachments"), "attachments")
    consistent = live_writes.consistent_through(rc.clock)
    headers = {**_HEADERS, "X-Experience-API-Consistent-Through": consistent}
    single = params.get("statementId") or params.get("voidedStatementId")
    if single:
        if "statementId" in params and "voidedStatementId" in params or set(params) - _SINGLE_PARAMETERS:
            return _error(400, "statementId and voidedStatementId take no other filters")
        found = await run_in_threadpool(lambda: lrs.get_statement(
            rc.store, single, voided="voidedStatementId" in params, statement_format=statement_format,
            languages=list(languages), written_by=client.reads_only))
        return await _result(rc, found, [found], {**headers, "Last-Modified": found["stored"]}, with_attachments)
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
        statement_format=statement_format, languages=languages, written_by=client.reads_only,
    )
    found, more = await run_in_threadpool(lrs.query_statements, rc.store, query)
    more_url = ""
    if more is not None:
        kept = [(k, v) for k, v in params.multi_items() if k != "cursor"]
        more_url = "/xapi/statements?" + urlencode([*kept, ("cursor", str(more))])
    return await _result(rc, {"statements": found, "more": more_url}, found, headers, with_attachments)


async def _result(rc, body: dict, found: list[dict], headers: dict, with_attachments: bool) -> Response:
    """JSON, or with attachments=true multipart/mixed: the JSON, then the bytes of the statements'
    attachments that were sent as parts (part 3 §2.1.3)."""
    if not with_attachments:
        return JSONResponse(body, headers=headers)
    kept = await run_in_threadpool(attachments.for_statements, rc.store, found)
    media, content = attachments.multipart_body(JSONResponse(body).body, kept)
    return Response(content, media_type=media, headers=headers)


async def about(request: Request) -> Response:
    return _answer(200, {"version": ["1.0.3", "1.0.2", "1.0.1", "1.0.0"]})


def statements_limit(request: Request) -> int:
    """16 MB of statements; with attachment parts (multipart/mixed) 64 MB; the alternate syntax's
    url-encoded form up to three times the JSON it carries."""
    media = attachments.media_type(request.headers.get("content-type", ""))
    if media == "multipart/mixed":
        return 64 * MIB
    if media == "application/x-www-form-urlencoded":
        return 3 * STATEMENTS_MAX_BYTES
    return STATEMENTS_MAX_BYTES


def routes() -> list[Route]:
    return [
        route("/xapi/statements", statements, methods=["GET", "HEAD", "POST", "PUT"], max_body=statements_limit,
              lane=statement_lane),
        route("/xapi/about", about, methods=["GET"]),
        *_document_routes(),
    ]


# --------------------------------------------------------------------------- the document resources


def _problem(status: int, key: str, message: str) -> Response:
    return _answer(status, {"error": key, "message": message})


async def _guarded(request: Request, handle: Callable) -> Response:
    """Credentials, the version header, then `handle(params, rc, client)` with the errors mapped."""
    checked = await authorised(request)
    if isinstance(checked, Response):
        return checked
    request, client = checked
    problem = _version_problem(request)
    if problem:
        return _problem(400, "analytics.xapi.bad_parameter", problem)
    try:
        return await handle(request, request.query_params, route_context(), client)
    except docs.DocumentProblem as exc:
        return _problem(400, exc.key, exc.reason)
    except docs.PreconditionFailed as exc:
        return _problem(412, exc.key, "If-Match / If-None-Match does not hold for the stored document")
    except docs.PreconditionRequired as exc:
        return _problem(409, exc.key, "the document exists: send If-Match with its ETag, or "
                                      "If-None-Match, to say what you mean to overwrite")
    except Conflict as exc:
        return _problem(503, exc.key, "the store is busy; try again")


def _document_response(found: docs.Document, with_body: bool) -> Response:
    headers = {**_HEADERS, "ETag": f'"{found.etag}"',
               "Last-Modified": format_datetime(found.updated.astimezone(UTC), usegmt=True),
               "Content-Type": found.content_type}
    return Response(found.content if with_body else b"", status_code=200, headers=headers)


def _documents(scope_of: Callable[[QueryParams], docs.Scope], id_name: str, *, delete_all: bool) -> Callable:
    """The handler of one document resource; `scope_of` reads its parameters besides the id."""

    async def handle(request: Request, params: QueryParams, rc, client) -> Response:
        scope = scope_of(params)
        doc_id = params.get(id_name)
        pre = docs.Preconditions(request.headers.get("if-match"), request.headers.get("if-none-match"))
        method = request.method
        if method in ("GET", "HEAD"):
            if doc_id is None:
                since = docs.parse_since(params.get("since"))
                ids = await run_in_threadpool(docs.document_ids, rc.store, scope, since)
                return _answer(200, ids)
            found = await run_in_threadpool(docs.get_document, rc.store, scope, doc_id)
            if found is None:
                return _problem(404, "error.not_found", f"no document {id_name}={doc_id}")
            return _document_response(found, method == "GET")
        if method == "DELETE":
            if doc_id is None:
                if not delete_all:
                    raise docs.DocumentProblem(f"the {id_name} parameter is required")
                await run_in_threadpool(docs.delete_documents, rc.store, scope)
            else:
                await run_in_threadpool(docs.delete_document, rc.store, scope, doc_id, pre)
            return _answer(204)
        declared = request.headers.get("content-length", "0")
        if declared.isdigit() and int(declared) > docs.MAX_BYTES:
            return _problem(413, "analytics.xapi_doc.too_large", f"a document has at most {docs.MAX_BYTES} bytes")
        body = await request.body()
        if len(body) > docs.MAX_BYTES:
            return _problem(413, "analytics.xapi_doc.too_large", f"a document has at most {docs.MAX_BYTES} bytes")
        write = docs.put_document if method == "PUT" else docs.post_document
        etag = await run_in_threadpool(write, rc.store, rc.clock, client.id, scope, doc_id, body,
                                       request.headers.get("content-type"), pre)
        return Response(status_code=204, headers={**_HEADERS, "ETag": f'"{etag}"'})

    async def endpoint(request: Request) -> Response:
        return await _guarded(request, handle)

    return endpoint


def _state_scope(params: QueryParams) -> docs.Scope:
    return docs.state_scope(params.get("activityId"), params.get("agent"), params.get("registration"))


def _activity_profile_scope(params: QueryParams) -> docs.Scope:
    return docs.activity_profile_scope(params.get("activityId"))


def _agent_profile_scope(params: QueryParams) -> docs.Scope:
    return docs.agent_profile_scope(params.get("agent"))


async def _activity(request: Request, params: QueryParams, rc, client) -> Response:
    activity_id = docs.parse_activity_id(params.get("activityId"))
    return _answer(200, await run_in_threadpool(docs.activity, rc.store, activity_id, client.reads_only))


async def _person(request: Request, params: QueryParams, rc, client) -> Response:
    agent = docs.parse_agent(params.get("agent"))
    return _answer(200, await run_in_threadpool(docs.person, rc.store, agent, client.reads_only))


async def activities(request: Request) -> Response:
    return await _guarded(request, _activity)


async def agents(request: Request) -> Response:
    return await _guarded(request, _person)


_WRITES = ["GET", "HEAD", "PUT", "POST", "DELETE"]


def _document_limit(request: Request) -> int:
    """A document's 16 MB, three times that as the alternate syntax's url-encoded form."""
    form = request.headers.get("content-type", "").split(";")[0].strip().lower() == "application/x-www-form-urlencoded"
    return 3 * docs.MAX_BYTES if form else docs.MAX_BYTES


def _document_routes() -> list[Route]:
    return [
        route("/xapi/activities/state", _documents(_state_scope, "stateId", delete_all=True), methods=_WRITES,
              max_body=_document_limit),
        route("/xapi/activities/profile", _documents(_activity_profile_scope, "profileId", delete_all=False),
              methods=_WRITES, max_body=_document_limit),
        route("/xapi/agents/profile", _documents(_agent_profile_scope, "profileId", delete_all=False),
              methods=_WRITES, max_body=_document_limit),
        route("/xapi/activities", activities, methods=["GET", "HEAD"]),
        route("/xapi/agents", agents, methods=["GET", "HEAD"]),
    ]

"""The xAPI document resources and the activity and agent views (xAPI 1.0.3 part 3, §7.3–7.6).

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

from collections.abc import Callable
from datetime import UTC
from email.utils import format_datetime

from starlette.concurrency import run_in_threadpool
from starlette.datastructures import QueryParams
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from analytics.routes import _HEADERS, _answer, _version_problem, authorised
from analytics.services import documents as docs
from kernel.errors import Conflict
from kernel.http import route, route_context


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


def routes() -> list[Route]:
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

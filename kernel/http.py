"""What a module's HTTP route handlers share: the process's store and clock, and the limits
every route keeps (a bounded body reader, a depth-checked JSON parse, `route(...)` with its
body limit).

The server (portal/server.py) opens and migrates the database before it serves, so
`shared_store` here returns that same Store. Handlers do blocking DuckDB work in a
thread (starlette.concurrency.run_in_threadpool).
"""

from __future__ import annotations

import itertools
import json
import os
import re
import socket
from asyncio import base_events
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from starlette.requests import ClientDisconnect, Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from kernel.clock import Clock, clock_from_env
from kernel.config import load_settings
from kernel.errors import InvalidInput, ManabiError
from kernel.i18n import Translator, load_catalogue
from kernel.store import Store, shared_store


@dataclass(frozen=True)
class RouteContext:
    store: Store
    clock: Clock


@cache
def _clock() -> Clock:
    return clock_from_env()


@cache
def _db_path(db_setting: str | None, config_file: str | None) -> str:
    return str(load_settings().db_path.resolve())


def route_context() -> RouteContext:
    # The database's path is worked out once per setting: load_settings reads manabi.toml, and
    # per request that was a quarter of the event loop's time with 64 learning apps posting.
    path = _db_path(os.environ.get("MANABI_DB"), os.environ.get("MANABI_CONFIG"))
    return RouteContext(shared_store(path), _clock())


# --- limits every route keeps --------------------------------------------------------------------
# A body is read only up to its route's limit: the declared Content-Length is checked before a
# byte is read, and a chunked body is counted while it streams in and abandoned at the limit.

KIB = 1024
MIB = 1024 * KIB
NO_BODY = 0  # routes that only answer GETs: any body at all is refused
MAX_JSON_DEPTH = 64  # xAPI extensions may nest; nothing real nests deeper than this
_NOT_STRUCTURE = bytes(b for b in range(256) if b not in b'[]{}"')
_JSON_STRING = re.compile(rb'"[^"]*"')
_KERNEL_MESSAGES = Path(__file__).resolve().parent / "messages.toml"


class BodyTooLarge(InvalidInput):
    key = "http.body_too_large"


class BadLength(InvalidInput):
    key = "http.bad_length"


class BodyIncomplete(InvalidInput):
    key = "http.body_incomplete"


class JsonTooDeep(InvalidInput):
    key = "http.too_deep"


async def read_body(request: Request, limit: int) -> bytes:
    """The request's body, at most `limit` bytes, else BodyTooLarge before the rest is read.
    Later `request.body()`, `.json()` and `.form()` calls read the same bytes."""
    declared = request.headers.get("content-length")
    if declared is not None:
        if not declared.strip().isdigit():
            raise BadLength()
        if int(declared) > limit:
            raise BodyTooLarge(limit=limit)
    chunks, size = [], 0
    try:
        async for chunk in request.stream():
            size += len(chunk)
            if size > limit:
                raise BodyTooLarge(limit=limit)
            chunks.append(chunk)
    except ClientDisconnect as exc:
        raise BodyIncomplete() from exc
    body = b"".join(chunks)
    request._body = body  # starlette's cache of the body: what .body(), .json() and .form() read
    return body


def _raw(data: bytes | str) -> bytes:
    return data.encode("utf-8", "surrogatepass") if isinstance(data, str) else bytes(data)


def _brackets(raw: bytes) -> bytes:
    """The text's brackets outside its strings, in order; every step runs in C (a 13 MB array of
    statements takes about 90 ms here, json.loads about 1.1 s)."""
    if b"\\" in raw:  # escapes: an escaped backslash, then an escaped quote, is no string's end
        raw = raw.replace(b"\\\\", b"").replace(b'\\"', b"")
    kept = raw.translate(None, _NOT_STRUCTURE)  # brackets and quotes
    # Two quotes side by side have nothing between them: dropping them keeps what is inside strings
    # inside. What is left are the few strings holding brackets.
    return _JSON_STRING.sub(b"", kept.replace(b'""', b""))


def json_depth(data: bytes | str) -> int:
    """How deep arrays and objects nest in a JSON text (brackets inside strings do not count)."""
    steps = _brackets(_raw(data)).translate(bytes.maketrans(b"[{]}", b"\x01\x01\x00\x00"))
    return max(itertools.accumulate(1 if step else -1 for step in steps), default=0)


def check_json_depth(data: bytes | str, max_depth: int = MAX_JSON_DEPTH) -> None:
    """JsonTooDeep when arrays and objects nest deeper than `max_depth`."""
    raw = _raw(data)
    if raw.count(b"[") + raw.count(b"{") <= max_depth:
        return  # no deeper than its number of brackets: the common, small case costs two counts
    brackets = _brackets(raw)
    # Each round strips the innermost pairs: one or two levels (a [] inside {} goes in the same
    # round), so `rounds` <= depth <= 2 * rounds.
    rounds = 0
    while brackets and rounds <= max_depth:
        inner = brackets.replace(b"[]", b"").replace(b"{}", b"")
        if len(inner) == len(brackets):
            return  # unbalanced: not JSON, which the parser will say
        brackets, rounds = inner, rounds + 1
    if rounds > max_depth or (2 * rounds > max_depth and json_depth(raw) > max_depth):
        raise JsonTooDeep(max_depth=max_depth)


def loads(data: bytes | str, max_depth: int = MAX_JSON_DEPTH, **options: Any) -> Any:
    """json.loads of a request's JSON, refusing nesting deeper than `max_depth` (JsonTooDeep)."""
    check_json_depth(data, max_depth)
    try:
        return json.loads(data, **options)
    except RecursionError as exc:  # deeper than the interpreter allows, whatever max_depth says
        raise JsonTooDeep(max_depth=max_depth) from exc


def _language(request: Request) -> str:
    accepted = request.headers.get("accept-language", "").strip().lower()
    return "ja" if accepted.startswith("ja") else "en"


@cache
def _catalogue():
    return load_catalogue([_KERNEL_MESSAGES])


def problem(request: Request, status: int, exc: ManabiError, headers: dict | None = None) -> JSONResponse:
    """A machine client's error answer: the catalogue key, its parameters and the sentence
    (in Japanese when the client asks for it, else English)."""
    t = Translator(_language(request), _catalogue(), strict=False)
    return JSONResponse({"error": exc.key, **{k: v for k, v in exc.params.items()}, "message": t.error(exc)},
                        status_code=status, headers=headers)


def limited(endpoint: Callable[[Request], Awaitable[Response]],
            max_body: int | Callable[[Request], int]) -> Callable[[Request], Awaitable[Response]]:
    """The endpoint with its body read first, up to `max_body` bytes (or a limit by request,
    e.g. by content type): 413 beyond it, 400 for a Content-Length that is no number."""

    async def bounded(request: Request) -> Response:
        limit = max_body(request) if callable(max_body) else max_body
        try:
            await read_body(request, limit)
        except BodyTooLarge as exc:
            # Answered at once; the rest of the body is never held: uvicorn drops what still arrives
            # once the answer is complete. The connection is not closed on the client mid-upload,
            # since closing a socket with unread data resets it and the client may lose the answer.
            return problem(request, 413, exc)
        except (BadLength, BodyIncomplete) as exc:
            return problem(request, 400, exc, {"Connection": "close"})
        return await endpoint(request)

    bounded.__name__ = getattr(endpoint, "__name__", "endpoint")
    bounded.__doc__ = endpoint.__doc__
    return bounded


def route(path: str, endpoint: Callable[[Request], Awaitable[Response]], *, methods: list[str],
          max_body: int | Callable[[Request], int] = NO_BODY, lane: Lane | None = None) -> Route:
    """A Starlette route whose body limit is declared with it (README: the routes' limits), and
    optionally its fast lane (FastLanes)."""
    made = Route(path, limited(endpoint, max_body), methods=methods)
    made.lane = lane  # read by lanes_of
    return made


# --- fast lanes ----------------------------------------------------------------------------------
# The server's busiest machine request (a learning app's single statement) passed through eight
# layers of Streamlit's and Starlette's middleware and routing, about half of the event loop's time
# per request. A route may name a lane: an ASGI handler placed before that middleware (st.App's own
# middleware), which answers the usual shape of its busiest request itself and hands anything else on
# to the route as it came (the body it read replayed), so every rule stays in one place.

Lane = Callable[[Scope, Receive, Send], Awaitable[Receive | None]]
"""Answers the request and returns None, or returns the `receive` with which the route reads it."""


def lanes_of(routes: list) -> dict[str, Lane]:
    """The lanes of the routes that have one, by path."""
    return {r.path: r.lane for r in routes if getattr(r, "lane", None) is not None}


class FastLanes:
    """ASGI middleware: a request whose path has a lane goes to it first (see above)."""

    def __init__(self, app: ASGIApp, lanes: dict[str, Lane]) -> None:
        self.app = app
        self.lanes = lanes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        lane = self.lanes.get(scope["path"]) if scope["type"] == "http" else None
        if lane is not None:
            receive = await lane(scope, receive, send)
            if receive is None:
                return
        await self.app(scope, receive, send)


def replaying(read: list[Message], receive: Receive) -> Receive:
    """`receive` that first gives again the messages a lane read."""
    pending = list(read)

    async def replay() -> Message:
        return pending.pop(0) if pending else await receive()

    return replay


async def read_small_body(receive: Receive, limit: int) -> tuple[bytes | None, list[Message]]:
    """A lane's read of a body it expects to be at most `limit` bytes: the body, or None when it
    is longer or the client went away; and the messages read, for the route to read again."""
    read, size = [], 0
    while True:
        message = await receive()
        read.append(message)
        if message["type"] != "http.request":
            return None, read
        size += len(message.get("body", b""))
        if size > limit:
            return None, read
        if not message.get("more_body", False):
            break
    return (read[0].get("body", b"") if len(read) == 1 else b"".join(m.get("body", b"") for m in read)), read


def json_answer(status: int, body: bytes, headers: list[tuple[bytes, bytes]]) -> list[Message]:
    """The ASGI messages of a JSON answer (what a lane sends)."""
    return [{"type": "http.response.start", "status": status,
             "headers": [(b"content-length", str(len(body)).encode()), (b"content-type", b"application/json"),
                         *headers]},
            {"type": "http.response.body", "body": body}]


# --- the server's connections --------------------------------------------------------------------


def answer_without_delay() -> None:
    """Turn Nagle's algorithm off on every TCP connection the server accepts from now on.

    Streamlit binds its listening socket itself without naming the protocol (`socket.socket(family)`,
    proto 0), and asyncio sets TCP_NODELAY only on sockets whose proto is IPPROTO_TCP. Without it,
    an answer written in two parts (uvicorn writes the headers, then the body) held its second part
    until the client acknowledged the first, which clients delay by up to 40 ms: every request to the
    portal, pages' files and learning apps' statements alike, took 40 to 60 ms more than its work.
    asyncio calls this hook for each connection's socket; a stream socket of either IP family gets
    TCP_NODELAY whatever its proto says."""
    if getattr(base_events._set_nodelay, "manabi", False):
        return
    asyncio_sets_nodelay = base_events._set_nodelay

    def set_nodelay(sock: socket.socket) -> None:
        if sock.family in (socket.AF_INET, socket.AF_INET6) and sock.type == socket.SOCK_STREAM:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        else:
            asyncio_sets_nodelay(sock)

    set_nodelay.manabi = True
    base_events._set_nodelay = set_nodelay

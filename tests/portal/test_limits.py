"""Limits every route keeps, on the real server: a body over its route's limit is answered 413
before it is read whole (by its Content-Length, or counted while a chunked body streams in);
JSON nested deeper than 64 levels is answered 400; bad input of every kind gets no plain 500."""

from __future__ import annotations

import base64
import contextlib
import json
import random
import socket
import time
import uuid

import httpx
import pytest

from analytics.demo import DEMO_CLIENT_KEY, DEMO_CLIENT_SECRET
from facilities.services import payments
from kernel import http
from kernel.http import MAX_JSON_DEPTH, MIB, check_json_depth, json_depth
from portal.modules import all_modules

XAPI_AUTH = "Basic " + base64.b64encode(f"{DEMO_CLIENT_KEY}:{DEMO_CLIENT_SECRET}".encode()).decode()
XAPI = {"X-Experience-API-Version": "1.0.3", "Authorization": XAPI_AUTH}
DOC_PARAMS = "activityId=http%3A%2F%2Fexample.com%2Fa&agent=%7B%22mbox%22%3A%22mailto%3Aa%40example.com%22%7D"

# Every route that takes a body, with its limit (the README's table).
BODY_ROUTES = [
    ("POST", "/xapi/statements", "application/json", 16 * MIB),
    ("PUT", "/xapi/statements?statementId=" + str(uuid.UUID(int=7)), "application/json", 16 * MIB),
    ("POST", "/xapi/statements", "multipart/mixed; boundary=b", 64 * MIB),
    ("PUT", "/xapi/activities/state?stateId=s&" + DOC_PARAMS, "application/json", 16 * MIB),
    ("POST", "/xapi/activities/profile?profileId=p&activityId=http%3A%2F%2Fexample.com%2Fa", "application/json",
     16 * MIB),
    ("PUT", "/xapi/agents/profile?profileId=p&agent=%7B%22mbox%22%3A%22mailto%3Aa%40example.com%22%7D",
     "application/octet-stream", 16 * MIB),
    ("POST", "/payments/callback", "application/json", 64 * 1024),
    ("POST", "/oai", "application/x-www-form-urlencoded", 64 * 1024),
    ("POST", "/opds/books/1/borrow", "application/x-www-form-urlencoded", 64 * 1024),
    ("GET", "/healthz", "text/plain", 0),
    ("GET", "/opds", "text/plain", 0),
]


def raw_request(base: str, head: str, body_chunks=(), read_timeout: float = 20) -> tuple[int, bytes]:
    """Send `head` and then `body_chunks` on one socket, stopping when the server has answered
    (or closed); returns the status and the answer. The server may answer before the body ends."""
    host, port = base.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=read_timeout) as sock:
        sock.sendall(head.encode("latin-1"))
        sock.setblocking(False)
        answer = b""
        for chunk in body_chunks:
            with contextlib.suppress(BlockingIOError):
                answer += sock.recv(65536)
            if answer:
                break
            try:
                sock.setblocking(True)
                sock.sendall(chunk)
                sock.setblocking(False)
            except (BrokenPipeError, ConnectionResetError):
                break
        sock.setblocking(True)
        deadline = time.monotonic() + read_timeout
        while not whole(answer) and time.monotonic() < deadline:
            try:
                more = sock.recv(65536)
            except ConnectionResetError:
                break
            if not more:
                break
            answer += more
    status = int(answer.split(b" ", 2)[1]) if answer.startswith(b"HTTP/1.1 ") else 0
    return status, answer


def whole(answer: bytes) -> bool:
    """Whether an HTTP answer has arrived with all of its body (by its Content-Length)."""
    head, sep, body = answer.partition(b"\r\n\r\n")
    if not sep:
        return False
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            return len(body) >= int(value)
    return True


def head_for(method: str, path: str, content_type: str, extra: str) -> str:
    auth = f"Authorization: {XAPI_AUTH}\r\nX-Experience-API-Version: 1.0.3\r\n" if path.startswith("/xapi") else ""
    return f"{method} {path} HTTP/1.1\r\nHost: test\r\n{auth}Content-Type: {content_type}\r\n{extra}\r\n"


@pytest.mark.parametrize(("method", "path", "content_type", "limit"), BODY_ROUTES,
                         ids=[f"{m} {p.split('?')[0]} {c.split(';')[0]}" for m, p, c, _ in BODY_ROUTES])
def test_a_declared_length_over_the_limit_is_answered_413_before_any_byte_is_read(
        server, method, path, content_type, limit):
    # Nothing of the body is ever sent: the answer can only come from the declared length.
    status, answer = raw_request(server, head_for(method, path, content_type, f"Content-Length: {limit + 1}\r\n"))
    assert status == 413, answer[:300]
    assert json.loads(answer.split(b"\r\n\r\n", 1)[1])["limit"] == limit


@pytest.mark.parametrize(("method", "path", "content_type", "limit"),
                         [r for r in BODY_ROUTES if r[3] <= 16 * MIB],
                         ids=[f"{m} {p.split('?')[0]}" for m, p, c, lim in BODY_ROUTES if lim <= 16 * MIB])
def test_a_chunked_body_is_cut_off_at_the_limit(server, method, path, content_type, limit):
    piece = b"x" * min(MIB, max(limit, 1))
    sent = (limit // len(piece)) + 4  # a few pieces beyond the limit, then the server must have answered
    chunks = [f"{len(piece):x}\r\n".encode() + piece + b"\r\n" for _ in range(sent)]
    chunks += [b"0\r\n\r\n"]
    status, answer = raw_request(server, head_for(method, path, content_type, "Transfer-Encoding: chunked\r\n"),
                                 chunks)
    assert status == 413, answer[:300]


def test_a_17_mb_statement_is_refused_and_not_stored(server):
    statement = {"id": str(uuid.uuid4()), "actor": {"mbox": "mailto:big@example.com"},
                 "verb": {"id": "http://adlnet.gov/expapi/verbs/experienced"},
                 "object": {"id": "http://example.com/big",
                            "definition": {"description": {"en": "x" * (17 * 1000 * 1000)}}}}
    with httpx.Client(base_url=server, headers=XAPI, timeout=60) as client:
        answer = client.post("/xapi/statements", json=statement)
        assert answer.status_code == 413
        assert answer.json()["error"] == "http.body_too_large"
        assert client.get("/xapi/statements", params={"statementId": statement["id"]}).status_code == 404


def nested(depth: int) -> dict:
    value: object = 1
    for _ in range(depth - 1):
        value = {"a": value}
    return value  # type: ignore[return-value]


def statement_with_extension(depth: int) -> dict:
    """A statement whose result extension nests so that the whole body is `depth` levels deep."""
    return {"id": str(uuid.uuid4()), "actor": {"mbox": "mailto:deep@example.com"},
            "verb": {"id": "http://adlnet.gov/expapi/verbs/experienced"},
            "object": {"id": "http://example.com/deep"},
            "result": {"extensions": {"http://example.com/ext": nested(depth - 2)}}}


def test_deeply_nested_json_is_answered_400_and_a_sane_depth_is_stored(server):
    with httpx.Client(base_url=server, headers=XAPI, timeout=60) as client:
        very_deep = b"[" * 100_000 + b"]" * 100_000
        answer = client.post("/xapi/statements", content=very_deep, headers={"Content-Type": "application/json"})
        assert answer.status_code == 400
        assert "64" in answer.json()["message"]

        too_deep = statement_with_extension(MAX_JSON_DEPTH + 1)
        assert json_depth(json.dumps(too_deep)) == MAX_JSON_DEPTH + 1
        assert client.post("/xapi/statements", json=too_deep).status_code == 400

        deep_enough = statement_with_extension(MAX_JSON_DEPTH)
        assert client.post("/xapi/statements", json=deep_enough).status_code == 200
        assert client.get("/xapi/statements", params={"statementId": deep_enough["id"]}).status_code == 200

        state = client.post(f"/xapi/activities/state?stateId=deep&{DOC_PARAMS}", content=very_deep,
                            headers={"Content-Type": "application/json"})
        assert state.status_code == 400
        assert client.get("/xapi/agents", params={"agent": "[" * 10_000}).status_code == 400


def test_a_deeply_nested_payment_callback_is_answered_400(fresh_demo_db, tmp_path):
    from tests.conftest import running_server

    body = b'{"reference":' + b"[" * 20_000 + b"]" * 20_000 + b"}"  # 40 KB: under the limit
    with running_server(fresh_demo_db, tmp_path / "server.log", MANABI_PAYMENT_SECRET="s3cret") as base:
        answer = httpx.post(f"{base}/payments/callback", content=body,
                            headers={payments.SIGNATURE_HEADER: payments.sign(body, "s3cret")})
    assert answer.status_code == 400
    assert answer.json()["reason"] == "bad_message"


def test_json_depth_ignores_brackets_inside_strings():
    assert json_depth(b'{"a": "[[[[{{{{", "b": [1, [2]]}') == 3
    assert json_depth('["\\"[[["]') == 1
    check_json_depth(b'"' + b"[" * 1000 + b'"')  # one string: no nesting at all
    with pytest.raises(http.JsonTooDeep):
        check_json_depth(b"[" * 65 + b"]" * 65)


def reference_depth(value: object) -> int:
    if isinstance(value, dict):
        return 1 + max((reference_depth(v) for v in value.values()), default=0)
    if isinstance(value, list):
        return 1 + max((reference_depth(v) for v in value), default=0)
    return 0


def test_json_depth_agrees_with_the_parsed_value_whatever_the_strings_hold():
    rnd = random.Random(19)
    tricky = [1, 'a\\"[{', "\\", "x]}", '"', "", None, "\\\"]", [], {}]

    def make(depth: int) -> object:
        if depth == 0:
            return rnd.choice(tricky)
        kids = [make(depth - 1), *(rnd.choice(tricky) for _ in range(rnd.randint(0, 2)))]
        rnd.shuffle(kids)
        if rnd.random() < 0.5:
            return kids
        return {rnd.choice(["k", "[", '\\"{', "\\"]) + str(i): kid for i, kid in enumerate(kids)}

    for _ in range(300):
        value = make(rnd.randint(1, 80))
        text = json.dumps(value, ensure_ascii=rnd.random() < 0.5)
        depth = reference_depth(value)
        assert json_depth(text) == depth, text
        if depth > MAX_JSON_DEPTH:
            with pytest.raises(http.JsonTooDeep):
                check_json_depth(text)
        else:
            check_json_depth(text)


# --- no plain 500 for bad input, on any route ---------------------------------------------------

def every_path() -> list[str]:
    """Every route of every module, path parameters filled with values that exist or do not."""
    fill = {"{item_id:int}": "1", "{media_id:int}": "1", "{id:int}": "1", "{loan:int}": "1", "{slug}": "%FF%FE",
            "{size}": "%FF", "{region}": "-1,-1,0,0", "{rotation}": "abc", "{quality}": "x.png", "{fmt:str}": "xml",
            "{token}": "%FF%00", "{code}": "%FF"}
    paths = []
    for spec in all_modules():
        for route in spec.routes() if spec.routes else []:
            path = route.path
            for name, value in fill.items():
                path = path.replace(name, value)
            paths.append(path)
    assert "/payments/callback" in paths and "/xapi/statements" in paths
    return paths


QUERIES = ["", "?limit=abc&since=notadate&until=%FF&agent=%7B&activityId=%FF%FE&statementId=zz&page=-1&query=%00",
           "?format=x&attachments=maybe&ascending=2&cursor=-5&verb=ListRecords&metadataPrefix=%FF&from=2026-99-99",
           "?page=99999999999999999999999&lang=%FF&method=PUT&stateId=a&activityId=http://x&agent=%7B%22mbox%22:1%7D"]
BODIES = [(b"\xff\xfe\xfa", "application/json"), (b"{", "application/json"), (b"hello", "text/plain"),
          (b"--x\r\nContent-Type: application/json\r\n\r\n{}", "multipart/mixed; boundary=x"),
          (b"--x\r\nContent-Disposition: form-data; name=a\r\n\r\n1", "multipart/form-data; boundary=x"),
          (b"\xff=\xfe&verb=Identify", "application/x-www-form-urlencoded"),
          (b"content=%5B%5B%5B&Authorization=x", "application/x-www-form-urlencoded")]
AUTHS = [None, XAPI_AUTH, "Basic " + base64.b64encode(b"resident01:manabi-demo").decode()]


def test_no_route_answers_500_to_bad_input(server):
    failures = []
    with httpx.Client(base_url=server, timeout=60) as client:
        def check(method: str, url: str, **kw) -> None:
            try:
                answer = client.request(method, url, **kw)
            except httpx.HTTPError as exc:  # a dropped connection is no answer either
                failures.append((method, url[:80], kw.get("headers"), repr(exc)))
                return
            if answer.status_code >= 500 and answer.status_code != 503:
                failures.append((method, url[:80], kw.get("headers"), answer.status_code, answer.text[:200]))

        for path in every_path():
            for method in ("GET", "HEAD", "POST", "PUT", "DELETE", "PATCH"):
                for query in QUERIES:
                    check(method, path + query, headers={"X-Experience-API-Version": "1.0.3",
                                                         "Authorization": XAPI_AUTH})
            for auth in AUTHS:
                for method in ("POST", "PUT"):
                    for body, content_type in BODIES:
                        headers = {"Content-Type": content_type, "X-Experience-API-Version": "1.0.3"}
                        if auth:
                            headers["Authorization"] = auth
                        check(method, path, content=body, headers=headers)
        # Headers far beyond reason are refused by the HTTP layer (uvicorn drops the connection).
        try:
            huge = client.get("/healthz", headers={"X-Padding": "a" * 200_000})
            assert huge.status_code < 500
        except (httpx.ReadError, httpx.RemoteProtocolError):
            pass
    assert failures == []

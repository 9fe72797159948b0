"""xAPI attachments as bytes (multipart/mixed) and signed statements: the service and the real server."""

from __future__ import annotations

import base64
import copy
import hashlib
import json
import uuid
from datetime import UTC, datetime, timedelta
from email.parser import BytesParser
from email.policy import HTTP

import httpx
import jwt
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID

from analytics.demo import DEMO_CLIENT_KEY, DEMO_CLIENT_SECRET
from analytics.services import attachments, lrs
from analytics.services.attachments import AttachmentProblem, Part
from kernel.actor import SYSTEM

VERSION = {"X-Experience-API-Version": "1.0.3"}
AUTH = (DEMO_CLIENT_KEY, DEMO_CLIENT_SECRET)
SIGNATURE = "http://adlnet.gov/expapi/attachments/signature"
BOUNDARY = "-------314159265358979323846"
TEXT = b"here is a simple attachment\r\nwith two lines and \x00\xff binary bytes"


def sha2(content: bytes) -> str:
    return hashlib.sha256(content).hexdigest()


def statement(**extra) -> dict:
    return {"actor": {"mbox": f"mailto:{uuid.uuid4().hex}@example.jp"},
            "verb": {"id": "http://adlnet.gov/expapi/verbs/attempted"},
            "object": {"id": "https://manabi.city.iizuka.lg.jp/units/8260233111100000"}, **extra}


def attachment(content: bytes, content_type: str = "text/plain", usage: str = "http://example.com/usage/worksheet",
               **extra) -> dict:
    return {"usageType": usage, "display": {"en-US": "a worksheet"}, "contentType": content_type,
            "length": len(content), "sha2": sha2(content), **extra}


def multipart(statements: object, *parts: tuple[bytes, dict]) -> bytes:
    """The body as the spec and ADL's suite write it: JSON first, then each part's headers and bytes."""
    chunks = [f"--{BOUNDARY}\r\nContent-Type: application/json\r\n\r\n".encode(), json.dumps(statements).encode(),
              b"\r\n"]
    for content, headers in parts:
        head = "".join(f"{k}: {v}\r\n" for k, v in headers.items())
        chunks += [f"--{BOUNDARY}\r\n{head}\r\n".encode(), content, b"\r\n"]
    chunks.append(f"--{BOUNDARY}--\r\n".encode())
    return b"".join(chunks)


def part_of(content: bytes, content_type: str = "text/plain", hash_: str | None = None) -> tuple[bytes, dict]:
    return content, {"Content-Type": content_type, "Content-Transfer-Encoding": "binary",
                     "X-Experience-API-Hash": hash_ or sha2(content)}


MIXED = {**VERSION, "Content-Type": f"multipart/mixed; boundary={BOUNDARY}"}


# --- signing (a key and a self-signed certificate made here) ---------------------------------


@pytest.fixture(scope="module")
def signer() -> tuple[rsa.RSAPrivateKey, str]:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "drill app")])
    now = datetime.now(UTC)
    certificate = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
                   .serial_number(x509.random_serial_number()).not_valid_before(now - timedelta(days=1))
                   .not_valid_after(now + timedelta(days=30)).sign(key, hashes.SHA256()))
    return key, base64.b64encode(certificate.public_bytes(serialization.Encoding.DER)).decode()


def sign(signer, unsigned: dict, algorithm: str = "RS256", payload: dict | None = None) -> tuple[dict, bytes]:
    """The statement with its signature attachment, and the JWS bytes (the spec's §2.6 recipe)."""
    key, certificate = signer
    token = jwt.PyJWS().encode(json.dumps(payload or unsigned).encode(), key, algorithm=algorithm,
                               headers={"x5c": [certificate]}).encode()
    signed = {**unsigned, "attachments": [*unsigned.get("attachments", []),
                                          attachment(token, "application/octet-stream", SIGNATURE)]}
    return signed, token


# --- the service ------------------------------------------------------------------------------


@pytest.fixture
def client(store, clock) -> lrs.Client:
    made = lrs.add_client(store, clock, SYSTEM, "drill app")
    return lrs.authenticate(store, made.api_key, made.secret)


def test_multipart_parts_are_read_byte_for_byte_preamble_and_epilogue_dropped():
    body = b"preamble\r\n" + multipart([statement()], part_of(TEXT), part_of(b"")) + b"epilogue"
    text, parts = attachments.parse_multipart(f'multipart/mixed; boundary="{BOUNDARY}"', body)
    assert json.loads(text)[0]["verb"]["id"].endswith("attempted")
    assert [(p.content, p.content_type, p.sha2) for p in parts] == [(TEXT, "text/plain", sha2(TEXT)),
                                                                    (b"", "text/plain", sha2(b""))]


@pytest.mark.parametrize(("content_type", "body", "key"), [
    ("multipart/mixed", multipart([statement()]), "no_boundary"),
    (f"multipart/mixed; boundary={BOUNDARY}", multipart([statement()])[:-4], "malformed"),
    (f"multipart/mixed; boundary={BOUNDARY}",
     multipart([statement()]).replace(b"application/json", b"text/plain"), "first_part_json"),
    (f"multipart/mixed; boundary={BOUNDARY}", multipart([statement()], part_of(TEXT, hash_="ab" * 32)),
     "hash_mismatch"),
    (f"multipart/mixed; boundary={BOUNDARY}",
     multipart([statement()], (TEXT, {"Content-Type": "text/plain", "X-Experience-API-Hash": sha2(TEXT)})),
     "part_headers"),
])
def test_malformed_multipart_bodies_are_refused(content_type, body, key):
    with pytest.raises(AttachmentProblem) as refused:
        attachments.parse_multipart(content_type, body)
    assert refused.value.key == f"analytics.xapi_attachment.{key}"


def test_parts_are_stored_with_the_statement_and_kept_once(store, clock, client):
    sent = statement(attachments=[attachment(TEXT)])
    [first] = lrs.store_statements(store, clock, client, [sent], parts=[Part("text/plain", sha2(TEXT), TEXT)])
    again = statement(attachments=[attachment(TEXT)])
    lrs.store_statements(store, clock, client, [again], parts=[Part("text/plain", sha2(TEXT), TEXT)])
    assert store.query("SELECT sha2, content_type, length, content FROM analytics_xapi_attachments") == [
        (sha2(TEXT), "text/plain", len(TEXT), TEXT)]
    got = lrs.get_statement(store, first)
    assert [(a.sha2, a.content) for a in attachments.for_statements(store, [got])] == [(sha2(TEXT), TEXT)]


def test_a_missing_or_extra_part_stores_nothing(store, clock, client):
    with pytest.raises(AttachmentProblem) as missing:
        lrs.store_statements(store, clock, client, [statement(attachments=[attachment(TEXT)])])
    assert missing.value.key == "analytics.xapi_attachment.missing_part"
    with pytest.raises(AttachmentProblem) as extra:
        lrs.store_statements(store, clock, client, [statement()], parts=[Part("text/plain", sha2(TEXT), TEXT)])
    assert extra.value.key == "analytics.xapi_attachment.extra_part"
    assert lrs.statement_count(store) == 0
    assert store.scalar("SELECT count(*) FROM analytics_xapi_attachments") == 0


def test_a_refused_batch_keeps_no_bytes(store, clock, client):
    statement_id = str(uuid.uuid4())
    lrs.store_statements(store, clock, client, [statement(id=statement_id)])
    with pytest.raises(lrs.StatementConflict):
        lrs.store_statements(store, clock, client, [statement(id=statement_id, attachments=[attachment(TEXT)])],
                             parts=[Part("text/plain", sha2(TEXT), TEXT)])
    assert store.scalar("SELECT count(*) FROM analytics_xapi_attachments") == 0


def test_file_url_attachments_need_no_part(store, clock, client):
    sent = statement(attachments=[attachment(TEXT, fileUrl="https://files.example.jp/worksheet.txt")])
    [statement_id] = lrs.store_statements(store, clock, client, [sent])
    assert lrs.get_statement(store, statement_id)["attachments"] == sent["attachments"]
    assert attachments.for_statements(store, [sent]) == []


@pytest.mark.parametrize("algorithm", ["RS256", "RS384", "RS512"])
def test_a_signed_statement_is_verified_with_its_certificate(store, clock, client, signer, algorithm):
    unsigned = statement(id=str(uuid.uuid4()))
    signed, token = sign(signer, unsigned, algorithm)
    [statement_id] = lrs.store_statements(store, clock, client, [signed],
                                          parts=[Part("application/octet-stream", sha2(token), token)])
    assert statement_id == unsigned["id"]


def test_a_signed_statement_without_its_id_gets_one(store, clock, client, signer):
    signed, token = sign(signer, statement())
    [statement_id] = lrs.store_statements(store, clock, client, [signed],
                                          parts=[Part("application/octet-stream", sha2(token), token)])
    assert lrs.get_statement(store, statement_id)["attachments"] == signed["attachments"]


def refused(store, clock, client, signed: dict, token: bytes) -> str:
    with pytest.raises(AttachmentProblem) as problem:
        lrs.store_statements(store, clock, client, [signed], parts=[Part("application/octet-stream", sha2(token),
                                                                         token)])
    assert lrs.statement_count(store) == 0
    return problem.value.key.rsplit(".", 1)[1]


def test_a_tampered_signed_statement_is_refused(store, clock, client, signer):
    unsigned = statement(result={"score": {"scaled": 0.4}})
    signed, token = sign(signer, unsigned)
    tampered = copy.deepcopy(signed)
    tampered["result"]["score"]["scaled"] = 0.9
    assert refused(store, clock, client, tampered, token) == "signature_payload"
    # A payload changed after signing no longer verifies with the certificate.
    head, _, signature = token.split(b".")
    forged = b".".join([head, base64.urlsafe_b64encode(json.dumps(tampered).encode()).rstrip(b"="), signature])
    signed_forged = {**tampered, "attachments": [attachment(forged, "application/octet-stream", SIGNATURE)]}
    assert refused(store, clock, client, signed_forged, forged) == "signature_invalid"


def test_signatures_other_than_rsa_jws_are_refused(store, clock, client, signer):
    unsigned = statement()
    hmac_token = jwt.PyJWS().encode(json.dumps(unsigned).encode(), "a shared secret of 32 bytes or more!",
                                    algorithm="HS256").encode()
    hmac_signed = {**unsigned, "attachments": [attachment(hmac_token, "application/octet-stream", SIGNATURE)]}
    assert refused(store, clock, client, hmac_signed, hmac_token) == "signature_algorithm"
    not_jws = b"not a signature"
    assert refused(store, clock, client, {**unsigned, "attachments": [
        attachment(not_jws, "application/octet-stream", SIGNATURE)]}, not_jws) == "signature_malformed"
    signed, token = sign(signer, unsigned)
    signed["attachments"][0]["contentType"] = "text/plain"
    assert refused(store, clock, client, signed, token) == "signature_type"


# --- the real server --------------------------------------------------------------------------


def test_multipart_post_is_stored_and_returned_with_attachments_true(server):
    sent = statement(attachments=[attachment(TEXT)])
    with httpx.Client(base_url=server, auth=AUTH, headers=VERSION, timeout=30) as http:
        posted = http.post("/xapi/statements", content=multipart(sent, part_of(TEXT)), headers=MIXED)
        assert posted.status_code == 200, posted.text
        [statement_id] = posted.json()
        plain = http.get("/xapi/statements", params={"statementId": statement_id})
        assert plain.headers["content-type"].startswith("application/json")
        assert http.get("/xapi/statements", params={"statementId": statement_id, "attachments": "false"}).json() == \
            plain.json()
        answer = http.get("/xapi/statements", params={"statementId": statement_id, "attachments": "true"})
        listed = http.get("/xapi/statements", params={"agent": json.dumps(sent["actor"]), "attachments": "true"})
    assert answer.status_code == 200 and answer.headers["content-type"].startswith("multipart/mixed; boundary=")
    assert "X-Experience-API-Consistent-Through" in answer.headers
    for response, result_of in ((answer, lambda j: j), (listed, lambda j: j["statements"][0])):
        message = BytesParser(policy=HTTP).parsebytes(
            f"Content-Type: {response.headers['content-type']}\r\n\r\n".encode() + response.content)
        first, second = message.iter_parts()
        assert result_of(json.loads(first.get_payload(decode=True)))["id"] == statement_id
        assert second["X-Experience-API-Hash"] == sha2(TEXT) and second["Content-Transfer-Encoding"] == "binary"
        assert second.get_payload(decode=True) == TEXT


def test_multipart_put_is_stored(server):
    statement_id = str(uuid.uuid4())
    body = multipart(statement(attachments=[attachment(TEXT)]), part_of(TEXT))
    put = httpx.put(f"{server}/xapi/statements", params={"statementId": statement_id}, content=body, headers=MIXED,
                    auth=AUTH)
    assert put.status_code == 204, put.text


def test_hash_mismatch_or_missing_part_is_400_and_nothing_is_stored(server):
    statement_id = str(uuid.uuid4())
    sent = statement(id=statement_id, attachments=[attachment(TEXT)])
    with httpx.Client(base_url=server, auth=AUTH, headers=VERSION, timeout=30) as http:
        mismatch = http.post("/xapi/statements", content=multipart(sent, part_of(TEXT + b"!", hash_=sha2(TEXT))),
                             headers=MIXED)
        missing = http.post("/xapi/statements", content=multipart(sent), headers=MIXED)
        as_json = http.post("/xapi/statements", json=sent)
        extra = http.post("/xapi/statements", content=multipart(sent, part_of(TEXT), part_of(b"more")),
                          headers=MIXED)
        found = http.get("/xapi/statements", params={"statementId": statement_id})
    assert (mismatch.status_code, mismatch.json()["error"]) == (400, "analytics.xapi_attachment.hash_mismatch")
    assert (missing.status_code, missing.json()["error"]) == (400, "analytics.xapi_attachment.missing_part")
    assert (as_json.status_code, as_json.json()["error"]) == (400, "analytics.xapi_attachment.missing_part")
    assert (extra.status_code, extra.json()["error"]) == (400, "analytics.xapi_attachment.extra_part")
    assert found.status_code == 404


def test_signed_statements_over_http(server, signer):
    unsigned = statement(id=str(uuid.uuid4()))
    signed, token = sign(signer, unsigned)
    with httpx.Client(base_url=server, auth=AUTH, headers=VERSION, timeout=30) as http:
        tampered = {**signed, "verb": {"id": "http://adlnet.gov/expapi/verbs/passed"}}
        refused_answer = http.post("/xapi/statements", headers=MIXED,
                                   content=multipart(tampered, part_of(token, "application/octet-stream")))
        accepted = http.post("/xapi/statements", headers=MIXED,
                             content=multipart(signed, part_of(token, "application/octet-stream")))
        back = http.get("/xapi/statements", params={"statementId": unsigned["id"], "attachments": "true"})
    assert refused_answer.status_code == 400
    assert refused_answer.json()["error"] == "analytics.xapi_attachment.signature_payload"
    assert accepted.status_code == 200 and accepted.json() == [unsigned["id"]]
    assert token in back.content


def test_file_url_attachments_still_work_as_json(server):
    # Bytes never sent: the answer with attachments=true is the JSON part alone.
    sent = statement(attachments=[attachment(uuid.uuid4().bytes, fileUrl="https://files.example.jp/worksheet.txt")])
    with httpx.Client(base_url=server, auth=AUTH, headers=VERSION, timeout=30) as http:
        [statement_id] = http.post("/xapi/statements", json=sent).json()
        answer = http.get("/xapi/statements", params={"statementId": statement_id, "attachments": "true"})
    message = BytesParser(policy=HTTP).parsebytes(
        f"Content-Type: {answer.headers['content-type']}\r\n\r\n".encode() + answer.content)
    [only] = message.iter_parts()
    assert json.loads(only.get_payload(decode=True))["attachments"] == sent["attachments"]


def test_unknown_statement_with_attachments_true_is_404(server):
    answer = httpx.get(f"{server}/xapi/statements", params={"statementId": str(uuid.uuid4()), "attachments": "true"},
                       headers=VERSION, auth=AUTH)
    assert answer.status_code == 404


"""xAPI attachments sent as bytes (xAPI 1.0.3 part 2 §2.4.11, part 3 §1.5.2) and signed statements (§2.6).

A statement request may be multipart/mixed: the first part is the statements as
application/json, every other part the raw bytes of one attachment, with
`Content-Transfer-Encoding: binary` and `X-Experience-API-Hash` (the sha256 of the bytes, hex),
which must be the `sha2` of an attachment of those statements. An attachment without `fileUrl`
must come as a part. The bytes are kept once per sha2 in `analytics_xapi_attachments`, written in
the statements' transaction (lrs.store_statements). A statement whose attachment has the usageType
SIGNATURE_USAGE is signed: that part is a JWS (RS256, RS384 or RS512) whose payload is the
statement as the app sent it; the signature is checked with the x5c certificate when there is one.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import secrets
from dataclasses import dataclass
from email.message import Message
from email.parser import BytesHeaderParser
from email.policy import HTTP

import jwt
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPublicKey

from kernel.errors import InvalidInput
from kernel.store import Store

SIGNATURE_USAGE = "http://adlnet.gov/expapi/attachments/signature"
SIGNATURE_CONTENT_TYPE = "application/octet-stream"
SIGNATURE_ALGORITHMS = ("RS256", "RS384", "RS512")
_HEADER_END = b"\r\n\r\n"


class AttachmentProblem(InvalidInput):
    """A multipart request or a signed statement that breaks the spec's rules (answered with 400)."""


@dataclass(frozen=True)
class Part:
    """One attachment part of a multipart request: its bytes and what its headers say."""

    content_type: str
    sha2: str  # X-Experience-API-Hash, lower case
    content: bytes


@dataclass(frozen=True)
class Stored:
    """Attachment bytes to keep (or kept): sha2 → content type, bytes."""

    sha2: str
    content_type: str
    content: bytes


def media_type(content_type: str) -> str:
    return content_type.split(";")[0].strip().lower()


def _boundary(content_type: str) -> str:
    message = Message(policy=HTTP)
    message["Content-Type"] = content_type
    boundary = message.get_param("boundary")
    if not isinstance(boundary, str) or not 1 <= len(boundary) <= 70:
        raise AttachmentProblem("analytics.xapi_attachment.no_boundary")
    return boundary


def _split(body: bytes, boundary: str) -> list[bytes]:
    """The parts between the boundary delimiters (RFC 2046 §5.1.1): the preamble before the
    first delimiter and the epilogue after the close delimiter are dropped."""
    delimiter = b"--" + boundary.encode("latin-1")
    # Every delimiter but a first one at the very start follows a line break (CRLF, or a bare
    # LF from lenient clients), which belongs to the delimiter, not to the part before it.
    text = b"\r\n" + body
    positions: list[tuple[int, int, bool]] = []  # (where the line break before begins, after it, close)
    start = 0
    while (found := text.find(b"\n" + delimiter, start)) != -1:
        after = found + 1 + len(delimiter)
        close = text[after:after + 2] == b"--"
        # A delimiter line ends with "--" (close), or optional blanks and a line break.
        line_end = text.find(b"\n", after)
        tail = text[after:line_end if line_end != -1 else len(text)].rstrip(b"\r")
        if close or (line_end != -1 and not tail.strip(b" \t")):
            positions.append((found - 1 if text[found - 1:found] == b"\r" else found, after, close))
            if close:
                break
        start = after
    if not positions or not positions[-1][2]:
        raise AttachmentProblem("analytics.xapi_attachment.malformed")
    parts = []
    for (_, after, _), (next_begin, _, _) in zip(positions, positions[1:], strict=False):
        line_end = text.find(b"\n", after)
        parts.append(text[line_end + 1:next_begin])
    return parts


def _headers(raw: bytes) -> tuple[Message, bytes]:
    if raw.startswith(b"\r\n"):
        return BytesHeaderParser(policy=HTTP).parsebytes(b"\r\n"), raw[2:]
    head, sep, content = raw.partition(_HEADER_END)
    if not sep:
        raise AttachmentProblem("analytics.xapi_attachment.malformed")
    return BytesHeaderParser(policy=HTTP).parsebytes(head + _HEADER_END), content


def parse_multipart(content_type: str, body: bytes) -> tuple[bytes, list[Part]]:
    """The statements part (JSON bytes) and the attachment parts of a multipart/mixed body."""
    raw_parts = _split(body, _boundary(content_type))
    if not raw_parts:
        raise AttachmentProblem("analytics.xapi_attachment.first_part_json")
    headers, statements = _headers(raw_parts[0])
    if media_type(headers.get("Content-Type", "")) != "application/json":
        raise AttachmentProblem("analytics.xapi_attachment.first_part_json")
    parts = []
    for number, raw in enumerate(raw_parts[1:], start=2):
        headers, content = _headers(raw)
        sha2 = (headers.get("X-Experience-API-Hash") or "").strip().lower()
        encoding = (headers.get("Content-Transfer-Encoding") or "").strip().lower()
        if not sha2 or encoding != "binary":
            raise AttachmentProblem("analytics.xapi_attachment.part_headers", part=number)
        if hashlib.sha256(content).hexdigest() != sha2:
            raise AttachmentProblem("analytics.xapi_attachment.hash_mismatch", part=number, sha2=sha2)
        parts.append(Part(str(headers.get("Content-Type") or ""), sha2, content))
    return statements, parts


# --- matching parts to statements ------------------------------------------------------------


def _is_signature(attachment: dict) -> bool:
    return attachment.get("usageType") == SIGNATURE_USAGE


def check_parts(statements: list[dict], parts: list[Part]) -> list[Stored]:
    """The bytes to keep for a validated batch, after the spec's rules: every part belongs to an
    attachment (by sha2), every attachment without fileUrl has its part, and a signed statement's
    signature is a well-formed JWS of that statement. `statements` are as sent (PUT's id merged in)."""
    by_sha2 = {part.sha2: part for part in parts}
    declared: dict[str, str] = {}
    for index, statement in enumerate(statements, start=1):
        for attachment in statement.get("attachments", []):
            sha2 = attachment["sha2"].lower()
            declared.setdefault(sha2, attachment["contentType"])
            if sha2 not in by_sha2 and ("fileUrl" not in attachment or _is_signature(attachment)):
                raise AttachmentProblem("analytics.xapi_attachment.missing_part", index=index, sha2=sha2)
        signatures = [a for a in statement.get("attachments", []) if _is_signature(a)]
        for attachment in signatures:
            if media_type(attachment["contentType"]) != SIGNATURE_CONTENT_TYPE:
                raise AttachmentProblem("analytics.xapi_attachment.signature_type", index=index)
            verify_signature(statement, by_sha2[attachment["sha2"].lower()].content, index)
    for number, part in enumerate(parts, start=2):
        if part.sha2 not in declared:
            raise AttachmentProblem("analytics.xapi_attachment.extra_part", part=number, sha2=part.sha2)
    return [Stored(sha2, by_sha2[sha2].content_type or declared[sha2], by_sha2[sha2].content)
            for sha2 in declared if sha2 in by_sha2]


# --- signed statements -----------------------------------------------------------------------


def _certificate_key(header: dict, index: int) -> RSAPublicKey | None:
    chain = header.get("x5c")
    if chain is None:
        return None
    try:
        certificate = x509.load_der_x509_certificate(base64.b64decode(chain[0], validate=True))
    except (TypeError, IndexError, KeyError, ValueError, binascii.Error) as exc:
        raise AttachmentProblem("analytics.xapi_attachment.signature_malformed", index=index) from exc
    key = certificate.public_key()
    if not isinstance(key, RSAPublicKey):
        raise AttachmentProblem("analytics.xapi_attachment.signature_malformed", index=index)
    return key


def _comparable(statement: dict, original: dict) -> dict:
    """The statement without what the LRS may add or the signing added (part 2 §2.6): authority,
    stored, the signature attachments, and id, timestamp and version when the original had none."""
    kept = {k: v for k, v in statement.items() if k not in ("authority", "stored")}
    for name in ("id", "timestamp", "version"):
        if name not in original:
            kept.pop(name, None)
    if "id" in kept and "id" in original:
        kept["id"] = kept["id"].lower()
    attachments = [a for a in kept.pop("attachments", []) if not _is_signature(a)]
    if attachments:
        kept["attachments"] = attachments
    return kept


def verify_signature(statement: dict, token: bytes, index: int) -> None:
    """A JWS compact serialization, RS256/384/512, verified with its x5c certificate when given,
    whose payload is this statement (as `_comparable` sees both)."""
    try:
        token = token.strip()
        header = jwt.get_unverified_header(token)
    except jwt.PyJWTError as exc:
        raise AttachmentProblem("analytics.xapi_attachment.signature_malformed", index=index) from exc
    algorithm = header.get("alg")
    if algorithm not in SIGNATURE_ALGORITHMS:
        raise AttachmentProblem("analytics.xapi_attachment.signature_algorithm", index=index,
                                algorithm=str(algorithm))
    key = _certificate_key(header, index)
    try:
        signed = jwt.PyJWS().decode_complete(token, key, algorithms=[algorithm],
                                             options={"verify_signature": key is not None})
    except jwt.InvalidSignatureError as exc:
        raise AttachmentProblem("analytics.xapi_attachment.signature_invalid", index=index) from exc
    except jwt.PyJWTError as exc:
        raise AttachmentProblem("analytics.xapi_attachment.signature_malformed", index=index) from exc
    try:
        original = json.loads(signed["payload"])
    except (ValueError, UnicodeDecodeError) as exc:
        raise AttachmentProblem("analytics.xapi_attachment.signature_payload", index=index) from exc
    if not isinstance(original, dict):
        raise AttachmentProblem("analytics.xapi_attachment.signature_payload", index=index)
    original_id = original.get("id")
    if isinstance(original_id, str):
        original = {**original, "id": original_id.lower()}
    if _comparable(statement, original) != _comparable(original, original):
        raise AttachmentProblem("analytics.xapi_attachment.signature_payload", index=index)


# --- keeping and reading the bytes ------------------------------------------------------------


def save(cur, attachments: list[Stored]) -> None:
    """Keep the bytes in the caller's transaction (the same bytes are kept once)."""
    for attachment in attachments:
        cur.execute("INSERT INTO analytics_xapi_attachments (sha2, content_type, length, content) "
                    "VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING",
                    [attachment.sha2, attachment.content_type, len(attachment.content), attachment.content])


def for_statements(store: Store, statements: list[dict]) -> list[Stored]:
    """The kept bytes of the attachments of these statements, each sha2 once, in order."""
    wanted = list(dict.fromkeys(a["sha2"].lower() for s in statements for a in s.get("attachments", [])
                                if isinstance(a.get("sha2"), str)))
    if not wanted:
        return []
    rows = store.query("SELECT sha2, content_type, content FROM analytics_xapi_attachments "
                       "WHERE sha2 IN (SELECT unnest(?::VARCHAR[]))", [wanted])
    found = {sha2: Stored(sha2, content_type, bytes(content)) for sha2, content_type, content in rows}
    return [found[sha2] for sha2 in wanted if sha2 in found]


def multipart_body(statements_json: bytes, attachments: list[Stored]) -> tuple[str, bytes]:
    """A multipart/mixed answer (part 3 §2.1.3): the JSON first, then each attachment's bytes."""
    boundary = "xapi-" + secrets.token_hex(16)
    delimiter = f"--{boundary}\r\n".encode()
    chunks = [delimiter, b"Content-Type: application/json\r\n\r\n", statements_json, b"\r\n"]
    for attachment in attachments:
        chunks += [delimiter,
                   f"Content-Type: {attachment.content_type}\r\nContent-Transfer-Encoding: binary\r\n"
                   f"X-Experience-API-Hash: {attachment.sha2}\r\n\r\n".encode("latin-1", "replace"),
                   attachment.content, b"\r\n"]
    chunks.append(f"--{boundary}--\r\n".encode())
    return f"multipart/mixed; boundary={boundary}", b"".join(chunks)

"""Jitsi Meet tokens: who may enter which online room, and with what rights.

Shared by courses (facilities) and schools' online classes, so it lives beside the
kernel and knows nothing of either: callers decide who takes part; this module
turns that into a signed join link that Jitsi's token authentication accepts.

What the verifier checks (self-hosted prosody `token` auth, or 8x8 JaaS):
- header `typ` JWT and the configured algorithm (never `none`): HS256 with a shared
  secret, or RS256 with a private key whose `kid` the server can resolve (JaaS wants
  `<appId>/<keyId>`);
- `iss` (the app id; JaaS: "chat"), `aud` (JaaS: "jitsi"), `sub`, `room` (compared
  lower-cased; we never issue `*`). Prosody's token check builds the room address it
  allows from `sub` and `room`: on a multi-tenant server (URL `https://host/<tenant>`) the
  address is `[<tenant>]<room>@conference.<host>`, so `sub` must be the tenant; without a
  tenant it is `<room>@conference.<sub>`, so `sub` is the XMPP domain; `*` passes either
  way. JaaS: the tenant is the app id;
  `nbf`/`exp` as NUMBERS;
- `context.user` {id, name, email, avatar} as strings. Moderator rights are written
  twice, because the two servers read different claims: `context.user.moderator`
  ("true"/"false", JaaS) and `context.user.affiliation` ("owner"/"member", the
  self-hosted token-affiliation plugin). `context.features` per role.

Configuration (environment or manabi.toml, see kernel.config.setting): MANABI_JITSI_URL,
_APP_ID, _ALG, _SECRET (HS256), _PRIVATE_KEY (a PEM file) and _KID (RS256), _AUDIENCE,
_SUBJECT. Demo defaults apply only when the caller says the database is a demo.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from urllib.parse import urlsplit

import jwt
from cryptography.hazmat.primitives import serialization

from kernel.config import setting
from kernel.errors import InvalidInput, ManabiError

ALGORITHMS = ("HS256", "RS256")
# Let people in a little before the start (to test their microphone) and keep the
# token valid a little after the planned end (lectures overrun); never longer.
OPEN_BEFORE = timedelta(minutes=15)
CLOSE_AFTER = timedelta(minutes=30)
# HS256 secrets shorter than the hash (32 bytes) can be guessed offline from one token.
MIN_SECRET_BYTES = 32

# Room names: lower-case (Jitsi compares the room claim lower-cased), 128 random bits.
ROOM_PATTERN = re.compile(r"^[a-z][a-z0-9-]{2,31}-[0-9a-f]{32}$")
TENANT_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,62}$")

DEMO_URL = "https://meet.manabi-demo.invalid"
DEMO_APP_ID = "manabi-demo"
DEMO_SECRET = "manabi-demo-jitsi-shared-secret-not-for-production"

MODERATOR_FEATURES = {
    "recording": "true", "livestreaming": "false", "transcription": "false",
    "outbound-call": "false", "sip-outbound-call": "false",
}
MEMBER_FEATURES = {
    "recording": "false", "livestreaming": "false", "transcription": "false",
    "outbound-call": "false", "sip-outbound-call": "false",
}


class MeetingsNotConfigured(ManabiError):
    key = "meetings.not_configured"


class MeetingClosed(ManabiError):
    """The session is over: no token is issued for a room nobody should enter any more."""

    key = "meetings.closed"


class TokenRejected(ManabiError):
    """`verify_token` found what a Jitsi server would refuse; `key` names the failure."""

    key = "meetings.verify.invalid"


@dataclass(frozen=True)
class JitsiConfig:
    url: str  # the meeting server, without a trailing slash
    app_id: str
    alg: str
    audience: str
    subject: str
    issuer: str
    secret: str | None = field(default=None, repr=False)
    private_key_pem: bytes | None = field(default=None, repr=False)
    kid: str | None = None
    jaas: bool = False  # 8x8's hosted service: different iss/sub, tenant in the URL
    tenant: str | None = None  # self-hosted multi-tenant: the URL's one path segment
    demo: bool = False

    def signing_key(self):
        return self.secret if self.alg == "HS256" else self.private_key_pem

    def verifying_key(self):
        if self.alg == "HS256":
            return self.secret
        private = serialization.load_pem_private_key(self.private_key_pem, password=None)
        return private.public_key()


def key_server_file(config: JitsiConfig) -> tuple[str, bytes]:
    """For RS256 on a self-hosted server: the file name and content its key server must
    serve (prosody fetches `<asap_key_server>/<sha256(kid)>.pem`)."""
    if config.alg != "RS256" or config.kid is None:
        raise MeetingsNotConfigured("meetings.no_public_key")
    public = config.verifying_key().public_bytes(serialization.Encoding.PEM,
                                                 serialization.PublicFormat.SubjectPublicKeyInfo)
    return f"{hashlib.sha256(config.kid.encode()).hexdigest()}.pem", public


def _is_jaas(url: str) -> bool:
    host = (urlsplit(url).hostname or "").lower()
    return host == "8x8.vc" or host.endswith(".8x8.vc")


def load_config(*, demo: bool) -> JitsiConfig:
    """The meeting configuration; demo defaults fill gaps only when `demo` is true."""
    url = setting("jitsi_url") or (DEMO_URL if demo else None)
    app_id = setting("jitsi_app_id") or (DEMO_APP_ID if demo else None)
    alg = (setting("jitsi_alg") or "HS256").upper()
    if not url or not app_id:
        raise MeetingsNotConfigured(missing="MANABI_JITSI_URL, MANABI_JITSI_APP_ID")
    if alg not in ALGORITHMS:
        raise MeetingsNotConfigured("meetings.bad_algorithm", alg=alg)
    url = url.rstrip("/")
    jaas = _is_jaas(url)
    secret = key_pem = kid = None
    if alg == "HS256":
        secret = setting("jitsi_secret") or (DEMO_SECRET if demo else None)
        if not secret:
            raise MeetingsNotConfigured(missing="MANABI_JITSI_SECRET")
        if len(secret.encode()) < MIN_SECRET_BYTES:
            raise MeetingsNotConfigured("meetings.secret_too_short", min=MIN_SECRET_BYTES)
    else:
        key_path = setting("jitsi_private_key")
        kid = setting("jitsi_kid")
        if not key_path or not kid:
            raise MeetingsNotConfigured(missing="MANABI_JITSI_PRIVATE_KEY, MANABI_JITSI_KID")
        try:
            key_pem = Path(key_path).read_bytes()
            serialization.load_pem_private_key(key_pem, password=None)
        except (OSError, ValueError, TypeError) as exc:
            raise MeetingsNotConfigured("meetings.bad_private_key", path=key_path) from exc
        if jaas and not kid.startswith(f"{app_id}/"):
            kid = f"{app_id}/{kid}"  # JaaS resolves the key as <appId>/<keyId>
    parts = urlsplit(url)
    domain = (parts.hostname or "").lower()
    path = [segment for segment in parts.path.split("/") if segment]
    tenant = None
    if path and not jaas:
        # Jitsi's multi-domain mode has one tenant segment; rooms are compared lower-cased.
        if len(path) > 1 or not TENANT_PATTERN.match(path[0]):
            raise MeetingsNotConfigured("meetings.bad_tenant", url=url)
        tenant = path[0].lower()
    subject = setting("jitsi_subject") or (app_id if jaas else tenant or domain)
    if tenant and subject != "*" and subject.lower() != tenant:
        # Prosody would refuse every token: the room address it allows comes from sub.
        raise MeetingsNotConfigured("meetings.subject_not_tenant", subject=subject, tenant=tenant)
    return JitsiConfig(
        url=url,
        app_id=app_id,
        alg=alg,
        audience=setting("jitsi_audience") or "jitsi",
        # Self-hosted: the tenant, else the domain (or what the deployment sets, e.g. "*");
        # JaaS: the tenant is the app id.
        subject=subject,
        issuer="chat" if jaas else app_id,
        secret=secret,
        private_key_pem=key_pem,
        kid=kid,
        jaas=jaas,
        demo=demo and setting("jitsi_url") is None,
        tenant=tenant,
    )


def new_room_name(prefix: str = "manabi") -> str:
    """An unguessable room name: a readable prefix and 128 random bits, lower-case."""
    clean = re.sub(r"[^a-z0-9-]", "", prefix.lower())[:31] or "manabi"
    if not clean[0].isalpha():
        clean = "m" + clean[:30]
    return f"{clean}-{secrets.token_hex(16)}"


def check_room_name(room: str) -> str:
    if room == "*" or not ROOM_PATTERN.match(room or ""):
        raise InvalidInput("meetings.bad_room", room=room)
    return room


@dataclass(frozen=True)
class Participant:
    user_id: str
    name: str
    email: str = ""
    avatar: str = ""
    moderator: bool = False


@dataclass(frozen=True)
class JoinLink:
    url: str
    token: str
    room: str
    not_before: datetime
    expires: datetime
    moderator: bool


def token_window(starts_at: datetime, ends_at: datetime) -> tuple[datetime, datetime]:
    return starts_at - OPEN_BEFORE, ends_at + CLOSE_AFTER


def claims_for(config: JitsiConfig, room: str, who: Participant, starts_at: datetime,
               ends_at: datetime, now: datetime) -> dict:
    not_before, expires = token_window(starts_at, ends_at)
    return {
        "iss": config.issuer,
        "aud": config.audience,
        "sub": config.subject,
        "room": check_room_name(room),
        "iat": int(now.timestamp()),
        "nbf": int(not_before.timestamp()),
        "exp": int(expires.timestamp()),
        "context": {
            "user": {
                "id": str(who.user_id),
                "name": str(who.name),
                "email": str(who.email or ""),
                "avatar": str(who.avatar or ""),
                "moderator": "true" if who.moderator else "false",
                "affiliation": "owner" if who.moderator else "member",
            },
            "features": dict(MODERATOR_FEATURES if who.moderator else MEMBER_FEATURES),
        },
    }


def issue_token(config: JitsiConfig, room: str, who: Participant, starts_at: datetime,
                ends_at: datetime, now: datetime) -> str:
    """A signed token for `who` in `room`, valid from shortly before the start to shortly after the end."""
    claims = claims_for(config, room, who, starts_at, ends_at, now)
    if claims["exp"] <= int(now.timestamp()):
        raise MeetingClosed()
    headers = {"typ": "JWT"}
    if config.alg == "RS256":
        headers["kid"] = config.kid
    return jwt.encode(claims, config.signing_key(), algorithm=config.alg, headers=headers)


def join_url(config: JitsiConfig, room: str, token: str) -> str:
    base = f"{config.url}/{config.app_id}" if config.jaas else config.url
    return f"{base}/{room}?jwt={token}"


def join_link(config: JitsiConfig, room: str, who: Participant, starts_at: datetime,
              ends_at: datetime, now: datetime) -> JoinLink:
    token = issue_token(config, room, who, starts_at, ends_at, now)
    not_before, expires = token_window(starts_at, ends_at)
    return JoinLink(join_url(config, room, token), token, room, not_before, expires, who.moderator)


def _reject(reason: str, **params: object) -> TokenRejected:
    return TokenRejected(f"meetings.verify.{reason}", **params)


def sub_accepted(config: JitsiConfig, sub: str) -> bool:
    """Would prosody let this `sub` into a room of this deployment? `*` matches any tenant
    and any domain; otherwise the tenant (multi-tenant) or the configured domain."""
    if sub == "*":
        return True
    expected = config.tenant or config.subject
    return sub.lower() == expected.lower()


def verify_token(config: JitsiConfig, token: str, now: datetime, room: str | None = None) -> dict:
    """Check a token as a Jitsi server would; return its claims or raise TokenRejected
    naming the classic failure (string exp, missing aud, wrong room, expired, …)."""
    token = token.strip()
    if "?jwt=" in token:  # a whole join link was pasted
        token = token.split("?jwt=", 1)[1]
    try:
        header = jwt.get_unverified_header(token)
        jwt.decode(token, options={"verify_signature": False})  # well-formed at all?
    except jwt.PyJWTError as exc:
        raise _reject("malformed", detail=str(exc)) from exc
    if header.get("typ") != "JWT":
        raise _reject("wrong_type", typ=header.get("typ"))
    alg = str(header.get("alg") or "none")
    if alg.lower() == "none" or alg != config.alg:
        raise _reject("wrong_algorithm", alg=alg, expected=config.alg)
    if config.alg == "RS256" and header.get("kid") != config.kid:
        raise _reject("wrong_kid", kid=header.get("kid"), expected=config.kid)
    try:
        # Signature only here; each claim is then checked by hand to name the failure.
        claims = jwt.decode(token, config.verifying_key(), algorithms=[config.alg], options={
            "verify_exp": False, "verify_nbf": False, "verify_iat": False,
            "verify_aud": False, "verify_iss": False, "verify_sub": False, "verify_jti": False,
        })
    except jwt.InvalidSignatureError as exc:
        raise _reject("bad_signature") from exc
    except jwt.PyJWTError as exc:
        raise _reject("malformed", detail=str(exc)) from exc
    for name in ("exp", "nbf"):
        if name not in claims:
            raise _reject(f"missing_{name}")
        if isinstance(claims[name], bool) or not isinstance(claims[name], int | float):
            raise _reject(f"{name}_not_number", value=repr(claims[name]))
    if "aud" not in claims:
        raise _reject("missing_aud")
    if claims["aud"] != config.audience:
        raise _reject("wrong_aud", aud=claims["aud"], expected=config.audience)
    if claims.get("iss") != config.issuer:
        raise _reject("wrong_iss", iss=claims.get("iss"), expected=config.issuer)
    if not sub_accepted(config, str(claims.get("sub", ""))):
        raise _reject("wrong_sub", sub=claims.get("sub"), expected=config.tenant or config.subject)
    claimed_room = claims.get("room")
    if not claimed_room:
        raise _reject("missing_room")
    if claimed_room == "*":
        raise _reject("wildcard_room")
    if room is not None and str(claimed_room).lower() != room.lower():
        raise _reject("wrong_room", room=claimed_room, expected=room)
    user = (claims.get("context") or {}).get("user")
    if not isinstance(user, dict) or "name" not in user:
        raise _reject("missing_user")
    if not all(isinstance(user.get(k, ""), str) for k in ("id", "name", "email", "avatar")):
        raise _reject("user_not_strings")
    # The two servers read different claims; if they disagree, one of them gives the wrong rights.
    if (str(user.get("moderator", "false")).lower() == "true") != (user.get("affiliation") == "owner"):
        raise _reject("moderator_mismatch", moderator=user.get("moderator"), affiliation=user.get("affiliation"))
    moment = now.timestamp()
    if moment < claims["nbf"]:
        raise _reject("not_yet_valid", at=datetime.fromtimestamp(claims["nbf"], tz=now.tzinfo))
    if moment >= claims["exp"]:
        raise _reject("expired", at=datetime.fromtimestamp(claims["exp"], tz=now.tzinfo))
    return claims

"""Jitsi tokens: configuration, claims as the verifier checks them, and the classic failures.

Tokens are verified with pyjwt AND with an independent JOSE library (joserfc), using the
shared secret or the public half of an RSA key made here.
"""

from __future__ import annotations

import base64
import json
from datetime import datetime, timedelta

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from joserfc import jwt as jose_jwt
from joserfc.jwk import OctKey, RSAKey

from facilities.services import meetings
from kernel.clock import TOKYO
from kernel.errors import InvalidInput

SECRET = "a-shared-secret-for-tests-that-is-long-enough-0123456789"
START = datetime(2026, 12, 3, 10, 0, tzinfo=TOKYO)
END = datetime(2026, 12, 3, 12, 0, tzinfo=TOKYO)
NOW = datetime(2026, 11, 27, 10, 0, tzinfo=TOKYO)
LECTURER = meetings.Participant("12", "講師 太郎", "lecturer@example.jp", moderator=True)
RESIDENT = meetings.Participant("34", "市民 花子", "hanako@example.jp")
# pyjwt would judge nbf/exp/iat by the real time; the window is checked against fixed times instead.
REAL_TIME_OFF = {"verify_exp": False, "verify_nbf": False, "verify_iat": False}


@pytest.fixture
def jitsi_env(monkeypatch):
    for name in ("URL", "APP_ID", "ALG", "SECRET", "PRIVATE_KEY", "KID", "AUDIENCE", "SUBJECT"):
        monkeypatch.delenv(f"MANABI_JITSI_{name}", raising=False)
    monkeypatch.setenv("MANABI_CONFIG", "/nonexistent/manabi.toml")

    def set_env(**values):
        for name, value in values.items():
            monkeypatch.setenv(f"MANABI_JITSI_{name.upper()}", value)

    return set_env


@pytest.fixture
def hs256(jitsi_env):
    jitsi_env(url="https://meet.iizuka.example/", app_id="manabi", secret=SECRET)
    return meetings.load_config(demo=False)


@pytest.fixture
def rsa_pem(tmp_path):
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    path = tmp_path / "jaas.pem"
    path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                       serialization.NoEncryption()))
    public = key.public_key().public_bytes(serialization.Encoding.PEM,
                                           serialization.PublicFormat.SubjectPublicKeyInfo)
    return path, public


def room() -> str:
    return meetings.new_room_name("course")


def segments(token: str) -> tuple[dict, dict]:
    def part(text):
        return json.loads(base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)))

    head, body, _ = token.split(".")
    return part(head), part(body)


def forge(claims: dict, key=SECRET, alg="HS256", headers=None) -> str:
    return jwt.encode(claims, key, algorithm=alg, headers=headers or {"typ": "JWT"})


# --- configuration -------------------------------------------------------------------


def test_without_configuration_outside_demo_nothing_is_issued(jitsi_env):
    with pytest.raises(meetings.MeetingsNotConfigured):
        meetings.load_config(demo=False)
    jitsi_env(url="https://meet.iizuka.example", app_id="manabi")
    with pytest.raises(meetings.MeetingsNotConfigured) as caught:
        meetings.load_config(demo=False)
    assert "MANABI_JITSI_SECRET" in caught.value.params["missing"]


def test_demo_defaults_only_in_demo_mode(jitsi_env):
    config = meetings.load_config(demo=True)
    assert (config.alg, config.app_id, config.demo) == ("HS256", meetings.DEMO_APP_ID, True)
    assert config.url == meetings.DEMO_URL
    # A real setting wins over the demo default even in demo mode.
    jitsi_env(url="https://meet.iizuka.example", app_id="manabi", secret=SECRET)
    real = meetings.load_config(demo=True)
    assert (real.url, real.app_id, real.secret, real.demo) == ("https://meet.iizuka.example", "manabi", SECRET, False)


def test_short_secret_unknown_algorithm_and_bad_key_file_are_refused(jitsi_env, tmp_path):
    jitsi_env(url="https://meet.iizuka.example", app_id="manabi", secret="short")
    with pytest.raises(meetings.MeetingsNotConfigured) as caught:
        meetings.load_config(demo=False)
    assert caught.value.key == "meetings.secret_too_short"
    jitsi_env(secret=SECRET, alg="none")
    with pytest.raises(meetings.MeetingsNotConfigured) as caught:
        meetings.load_config(demo=False)
    assert caught.value.key == "meetings.bad_algorithm"
    (tmp_path / "bad.pem").write_text("not a key")
    jitsi_env(alg="RS256", private_key=str(tmp_path / "bad.pem"), kid="k1")
    with pytest.raises(meetings.MeetingsNotConfigured) as caught:
        meetings.load_config(demo=False)
    assert caught.value.key == "meetings.bad_private_key"


# --- HS256, self-hosted ----------------------------------------------------------------


def test_hs256_token_has_every_claim_the_verifier_checks(hs256):
    name = room()
    link = meetings.join_link(hs256, name, RESIDENT, START, END, NOW)
    assert link.url == f"https://meet.iizuka.example/{name}?jwt={link.token}"

    header, _ = segments(link.token)
    assert header == {"alg": "HS256", "typ": "JWT"}
    claims = jwt.decode(link.token, SECRET, algorithms=["HS256"], audience="jitsi", issuer="manabi",
                        options=REAL_TIME_OFF)
    assert claims["sub"] == "meet.iizuka.example"
    assert claims["room"] == name and claims["room"] == name.lower()
    assert type(claims["nbf"]) is int and type(claims["exp"]) is int
    assert claims["nbf"] == int((START - timedelta(minutes=15)).timestamp())
    assert claims["exp"] == int((END + timedelta(minutes=30)).timestamp())
    user = claims["context"]["user"]
    assert user == {"id": "34", "name": "市民 花子", "email": "hanako@example.jp", "avatar": "",
                    "moderator": "false", "affiliation": "member"}
    assert all(v == "false" for v in claims["context"]["features"].values())

    # The independent library agrees: signature, and the claims it validates itself.
    decoded = jose_jwt.decode(link.token, OctKey.import_key(SECRET), algorithms=["HS256"]).claims
    jose_jwt.JWTClaimsRegistry(now=int((START + timedelta(minutes=1)).timestamp()),
                               aud={"essential": True, "value": "jitsi"}).validate(decoded)
    assert decoded["room"] == name and decoded["aud"] == "jitsi"


def test_only_the_moderator_gets_owner_rights_and_features(hs256):
    name = room()
    lecturer = jwt.decode(meetings.issue_token(hs256, name, LECTURER, START, END, NOW), SECRET,
                          algorithms=["HS256"], audience="jitsi", options=REAL_TIME_OFF)
    resident = jwt.decode(meetings.issue_token(hs256, name, RESIDENT, START, END, NOW), SECRET,
                          algorithms=["HS256"], audience="jitsi", options=REAL_TIME_OFF)
    assert lecturer["context"]["user"]["moderator"] == "true"
    assert lecturer["context"]["user"]["affiliation"] == "owner"
    assert lecturer["context"]["features"]["recording"] == "true"
    assert resident["context"]["user"]["moderator"] == "false"
    assert resident["context"]["user"]["affiliation"] == "member"
    assert resident["context"]["features"]["recording"] == "false"


def test_token_window_follows_the_clock(hs256):
    name = room()
    token = meetings.issue_token(hs256, name, RESIDENT, START, END, NOW)
    with pytest.raises(meetings.TokenRejected) as caught:
        meetings.verify_token(hs256, token, START - timedelta(minutes=16), room=name)
    assert caught.value.key == "meetings.verify.not_yet_valid"
    assert meetings.verify_token(hs256, token, START - timedelta(minutes=14), room=name)["room"] == name
    assert meetings.verify_token(hs256, token, END + timedelta(minutes=29), room=name)
    with pytest.raises(meetings.TokenRejected) as caught:
        meetings.verify_token(hs256, token, END + timedelta(minutes=30), room=name)
    assert caught.value.key == "meetings.verify.expired"
    # No token at all for a session that is over.
    with pytest.raises(meetings.MeetingClosed):
        meetings.issue_token(hs256, name, RESIDENT, START, END, END + timedelta(hours=1))


def test_room_names_are_unguessable_and_never_a_wildcard(hs256):
    names = {meetings.new_room_name("course") for _ in range(500)}
    assert len(names) == 500
    for name in names:
        assert meetings.ROOM_PATTERN.match(name) and name == name.lower()
        assert len(name.rsplit("-", 1)[1]) == 32  # 128 random bits
    for bad in ("*", "course", "course-1234", "Course-" + "a" * 32):
        with pytest.raises(InvalidInput):
            meetings.issue_token(hs256, bad, RESIDENT, START, END, NOW)


def test_a_join_link_pasted_whole_verifies_for_its_room_only(hs256):
    name, other = room(), room()
    link = meetings.join_link(hs256, name, RESIDENT, START, END, NOW)
    assert meetings.verify_token(hs256, link.url, START, room=name)["context"]["user"]["id"] == "34"
    with pytest.raises(meetings.TokenRejected) as caught:
        meetings.verify_token(hs256, link.token, START, room=other)
    assert caught.value.key == "meetings.verify.wrong_room"


# --- the classic failures ----------------------------------------------------------------


def good_claims(hs256, name):
    return meetings.claims_for(hs256, name, RESIDENT, START, END, NOW)


@pytest.mark.parametrize("change,reason", [
    (lambda c: c.update(exp=str(c["exp"])), "exp_not_number"),
    (lambda c: c.update(nbf=str(c["nbf"])), "nbf_not_number"),
    (lambda c: c.pop("aud"), "missing_aud"),
    (lambda c: c.update(aud="someone-else"), "wrong_aud"),
    (lambda c: c.update(iss="another-app"), "wrong_iss"),
    (lambda c: c.update(sub="other.example"), "wrong_sub"),
    (lambda c: c.update(room="*"), "wildcard_room"),
    (lambda c: c.pop("room"), "missing_room"),
    (lambda c: c.pop("exp"), "missing_exp"),
    (lambda c: c.update(user=c.pop("context")["user"]), "missing_user"),  # nested wrongly
    (lambda c: c["context"]["user"].update(id=34), "user_not_strings"),
    (lambda c: c["context"]["user"].update(moderator="true"), "moderator_mismatch"),
])
def test_verify_names_each_classic_failure(hs256, change, reason):
    name = room()
    claims = good_claims(hs256, name)
    change(claims)
    with pytest.raises(meetings.TokenRejected) as caught:
        meetings.verify_token(hs256, forge(claims), START, room=name)
    assert caught.value.key == f"meetings.verify.{reason}"


def test_verify_refuses_wrong_secret_alg_none_and_missing_typ(hs256):
    name = room()
    claims = good_claims(hs256, name)
    with pytest.raises(meetings.TokenRejected) as caught:
        meetings.verify_token(hs256, forge(claims, key="another-secret-that-is-also-long-enough!!"), START)
    assert caught.value.key == "meetings.verify.bad_signature"
    unsigned = jwt.encode(claims, None, algorithm="none")
    with pytest.raises(meetings.TokenRejected) as caught:
        meetings.verify_token(hs256, unsigned, START)
    assert caught.value.key in ("meetings.verify.wrong_algorithm", "meetings.verify.wrong_type")
    with pytest.raises(meetings.TokenRejected) as caught:
        meetings.verify_token(hs256, forge(claims, headers={"typ": "JWS"}), START)
    assert caught.value.key == "meetings.verify.wrong_type"
    with pytest.raises(meetings.TokenRejected) as caught:
        meetings.verify_token(hs256, "not.a.token", START)
    assert caught.value.key == "meetings.verify.malformed"


def test_verify_refuses_an_hs256_token_when_rs256_is_configured(jitsi_env, rsa_pem, hs256):
    path, _ = rsa_pem
    name = room()
    hs_token = meetings.issue_token(hs256, name, RESIDENT, START, END, NOW)
    jitsi_env(alg="RS256", private_key=str(path), kid="key1")
    rs256 = meetings.load_config(demo=False)
    with pytest.raises(meetings.TokenRejected) as caught:
        meetings.verify_token(rs256, hs_token, START)
    assert caught.value.key == "meetings.verify.wrong_algorithm"


# --- RS256: self-hosted with a key server, and 8x8 JaaS ---------------------------------


def test_rs256_self_hosted_token_verifies_with_the_public_key(jitsi_env, rsa_pem):
    path, public = rsa_pem
    jitsi_env(url="https://meet.iizuka.example", app_id="manabi", alg="RS256", private_key=str(path),
              kid="manabi-2026")
    config = meetings.load_config(demo=False)
    name = room()
    token = meetings.issue_token(config, name, LECTURER, START, END, NOW)
    header, _ = segments(token)
    assert header == {"alg": "RS256", "typ": "JWT", "kid": "manabi-2026"}
    claims = jwt.decode(token, public, algorithms=["RS256"], audience="jitsi", issuer="manabi",
                        options=REAL_TIME_OFF)
    assert claims["context"]["user"]["affiliation"] == "owner"
    decoded = jose_jwt.decode(token, RSAKey.import_key(public), algorithms=["RS256"]).claims
    jose_jwt.JWTClaimsRegistry(now=int(START.timestamp())).validate(decoded)
    assert decoded["room"] == name
    # A token signed by another key is refused.
    other = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    forged = jwt.encode(meetings.claims_for(config, name, LECTURER, START, END, NOW), other,
                        algorithm="RS256", headers={"typ": "JWT", "kid": "manabi-2026"})
    with pytest.raises(meetings.TokenRejected) as caught:
        meetings.verify_token(config, forged, START)
    assert caught.value.key == "meetings.verify.bad_signature"


def test_jaas_token_uses_tenant_kid_chat_issuer_and_tenant_url(jitsi_env, rsa_pem):
    path, public = rsa_pem
    app_id = "vpaas-magic-cookie-1fc542a3e4414a44b2611668195e2bfe"
    jitsi_env(url="https://8x8.vc", app_id=app_id, alg="RS256", private_key=str(path), kid="4f4910")
    config = meetings.load_config(demo=False)
    name = room()
    link = meetings.join_link(config, name, LECTURER, START, END, NOW)
    assert link.url == f"https://8x8.vc/{app_id}/{name}?jwt={link.token}"
    header, _ = segments(link.token)
    assert header["kid"] == f"{app_id}/4f4910"
    claims = jwt.decode(link.token, public, algorithms=["RS256"], audience="jitsi", issuer="chat",
                        options=REAL_TIME_OFF)
    assert claims["sub"] == app_id
    assert claims["context"]["user"]["moderator"] == "true"
    assert meetings.verify_token(config, link.token, START, room=name)["sub"] == app_id


def test_key_server_file_is_named_by_the_sha256_of_the_kid(jitsi_env, rsa_pem, hs256):
    import hashlib

    with pytest.raises(meetings.MeetingsNotConfigured):
        meetings.key_server_file(hs256)
    path, public = rsa_pem
    jitsi_env(alg="RS256", private_key=str(path), kid="manabi-2026")
    name, pem = meetings.key_server_file(meetings.load_config(demo=False))
    assert name == hashlib.sha256(b"manabi-2026").hexdigest() + ".pem"
    assert pem == public


# --- tenants, as prosody's token check applies them -----------------------------------
def address_joined(join_link_url: str) -> str:
    """The MUC address the Jitsi web client joins for a link: a path `/<tenant>/<room>` is
    `[tenant]room@conference.<host>` (multi-domain mode); `/<room>` is `room@conference.<host>`."""
    from urllib.parse import urlsplit

    parts = urlsplit(join_link_url)
    path = [p for p in parts.path.split("/") if p]
    node = f"[{path[0].lower()}]{path[1].lower()}" if len(path) == 2 else path[0].lower()
    return f"{node}@conference.{parts.hostname}"


def address_allowed(claims: dict, joined: str) -> bool:
    """Prosody's rule (token/util.lib.lua, verify_room with domain verification on): the
    address it allows is built from the token's `sub` and `room`, `*` standing for any."""
    node, _, muc = joined.partition("@")
    sub, room_claim = claims["sub"], claims["room"]
    if node.startswith("["):
        tenant, _, name = node[1:].partition("]")
        allowed_tenant = tenant if sub == "*" else sub
        allowed_room = name if room_claim == "*" else room_claim
        return joined == f"[{allowed_tenant.lower()}]{allowed_room.lower()}@{muc}"
    allowed_muc = muc if sub == "*" else f"conference.{sub}"
    allowed_room = node if room_claim == "*" else room_claim
    return joined == f"{allowed_room.lower()}@{allowed_muc.lower()}"


def test_a_tenant_url_gives_tokens_whose_sub_is_the_tenant(jitsi_env):
    jitsi_env(url="https://meet.example.org/School1/", app_id="manabi", secret=SECRET)
    config = meetings.load_config(demo=False)
    name = room()
    link = meetings.join_link(config, name, RESIDENT, START, END, NOW)
    assert link.url == f"https://meet.example.org/School1/{name}?jwt={link.token}"
    claims = meetings.verify_token(config, link.token, START, room=name)
    assert claims["sub"] == "school1" and claims["room"] == name
    assert address_joined(link.url) == f"[school1]{name}@conference.meet.example.org"
    assert address_allowed(claims, address_joined(link.url))
    # What was issued before: the host as sub is refused for the tenant's room, by Jitsi and by us.
    assert not address_allowed({**claims, "sub": "meet.example.org"}, address_joined(link.url))
    with pytest.raises(meetings.TokenRejected) as caught:
        meetings.verify_token(config, forge({**claims, "sub": "meet.example.org"}), START, room=name)
    assert caught.value.key == "meetings.verify.wrong_sub"
    # Another tenant's room is not this token's.
    assert not address_allowed(claims, f"[school2]{name}@conference.meet.example.org")


def test_without_a_tenant_sub_is_the_domain_and_a_wildcard_sub_passes_everywhere(jitsi_env, hs256):
    name = room()
    link = meetings.join_link(hs256, name, RESIDENT, START, END, NOW)
    claims = meetings.verify_token(hs256, link.token, START, room=name)
    assert claims["sub"] == "meet.iizuka.example"
    assert address_allowed(claims, address_joined(link.url))
    jitsi_env(url="https://meet.example.org/school1", subject="*")
    wildcard = meetings.load_config(demo=False)
    link = meetings.join_link(wildcard, name, RESIDENT, START, END, NOW)
    claims = meetings.verify_token(wildcard, link.token, START, room=name)
    assert claims["sub"] == "*" and address_allowed(claims, address_joined(link.url))


def test_a_subject_that_contradicts_the_tenant_or_a_deep_path_is_refused(jitsi_env):
    jitsi_env(url="https://meet.example.org/school1", app_id="manabi", secret=SECRET, subject="meet.example.org")
    with pytest.raises(meetings.MeetingsNotConfigured) as caught:
        meetings.load_config(demo=False)
    assert caught.value.key == "meetings.subject_not_tenant"
    jitsi_env(url="https://meet.example.org/a/b", subject="")
    with pytest.raises(meetings.MeetingsNotConfigured) as caught:
        meetings.load_config(demo=False)
    assert caught.value.key == "meetings.bad_tenant"

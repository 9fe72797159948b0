"""`manabi facilities courses …` and its `meetings` commands through the real root command,
on a copy of the small demo city (so the HS256 demo configuration applies)."""

from __future__ import annotations

import json

import jwt
import pytest
from typer.testing import CliRunner

from facilities.services import meetings
from portal.cli import app
from portal.runtime import forget_runtimes


@pytest.fixture
def manabi(fresh_demo_db, monkeypatch):
    monkeypatch.setenv("MANABI_CONFIG", "/nonexistent/manabi.toml")
    for name in ("URL", "APP_ID", "ALG", "SECRET", "PRIVATE_KEY", "KID", "AUDIENCE", "SUBJECT"):
        monkeypatch.delenv(f"MANABI_JITSI_{name}", raising=False)
    runner = CliRunner()

    def run(*args: str):
        forget_runtimes()
        result = runner.invoke(app, ["--db", str(fresh_demo_db), *args])
        forget_runtimes()
        return result

    return run


def running_session(manabi) -> dict:
    result = manabi("facilities", "courses", "meetings", "sessions", "--json")
    assert result.exit_code == 0, result.output
    return next(s for s in json.loads(result.output) if s["course_code"] == "NET-SAFETY")


def test_course_list_and_show(manabi):
    result = manabi("facilities", "courses", "list", "--json")
    assert result.exit_code == 0, result.output
    codes = {c["code"] for c in json.loads(result.output)}
    assert {"SMART-BASIC", "NET-SAFETY", "PC-SENIOR", "ENGLISH-CONV"} <= codes
    shown = json.loads(manabi("facilities", "courses", "show", "PC-SENIOR", "--json").output)
    assert (shown["capacity"], shown["seats_taken"], shown["waitlisted"]) == (3, 3, 2)
    assert all(s["booking_id"] for s in shown["sessions"])


def test_sessions_token_and_verify(manabi):
    session = running_session(manabi)
    assert session["lecturer_login"] == "facility02"
    participant = session["participant_logins"][0]
    result = manabi("facilities", "courses", "meetings", "token", "--session", str(session["id"]),
                    "--user", participant, "--json")
    assert result.exit_code == 0, result.output
    link = json.loads(result.output)
    assert link["url"].endswith("?jwt=" + link["token"]) and not link["moderator"]

    checked = manabi("facilities", "courses", "meetings", "verify", link["url"], "--room", link["room"], "--json")
    assert checked.exit_code == 0, checked.output
    assert json.loads(checked.output)["valid"] is True


def test_no_token_for_someone_without_a_seat(manabi):
    session = running_session(manabi)
    result = manabi("facilities", "courses", "meetings", "token", "--session", str(session["id"]),
                    "--user", "resident20")
    assert result.exit_code == 1
    assert "受講が確定した方と講師だけ" in result.output


@pytest.mark.parametrize("change,reason", [
    (lambda c: c.update(exp=str(c["exp"])), "exp_not_number"),
    (lambda c: c.pop("aud"), "missing_aud"),
    (lambda c: c.update(room="*"), "wildcard_room"),
    (lambda c: c.update(exp=c["nbf"] + 1), "expired"),
    (lambda c: c.update(nbf=c["exp"] - 1), "not_yet_valid"),
])
def test_verify_names_the_classic_failures(manabi, change, reason):
    session = running_session(manabi)
    token = json.loads(manabi("facilities", "courses", "meetings", "token", "--session", str(session["id"]),
                              "--user", "facility02", "--json").output)["token"]
    claims = jwt.decode(token, options={"verify_signature": False})
    change(claims)
    forged = jwt.encode(claims, meetings.DEMO_SECRET, algorithm="HS256", headers={"typ": "JWT"})
    result = manabi("facilities", "courses", "meetings", "verify", forged, "--json")
    assert result.exit_code == 1
    assert json.loads(result.output)["reason"] == reason


def test_verify_names_a_wrong_room_and_a_wrong_key(manabi):
    session = running_session(manabi)
    token = json.loads(manabi("facilities", "courses", "meetings", "token", "--session", str(session["id"]),
                              "--user", "facility02", "--json").output)["token"]
    other_room = meetings.new_room_name("course")
    result = manabi("facilities", "courses", "meetings", "verify", token, "--room", other_room)
    assert result.exit_code == 1 and "別の会議室" in result.output
    claims = jwt.decode(token, options={"verify_signature": False})
    wrong_key = jwt.encode(claims, "x" * 40, algorithm="HS256", headers={"typ": "JWT"})
    result = manabi("facilities", "courses", "meetings", "verify", wrong_key, "--json")
    assert json.loads(result.output)["reason"] == "bad_signature"


def test_create_a_course_and_add_an_online_session(manabi):
    created = manabi("facilities", "courses", "create", "--code", "CLI-1", "--title-ja", "テスト講座",
                     "--title-en", "Test course", "--lecturer", "facility02", "--capacity", "5",
                     "--opens", "2026-11-01T09:00", "--closes", "2029-12-01T17:00", "--json")
    assert created.exit_code == 0, created.output
    session = manabi("facilities", "courses", "add-session", "CLI-1", "--online", "--start", "2029-01-10T10:00",
                     "--end", "2029-01-10T12:00", "--json")
    assert session.exit_code == 0, session.output
    assert json.loads(session.output)["online"] is True
    shown = json.loads(manabi("facilities", "courses", "show", "CLI-1", "--json").output)
    assert [s["online"] for s in shown["sessions"]] == [True]
    missing = manabi("facilities", "courses", "add-session", "CLI-1")
    assert missing.exit_code == 1


def test_public_key_file_for_a_self_hosted_key_server(manabi, monkeypatch, tmp_path):
    import hashlib

    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    assert manabi("facilities", "courses", "meetings", "public-key").exit_code == 1  # HS256 demo: none
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    (tmp_path / "jitsi.pem").write_bytes(key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))
    monkeypatch.setenv("MANABI_JITSI_ALG", "RS256")
    monkeypatch.setenv("MANABI_JITSI_PRIVATE_KEY", str(tmp_path / "jitsi.pem"))
    monkeypatch.setenv("MANABI_JITSI_KID", "manabi-2026")
    result = manabi("facilities", "courses", "meetings", "public-key", "--out", str(tmp_path))
    assert result.exit_code == 0, result.output
    name = hashlib.sha256(b"manabi-2026").hexdigest() + ".pem"
    assert result.output.splitlines()[0] == name
    served = serialization.load_pem_public_key((tmp_path / name).read_bytes())
    assert served.public_numbers() == key.public_key().public_numbers()

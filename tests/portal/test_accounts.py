"""Accounts: argon2id hashing, lockout after 5 failures for 15 minutes, sessions that
end after 30 idle minutes, roles, and the e-mail mapping used by school sign-in."""

from __future__ import annotations

from datetime import timedelta

import pytest

from kernel.actor import SYSTEM, Role
from kernel.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from portal.services import accounts
from portal.services.schools import add_schools

PASSWORD = "correct horse battery"


@pytest.fixture
def school_id(store):
    return store.write(lambda cur: add_schools(cur, [("E01", "飯塚小学校", "Iizuka ES", "elementary", 300)]))["E01"]


@pytest.fixture
def teacher(store, clock, school_id):
    accounts.create_user(store, clock, login="hanako", display_name="山田 花子", roles=["teacher"],
                         password=PASSWORD, school_id=school_id, email="Hanako@School.example.jp")
    return "hanako"


def test_passwords_are_stored_as_argon2id_hashes(store, teacher):
    stored = store.scalar("SELECT password_hash FROM portal_users WHERE login = 'hanako'")
    assert stored.startswith("$argon2id$")
    assert PASSWORD not in stored


def test_the_right_password_signs_in_with_roles_and_school(store, clock, teacher, school_id):
    actor = accounts.authenticate(store, clock, "Hanako", PASSWORD)
    assert actor.login == "hanako"
    assert actor.roles == frozenset({Role.TEACHER})
    assert actor.school_id == school_id
    assert actor.email == "hanako@school.example.jp"


def test_unknown_login_and_wrong_password_get_the_same_answer(store, clock, teacher):
    with pytest.raises(accounts.BadCredentials) as wrong:
        accounts.authenticate(store, clock, "hanako", "nope nope nope")
    with pytest.raises(accounts.BadCredentials) as unknown:
        accounts.authenticate(store, clock, "nobody", "nope nope nope")
    assert wrong.value.key == unknown.value.key == "accounts.bad_credentials"


def test_five_failures_lock_the_account_for_fifteen_minutes(store, clock, teacher):
    for _ in range(4):
        with pytest.raises(accounts.BadCredentials):
            accounts.authenticate(store, clock, "hanako", "wrong password!")
    with pytest.raises(accounts.AccountLocked):
        accounts.authenticate(store, clock, "hanako", "wrong password!")
    # Locked: even the right password is refused, until 15 minutes have passed.
    clock.advance(timedelta(minutes=14, seconds=59))
    with pytest.raises(accounts.AccountLocked) as locked:
        accounts.authenticate(store, clock, "hanako", PASSWORD)
    assert locked.value.params["until"] > clock.now()
    clock.advance(timedelta(seconds=2))
    assert accounts.authenticate(store, clock, "hanako", PASSWORD).login == "hanako"


def test_a_success_resets_the_failure_count(store, clock, teacher):
    for _ in range(4):
        with pytest.raises(accounts.BadCredentials):
            accounts.authenticate(store, clock, "hanako", "wrong password!")
    accounts.authenticate(store, clock, "hanako", PASSWORD)
    for _ in range(4):
        with pytest.raises(accounts.BadCredentials):
            accounts.authenticate(store, clock, "hanako", "wrong password!")
    assert accounts.authenticate(store, clock, "hanako", PASSWORD)


def test_every_attempt_is_logged(store, clock, teacher):
    with pytest.raises(accounts.BadCredentials):
        accounts.authenticate(store, clock, "hanako", "wrong password!")
    accounts.authenticate(store, clock, "hanako", PASSWORD)
    outcomes = [o for (o,) in store.query("SELECT outcome FROM portal_sign_in_log ORDER BY attempted_at, outcome")]
    assert sorted(outcomes) == ["bad_password", "ok"]


def test_a_repeated_basic_pair_skips_argon2_but_never_outlives_a_change(store, clock, teacher):
    """Reading apps send the password with every request: a pair that passed a moment ago
    passes again without a new check or log line; a new password, a lock, a wrong password
    and the passing of REPEAT_FOR each end that at once."""
    def logged() -> int:
        return store.scalar("SELECT count(*) FROM portal_sign_in_log")

    accounts.authenticate(store, clock, "hanako", PASSWORD, repeated=True)
    before = logged()
    for _ in range(3):
        assert accounts.authenticate(store, clock, "hanako", PASSWORD, repeated=True).login == "hanako"
    assert logged() == before  # no argon2 check, no write
    with pytest.raises(accounts.BadCredentials):  # a wrong password is checked and counted as ever
        accounts.authenticate(store, clock, "hanako", "wrong password!", repeated=True)
    assert logged() == before + 1
    clock.advance(accounts.REPEAT_FOR + timedelta(seconds=1))
    accounts.authenticate(store, clock, "hanako", PASSWORD, repeated=True)
    assert logged() == before + 2  # remembered no longer: checked again
    accounts.set_password(store, clock, SYSTEM, "hanako", "a brand new password")
    with pytest.raises(accounts.BadCredentials):
        accounts.authenticate(store, clock, "hanako", PASSWORD, repeated=True)
    accounts.authenticate(store, clock, "hanako", "a brand new password", repeated=True)
    for _ in range(5):
        with pytest.raises((accounts.BadCredentials, accounts.AccountLocked)):
            accounts.authenticate(store, clock, "hanako", "wrong password!", repeated=True)
    with pytest.raises(accounts.AccountLocked):  # a lock ends the remembered pair too
        accounts.authenticate(store, clock, "hanako", "a brand new password", repeated=True)


def test_sessions_end_after_thirty_idle_minutes(store, clock, teacher):
    actor = accounts.authenticate(store, clock, "hanako", PASSWORD)
    token = accounts.start_session(store, clock, actor.user_id)
    clock.advance(timedelta(minutes=29))
    assert accounts.resume_session(store, clock, token).login == "hanako"  # use keeps it alive
    clock.advance(timedelta(minutes=29))
    assert accounts.resume_session(store, clock, token).login == "hanako"
    clock.advance(timedelta(minutes=31))
    with pytest.raises(accounts.SessionExpired):
        accounts.resume_session(store, clock, token)
    assert store.scalar("SELECT end_reason FROM portal_sessions") == "idle"


def test_sign_out_ends_the_session_and_only_a_hash_is_kept(store, clock, teacher):
    actor = accounts.authenticate(store, clock, "hanako", PASSWORD)
    token = accounts.start_session(store, clock, actor.user_id)
    assert store.scalar("SELECT count(*) FROM portal_sessions WHERE token_hash = ?", [token]) == 0
    accounts.end_session(store, clock, token)
    with pytest.raises(accounts.SessionExpired):
        accounts.resume_session(store, clock, token)


def test_an_admin_password_reset_ends_open_sessions(store, clock, teacher):
    actor = accounts.authenticate(store, clock, "hanako", PASSWORD)
    token = accounts.start_session(store, clock, actor.user_id)
    accounts.set_password(store, clock, SYSTEM, "hanako", "a brand new password")
    with pytest.raises(accounts.SessionExpired):
        accounts.resume_session(store, clock, token)
    assert accounts.authenticate(store, clock, "hanako", "a brand new password")


def test_password_rules(store, clock):
    with pytest.raises(InvalidInput) as short:
        accounts.create_user(store, clock, login="taro", display_name="太郎", roles=["resident"], password="short")
    assert short.value.key == "accounts.password_too_short"
    with pytest.raises(InvalidInput):
        accounts.create_user(store, clock, login="taro-yamada", display_name="太郎", roles=["resident"],
                             password="taro-yamada")


def test_teachers_need_a_school_and_roles_must_exist(store, clock):
    with pytest.raises(InvalidInput) as no_school:
        accounts.create_user(store, clock, login="sensei", display_name="先生", roles=["teacher"], password=PASSWORD)
    assert no_school.value.key == "accounts.school_required"
    with pytest.raises(InvalidInput) as bad_role:
        accounts.create_user(store, clock, login="sensei", display_name="先生", roles=["wizard"], password=PASSWORD)
    assert bad_role.value.key == "accounts.unknown_role"


def test_logins_are_unique(store, clock, teacher):
    with pytest.raises(Conflict):
        accounts.create_user(store, clock, login="HANAKO", display_name="別人", roles=["resident"], password=PASSWORD)


def test_a_user_may_hold_several_roles_and_only_admins_change_them(store, clock, teacher):
    resident = accounts.create_user(store, clock, login="taro", display_name="太郎", roles=["resident"],
                                    password=PASSWORD)
    assert accounts.set_roles(store, SYSTEM, "taro", ["resident", "librarian"]) == ("librarian", "resident")
    assert accounts.actor_for(store, resident).roles == {Role.RESIDENT, Role.LIBRARIAN}
    someone = accounts.actor_for(store, resident)
    with pytest.raises(PermissionDenied):
        accounts.set_roles(store, someone, "hanako", ["city_admin"])


def test_school_sign_in_maps_the_email_to_the_local_user(store, clock, teacher):
    assert accounts.actor_for_email(store, clock, "HANAKO@school.example.jp").login == "hanako"
    with pytest.raises(NotFound):
        accounts.actor_for_email(store, clock, "stranger@school.example.jp")


def test_an_oidc_only_account_cannot_sign_in_with_a_password(store, clock, school_id):
    accounts.create_user(store, clock, login="jiro", display_name="次郎", roles=["teacher"],
                         email="jiro@school.example.jp", school_id=school_id)
    with pytest.raises(accounts.BadCredentials):
        accounts.authenticate(store, clock, "jiro", "")


def test_a_demo_session_is_made_only_for_a_demo_account(store, clock, teacher, school_id):
    """What the live benchmark signs in with (portal.demo_session): never a real account."""
    accounts.create_user(store, clock, login="demo-teacher", display_name="デモ 先生", roles=["teacher"],
                         password=PASSWORD, school_id=school_id, is_demo=True)
    token = accounts.demo_session(store, clock, "demo-teacher")
    assert accounts.resume_session(store, clock, token).login == "demo-teacher"
    assert accounts.demo_session(store, clock, "hanako") is None  # a real account
    assert accounts.demo_session(store, clock, "nobody") is None
    assert store.scalar("SELECT count(*) FROM portal_sessions") == 1

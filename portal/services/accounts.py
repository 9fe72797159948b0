"""Local accounts: passwords (argon2id), roles, lockout, sessions, sign-in by e-mail.

Rules: 5 failed attempts in a row lock an account for 15 minutes (even the right
password is refused meanwhile); a session ends after 30 idle minutes; unknown
logins and wrong passwords get the same answer, so logins cannot be probed.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
import threading
from collections import OrderedDict
from dataclasses import dataclass
from datetime import datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from kernel.actor import Actor, Role
from kernel.clock import Clock
from kernel.errors import Conflict, InvalidInput, ManabiError, NotFound
from kernel.store import Store

LOCKOUT_ATTEMPTS = 5
LOCKOUT_DURATION = timedelta(minutes=15)
SESSION_IDLE = timedelta(minutes=30)
# Streamlit reruns the page on every click; recording each would be a write per click.
SESSION_TOUCH_EVERY = timedelta(seconds=60)
MIN_PASSWORD_LENGTH = 10
_LOGIN = re.compile(r"^[a-z0-9][a-z0-9._-]{2,63}$")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")

# argon2-cffi's PasswordHasher defaults to argon2id with RFC 9106's low-memory profile.
_hasher = PasswordHasher()


class BadCredentials(ManabiError):
    key = "accounts.bad_credentials"


class AccountLocked(ManabiError):
    key = "accounts.locked"


class SessionExpired(ManabiError):
    key = "accounts.session_expired"


class EmailNotConfirmed(ManabiError):
    """The right password of a self-registered account whose address is not confirmed yet."""

    key = "accounts.email_not_confirmed"


@dataclass(frozen=True)
class UserRow:
    id: int
    login: str
    display_name: str
    email: str | None
    school_id: int | None
    roles: tuple[str, ...]
    disabled: bool
    locked_until: datetime | None
    is_demo: bool
    has_password: bool


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def check_password_rules(password: str, login: str) -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise InvalidInput("accounts.password_too_short", min=MIN_PASSWORD_LENGTH)
    if password.lower() == login.lower():
        raise InvalidInput("accounts.password_is_login")


def _roles(values) -> tuple[str, ...]:
    roles = []
    for value in values:
        try:
            roles.append(Role(value).value)
        except ValueError:
            raise InvalidInput("accounts.unknown_role", role=value, roles=", ".join(Role)) from None
    return tuple(sorted(set(roles)))


def create_user(
    store: Store,
    clock: Clock,
    *,
    login: str,
    display_name: str,
    roles,
    password: str | None = None,
    password_hash: str | None = None,
    email: str | None = None,
    school_id: int | None = None,
    is_demo: bool = False,
) -> int:
    """Add an account. A teacher or school_admin must belong to a school."""
    login = login.strip().lower()
    if not _LOGIN.match(login):
        raise InvalidInput("accounts.bad_login", login=login)
    if not display_name.strip():
        raise InvalidInput("accounts.name_required")
    if email is not None:
        email = email.strip().lower() or None
        if email and not _EMAIL.match(email):
            raise InvalidInput("accounts.bad_email", email=email)
    role_list = _roles(roles)
    if not role_list:
        raise InvalidInput("accounts.role_required")
    if {"teacher", "school_admin"} & set(role_list) and school_id is None:
        raise InvalidInput("accounts.school_required")
    if password is not None:
        check_password_rules(password, login)
        password_hash = hash_password(password)
    if password_hash is None and email is None:
        raise InvalidInput("accounts.password_or_email")

    def insert(cur) -> int:
        if cur.execute("SELECT 1 FROM portal_users WHERE login = ?", [login]).fetchone():
            raise Conflict("accounts.login_taken", login=login)
        if email and cur.execute("SELECT 1 FROM portal_users WHERE email = ?", [email]).fetchone():
            raise Conflict("accounts.email_taken", email=email)
        if school_id is not None and not cur.execute("SELECT 1 FROM portal_schools WHERE id = ?", [school_id]).fetchone():
            raise NotFound("accounts.no_such_school", school=school_id)
        now = clock.now()
        (user_id,) = cur.execute(
            """INSERT INTO portal_users (login, display_name, email, password_hash, school_id,
                                         is_demo, created_at, password_changed_at)
               VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING id""",
            [login, display_name.strip(), email, password_hash, school_id, is_demo, now, now if password_hash else None],
        ).fetchone()
        cur.executemany("INSERT INTO portal_user_roles VALUES (?, ?)", [[user_id, r] for r in role_list])
        return user_id

    return store.write(insert)


def actor_for(store: Store, user_id: int) -> Actor:
    row = store.query(
        "SELECT id, login, display_name, school_id, email FROM portal_users WHERE id = ?", [user_id]
    )
    if not row:
        raise NotFound("accounts.no_such_user", user=user_id)
    uid, login, name, school_id, email = row[0]
    roles = frozenset(Role(r) for (r,) in store.query("SELECT role FROM portal_user_roles WHERE user_id = ?", [uid]))
    return Actor(user_id=uid, login=login, display_name=name, roles=roles, school_id=school_id, email=email)


def _log(cur, clock: Clock, login: str, user_id: int | None, outcome: str, method: str = "password") -> None:
    cur.execute(
        "INSERT INTO portal_sign_in_log VALUES (?, ?, ?, ?, ?)", [clock.now(), login, user_id, outcome, method]
    )


def _verifies(stored_hash: str | None, password: str) -> bool:
    if not stored_hash:
        return False
    try:
        return _hasher.verify(stored_hash, password)
    except (VerificationError, InvalidHashError):
        return False


# Clients that send the password with every request (a reading app's HTTP Basic): a pair that
# passed argon2 is remembered for a while as a keyed digest beside the account's stored hash,
# so a repeat costs one read, not argon2 and a log write. A changed password (a new hash), a
# lock or a disabled account ends it at once: they are read on every request.
REPEAT_FOR = timedelta(minutes=15)
_REPEAT_KEY = secrets.token_bytes(32)  # this process's own; the digests never leave it
_REPEAT_MAX = 10_000
_repeats: OrderedDict[tuple[str, int, str], tuple[bytes, datetime]] = OrderedDict()
_repeats_lock = threading.Lock()


def _password_digest(password: str) -> bytes:
    return hmac.digest(_REPEAT_KEY, password.encode("utf-8"), "sha256")


def _repeat_of(store: Store, clock: Clock, login: str, password: str) -> Actor | None:
    rows = store.query("SELECT id, password_hash, locked_until, disabled FROM portal_users WHERE login = ? OR email = ?",
                       [login, login])
    if len(rows) != 1:
        return None
    user_id, stored_hash, locked_until, disabled = rows[0]
    now = clock.now()
    if disabled or stored_hash is None or (locked_until is not None and locked_until > now):
        return None
    with _repeats_lock:
        remembered = _repeats.get((str(store.path), user_id, stored_hash))
    if remembered is None or remembered[1] <= now or not hmac.compare_digest(remembered[0], _password_digest(password)):
        return None
    return actor_for(store, user_id)


def _remember(store: Store, clock: Clock, actor: Actor, password: str) -> None:
    (stored_hash,) = store.query("SELECT password_hash FROM portal_users WHERE id = ?", [actor.user_id])[0]
    with _repeats_lock:
        _repeats[(str(store.path), actor.user_id, stored_hash)] = (_password_digest(password), clock.now() + REPEAT_FOR)
        while len(_repeats) > _REPEAT_MAX:
            _repeats.popitem(last=False)


def authenticate(store: Store, clock: Clock, login: str, password: str, *, repeated: bool = False) -> Actor:
    """Check a login (or the account's e-mail address) and password; count failures and
    lock after too many. `repeated` (HTTP Basic clients): a pair that passed a moment ago
    passes again without argon2 (see REPEAT_FOR)."""
    login = login.strip().lower()
    if repeated and (actor := _repeat_of(store, clock, login, password)) is not None:
        return actor
    # A login never holds "@", so a login and an address cannot name two accounts.
    found = store.query("SELECT id FROM portal_users WHERE login = ? OR email = ?", [login, login])
    if not found:
        # Hash anyway so an unknown login takes as long as a wrong password.
        _hasher.hash(password)
        store.write(lambda cur: _log(cur, clock, login, None, "unknown_login"))
        raise BadCredentials()
    # One attempt per account at a time: reading the lock, checking the password and
    # recording the outcome are one step, so parallel guesses cannot pass the lockout
    # (at most LOCKOUT_ATTEMPTS passwords are ever checked before the lock).
    with store.lock(f"sign_in:{found[0][0]}"):
        actor = _authenticate_account(store, clock, login, found[0][0], password)
    if repeated:
        _remember(store, clock, actor, password)
    return actor


def _authenticate_account(store: Store, clock: Clock, login: str, user_id: int, password: str) -> Actor:
    now = clock.now()
    row = store.query(
        "SELECT password_hash, locked_until, disabled FROM portal_users WHERE id = ?", [user_id]
    )
    if not row:  # removed while this attempt waited its turn
        raise BadCredentials()
    stored_hash, locked_until, disabled = row[0]
    if disabled:
        # Verified anyway (same time as an enabled account); only the right password learns
        # that the address still waits for its confirmation.
        right = _verifies(stored_hash, password)
        store.write(lambda cur: _log(cur, clock, login, user_id, "disabled"))
        if right and store.query(
            "SELECT 1 FROM portal_registrations WHERE user_id = ? AND email_confirmed_at IS NULL", [user_id]
        ):
            raise EmailNotConfirmed()
        raise BadCredentials()
    if locked_until is not None and locked_until > now:
        store.write(lambda cur: _log(cur, clock, login, user_id, "locked"))
        raise AccountLocked(until=locked_until)
    if not _verifies(stored_hash, password):
        def record_failure(cur) -> int:
            (attempts,) = cur.execute(
                """UPDATE portal_users
                   SET failed_attempts = CASE WHEN locked_until IS NOT NULL AND locked_until <= ?
                                              THEN 1 ELSE failed_attempts + 1 END,
                       locked_until = CASE WHEN locked_until IS NOT NULL AND locked_until <= ?
                                           THEN NULL ELSE locked_until END
                   WHERE id = ? RETURNING failed_attempts""",
                [now, now, user_id],
            ).fetchone()
            if attempts >= LOCKOUT_ATTEMPTS:
                cur.execute("UPDATE portal_users SET locked_until = ? WHERE id = ?", [now + LOCKOUT_DURATION, user_id])
            _log(cur, clock, login, user_id, "bad_password")
            return attempts

        attempts = store.write(record_failure)
        if attempts >= LOCKOUT_ATTEMPTS:
            raise AccountLocked(until=now + LOCKOUT_DURATION)
        raise BadCredentials()

    def record_success(cur) -> None:
        new_hash = _hasher.hash(password) if _hasher.check_needs_rehash(stored_hash) else stored_hash
        cur.execute(
            "UPDATE portal_users SET failed_attempts = 0, locked_until = NULL, password_hash = ? WHERE id = ?",
            [new_hash, user_id],
        )
        _log(cur, clock, login, user_id, "ok")

    store.write(record_success)
    return actor_for(store, user_id)


def actor_for_email(store: Store, clock: Clock, email: str) -> Actor:
    """Sign-in through the school's identity provider: map the e-mail to a local user."""
    email = (email or "").strip().lower()
    row = store.query("SELECT id, disabled FROM portal_users WHERE email = ?", [email])
    if not row or row[0][1]:
        store.write(lambda cur: _log(cur, clock, email or "?", None, "oidc_unknown", "oidc"))
        raise NotFound("accounts.oidc_unknown_email", email=email)
    store.write(lambda cur: _log(cur, clock, email, row[0][0], "oidc_ok", "oidc"))
    return actor_for(store, row[0][0])


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def start_session(store: Store, clock: Clock, user_id: int) -> str:
    """A new session; returns the token (only its hash is stored)."""
    token = secrets.token_urlsafe(32)
    now = clock.now()
    store.write(
        lambda cur: cur.execute(
            "INSERT INTO portal_sessions (token_hash, user_id, started_at, last_seen_at) VALUES (?, ?, ?, ?)",
            [_token_hash(token), user_id, now, now],
        )
    )
    return token


def demo_session(store: Store, clock: Clock, login: str) -> str | None:
    """A session of the demo account `login` (a demo database's, is_demo) as if it had signed in,
    for benchmarks that open signed-in pages; None when there is no such demo account."""
    found = store.query("SELECT id FROM portal_users WHERE login = ? AND is_demo AND NOT disabled", [login])
    return start_session(store, clock, found[0][0]) if found else None


def resume_session(store: Store, clock: Clock, token: str) -> Actor:
    """The session's actor, if it is still open and was used in the last 30 minutes."""
    now = clock.now()
    digest = _token_hash(token)
    row = store.query(
        "SELECT user_id, last_seen_at, ended_at FROM portal_sessions WHERE token_hash = ?", [digest]
    )
    if not row or row[0][2] is not None:
        raise SessionExpired()
    user_id, last_seen, _ = row[0]
    if now - last_seen > SESSION_IDLE:
        end_session(store, clock, token, reason="idle")
        raise SessionExpired()
    actor = actor_for(store, user_id)
    if now - last_seen > SESSION_TOUCH_EVERY:
        store.write(
            lambda cur: cur.execute(
                "UPDATE portal_sessions SET last_seen_at = ? WHERE token_hash = ? AND ended_at IS NULL", [now, digest]
            )
        )
    return actor


def end_session(store: Store, clock: Clock, token: str, reason: str = "sign_out") -> None:
    store.write(
        lambda cur: cur.execute(
            "UPDATE portal_sessions SET ended_at = ?, end_reason = ? WHERE token_hash = ? AND ended_at IS NULL",
            [clock.now(), reason, _token_hash(token)],
        )
    )


def _user_id(cur, login: str) -> int:
    row = cur.execute("SELECT id FROM portal_users WHERE login = ?", [login.strip().lower()]).fetchone()
    if not row:
        raise NotFound("accounts.no_such_login", login=login)
    return row[0]


def set_roles(store: Store, by: Actor, login: str, roles) -> tuple[str, ...]:
    """Replace a user's roles (city administrators only)."""
    by.require(Role.CITY_ADMIN)
    role_list = _roles(roles)
    if not role_list:
        raise InvalidInput("accounts.role_required")

    def replace(cur) -> tuple[str, ...]:
        user_id = _user_id(cur, login)
        (school_id,) = cur.execute("SELECT school_id FROM portal_users WHERE id = ?", [user_id]).fetchone()
        if {"teacher", "school_admin"} & set(role_list) and school_id is None:
            raise InvalidInput("accounts.school_required")
        if user_id == by.user_id and "city_admin" not in role_list:
            raise InvalidInput("accounts.cannot_drop_own_admin")
        cur.execute("DELETE FROM portal_user_roles WHERE user_id = ?", [user_id])
        cur.executemany("INSERT INTO portal_user_roles VALUES (?, ?)", [[user_id, r] for r in role_list])
        return role_list

    return store.write(replace)


def set_password(store: Store, clock: Clock, by: Actor, login: str, new_password: str) -> None:
    """An administrator sets a password; every open session of that user ends."""
    by.require(Role.CITY_ADMIN)
    check_password_rules(new_password, login)
    _store_password(store, clock, login, new_password)


def change_own_password(store: Store, clock: Clock, actor: Actor, current: str, new_password: str) -> None:
    actor.require()
    authenticate(store, clock, actor.login, current)
    check_password_rules(new_password, actor.login)
    _store_password(store, clock, actor.login, new_password, keep_sessions=True)


def _store_password(store: Store, clock: Clock, login: str, new_password: str, keep_sessions: bool = False) -> None:
    digest = hash_password(new_password)
    now = clock.now()

    def update(cur) -> None:
        user_id = _user_id(cur, login)
        cur.execute(
            """UPDATE portal_users SET password_hash = ?, password_changed_at = ?, failed_attempts = 0,
               locked_until = NULL WHERE id = ?""",
            [digest, now, user_id],
        )
        if not keep_sessions:
            cur.execute(
                """UPDATE portal_sessions SET ended_at = ?, end_reason = 'password_changed'
                   WHERE user_id = ? AND ended_at IS NULL""",
                [now, user_id],
            )

    store.write(update)


def unlock(store: Store, by: Actor, login: str) -> None:
    by.require(Role.CITY_ADMIN)
    store.write(
        lambda cur: cur.execute(
            "UPDATE portal_users SET failed_attempts = 0, locked_until = NULL WHERE id = ?", [_user_id(cur, login)]
        )
    )


def list_users(store: Store, by: Actor, *, role: str | None = None, search: str | None = None) -> list[UserRow]:
    by.require(Role.CITY_ADMIN)
    rows = store.query(
        """SELECT u.id, u.login, u.display_name, u.email, u.school_id,
                  coalesce(list_sort(list(r.role) FILTER (WHERE r.role IS NOT NULL)), []) AS roles,
                  u.disabled, u.locked_until, u.is_demo, u.password_hash IS NOT NULL
           FROM portal_users u LEFT JOIN portal_user_roles r ON r.user_id = u.id
           WHERE (? IS NULL OR u.id IN (SELECT user_id FROM portal_user_roles WHERE role = ?))
             AND (? IS NULL OR u.login ILIKE '%' || ? || '%' OR u.display_name ILIKE '%' || ? || '%')
           GROUP BY ALL ORDER BY u.login""",
        [role, role, search, search, search],
    )
    return [UserRow(r[0], r[1], r[2], r[3], r[4], tuple(r[5]), r[6], r[7], r[8], r[9]) for r in rows]


def count_users(store: Store) -> int:
    return int(store.scalar("SELECT count(*) FROM portal_users") or 0)


def users_relation(cur):
    """The accounts as a lazy DuckDB relation, nothing secret in it (offered as "portal.users")."""
    return cur.sql("SELECT id, login, display_name, email, school_id, disabled FROM portal_users")


def user_roles_relation(cur):
    """Each account's roles, one row a role (offered as "portal.user_roles")."""
    return cur.sql("SELECT user_id, role FROM portal_user_roles")

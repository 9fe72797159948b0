"""Who is calling the OPDS routes: HTTP Basic credentials checked against the portal's
accounts (argon2id hashes in portal_users), read-only.

The portal's own sign-in (portal/services/accounts.py) cannot be imported from a module,
and its lockout counter lives in portal_users; so this check refuses locked and disabled
accounts as they stand, and throttles failed attempts per login in this process
(5 failures → 15 minutes refused), the same rule the sign-in form applies.
"""

from __future__ import annotations

import threading
from datetime import datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from kernel.actor import Actor, Role
from kernel.clock import Clock
from kernel.errors import ManabiError
from kernel.store import Store

FAILURES_ALLOWED = 5
THROTTLE = timedelta(minutes=15)
_hasher = PasswordHasher()
_failures: dict[str, list[datetime]] = {}
_lock = threading.Lock()


class BadCredentials(ManabiError):
    key = "opds.bad_credentials"


def _throttled(login: str, now: datetime) -> bool:
    with _lock:
        recent = [at for at in _failures.get(login, []) if now - at < THROTTLE]
        _failures[login] = recent
        return len(recent) >= FAILURES_ALLOWED


def _failed(login: str, now: datetime) -> None:
    with _lock:
        _failures.setdefault(login, []).append(now)


def authenticate_basic(store: Store, clock: Clock, login: str, password: str) -> Actor:
    now = clock.now()
    login = login.strip().lower()
    if _throttled(login, now):
        raise BadCredentials()
    row = store.cursor().execute(
        """SELECT id, login, display_name, password_hash, school_id, email, disabled, locked_until
           FROM portal_users WHERE login = ?""",
        [login],
    ).fetchone()
    ok = False
    if row is not None and row[3] and not row[6] and not (row[7] and row[7] > now):
        try:
            ok = _hasher.verify(row[3], password)
        except (VerificationError, InvalidHashError):
            ok = False
    if not ok:
        _failed(login, now)
        raise BadCredentials()
    roles = frozenset(Role(r) for (r,) in store.query("SELECT role FROM portal_user_roles WHERE user_id = ?",
                                                      [row[0]]))
    return Actor(user_id=row[0], login=row[1], display_name=row[2], roles=roles, school_id=row[4], email=row[5])

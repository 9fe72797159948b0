"""Who is calling the OPDS routes: HTTP Basic credentials, checked by the portal's own
sign-in through kernel.auth, so a reading app meets the same rules as the sign-in page
(argon2id, 5 failures lock the account for 15 minutes, every attempt logged). A reading app
sends the password with every request: the same pair, checked a moment ago, is taken again
without argon2 or a log line (kernel.auth's `repeated`).
"""

from __future__ import annotations

from kernel import auth
from kernel.actor import Actor
from kernel.clock import Clock
from kernel.errors import ManabiError
from kernel.store import Store


class BadCredentials(ManabiError):
    key = "opds.bad_credentials"


def authenticate_basic(store: Store, clock: Clock, login: str, password: str) -> Actor:
    try:
        return auth.authenticate(store, clock, login, password, repeated=True)
    except ManabiError as exc:  # wrong password, unknown login, locked: the reader just asks again
        raise BadCredentials() from exc

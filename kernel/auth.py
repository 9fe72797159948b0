"""Checking a login and password where a module meets machine clients (an OPDS reading
app sends HTTP Basic credentials), without the module importing the portal.

The portal owns accounts; on start it registers its sign-in check here
(portal/runtime.py), so every password check in Manabi is the same one: argon2id,
the lockout after 5 failures, the sign-in log.
"""

from __future__ import annotations

from collections.abc import Callable

from kernel.actor import Actor
from kernel.clock import Clock
from kernel.store import Store

Authenticator = Callable[..., Actor]  # (store, clock, login, password, *, repeated: bool)
_authenticator: Authenticator | None = None


def register(authenticator: Authenticator) -> None:
    global _authenticator
    _authenticator = authenticator


def authenticate(store: Store, clock: Clock, login: str, password: str, *, repeated: bool = False) -> Actor:
    """The actor for a login and password; raises the registered check's ManabiError
    (wrong password, account locked) otherwise. `repeated`: a client that sends the same
    credentials with every request (HTTP Basic); a pair checked a moment ago is taken again
    without another argon2 check or sign-in log line."""
    if _authenticator is None:
        raise RuntimeError("no authenticator registered: open the portal's runtime first")
    return _authenticator(store, clock, login, password, repeated=repeated)

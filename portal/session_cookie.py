"""Keeping a visitor signed in across page reloads.

A Streamlit session ends when the browser reloads, so after sign-in the page asks
the browser (with a tiny same-origin image request) for `/auth/remember?code=…`;
that route swaps the one-time code for an HttpOnly cookie holding the session
token. A new Streamlit session reads the cookie (st.context.cookies) and resumes
the server-side session, which still ends after 30 idle minutes or on sign-out.
Codes live in this process only, are used once and expire within a minute.

The cookie is `Secure` when the visitor came over https: the request's own scheme, which
uvicorn takes from a trusted reverse proxy's X-Forwarded-Proto (FORWARDED_ALLOW_IPS, by
default the proxy on this machine), or MANABI_BASE_URL starting with https://.
"""

from __future__ import annotations

import secrets
import threading
import time

from kernel.actor import Actor
from kernel.config import setting
from kernel.errors import ManabiError

COOKIE = "manabi_session"
CODE_LIFETIME_S = 60

_codes: dict[str, tuple[str, float]] = {}
_lock = threading.Lock()


def actor_of_request(store, clock, cookies) -> Actor | None:
    """The signed-in person a request's session cookie stands for (None: nobody, or a
    session ended or idle): for routes a signed-in person follows from a page (one-click join)."""
    token = cookies.get(COOKIE)
    if not token:
        return None
    from portal.services import accounts

    try:
        return accounts.resume_session(store, clock, token)
    except ManabiError:
        return None


def code_for(token: str) -> str:
    code = secrets.token_urlsafe(24)
    with _lock:
        now = time.monotonic()
        for stale in [c for c, (_, at) in _codes.items() if now - at > CODE_LIFETIME_S]:
            del _codes[stale]
        _codes[code] = (token, now)
    return code


def redeem(code: str) -> str | None:
    """The session token for a one-time code, or None if unknown or expired."""
    with _lock:
        entry = _codes.pop(code, None)
    if entry is None or time.monotonic() - entry[1] > CODE_LIFETIME_S:
        return None
    return entry[0]


def secure(scheme: str) -> bool:
    """Whether the session cookie must be Secure for a request that arrived by `scheme`."""
    return scheme == "https" or (setting("base_url") or "").lower().startswith("https://")

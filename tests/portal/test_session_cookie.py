"""The session cookie is Secure whenever the visitor came over https (behind a TLS proxy too)."""

from __future__ import annotations

import httpx
import pytest
from starlette.applications import Starlette

from portal import session_cookie
from portal.routes import routes
from tests.conftest import run_async


def _set_cookie(origin: str) -> str:
    code = session_cookie.code_for("a-session-token")

    async def ask() -> httpx.Response:
        transport = httpx.ASGITransport(app=Starlette(routes=routes()))
        async with httpx.AsyncClient(transport=transport, base_url=origin) as client:
            return await client.get("/auth/remember", params={"code": code})

    answer = run_async(ask())
    assert answer.status_code == 200
    return answer.headers["set-cookie"]


@pytest.mark.parametrize(("origin", "configured", "secure"), [
    ("http://localhost:8501", None, False),
    ("https://manabi.example.jp", None, True),  # the scheme uvicorn took from the proxy
    ("http://127.0.0.1:8501", "https://manabi.city.iizuka.example.jp", True),  # MANABI_BASE_URL
    ("http://127.0.0.1:8501", "http://intranet.example", False),
])
def test_secure_when_the_visitor_came_over_https(monkeypatch, origin, configured, secure):
    if configured:
        monkeypatch.setenv("MANABI_BASE_URL", configured)
    else:
        monkeypatch.delenv("MANABI_BASE_URL", raising=False)
    cookie = _set_cookie(origin)
    assert cookie.startswith(f"{session_cookie.COOKIE}=a-session-token")
    assert "httponly" in cookie.lower()
    assert ("secure" in cookie.lower().split("; ")) is secure

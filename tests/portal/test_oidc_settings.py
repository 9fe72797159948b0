"""School sign-in (OIDC): configured only from MANABI_OIDC_* settings, mapped onto
st.login's [auth] secrets; nothing offered when unset."""

from __future__ import annotations

import pytest

from kernel.config import load_settings


def test_no_provider_without_settings(monkeypatch):
    for name in ("CLIENT_ID", "CLIENT_SECRET", "METADATA_URL"):
        monkeypatch.delenv(f"MANABI_OIDC_MICROSOFT_{name}", raising=False)
        monkeypatch.delenv(f"MANABI_OIDC_GOOGLE_{name}", raising=False)
    assert load_settings().oidc == ()


def test_microsoft_entra_settings_become_streamlit_auth_secrets(monkeypatch):
    monkeypatch.setenv("MANABI_OIDC_MICROSOFT_CLIENT_ID", "client-123")
    monkeypatch.setenv("MANABI_OIDC_MICROSOFT_CLIENT_SECRET", "s3cret")
    monkeypatch.setenv("MANABI_OIDC_MICROSOFT_METADATA_URL",
                       "https://login.microsoftonline.com/tenant/v2.0/.well-known/openid-configuration")
    monkeypatch.setenv("MANABI_COOKIE_SECRET", "cookie-secret")
    monkeypatch.setenv("MANABI_REDIRECT_URI", "https://manabi.example.jp/oauth2callback")
    from portal.auth import auth_secrets

    secrets = auth_secrets(load_settings())
    assert secrets == {"auth": {
        "redirect_uri": "https://manabi.example.jp/oauth2callback",
        "cookie_secret": "cookie-secret",
        "microsoft": {
            "client_id": "client-123",
            "client_secret": "s3cret",
            "server_metadata_url": "https://login.microsoftonline.com/tenant/v2.0/.well-known/openid-configuration",
        },
    }}


def test_a_provider_without_cookie_secret_stops_the_server(monkeypatch):
    monkeypatch.setenv("MANABI_OIDC_GOOGLE_CLIENT_ID", "id")
    monkeypatch.setenv("MANABI_OIDC_GOOGLE_CLIENT_SECRET", "secret")
    monkeypatch.setenv("MANABI_OIDC_GOOGLE_METADATA_URL", "https://accounts.google.com/.well-known/openid-configuration")
    monkeypatch.delenv("MANABI_COOKIE_SECRET", raising=False)
    from portal.auth import auth_secrets

    with pytest.raises(SystemExit):
        auth_secrets(load_settings())

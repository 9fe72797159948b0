"""Sign-in through the school's identity provider (Microsoft Entra ID, Google
Workspace): st.login is configured from MANABI_OIDC_* settings at server start."""

from __future__ import annotations

from kernel.config import Settings


def auth_secrets(settings: Settings) -> dict | None:
    """st.login's [auth] secrets, built from MANABI_OIDC_* settings (never from a file
    in the repo). None when no identity provider is configured."""
    if not settings.oidc:
        return None
    if not settings.cookie_secret or not settings.redirect_uri:
        raise SystemExit("MANABI_COOKIE_SECRET and MANABI_REDIRECT_URI are needed with MANABI_OIDC_* settings.")
    auth: dict = {"redirect_uri": settings.redirect_uri, "cookie_secret": settings.cookie_secret}
    for provider in settings.oidc:
        auth[provider.name] = {
            "client_id": provider.client_id,
            "client_secret": provider.client_secret,
            "server_metadata_url": provider.server_metadata_url,
        }
    return {"auth": auth}


# Open (and migrate) the database before the first request, so a bad database
# stops the server at start with a clear message instead of failing later.

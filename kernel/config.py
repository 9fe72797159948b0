"""Settings from the environment (and an optional `manabi.toml`), read once.

Secrets (OIDC client secrets, Jitsi keys) come from here, never from the repo.
"""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

DEFAULT_DB = Path("var") / "manabi.duckdb"


def _config_file() -> dict:
    path = Path(os.environ.get("MANABI_CONFIG", "manabi.toml"))
    if path.is_file():
        with path.open("rb") as handle:
            return tomllib.load(handle)
    return {}


def setting(name: str, default: str | None = None) -> str | None:
    """MANABI_<NAME> from the environment, else `name` in manabi.toml, else default."""
    env = os.environ.get(f"MANABI_{name.upper()}")
    if env is not None:
        return env
    value = _config_file().get(name.lower())
    return default if value is None else str(value)


@dataclass(frozen=True)
class OidcProvider:
    name: str  # e.g. "microsoft" or "google"
    client_id: str
    client_secret: str
    server_metadata_url: str


@dataclass(frozen=True)
class Settings:
    db_path: Path
    session_idle_minutes: int = 30
    lockout_attempts: int = 5
    lockout_minutes: int = 15
    cookie_secret: str | None = None
    redirect_uri: str | None = None
    oidc: tuple[OidcProvider, ...] = field(default_factory=tuple)


def load_settings(db_path: str | Path | None = None) -> Settings:
    providers = []
    # One provider per prefix: MANABI_OIDC_MICROSOFT_CLIENT_ID, ..._GOOGLE_...
    for name in ("microsoft", "google"):
        client_id = setting(f"oidc_{name}_client_id")
        secret = setting(f"oidc_{name}_client_secret")
        metadata = setting(f"oidc_{name}_metadata_url")
        if client_id and secret and metadata:
            providers.append(OidcProvider(name, client_id, secret, metadata))
    return Settings(
        db_path=Path(db_path or setting("db") or DEFAULT_DB),
        session_idle_minutes=int(setting("session_idle_minutes", "30") or 30),
        cookie_secret=setting("cookie_secret"),
        redirect_uri=setting("redirect_uri"),
        oidc=tuple(providers),
    )

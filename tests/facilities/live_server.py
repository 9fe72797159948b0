"""Start the real server (`manabi serve`) on a copy of the demo city with extra settings
(the payment secret), for route and browser tests of facility booking."""

from __future__ import annotations

from contextlib import contextmanager
from pathlib import Path

from tests.conftest import running_server

PAYMENT_SECRET = "e2e-payment-secret"


@contextmanager
def serve(db: Path, log_dir: Path, **env: str):
    with running_server(db, log_dir / "server.log", MANABI_PAYMENT_SECRET=PAYMENT_SECRET, **env) as base:
        yield base

"""Start the real server (`manabi serve`) on a copy of the demo city with extra settings
(the payment secret), for route and browser tests of facility booking."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path

import httpx

from tests.conftest import ROOT, free_port

PAYMENT_SECRET = "e2e-payment-secret"


@contextmanager
def serve(db: Path, log_dir: Path, **env: str):
    port = free_port()
    log = (log_dir / "server.log").open("w")
    process = subprocess.Popen(
        [sys.executable, "-m", "portal.cli_main", "--db", str(db), "serve", "--port", str(port), "--host", "127.0.0.1"],
        cwd=ROOT, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
        env={**os.environ, "MANABI_PAYMENT_SECRET": PAYMENT_SECRET, **env},
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{base}/healthz", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if process.poll() is not None:
                raise RuntimeError(f"server exited: {Path(log.name).read_text()}")
            time.sleep(0.3)
        else:
            raise RuntimeError("server did not answer /healthz within 60 s")
        yield base
    finally:
        os.killpg(process.pid, 15)
        process.wait(timeout=20)
        log.close()

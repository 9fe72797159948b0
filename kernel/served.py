"""The real server and Debian's Chromium for a module's benchmark (`<module>/bench.py`), as a
person meets them: `manabi` commands run as processes, `manabi serve` on a free port of
127.0.0.1 in a process group of its own, and a headless Chromium driven by Playwright
(launched as the browser tests launch it, see tests/conftest.py). Everything started here
is stopped when its block ends: the server's whole process group, the browser and
Playwright's driver.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run", "--disable-quic"]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def manabi(db: Path, *args: str, stdin: str | None = None, timeout: float = 300) -> str:
    """Run `manabi --db DB ARGS…` as a person would; its standard output (raises when it fails)."""
    done = subprocess.run([sys.executable, "-m", "portal.cli_main", "--db", str(db), *args], cwd=ROOT,
                          input=stdin, capture_output=True, text=True, timeout=timeout)
    if done.returncode != 0:
        raise RuntimeError(f"manabi {' '.join(args[:3])} failed: {(done.stderr or done.stdout)[-2000:]}")
    return done.stdout


@contextlib.contextmanager
def serving(db: Path, log: Path, env: dict[str, str] | None = None, start_within: float = 120) -> Iterator[str]:
    """`manabi serve` on `db` in its own process group; yields its base URL once /healthz
    answers, and ends the whole group (SIGTERM, then SIGKILL) when the block ends."""
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    with log.open("a") as out:
        process = subprocess.Popen([sys.executable, "-m", "portal.cli_main", "--db", str(db), "serve", "--port",
                                    str(port), "--host", "127.0.0.1"], cwd=ROOT, stdout=out,
                                   stderr=subprocess.STDOUT, start_new_session=True,
                                   env={**os.environ, **(env or {})})
    try:
        deadline = time.monotonic() + start_within
        while True:
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(f"{base}/healthz", timeout=2).status_code == 200:
                    break
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"manabi serve did not start: {log.read_text()[-2000:]}")
            time.sleep(0.3)
        yield base
    finally:
        end_group(process)


def end_group(process: subprocess.Popen, grace: float = 15) -> None:
    """SIGTERM to the process group `process` leads, SIGKILL to what is left after `grace` s."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGTERM)
    with contextlib.suppress(subprocess.TimeoutExpired):
        process.wait(timeout=grace)
    deadline = time.monotonic() + grace
    while time.monotonic() < deadline:
        try:
            os.killpg(process.pid, 0)
        except ProcessLookupError:
            return
        time.sleep(0.1)
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)
    process.wait(timeout=grace)


def chromium_missing() -> str | None:
    """Why a browser benchmark cannot run here (None when it can)."""
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "Playwright is not installed"
    if not (Path(CHROMIUM).exists() or shutil.which("chromium")):
        return "Debian's Chromium is not installed"
    return None


@contextlib.contextmanager
def chromium() -> Iterator[object]:
    """A headless Chromium (Playwright's sync Browser), closed with Playwright's driver when
    the block ends. Check `chromium_missing()` first."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as driver:
        browser = driver.chromium.launch(executable_path=CHROMIUM if Path(CHROMIUM).exists() else shutil.which("chromium"),
                                         args=CHROMIUM_ARGS, headless=True)
        try:
            yield browser
        finally:
            browser.close()

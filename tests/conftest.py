"""Fixtures shared by every module's tests.

- `store`: a fresh in-memory DuckDB with every module's migrations applied.
- `clock`: a FixedClock at 2026-11-27 10:00 in Tokyo; move it with `clock.advance(...)`.
- `demo_db`: a database file with the small demo city (made once per test run);
  `fresh_demo_db` gives each test its own copy to write to.
- `app_for`: an AppTest of the real portal on a demo database, signed in as a login.
- `server`: the real `manabi serve` on a free port over a copy of the demo database.
Browser tests launch Debian's Chromium (see `browser_type_launch_args`).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import httpx
import pytest

from kernel.clock import TOKYO, FixedClock
from kernel.migrations import migrate
from kernel.served import free_port  # noqa: F401 - the tests import it from here
from kernel.store import Store
from portal.demo import DEMO_PASSWORD
from portal.modules import known_migrations

ROOT = Path(__file__).resolve().parent.parent
ARTIFACTS = ROOT / "var" / "test-artifacts"
os.environ.setdefault("MANABI_STRICT_I18N", "1")
# Tests pass on any day: the demo city, the servers and the CLI the tests start all read
# this pinned time, never the real clock. CI runs the suite at other pins too
# (MANABI_TEST_NOW, see .ci/run); every test date is made relative to it.
TEST_NOW = os.environ.get("MANABI_TEST_NOW", "2026-11-27T10:00:00+09:00")
os.environ["MANABI_NOW"] = TEST_NOW


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(datetime.fromisoformat(TEST_NOW).astimezone(TOKYO))


@pytest.fixture
def store(clock) -> Store:
    fresh = Store(":memory:")
    migrate(fresh, clock, known_migrations())
    yield fresh
    fresh.close()


@pytest.fixture(scope="session")
def demo_db(tmp_path_factory) -> Path:
    """A small demo city, built once by the real CLI; treat it as read-only."""
    path = tmp_path_factory.mktemp("demo") / "demo.duckdb"
    manabi = [sys.executable, "-m", "portal.cli_main", "--db", str(path)]
    subprocess.run([*manabi, "demo", "--scale", "small"], check=True, cwd=ROOT)
    return path


@pytest.fixture
def fresh_demo_db(demo_db, tmp_path) -> Path:
    copy = tmp_path / "demo.duckdb"
    shutil.copy(demo_db, copy)
    return copy


@pytest.fixture
def app_for(fresh_demo_db, monkeypatch):
    """`app_for(login=None, page=None, lang="ja")`: a run AppTest of the portal. Page
    paths are relative to the entry script web/app.py, e.g. "../library_ebooks/pages/x.py"."""
    from streamlit.testing.v1 import AppTest

    from portal.runtime import forget_runtimes

    monkeypatch.setenv("MANABI_DB", str(fresh_demo_db))
    forget_runtimes()

    def make(login: str | None = None, page: str | None = None, lang: str = "ja") -> AppTest:
        at = AppTest.from_file(str(ROOT / "web" / "app.py"), default_timeout=60)
        at.session_state["lang"] = lang
        at.run()
        if login:
            # Sign in through the sign-in form, as a person would.
            at.switch_page("../portal/pages/sign_in.py")
            at.run()
            at.text_input(key="signin_login").input(login)
            at.text_input(key="signin_password").input(DEMO_PASSWORD)
            at.button[0].click()
            at.run()
            assert not at.error, f"sign-in as {login} failed: {[e.value for e in at.error]}"
        if page:
            at.switch_page(page)
            at.run()
        return at

    yield make
    forget_runtimes()


def run_async(coroutine):
    """asyncio.run() in a thread of its own: after the browser tests, sync Playwright keeps an
    event loop running in the main thread for the rest of the session, where it is refused."""
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, coroutine).result()


def start_server(db: Path, log: Path, *, port: int | None = None, **env: str) -> tuple[subprocess.Popen, str]:
    """`manabi serve` on `db` in its own process group; returns it and its base URL once
    /healthz answers."""
    port = port or free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "portal.cli_main", "--db", str(db), "serve", "--port", str(port),
         "--host", "127.0.0.1"],
        cwd=ROOT, stdout=log.open("a"), stderr=subprocess.STDOUT, start_new_session=True,
        env={**os.environ, **env},
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{base}/healthz", timeout=2).status_code == 200:
                return process, base
        except httpx.HTTPError:
            pass
        if process.poll() is not None:
            raise RuntimeError(f"server exited: {log.read_text()[-3000:]}")
        time.sleep(0.3)
    stop_server(process, signal.SIGKILL)
    raise RuntimeError("server did not answer /healthz within 60 s")


def stop_server(process: subprocess.Popen, sig: int = signal.SIGTERM) -> None:
    """Signal the server's whole process group and wait until none of it is left (`manabi serve`
    execs the server, so the group is one process, but a stop is checked as a supervisor sees it)."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, sig)
    process.wait(timeout=30)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            os.killpg(process.pid, 0)
        except ProcessLookupError:
            return
        time.sleep(0.1)
    raise RuntimeError("the server's processes did not end")


@contextlib.contextmanager
def running_server(db: Path, log: Path, **env: str) -> Iterator[str]:
    process, base = start_server(db, log, **env)
    try:
        yield base
    finally:
        stop_server(process)


@pytest.fixture(scope="session")
def server(demo_db, tmp_path_factory):
    """The real server (`manabi serve`) on a free port over a copy of the demo city."""
    db = tmp_path_factory.mktemp("server") / "server.duckdb"
    shutil.copy(demo_db, db)
    with running_server(db, tmp_path_factory.mktemp("server-log") / "server.log") as base:
        yield base


def sign_in(page, server: str, login: str, password: str = DEMO_PASSWORD):
    """Sign in through the sign-in page in the browser, as a person would; returns the sidebar."""
    from playwright.sync_api import expect

    page.goto(f"{server}/sign-in")
    page.get_by_label("ログインID").fill(login)
    page.get_by_label("パスワード", exact=True).fill(password)
    page.get_by_role("button", name="サインイン").click()
    sidebar = page.get_by_test_id("stSidebar")
    expect(sidebar.get_by_text("さんでサインイン中")).to_be_visible(timeout=30_000)
    return sidebar


@pytest.fixture(scope="session")
def browser_type_launch_args():
    return {
        "executable_path": "/usr/bin/chromium",
        "args": ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic"],
    }


@pytest.fixture(scope="session")
def artifacts() -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    return ARTIFACTS

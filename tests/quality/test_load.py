"""Load run (issue 9): 50 concurrent sessions doing mixed work against the real
server for 60 s (MANABI_LOAD_SECONDS to change), with no error. Median and
95th-percentile page run times are printed and kept in var/test-artifacts/load.json;
nothing here asserts a timing."""

from __future__ import annotations

import asyncio
import json
import os
import random
import statistics
import threading
import time

import httpx
import pytest

from kernel.page_client import StreamlitSession
from portal.modules import all_modules
from tests.conftest import sign_in

SESSIONS = 50
SECONDS = float(os.environ.get("MANABI_LOAD_SECONDS", "60"))
# Who the 50 sessions are: anonymous visitors and signed-in users of every kind.
MIX = {None: 20, "resident01": 12, "teacher01": 6, "librarian01": 3, "facility01": 3,
       "curator01": 2, "schooladmin01": 2, "admin": 2}
ROLES = {"resident01": {"resident"}, "teacher01": {"teacher"}, "librarian01": {"librarian"},
         "facility01": {"facility_staff"}, "curator01": {"curator"},
         "schooladmin01": {"school_admin", "teacher"}, "admin": {"city_admin"}}
THINK_SECONDS = (1.0, 4.0)
PAGES = [p for spec in all_modules() for p in spec.pages]


def _pages_for(login: str | None) -> list[str]:
    roles = frozenset(ROLES.get(login, set()))
    return ["" if p.default else p.url_path for p in PAGES if p.allows(roles, login is not None)]


def _percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(share * (len(ordered) - 1))))]


@pytest.fixture(scope="module")
def session_cookies(server, browser):
    """Each demo login signed in once through the real sign-in page; its cookie reused."""
    cookies = {}
    for login in (name for name in MIX if name):
        context = browser.new_context()
        page = context.new_page()
        sign_in(page, server, login)
        for _ in range(50):
            found = {c["name"]: c["value"] for c in context.cookies()}
            if "manabi_session" in found:
                cookies[login] = found["manabi_session"]
                break
            page.wait_for_timeout(100)
        context.close()
        assert login in cookies, f"no session cookie for {login}"
    return cookies


async def _visitor(base: str, cookie: str | None, pages: list[str], rng: random.Random, until: float, runs, errors):
    try:
        async with StreamlitSession(base, cookie) as session:
            while time.monotonic() < until:
                page = rng.choice(pages)
                run = await session.run_page(page, timeout=120)
                runs.append(run)
                if run.exception:
                    errors.append(f"{page or 'home'}: {run.exception}")
                await asyncio.sleep(rng.uniform(*THINK_SECONDS))  # a person reads before clicking on
                if rng.random() < 0.2:  # a machine client's request now and then
                    async with httpx.AsyncClient(timeout=30) as client:
                        answer = await client.get(f"{base}/healthz")
                        if answer.status_code != 200:
                            errors.append(f"/healthz: {answer.status_code}")
    except Exception as exc:  # a dropped socket or a timeout is an error of the run
        errors.append(f"session failed: {exc!r}")


def test_fifty_sessions_of_mixed_work(server, session_cookies, artifacts, capsys):
    rng = random.Random(2026)
    runs, errors = [], []
    until = time.monotonic() + SECONDS

    async def main():
        visitors = []
        for login, count in MIX.items():
            for _ in range(count):
                visitors.append(_visitor(server, session_cookies.get(login), _pages_for(login),
                                         random.Random(rng.random()), until, runs, errors))
        await asyncio.gather(*visitors)

    # Playwright's sync API holds an event loop in this thread: run ours in another.
    runner = threading.Thread(target=asyncio.run, args=(main(),))
    runner.start()
    runner.join()
    assert len(runs) >= SESSIONS
    times = [r.seconds for r in runs]
    by_page: dict[str, list[float]] = {}
    for run in runs:
        by_page.setdefault(run.page or "home", []).append(run.seconds)
    report = {
        "sessions": sum(MIX.values()), "seconds": SECONDS, "page_runs": len(runs), "errors": len(errors),
        "median_s": round(statistics.median(times), 3), "p95_s": round(_percentile(times, 0.95), 3),
        "pages": {page: {"runs": len(v), "median_s": round(statistics.median(v), 3),
                         "p95_s": round(_percentile(v, 0.95), 3)} for page, v in sorted(by_page.items())},
    }
    (artifacts / "load.json").write_text(json.dumps(report, indent=2), encoding="utf-8")
    with capsys.disabled():
        print(f"\nload run: {report['sessions']} sessions, {SECONDS:.0f} s, {len(runs)} page runs, "
              f"median {report['median_s']} s, p95 {report['p95_s']} s, errors {len(errors)}")
        for page, figures in report["pages"].items():
            print(f"  {page:<28} runs {figures['runs']:>5}  median {figures['median_s']:>6} s  "
                  f"p95 {figures['p95_s']:>6} s")
    assert errors == []

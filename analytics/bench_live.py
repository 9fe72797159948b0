"""The live xAPI path at classroom load, for `manabi bench` (analytics/bench.py).

The server is started as a user starts it (`manabi serve` on a copy of the bench's demo city, a
free port on 127.0.0.1), and Debian's `wrk` drives it from its own process: WRK_CONNECTIONS
apps, each POSTing one statement per request with an id of its own. Beside it runs a naive
endpoint (naive_app below: Starlette under uvicorn, the JSON parsed, one DuckDB transaction
per request) on the same machine in the same bench; the two take the load in turns, ROUNDS
pairs of ROUND_SECONDS each, so that the ratio compares loads that met the same machine.
Every process the bench starts is stopped (its whole process group) before it returns.

Then, during a load of WRK_SECONDS, a signed-in teacher opens the class dashboard again and again
(its script run, from the request to the end of the run, over Streamlit's own websocket
protocol: kernel/page_client.py), and Streamlit's health route is asked every PROBE_EVERY
seconds, the floor of what a person waits for: their p50 and p95 are printed with the load's.

`python -m analytics.bench_live naive DB PORT` runs the naive endpoint (the bench does).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx

from analytics.services import lrs
from kernel import offers
from kernel.actor import SYSTEM
from kernel.clock import Clock
from kernel.page_client import StreamlitSession
from kernel.provided import provided
from kernel.served import end_group, free_port
from kernel.store import Store

WRK_CONNECTIONS = 64
WRK_THREADS = 2
WRK_SECONDS = 10  # the load while a teacher opens a page
ROUNDS = 4  # paired loads, live and naive, for the ratio
ROUND_SECONDS = 5
WARM_UP_SECONDS = 2
PAGE = "learning"  # the class dashboard (analytics/pages/class_dashboard.py)
PAGE_LOGIN = "teacher01"  # a demo teacher with classes
PAGE_PAUSE = 0.3  # seconds between the teacher's page runs
PROBE_EVERY = 0.1  # seconds between health requests
IDLE_RUNS = 5  # the page's runs before the load, its floor
ROOT = Path(__file__).resolve().parent.parent

# One statement per request, a fresh id each: the run's prefix (wrk's argument after --, new for
# every run of wrk), wrk's thread, a counter.
_WRK_SCRIPT = """
local counter = 0
local thread_number = 0
local threads = 0
local prefix = "00000000-0000"
function setup(thread)
  thread:set("thread_number", threads)
  threads = threads + 1
end
function init(args)
  thread_number = tonumber(wrk.thread:get("thread_number")) or 0
  prefix = args[1] or prefix
end
local body_before = %(before)s
local body_after = %(after)s
function request()
  counter = counter + 1
  local id = string.format("%%s-4%%03x-8%%03x-%%012x", prefix, thread_number, thread_number, counter)
  return wrk.format("POST", "/xapi/statements", {
    ["Content-Type"] = "application/json",
    ["X-Experience-API-Version"] = "1.0.3",
    ["Authorization"] = "Basic %(basic)s",
  }, body_before .. id .. body_after)
end
function done(summary, latency, requests)
  io.write(string.format('WRK_RESULT {"requests": %%d, "seconds": %%f, "status_errors": %%d, ' ..
    '"socket_errors": %%d, "p50_ms": %%f, "p95_ms": %%f, "p99_ms": %%f}\\n',
    summary.requests, summary.duration / 1e6, summary.errors.status,
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout,
    latency:percentile(50) / 1000, latency:percentile(95) / 1000, latency:percentile(99) / 1000))
end
"""


def _lua_string(text: str) -> str:
    return json.dumps(text)  # a JSON string of ASCII is a valid Lua string literal


def wrk_script(api_key: str, secret: str, timestamp: str) -> str:
    """wrk's Lua script: a drill app's statement, a new id per request."""
    import base64

    marker = "ID-HERE"
    statement = {
        "id": marker,
        "actor": {"objectType": "Agent", "account": {"homePage": "https://manabi.city.iizuka.lg.jp",
                                                     "name": "bench-live"}},
        "verb": {"id": "http://adlnet.gov/expapi/verbs/completed", "display": {"en": "completed"}},
        "object": {"id": "https://manabi.city.iizuka.lg.jp/xapi/activities/units/8101001110000000/drill",
                   "definition": {"name": {"en": "Unit drill"}}},
        "result": {"score": {"scaled": 0.75}, "success": True, "completion": True, "duration": "PT4M"},
        "context": {"platform": "Manabi Drill"},
        "timestamp": timestamp,
    }
    before, after = json.dumps(statement, ensure_ascii=True).split(marker)
    return _WRK_SCRIPT % {"before": _lua_string(before), "after": _lua_string(after),
                          "basic": base64.b64encode(f"{api_key}:{secret}".encode()).decode()}


def run_wrk(base: str, script: Path, seconds: int = WRK_SECONDS, connections: int = WRK_CONNECTIONS) -> dict:
    """wrk's figures for the load (its own process, bounded in time)."""
    prefix = uuid.uuid4().hex  # the first two groups of every id this run sends
    done = subprocess.run(["wrk", f"-t{WRK_THREADS}", f"-c{connections}", f"-d{seconds}s", "--timeout", "10s",
                           "-s", str(script), f"{base}/xapi/statements", "--", f"{prefix[:8]}-{prefix[8:12]}"],
                          capture_output=True, text=True, timeout=seconds + 60, check=True)
    line = next(x for x in done.stdout.splitlines() if x.startswith("WRK_RESULT "))
    result = json.loads(line.removeprefix("WRK_RESULT "))
    result["ok_per_s"] = (result["requests"] - result["status_errors"]) / result["seconds"]
    return result


def group_cpu_seconds(group: int) -> float:
    """CPU time (user and system) of the live processes of a process group, from /proc: the
    figure that the machine's other work does not change as much as it changes rates."""
    total = 0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        with contextlib.suppress(OSError, ValueError, IndexError):
            fields = stat.read_text().rsplit(")", 1)[1].split()
            if int(fields[2]) == group:  # the fields after the name: state, ppid, pgrp, …
                total += int(fields[11]) + int(fields[12])  # utime, stime
    return total / os.sysconf("SC_CLK_TCK")


@contextlib.contextmanager
def started(command: list[str], base: str, log: Path, ready_path: str, env: dict | None = None) -> Iterator[int]:
    """A process group started from `command`, once `base + ready_path` answers; ended (all of
    it) when the block ends."""
    process = subprocess.Popen(command, cwd=ROOT, stdout=log.open("a"), stderr=subprocess.STDOUT,
                               start_new_session=True, env={**os.environ, **(env or {})})
    try:
        deadline = time.monotonic() + 90
        while True:
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(base + ready_path, timeout=2).status_code < 500:
                    break
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"{command[:4]} did not start: {log.read_text()[-2000:]}")
            time.sleep(0.3)
        yield process.pid  # its process group
    finally:
        end_group(process)


def _warmed(base: str, script: Path) -> int:
    """A short load first: a fresh process's first requests pay for imports and first reads.
    The statements it had answered."""
    warm_up = run_wrk(base, script, WARM_UP_SECONDS)
    return warm_up["requests"] - warm_up["status_errors"]


def _measured(group: int, base: str, script: Path, seconds: int) -> dict:
    """wrk's figures, and the server's CPU time per request answered meanwhile."""
    before = group_cpu_seconds(group)
    result = run_wrk(base, script, seconds)
    result["cpu_ms"] = (group_cpu_seconds(group) - before) * 1000 / max(result["requests"], 1)
    return result


def _paired_rounds(live: tuple[int, str], naive: tuple[int, str], script: Path, seconds: int) -> list[tuple[dict, dict]]:
    """ROUNDS pairs of loads, one on each server (group, base), the order turned each round
    (live first, then naive first, …): the machine's speed drifts over a bench, and a pair run
    back to back meets nearly the same machine, so their ratio is steadier than that of two
    loads far apart."""
    pairs = []
    for number in range(ROUNDS):
        if number % 2 == 0:
            first = _measured(*live, script, seconds)
            pairs.append((first, _measured(*naive, script, seconds)))
        else:
            first = _measured(*naive, script, seconds)
            pairs.append((_measured(*live, script, seconds), first))
    return pairs


def _pooled(results: list[dict]) -> dict:
    """The rounds of one server as one load: rates and CPU over all its requests, the median
    p50 and the highest p95 of its rounds."""
    requests = sum(r["requests"] for r in results)
    return {"requests": requests, "status_errors": sum(r["status_errors"] for r in results),
            "ok_per_s": sum(r["requests"] - r["status_errors"] for r in results) / sum(r["seconds"] for r in results),
            "cpu_ms": sum(r["cpu_ms"] * r["requests"] for r in results) / max(requests, 1),
            "p50_ms": percentile([r["p50_ms"] for r in results], 0.5),
            "p95_ms": max(r["p95_ms"] for r in results),
            "p95_each": ", ".join(f"{r['p95_ms']:.0f}" for r in results)}


class PageVisitor:
    """A signed-in person and a health probe, in a thread of their own while the load runs:
    the script run of `page` over and over (PAGE_PAUSE apart), and Streamlit's health route
    every PROBE_EVERY seconds. Their durations in seconds: page_runs, health; errors: what
    failed."""

    def __init__(self, base: str, cookie: str, page: str = PAGE) -> None:
        self.base, self.cookie, self.page = base, cookie, page
        self.page_runs: list[float] = []
        self.idle_runs: list[float] = []
        self.health: list[float] = []
        self.errors: list[str] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=lambda: asyncio.run(self._visit()), name="bench-visitor")

    def warm_up(self) -> None:
        """Runs before the load: the first pays for the page's imports, the others (idle_runs)
        are the page's floor."""
        async def alone() -> None:
            async with StreamlitSession(self.base, self.cookie) as session:
                for _ in range(1 + IDLE_RUNS):
                    run = await session.run_page(self.page, timeout=120)
                    if run.exception:
                        self.errors.append(run.exception)
                    self.idle_runs.append(run.seconds)
            del self.idle_runs[0]
        asyncio.run(alone())

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=180)

    async def _visit(self) -> None:
        await asyncio.gather(self._pages(), self._probe())

    async def _pages(self) -> None:
        try:
            async with StreamlitSession(self.base, self.cookie) as session:
                while not self._stop.is_set():
                    run = await session.run_page(self.page, timeout=120)
                    if run.exception:
                        self.errors.append(run.exception)
                    self.page_runs.append(run.seconds)
                    await asyncio.sleep(PAGE_PAUSE)
        except Exception as exc:  # noqa: BLE001 - reported with the figures, not raised in the bench
            self.errors.append(repr(exc))

    async def _probe(self) -> None:
        async with httpx.AsyncClient(base_url=self.base, timeout=30) as client:
            while not self._stop.is_set():
                started = time.perf_counter()
                try:
                    answer = await client.get("/_stcore/health")
                    if answer.status_code == 200:
                        self.health.append(time.perf_counter() - started)
                    else:
                        self.errors.append(f"health {answer.status_code}")
                except httpx.HTTPError as exc:
                    self.errors.append(repr(exc))
                await asyncio.sleep(PROBE_EVERY)


def percentile(values: list[float], share: float) -> float:
    """The value `share` of the way up the sorted values (nearest rank)."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))] if ordered else float("nan")


def _visited(base: str, script: Path, seconds: int, visitor: PageVisitor) -> dict:
    """wrk's figures of a second load, while the visitor comes (a run of its own, so that the
    pages' work does not count in the first one's CPU per request)."""
    visitor.warm_up()
    visitor.start()
    try:
        return run_wrk(base, script, seconds)
    finally:
        visitor.stop()


def _visitor_figures(visitor: PageVisitor | None, load: dict | None) -> list[dict]:
    if visitor is None or load is None:
        return [{"name": f"page script run during the load: skipped (no demo login {PAGE_LOGIN})",
                 "figure": 0, "unit": "—", "goal": "—"}]
    failed = f", {len(visitor.errors)} failed: {visitor.errors[0][:80]}" if visitor.errors else ""
    runs = f"{len(visitor.page_runs)} runs{failed}"
    return [{"name": f"a signed-in teacher's class dashboard script run with no load, p50 ({IDLE_RUNS} runs)",
             "figure": round(percentile(visitor.idle_runs, 0.5) * 1000), "unit": "ms", "goal": "—"},
            {"name": "second load, with a signed-in teacher and a health probe: stored statements/s",
             "figure": round(load["ok_per_s"]), "unit": "statements/s", "goal": "—"},
            {"name": f"during the load: a signed-in teacher's class dashboard script run, p50 ({runs})",
             "figure": round(percentile(visitor.page_runs, 0.5) * 1000), "unit": "ms", "goal": "—"},
            {"name": "during the load: a signed-in teacher's class dashboard script run, p95",
             "figure": round(percentile(visitor.page_runs, 0.95) * 1000), "unit": "ms", "goal": "< 1000"},
            {"name": f"during the load: Streamlit's health route, p50 ({len(visitor.health)} requests)",
             "figure": round(percentile(visitor.health, 0.5) * 1000, 1), "unit": "ms", "goal": "—"},
            {"name": "during the load: Streamlit's health route, p95",
             "figure": round(percentile(visitor.health, 0.95) * 1000, 1), "unit": "ms", "goal": "—"}]


def _load_figures(label: str, result: dict, goal_rate: str, goal_p95: str) -> list[dict]:
    return [{"name": f"{label}: server CPU per request (all its processes; less noisy than the rates on a "
                     "shared machine)", "figure": round(result["cpu_ms"], 2), "unit": "ms", "goal": "—"},
            {"name": f"{label}: stored statements/s ({WRK_CONNECTIONS} apps, one statement per POST, "
                     f"{ROUNDS} rounds, {result['requests']:,} requests, {result['status_errors']} not 2xx)",
             "figure": round(result["ok_per_s"]), "unit": "statements/s", "goal": goal_rate},
            {"name": f"{label}: p50 latency (median of the rounds)", "figure": round(result["p50_ms"], 1),
             "unit": "ms", "goal": "—"},
            {"name": f"{label}: p95 latency (the highest of the rounds: {result['p95_each']})",
             "figure": round(result["p95_ms"], 1),
             "unit": "ms", "goal": goal_p95}]


def _ratio_figures(pairs: list[tuple[dict, dict]]) -> list[dict]:
    ratios = [live["ok_per_s"] / max(naive["ok_per_s"], 1e-9) for live, naive in pairs]
    each = ", ".join(f"{live['ok_per_s']:,.0f}/{naive['ok_per_s']:,.0f}" for live, naive in pairs)
    return [{"name": f"live xAPI against the naive endpoint (statements/s), the median of {ROUNDS} paired rounds "
                     f"(live/naive each round: {each})",
             "figure": round(percentile(ratios, 0.5), 2), "unit": "×", "goal": ">= 4"},
            {"name": "live xAPI against the naive endpoint, the lowest round", "figure": round(min(ratios), 2),
             "unit": "×", "goal": "—"}]


def run(store: Store, clock: Clock, seconds: int = ROUND_SECONDS) -> list[dict]:
    """The live path against the naive one (see the module's note)."""
    if shutil.which("wrk") is None:
        return [{"name": "live xAPI load: skipped, Debian's wrk is not installed (make .venv/.installed)",
                 "figure": 0, "unit": "—", "goal": "—"}]
    made = lrs.add_client(store, clock, SYSTEM, f"bench live {uuid.uuid4().hex[:6]}")
    demo_session = provided(offers.PORTAL_DEMO_SESSION)
    cookie = demo_session(store, clock, PAGE_LOGIN) if demo_session else None
    store.checkpoint()
    timestamp = lrs.xapi_time(clock.now())
    with tempfile.TemporaryDirectory(prefix="analytics-bench-live-") as folder:
        scratch = Path(folder)
        db = scratch / "live.duckdb"
        shutil.copy(store.path, db)
        script = scratch / "post.lua"
        script.write_text(wrk_script(made.api_key, made.secret, timestamp))
        live_base, naive_base = (f"http://127.0.0.1:{port}" for port in (free_port(), free_port()))
        serve = [sys.executable, "-m", "portal.cli_main", "--db", str(db), "serve", "--port",
                 live_base.rsplit(":", 1)[1], "--host", "127.0.0.1"]
        naive = [sys.executable, "-m", "analytics.bench_live", "naive", str(scratch / "naive.duckdb"),
                 naive_base.rsplit(":", 1)[1]]
        with started(serve, live_base, scratch / "serve.log", "/healthz") as live_group, \
                started(naive, naive_base, scratch / "naive.log", "/ready") as naive_group:
            answered_live = _warmed(live_base, script)
            _warmed(naive_base, script)
            pairs = _paired_rounds((live_group, live_base), (naive_group, naive_base), script, seconds)
            visitor = PageVisitor(live_base, cookie) if cookie else None
            visited = _visited(live_base, script, WRK_SECONDS, visitor) if visitor else None
            stored = _count_via_http(live_base, made.api_key, made.secret)
    live, baseline = _pooled([pair[0] for pair in pairs]), _pooled([pair[1] for pair in pairs])
    answered_live += answered(live) + answered(visited)
    figures = _load_figures("live xAPI, manabi serve", live, ">= 1500", "< 100") + _visitor_figures(visitor, visited)
    figures += _load_figures("naive endpoint (one DuckDB transaction per request)", baseline, "—", "—")
    figures += _ratio_figures(pairs)
    figures.append({"name": "live xAPI: statements the server holds after the loads (answered 200, warm-up "
                            f"and second load included: {answered_live:,}; those in flight when wrk stopped are "
                            "stored too)", "figure": stored, "unit": "statements", "goal": ">= answered"})
    return figures


def answered(load: dict | None) -> int:
    return load["requests"] - load["status_errors"] if load else 0


def _count_via_http(base: str, api_key: str, secret: str) -> int:
    """How many statements the bench's app has stored, read back through the server (its own, by more paging)."""
    count, url = 0, "/xapi/statements?limit=500&format=ids"
    with httpx.Client(base_url=base, auth=(api_key, secret), headers={"X-Experience-API-Version": "1.0.3"},
                      timeout=60) as client:
        while url:
            body = client.get(url).json()
            count += len(body["statements"])
            url = body["more"]
    return count


# --- the naive endpoint ------------------------------------------------------------------------


def naive_app(db: Path):
    """Starlette: the JSON parsed, one DuckDB transaction per request (id, stored, text)."""
    from starlette.applications import Starlette
    from starlette.concurrency import run_in_threadpool
    from starlette.requests import Request
    from starlette.responses import JSONResponse, Response
    from starlette.routing import Route

    naive_store = Store(db)
    naive_store.cursor().execute("CREATE TABLE IF NOT EXISTS naive_statements "
                                 "(id UUID, stored TIMESTAMPTZ, raw VARCHAR)")

    def insert(statement: dict) -> None:
        with naive_store.transaction() as cur:
            cur.execute("INSERT INTO naive_statements VALUES (?, now(), ?)", [statement["id"], json.dumps(statement)])

    async def post(request: Request) -> Response:
        statement = json.loads(await request.body())
        await run_in_threadpool(insert, statement)
        return JSONResponse([statement["id"]])

    async def ready(request: Request) -> Response:
        return Response("ok")

    return Starlette(routes=[Route("/xapi/statements", post, methods=["POST"]), Route("/ready", ready)])


def _serve_naive(db: str, port: str) -> None:
    import uvicorn

    uvicorn.run(naive_app(Path(db)), host="127.0.0.1", port=int(port), log_level="warning")


if __name__ == "__main__":
    if sys.argv[1:2] == ["naive"]:
        _serve_naive(*sys.argv[2:4])

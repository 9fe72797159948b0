"""The live xAPI path at classroom load, for `manabi bench` (analytics/bench.py).

The server is started as a user starts it (`manabi serve` on a copy of the bench's demo city, a
free port on 127.0.0.1), and Debian's `wrk` drives it from its own process: WRK_CONNECTIONS
apps, each POSTing one statement per request with an id of its own, for WRK_SECONDS. Beside
it, the same load on a naive endpoint (NaiveApp below: Starlette under uvicorn, the JSON
parsed, one DuckDB transaction per request), on the same machine in the same bench. Every
process the bench starts is stopped (its whole process group) before it returns.

`python -m analytics.bench_live naive DB PORT` runs the naive endpoint (the bench does).
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx

from analytics.services import lrs
from kernel.actor import SYSTEM
from kernel.clock import Clock
from kernel.store import Store

WRK_CONNECTIONS = 64
WRK_THREADS = 2
WRK_SECONDS = 10
WARM_UP_SECONDS = 2
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


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


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
        _end_group(process)


def _end_group(process: subprocess.Popen) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGTERM)
    with contextlib.suppress(subprocess.TimeoutExpired):
        process.wait(timeout=15)
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        try:
            os.killpg(process.pid, 0)
        except ProcessLookupError:
            return
        time.sleep(0.1)
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)
    process.wait(timeout=15)


def _measured(group: int, base: str, script: Path, seconds: int) -> dict:
    """wrk's figures, and the server's CPU time per request answered meanwhile (after a short
    warm-up: a fresh process's first requests pay for imports and first reads)."""
    warm_up = run_wrk(base, script, WARM_UP_SECONDS)
    before = group_cpu_seconds(group)
    result = run_wrk(base, script, seconds)
    result["cpu_ms"] = (group_cpu_seconds(group) - before) * 1000 / max(result["requests"], 1)
    result["answered_in_all"] = sum(r["requests"] - r["status_errors"] for r in (warm_up, result))
    return result


def _load_figures(label: str, result: dict, goal_rate: str, goal_p95: str) -> list[dict]:
    return [{"name": f"{label}: server CPU per request (all its processes; less noisy than the rates on a "
                     "shared machine)", "figure": round(result["cpu_ms"], 2), "unit": "ms", "goal": "—"},
            {"name": f"{label}: stored statements/s ({WRK_CONNECTIONS} apps, one statement per POST, "
                     f"{result['requests']:,} requests, {result['status_errors']} not 2xx)",
             "figure": round(result["ok_per_s"]), "unit": "statements/s", "goal": goal_rate},
            {"name": f"{label}: p50 latency", "figure": round(result["p50_ms"], 1), "unit": "ms", "goal": "—"},
            {"name": f"{label}: p95 latency", "figure": round(result["p95_ms"], 1), "unit": "ms", "goal": goal_p95}]


def run(store: Store, clock: Clock, seconds: int = WRK_SECONDS) -> list[dict]:
    """The live path against the naive one (see the module's note)."""
    if shutil.which("wrk") is None:
        return [{"name": "live xAPI load: skipped, Debian's wrk is not installed (make .venv/.installed)",
                 "figure": 0, "unit": "—", "goal": "—"}]
    made = lrs.add_client(store, clock, SYSTEM, f"bench live {uuid.uuid4().hex[:6]}")
    store.checkpoint()
    timestamp = lrs.xapi_time(clock.now())
    with tempfile.TemporaryDirectory(prefix="analytics-bench-live-") as folder:
        scratch = Path(folder)
        db = scratch / "live.duckdb"
        shutil.copy(store.path, db)
        script = scratch / "post.lua"
        script.write_text(wrk_script(made.api_key, made.secret, timestamp))
        port = free_port()
        base = f"http://127.0.0.1:{port}"
        serve = [sys.executable, "-m", "portal.cli_main", "--db", str(db), "serve", "--port", str(port),
                 "--host", "127.0.0.1"]
        with started(serve, base, scratch / "serve.log", "/healthz") as group:
            live = _measured(group, base, script, seconds)
            stored = _count_via_http(base, made.api_key, made.secret)
        naive_db = scratch / "naive.duckdb"
        port = free_port()
        base = f"http://127.0.0.1:{port}"
        naive = [sys.executable, "-m", "analytics.bench_live", "naive", str(naive_db), str(port)]
        with started(naive, base, scratch / "naive.log", "/ready") as group:
            baseline = _measured(group, base, script, seconds)
    figures = _load_figures("live xAPI, manabi serve", live, ">= 1500", "< 100")
    figures += _load_figures("naive endpoint (one DuckDB transaction per request)", baseline, "—", "—")
    figures.append({"name": "live xAPI against the naive endpoint (statements/s)",
                    "figure": round(live["ok_per_s"] / max(baseline["ok_per_s"], 1e-9), 2), "unit": "×",
                    "goal": ">= 4"})
    figures.append({"name": "live xAPI: statements the server holds after the load (answered 200, warm-up "
                            f"included: {live['answered_in_all']:,}; those in flight when wrk stopped are stored "
                            "too)", "figure": stored, "unit": "statements", "goal": ">= answered"})
    return figures


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

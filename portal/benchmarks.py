"""`manabi bench`: every module's benchmark on a fresh demo city, as one table.

A module offers benchmarks with `<module>/bench.py` defining
`run(store, clock) -> list[dict]`, each dict {name, figure, unit, goal}. Figures are
measured here, printed and written as JSON; tests never assert them.
"""

from __future__ import annotations

import importlib
import importlib.util
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from portal.modules import MODULE_NAMES


@dataclass(frozen=True)
class Figure:
    module: str
    name: str
    figure: float
    unit: str
    goal: str


def _bench_modules() -> list[tuple[str, object]]:
    found = []
    for name in MODULE_NAMES:
        if importlib.util.find_spec(f"{name}.bench") is not None:
            found.append((name, importlib.import_module(f"{name}.bench")))
    return found


def run_all(scale: str = "city", only: str | None = None) -> list[Figure]:
    """Build a demo city in a temporary database and run each module's benchmarks."""
    from portal.demo_city import load_demo
    from portal.runtime import forget_runtimes, open_runtime

    figures: list[Figure] = []
    with tempfile.TemporaryDirectory(prefix="manabi-bench-") as folder:
        runtime = open_runtime(Path(folder) / "bench.duckdb")
        started = time.perf_counter()
        load_demo(runtime, scale)
        figures.append(Figure("portal", f"demo city load ({scale})", round(time.perf_counter() - started, 2),
                              "s", "—"))
        for name, module in _bench_modules():
            if only and name != only:
                continue
            for row in module.run(runtime.store, runtime.clock):
                figures.append(Figure(name, str(row["name"]), float(row["figure"]), str(row["unit"]),
                                      str(row.get("goal", "—"))))
        forget_runtimes()
        if only in (None, "portal"):
            figures += serving_figures(Path(folder) / "bench.duckdb", scale)
    if only in (None, "portal"):
        # The school roster import (issue 18) runs on a fresh database of its own.
        from portal import bench_roster

        figures += [Figure("portal", row["name"], row["figure"], row["unit"], row["goal"])
                    for row in bench_roster.run()]
    return figures


# Commands timed direct and handed to the running server (their --json output).
SERVING_COMMANDS = (("schools", "list", "--json"), ("archive", "list", "--json"))
RUNS = 5


def _manabi(db: Path, *args: str) -> float:
    """Seconds one `manabi` process takes, start to exit, as a person would run it."""
    started = time.perf_counter()
    subprocess.run([sys.executable, "-m", "portal.cli_main", "--db", str(db), *args], check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - started


def _median_ms(db: Path, args: tuple[str, ...]) -> float:
    return round(statistics.median(_manabi(db, *args) for _ in range(RUNS)) * 1000, 1)


def serving_figures(db: Path, scale: str) -> list[Figure]:
    """Commands direct vs handed to `manabi serve` on the same database, a hot backup's
    duration, and how long the server takes to stop on SIGTERM."""
    direct = {args: _median_ms(db, args) for args in SERVING_COMMANDS}
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = subprocess.Popen([sys.executable, "-m", "portal.cli_main", "--db", str(db), "serve", "--port",
                               str(port), "--host", "127.0.0.1"], stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL, start_new_session=True)
    figures = []
    try:
        _wait_for_health(f"http://127.0.0.1:{port}/healthz", server)
        for args in SERVING_COMMANDS:
            handed = _median_ms(db, args)
            label = " ".join(args[:-1])
            figures += [
                Figure("portal", f"`{label}` direct (server stopped)", direct[args], "ms", "—"),
                Figure("portal", f"`{label}` handed to the running server", handed, "ms", "—"),
                Figure("portal", f"`{label}` extra latency while serving", round(handed - direct[args], 1),
                       "ms", "≤ 0: handing over skips opening the file"),
            ]
        with tempfile.TemporaryDirectory(prefix="manabi-hot-backup-") as folder:
            seconds = _manabi(db, "backup", str(Path(folder) / "backup"))
        figures.append(Figure("portal", f"hot backup while serving ({scale}, whole command)", round(seconds, 2),
                              "s", "—"))
    finally:
        started = time.perf_counter()
        os.kill(server.pid, signal.SIGTERM)
        server.wait(timeout=60)
        figures.append(Figure("portal", "server stop after SIGTERM", round(time.perf_counter() - started, 2),
                              "s", "< 10"))
    return figures


def _wait_for_health(url: str, server: subprocess.Popen) -> None:
    import httpx

    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError("the server exited before it answered")
        try:
            if httpx.get(url, timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.3)
    raise RuntimeError("the server did not answer /healthz within 120 s")

"""`manabi bench`: every module's benchmark on a fresh demo city, as one table.

A module offers benchmarks with `<module>/bench.py` defining
`run(store, clock) -> list[dict]`, each dict {name, figure, unit, goal}. Figures are
measured here, printed and written as JSON; tests never assert them.
"""

from __future__ import annotations

import importlib
import importlib.util
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
    for name in MODULE_NAMES[1:]:  # the portal has no bench.py of its own
        if importlib.util.find_spec(f"{name}.bench") is not None:
            found.append((name, importlib.import_module(f"{name}.bench")))
    return found


def run_all(scale: str = "city", only: str | None = None) -> list[Figure]:
    """Build a demo city in a temporary database and run each module's benchmarks."""
    from data.demo import load_demo
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
        # The school roster import (issue 18) runs on a fresh database of its own.
        from portal import bench_roster

        figures += [Figure("portal", row["name"], row["figure"], row["unit"], row["goal"])
                    for row in bench_roster.run()]
    return figures

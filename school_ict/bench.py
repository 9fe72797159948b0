"""School ICT benchmarks (issue 3), collected by `manabi bench`; run on the city demo.

- Import of a 10,000-row Google Admin export, validation included (goal < 2 s): the
  file is read, validated and written in a transaction that is then rolled back, so
  the database is left as it was.
- The city fleet dashboard's queries on the full demo city (goal < 50 ms each).

Run by hand: .venv/bin/python -m school_ict.bench [DB]
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable

from kernel.actor import SYSTEM
from kernel.clock import Clock
from kernel.provided import offered_view
from kernel.store import Store
from school_ict.services import dashboard, importer, network, planning, registry, repairs, usage

IMPORT_ROWS = 10_000


class _RollBack(Exception):
    """Raised to undo the benchmark's import after timing it."""


def google_admin_export(store: Store, rows: int = IMPORT_ROWS) -> bytes:
    """A Google Admin ChromeOS export: half the city's existing tablets (by serial), half new."""
    offered_view(store.cursor(), "portal.schools")
    codes = [r[0] for r in store.query("SELECT code FROM offered_schools ORDER BY code")] or ["E01"]
    known = store.query("""SELECT d.serial, s.code FROM school_ict_devices d JOIN offered_schools s ON s.id = d.school_id
                           WHERE d.kind = 'pupil_tablet' ORDER BY d.id LIMIT ?""", [rows // 2])
    lines = ["Serial Number,Annotated Asset ID,Annotated User,Annotated Location,Org Unit Path,Model,OS Version,"
             "Last Sync,Auto Update Expiration,Status"]
    for n in range(rows):
        if n < len(known):
            (serial, code), tag = known[n], ""
        else:
            code = codes[n % len(codes)]
            serial, tag = f"BENCH{n:07d}", f"BENCH-{code}-{n:05d}"
        lines.append(f"{serial},{tag},pupil{n}@school.example,{code},/Schools/{code},Lenovo 300e Chromebook Gen 2,"
                     f"128.0.6613.{n % 200},2026-11-{1 + n % 26:02d}T08:{n % 60:02d}:00.000Z,2027-06,ACTIVE")
    return ("\n".join(lines) + "\n").encode()


def _median_ms(work: Callable[[], object], repeat: int = 5) -> float:
    work()  # warm up (first query plans, caches)
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        work()
        times.append((time.perf_counter() - start) * 1000)
    return round(statistics.median(times), 1)


def _import_seconds(store: Store, clock: Clock, data: bytes) -> tuple[float, float]:
    """(validation only, validation and writing) in seconds; the write is rolled back."""
    start = time.perf_counter()
    importer.import_devices(store, clock, SYSTEM, data, "google-admin", dry_run=True)
    validate_only = time.perf_counter() - start

    start = time.perf_counter()
    frame, problems = importer.validate(store, SYSTEM, importer.read_table(data, "google-admin"))
    assert not problems, problems[:3]
    try:
        with store.transaction() as cur:
            importer.store_rows(cur, frame, SYSTEM, clock.now(), "google-admin")
            raise _RollBack()
    except _RollBack:
        pass
    return round(validate_only, 3), round(time.perf_counter() - start, 3)


def run(store: Store, clock: Clock) -> list[dict]:
    data = google_admin_export(store)
    validate_s, full_s = _import_seconds(store, clock, data)
    results = [
        {"name": "school_ict: Google Admin import, 10,000 rows, validation only", "figure": validate_s,
         "unit": "s", "goal": 2.0},
        {"name": "school_ict: Google Admin import, 10,000 rows, validated and written", "figure": full_s,
         "unit": "s", "goal": 2.0},
    ]
    prices = planning.DEFAULT_UNIT_PRICES
    first_school = min(s.id for s in registry.list_schools(store, SYSTEM))
    queries: dict[str, Callable[[], object]] = {
        "status counts (city)": lambda: dashboard.status_counts(store, SYSTEM),
        "schools overview": lambda: dashboard.schools_overview(store, SYSTEM),
        "class readiness (city)": lambda: dashboard.class_readiness(store, clock, SYSTEM),
        "not seen 14+ days (city)": lambda: dashboard.not_seen_devices(store, clock, SYSTEM),
        "device count (city)": lambda: registry.count_devices(store, SYSTEM),
        "device table (city, first 500 as the page shows)": lambda: registry.device_frame(store, SYSTEM, limit=500),
        "device list (one school, all)": lambda: registry.list_devices(store, SYSTEM, school_id=first_school),
        "breakage per term": lambda: repairs.breakage(store, SYSTEM),
        "replacement plan": lambda: planning.replacement_plan(store, SYSTEM, prices),
        "network peaks (30 days)": lambda: network.peaks(store, clock, SYSTEM),
        "usage per grade and week": lambda: usage.usage_by_grade_week(store, SYSTEM),
    }
    results += [{"name": f"school_ict: dashboard query, {name}", "figure": _median_ms(work), "unit": "ms",
                 "goal": 50.0} for name, work in queries.items()]
    return results


if __name__ == "__main__":
    import sys

    from kernel.clock import clock_from_env

    bench_store = Store(sys.argv[1] if len(sys.argv) > 1 else "var/manabi.duckdb")
    for row in run(bench_store, clock_from_env()):
        print(f"{row['figure']:>10} {row['unit']:<3} (goal {row['goal']}) {row['name']}")

"""The school roster's benchmark (issue 18), printed by `manabi bench`: a OneRoster 1.2 bundle of
a city of 10,000 pupils, 830 teachers and about 400 classes imported into a fresh database with
every check (goal < 5 s), imported again unchanged, then next year's bundle previewed and
imported (the year rollover).

Run by hand: .venv/bin/python -m portal.bench_roster
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

from kernel.actor import SYSTEM
from kernel.clock import Clock, clock_from_env
from kernel.migrations import migrate
from kernel.store import Store
from portal.modules import known_migrations
from portal.roster_bundle import city_plan, make_city, write_bundle
from portal.services import roster


def run(clock: Clock | None = None) -> list[dict]:
    clock = clock or clock_from_env()
    today = clock.now().date()
    year = today.year if today.month >= 4 else today.year - 1
    figures = []
    with tempfile.TemporaryDirectory(prefix="manabi-roster-bench-") as folder:
        plans = city_plan()
        this_year = write_bundle(make_city(year, plans), Path(folder) / "this.zip", as_zip=True)
        next_year = write_bundle(make_city(year + 1, plans), Path(folder) / "next.zip", as_zip=True)
        store = Store(Path(folder) / "roster.duckdb")
        migrate(store, clock, known_migrations())

        def timed(name: str, goal: str, **kwargs) -> roster.ImportResult:
            started = time.perf_counter()
            result = roster.import_bundle(store, clock, SYSTEM, kwargs.pop("bundle"), **kwargs)
            assert result.ok, result.errors[:3]
            figures.append({"name": name, "figure": round(time.perf_counter() - started, 2), "unit": "s",
                            "goal": goal})
            return result

        first = timed("roster import", "< 5 s", bundle=this_year)
        figures[-1]["name"] += (f", {first.counts['pupils']:,} pupils, {first.counts['teachers']} teachers, "
                                f"{first.counts['classes']} classes, every check")
        timed("roster import again (unchanged)", "< 5 s", bundle=this_year)
        timed("roster year rollover preview (--dry-run)", "< 5 s", bundle=next_year, dry_run=True)
        timed("roster year rollover import", "< 5 s", bundle=next_year)
        store.close()
    return figures


if __name__ == "__main__":
    for row in run():
        print(f"{row['name']:<70} {row['figure']:>8} {row['unit']}  goal {row['goal']}")

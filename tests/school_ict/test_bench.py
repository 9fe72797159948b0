"""The benchmark runs end to end and leaves the database as it was (figures are not asserted)."""

from __future__ import annotations

from school_ict import bench


def test_bench_reports_every_figure_and_rolls_its_import_back(store, clock, fleet):
    devices = store.scalar("SELECT count(*) FROM school_ict_devices")
    events = store.scalar("SELECT count(*) FROM school_ict_events")
    results = bench.run(store, clock)
    assert {r["unit"] for r in results} == {"s", "ms"}
    assert all(r["figure"] >= 0 and r["goal"] > 0 and r["name"].startswith("school_ict: ") for r in results)
    assert len(results) == 13
    assert store.scalar("SELECT count(*) FROM school_ict_devices") == devices
    assert store.scalar("SELECT count(*) FROM school_ict_events") == events

"""Nightly work: run once a night inside 02:00–05:00 Tokyo, a failing job tried again, the
others not held up by it."""

from __future__ import annotations

from datetime import datetime

from kernel import nightly
from kernel.clock import TOKYO, FixedClock
from kernel.migrations import get_meta


def at(hour: int, day: int = 28) -> FixedClock:
    return FixedClock(datetime(2026, 11, day, hour, 30, tzinfo=TOKYO))


def test_each_job_runs_once_a_night_inside_the_window(store):
    runs: list[str] = []
    jobs = {"a": lambda s, c: runs.append(f"a {c.now():%d %H}"), "b": lambda s, c: runs.append(f"b {c.now():%d %H}")}
    assert nightly.run_due(store, at(1), jobs) == []  # before the window
    assert nightly.run_due(store, at(2), jobs) == ["a", "b"]
    assert nightly.run_due(store, at(3), jobs) == []  # done this night
    assert nightly.run_due(store, at(14), jobs) == []  # the afternoon
    assert nightly.run_due(store, at(4, day=29), jobs) == ["a", "b"]  # the next night
    assert runs == ["a 28 02", "b 28 02", "a 29 04", "b 29 04"]
    assert get_meta(store, "nightly.a") == "2026-11-29"


def test_a_failing_job_is_tried_again_and_holds_up_no_other(store):
    attempts: list[int] = []

    def flaky(s, c) -> None:
        attempts.append(1)
        if len(attempts) == 1:
            raise RuntimeError("disk full")

    jobs = {"flaky": flaky, "steady": lambda s, c: None}
    assert nightly.run_due(store, at(2), jobs) == ["steady"]
    assert nightly.run_due(store, at(3), jobs) == ["flaky"]
    assert len(attempts) == 2
